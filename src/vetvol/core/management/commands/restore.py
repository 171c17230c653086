"""`vetvol restore <file>`: a backup made by `vetvol backup` into the configured database. Refuses a database
that already holds tables unless --force; on PostgreSQL the restore is one transaction."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.core import backup


class Command(BaseCommand):
    help = "Restore a backup made by `vetvol backup` into the configured (empty) database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the backup file")
        parser.add_argument("--database", default="default", help="database alias (default %(default)s)")
        parser.add_argument(
            "--force", action="store_true", help="replace the content of a database that is not empty"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup.restore(options["file"], alias=options["database"], force=options["force"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {options['file']}; now run `vetvol verify_audit` and `vetvol verify_ledger`"
        )
