"""Fixtures of the proofs: the small world built through actions."""

from __future__ import annotations

import pytest

from vetvol.core.tests.proofs import world as world_module


@pytest.fixture
def world(people):
    return world_module.build(people)
