"""`vetvol create_api_token USER PURPOSE`: a bearer token for the API, printed once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.accounts import actions
from vetvol.accounts.models import User


class Command(BaseCommand):
    help = "Create an API bearer token for a user; the token is printed once and only its hash is kept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("purpose")
        parser.add_argument("--days", type=int, default=90, help="validity in days (0: no expiry)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['username']!r}")
        _token, plain = actions.create_api_token(user, options["purpose"], options["days"] or None)
        self.stdout.write(plain)
