"""`vetvol verify_audit`: recompute the audit chains; exit 1 naming the first altered row."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.core import audit


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit.verify()
        if not result.ok:
            raise CommandError(
                f"audit log broken at row {result.bad_seq} of chain {result.chain}: {result.reason} "
                f"({result.checked} rows verified before it)"
            )
        self.stdout.write(f"audit log intact: {result.checked} rows verified")
