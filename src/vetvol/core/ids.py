"""Human-facing numbers, allocated in blocks from a named database sequence.

A block allocation is one locked read-and-update, so an import of 100,000 rows allocates its numbers in one
round trip, and two processes never get the same number (the row lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite).
"""

from __future__ import annotations

from django.db import transaction

from vetvol.core.models import Sequence


def allocate(name: str, count: int = 1) -> range:
    """Reserve `count` consecutive numbers of sequence `name`; returns them as a range."""
    if count < 1:
        raise ValueError("count must be positive")
    with transaction.atomic():
        seq, _ = Sequence.objects.select_for_update().get_or_create(name=name)
        first = seq.value + 1
        seq.value += count
        seq.save(update_fields=["value"])
    return range(first, first + count)
