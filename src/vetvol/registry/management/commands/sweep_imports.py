"""`vetvol sweep_imports`: delete stored import uploads that no unfinished job refers to.

A process killed between storing an uploaded file and recording it (or between finishing a job and
deleting its file) leaves a copy of personal data nothing will read again. `vetvol import_volunteers` and
`vetvol serve --tick` sweep too; this is the same sweep for a deployment without either (run it from cron).
Files younger than the grace (`SWEEP_GRACE`, ten minutes) are kept: their upload may be committing.
Audited with the count removed, even when it is none.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vetvol.registry.actions import imports as actions


class Command(BaseCommand):
    help = "Delete stored import files no unfinished import job refers to (older than the grace)."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = actions.sweep_stored(record_empty=True)
        self.stdout.write(f"removed {removed} orphaned import file(s)")
