"""The `vetvol` console command: Django's management commands with vetvol's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vetvol.settings")
    if sys.argv[1:2] == ["serve"]:
        os.environ.setdefault("VETVOL_ASGI", "true")  # settings: no persistent connections under ASGI
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
