"""`vetvol verify_ledger`: every transaction balances and is intact in its hash chain, every balance is the
sum of its legs, the disclosure's monthly totals equal a recount; exit 1 naming what is wrong."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.fund import ledger


class Command(BaseCommand):
    help = "Verify the special fund's ledger."

    def handle(self, *args: Any, **options: Any) -> None:
        result = ledger.verify()
        if not result.ok:
            raise CommandError("ledger check failed:\n" + "\n".join(result.problems[:50]))
        self.stdout.write(f"ledger intact: {result.checked} transactions verified, every balance matches")
