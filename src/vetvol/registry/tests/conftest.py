"""Fixtures of the registry tests."""

from __future__ import annotations

import pytest

from vetvol.registry.actions import imports as actions


@pytest.fixture
def private_var_dir(settings, tmp_path):
    """Uploads are stored under a directory of the test's own."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def inline_runs(monkeypatch):
    """Background runs happen in the test's own thread (the test database is not visible to others)."""
    started: list[str] = []

    def spawn(job_id, actor_id):
        started.append(str(job_id))
        actions.run_job(job_id, actor_id)

    monkeypatch.setattr(actions, "spawn", spawn)
    return started
