"""`vetvol backup <file>`: the whole database to one file (pg_dump -Fc on PostgreSQL, the SQLite online
backup API on SQLite); safe while the site runs."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.core import backup


class Command(BaseCommand):
    help = "Back up the database to a file (PostgreSQL custom archive or a SQLite database file)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="where to write the backup")
        parser.add_argument("--database", default="default", help="database alias (default %(default)s)")
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path = backup.backup(options["file"], alias=options["database"], overwrite=options["force"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written: {path} ({path.stat().st_size} bytes)")
