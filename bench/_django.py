"""Shared set-up for benchmarks that need Django: settings from the environment (DATABASE_URL decides the
database), a migrated database, and the region tree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vetvol.settings")
os.environ.setdefault("VETVOL_VAR_DIR", str(Path(__file__).resolve().parent / "out"))


def setup(load_regions: str | None = "township") -> str:
    """Configure Django, migrate, load regions; returns the database vendor ('sqlite' or 'postgresql')."""
    import django

    Path(os.environ["VETVOL_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if load_regions:
        from vetvol.regions import loader

        loader.load(max_level=load_regions)
    return connection.vendor
