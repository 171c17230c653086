"""The crash proofs' side of the database: set-up, the aging of heartbeats, and the invariants, run as a
separate process against the scratch database named by DATABASE_URL (the killed commands must see
committed data, which a test's own transaction would hide). Prints one JSON object.

    python scenario.py setup FILE ROWS | book FILE FIRST ROWS | age | check-import ROWS
                       | setup-dispatch [INCIDENTS] | check-dispatch
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def django_setup() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vetvol.settings")
    django.setup()


def setup(path: str, rows: int) -> dict:
    from conftest import make_person
    from django.core.management import call_command

    from vetvol.accounts.models import User
    from vetvol.regions import loader

    call_command("migrate", verbosity=0)
    loader.load(max_level="township")
    root = User.objects.create_superuser("root", password=None)
    make_person(root, "futian_admin", "district_admin", "440304")
    return book(path, 1, rows)


def book(path: str, first: int, rows: int) -> dict:
    """A roster of `rows` volunteers numbered from `first` (other numbers, other people)."""
    from vetvol.registry.tests.importing import row, xlsx

    Path(path).write_bytes(xlsx([row(i) for i in range(first, first + rows)]))
    return {"ok": True}


def age() -> dict:
    """What waiting does: the killed run's heartbeat is old enough to be taken over (STALE_AFTER), and the
    stored uploads are past the sweep's grace (SWEEP_GRACE), so an orphaned one is swept."""
    import os
    import time

    from django.utils import timezone

    from vetvol.registry.actions.imports import SWEEP_GRACE, store_dir
    from vetvol.registry.models import ImportJob, ImportStatus
    from vetvol.registry.models.imports import STALE_AFTER

    aged = ImportJob.objects.filter(status=ImportStatus.IMPORTING).update(
        heartbeat=timezone.now() - STALE_AFTER - timedelta(seconds=1)
    )
    then = time.time() - SWEEP_GRACE.total_seconds() - 1
    files = list(store_dir().iterdir())
    for path in files:
        os.utime(path, (then, then))
    return {"aged": aged, "files": len(files)}


def stored_files() -> list[str]:
    from vetvol.registry.actions.imports import store_dir

    return sorted(path.name for path in store_dir().iterdir())


def check_import(rows: int) -> dict:
    """Every chunk is whole: its volunteers, their status changes and consents, and its audit row."""
    from django.db.models import Count

    from vetvol.core.models import AuditEntry
    from vetvol.registry.actions.bulk import CHUNK
    from vetvol.registry.models import ImportJob, StatusChange, Volunteer

    jobs = []
    for job in ImportJob.objects.order_by("created_at"):
        volunteers = Volunteer.objects.filter(import_batch=job.batch)
        count = volunteers.count()
        chunks = [
            e.detail["rows"]
            for e in AuditEntry.objects.filter(action="registry.volunteer.import", detail__batch=job.batch)
        ]
        audited = sum(chunks)
        changes = StatusChange.objects.filter(volunteer__in=volunteers).count()
        jobs.append(
            {
                "id": str(job.id),
                "filename": job.filename,
                "status": job.status,
                "chunks": len(chunks),
                "volunteers": count,
                "audited": audited,
                "status_changes": changes,
                "whole_chunks": count % CHUNK == 0 or count == rows,
            }
        )
    duplicated = Volunteer.objects.values("id_hash").annotate(n=Count("id")).filter(n__gt=1).count()
    return {
        "jobs": jobs,
        "volunteers": Volunteer.objects.count(),
        "duplicated": duplicated,
        "files": stored_files(),
    }


def setup_dispatch(count: int = 3) -> dict:
    """The imported volunteers in the location index, and `count` incidents with open roles waiting for
    their round (the killed `dispatch_tick` runs it: one incident's round is `dispatch_round`, several
    incidents' a batch round). Incidents of an earlier set-up are closed, so only these wait."""
    from vetvol.accounts.models import User
    from vetvol.dispatch.actions import create_incident
    from vetvol.dispatch.locations import sync_locations
    from vetvol.dispatch.models import Incident, IncidentStatus
    from vetvol.regions.models import Region

    sync_locations()
    root = User.objects.get(username="root")
    futian = Region.objects.get(code="440304")
    Incident.objects.update(status=IncidentStatus.CLOSED)
    places = [(22.5366, 114.0507), (22.54, 114.06), (22.53, 114.04)][:count]
    created = []
    for i, (lat, lng) in enumerate(places):
        incident = create_incident(
            root,
            region=futian,
            type="flood",
            level=2,
            title=f"内涝救援 {i + 1}",
            lat=lat,
            lng=lng,
            roles=[{"name": f"搜救{j}", "count": 150} for j in range(3)],
            dispatch=False,
        )
        created.append(incident.pk)
    # Waiting for the clock's next round, as an incident whose first round did not fill its roles.
    Incident.objects.filter(pk__in=created).update(status=IncidentStatus.DISPATCHING)
    return {"incidents": created}


def check_dispatch() -> dict:
    """Each incident's invitations come in whole rounds: every round number has its audit row saying how
    many were invited, which is how many invitations carry it; each has its notification."""
    from django.db.models import Count

    from vetvol.core.models import AuditEntry
    from vetvol.dispatch.models import Incident, IncidentStatus, Invitation
    from vetvol.notify.models import Notification

    incidents = []
    for incident in Incident.objects.order_by("pk"):
        rounds = dict(
            Invitation.objects.filter(incident=incident)
            .values_list("round")
            .annotate(n=Count("id"))
            .values_list("round", "n")
        )
        entries = AuditEntry.objects.filter(action="dispatch.round", object_id=str(incident.pk))
        audited = {e.detail["round"]: e.detail["invited"] for e in entries}
        slots = sum(n.count for n in incident.needs.all())
        incidents.append(
            {
                "id": incident.pk,
                "open": incident.status != IncidentStatus.CLOSED,
                "rounds": rounds,
                "audited": audited,
                "audit_rows": len(entries),
                "slots": slots,
            }
        )
    invitations = Invitation.objects.count()
    twice = (
        Invitation.objects.values("incident_id", "volunteer_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    notified = Notification.objects.filter(kind__startswith="dispatch").count()
    return {"incidents": incidents, "invitations": invitations, "twice": twice, "notified": notified}


if __name__ == "__main__":
    django_setup()
    command, args = sys.argv[1], sys.argv[2:]
    out = {
        "setup": lambda: setup(args[0], int(args[1])),
        "book": lambda: book(args[0], int(args[1]), int(args[2])),
        "age": age,
        "check-import": lambda: check_import(int(args[0])),
        "setup-dispatch": lambda: setup_dispatch(*(int(a) for a in args)),
        "check-dispatch": check_dispatch,
    }[command]()
    print(json.dumps(out, default=str))
