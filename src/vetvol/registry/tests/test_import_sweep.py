"""The sweep of stored uploads: a copy no unfinished job refers to is deleted once past the grace; the files
of jobs that may still run, and files too young to judge, are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from vetvol.core.models import AuditEntry
from vetvol.registry.actions import imports as actions
from vetvol.registry.models import ImportJob, ImportStatus

from .importing import row, stored_files, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]

PAST_GRACE = actions.SWEEP_GRACE.total_seconds() + 60


def age(path: Path, seconds: float = PAST_GRACE) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def orphan(var_dir: Path, name: str = "0b8f2c1e-orphan.xlsx") -> Path:
    """A copy left by a process killed between storing the upload and committing its job."""
    path = var_dir / "imports" / name
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_bytes(xlsx([row(901)]))
    return path


def sweeps() -> list[dict]:
    return list(
        AuditEntry.objects.filter(action="registry.import.sweep")
        .order_by("id")
        .values_list("detail", flat=True)
    )


def test_old_orphan_is_removed_and_the_sweep_audited(private_var_dir):
    path = orphan(private_var_dir)
    age(path)
    assert actions.sweep_stored() == 1
    assert stored_files(private_var_dir) == []
    assert sweeps() == [{"removed": 1}]


def test_young_orphan_is_kept(private_var_dir):
    path = orphan(private_var_dir)
    age(path, actions.SWEEP_GRACE.total_seconds() - 60)
    assert actions.sweep_stored() == 0
    assert stored_files(private_var_dir) == [path]
    assert sweeps() == []  # nothing removed, nothing to record


def test_files_of_unfinished_jobs_are_kept_however_old(people, private_var_dir):
    checked = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(902)]))
    importing = actions.upload(people.futian_admin, "volunteers", "名册2.xlsx", xlsx([row(903)]))
    resumable = actions.upload(people.futian_admin, "volunteers", "名册3.xlsx", xlsx([row(904)]))
    ImportJob.objects.filter(pk=importing.pk).update(status=ImportStatus.IMPORTING)
    ImportJob.objects.filter(pk=resumable.pk).update(status=ImportStatus.FAILED, mode="valid")
    stray = orphan(private_var_dir)
    kept = stored_files(private_var_dir)
    assert len(kept) == 4
    for path in kept:
        age(path)
    assert actions.sweep_stored() == 1
    assert stored_files(private_var_dir) == sorted(
        private_var_dir / "imports" / job.stored_path for job in (checked, importing, resumable)
    )
    assert not stray.exists()
    resumable.refresh_from_db()
    assert resumable.can_resume  # and its file is still there to resume from
    assert actions.start_run(people.futian_admin, resumable, None, background=False).status == "done"


def test_file_still_named_by_a_finished_job_is_removed(people, private_var_dir):
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(905)]))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    (path,) = stored_files(private_var_dir)
    age(path)
    assert actions.sweep_stored() == 1
    assert stored_files(private_var_dir) == []


def test_finished_and_discarded_jobs_delete_their_own_file(people, private_var_dir):
    done = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(906)]))
    done = actions.start_run(people.futian_admin, done, "valid", background=False)
    gone = actions.upload(people.futian_admin, "volunteers", "名册2.xlsx", xlsx([row(907)]))
    gone = actions.discard(people.futian_admin, gone)
    assert (done.status, done.stored_path, gone.status, gone.stored_path) == ("done", "", "failed", "")
    assert stored_files(private_var_dir) == []


def test_sweep_imports_command_audits_even_when_nothing_was_removed(private_var_dir, capsys):
    call_command("sweep_imports")
    age(orphan(private_var_dir))
    call_command("sweep_imports")
    assert capsys.readouterr().out.splitlines() == [
        "removed 0 orphaned import file(s)",
        "removed 1 orphaned import file(s)",
    ]
    assert sweeps() == [{"removed": 0}, {"removed": 1}]


def test_import_command_sweeps_orphans_before_it_imports(people, private_var_dir, tmp_path):
    stray = orphan(private_var_dir)
    age(stray)
    book = tmp_path / "名册.xlsx"
    book.write_bytes(xlsx([row(908)]))
    call_command("import_volunteers", str(book), "--as", "futian_admin")
    assert not stray.exists()
    assert stored_files(private_var_dir) == []  # the run's own copy is gone once it is done
    assert sweeps() == [{"removed": 1}]
