"""Fail points: named places inside a unit of work where a crash test can stop a real process and kill it.

A test facility, off in every normal run. `pause(name)` does nothing unless the environment variable
VETVOL_FAILPOINTS names the point when the process starts (comma-separated names; `name@N` stops at the
N-th time the point is reached, default the first). A named point writes a marker file (the path in
VETVOL_FAILPOINT_MARKER, if set: "name pid") and then sleeps, holding its transaction open, so the test
that waits for the marker can SIGKILL the process exactly there (core/tests/proofs_crash). The environment
is read once, at import: an unset point costs one lookup in an empty frozenset.

Points: `registry.import.chunk` (a volunteer import chunk written, its audit row too, not committed),
`registry.import.finished` (a job's end committed, its stored upload not yet deleted) and `dispatch.round`
(an invitation round's invitations and audit rows written, not committed).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_S = 3600.0  # long enough for any test to kill it; a forgotten variable shows as a hung process


def _parse(spec: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for item in spec.split(","):
        name, _, nth = item.strip().partition("@")
        if name:
            points[name] = int(nth) if nth.isdigit() and int(nth) > 0 else 1
    return points


_AT = _parse(os.environ.get("VETVOL_FAILPOINTS", ""))
ENABLED: frozenset[str] = frozenset(_AT)
MARKER = os.environ.get("VETVOL_FAILPOINT_MARKER", "")
_reached: dict[str, int] = {}


def pause(name: str) -> None:
    """Stop here, for good, if the environment names this point (see the module docstring)."""
    if name in ENABLED:
        _reach(name)


def _reach(name: str) -> None:
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] != _AT[name]:
        return
    if MARKER:
        marker = Path(MARKER)
        partial = marker.with_name(marker.name + ".part")
        partial.write_text(f"{name} {os.getpid()}\n")
        partial.replace(marker)  # the test never reads a half-written marker
    time.sleep(HOLD_S)
