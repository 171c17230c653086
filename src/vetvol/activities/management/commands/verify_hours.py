"""`vetvol verify_hours`: the hour records' append-only guard, corrections, approvals and every certificate;
exit 1 naming what is wrong (activities/verify.py)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.activities import verify


class Command(BaseCommand):
    help = "Verify the service-hour records and the certificates issued from them."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify.verify()
        if not result.ok:
            raise CommandError("hours check failed:\n" + "\n".join(result.problems))
        self.stdout.write(
            f"hours intact: {result.records} records, {result.certificates} certificates verified"
        )
