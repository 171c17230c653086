"""A simulated day of dispatch for the demo: incidents around the province, on-duty volunteers who accept or
decline, move towards the scene, arrive and finish. Run by `vetvol simulate` and `vetvol serve --simulate`.

Needs the demo province (`vetvol seed_demo`): volunteers with skills and home bases.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError

from vetvol.accounts.models import User
from vetvol.dispatch import actions
from vetvol.dispatch.locations import sync_locations
from vetvol.dispatch.models import ACTIVE_ASSIGNMENT, Assignment, Incident, IncidentType, Invitation
from vetvol.dispatch.models import VolunteerLocation as Loc
from vetvol.regions.models import Region


class SimulationError(Exception):
    pass


class Simulation:
    """One step at a time: open an incident now and then, answer invitations, move responders, close old
    incidents. The dispatch clock (`clock.run`) calls `step` before each tick."""

    def __init__(
        self, *, seed: int = 1, incident_every: float = 15.0, link_accounts: bool = False, out: Any = None
    ):
        self.rng = random.Random(seed)
        self.incident_every = incident_every
        self.link_accounts = link_accounts
        self.out = out
        self.next_incident = 0.0
        actor = User.objects.filter(is_superuser=True).first()
        if actor is None:
            raise SimulationError("no superuser: run `vetvol seed_demo` first")
        self.actor = actor
        from vetvol.registry.models import Volunteer

        if Loc.objects.filter(source="home").count() < Volunteer.objects.exclude(lat=None).count():
            self._say(f"indexing locations: {sync_locations()} volunteers")
        self.places = list(
            Region.objects.filter(level="county", lat__isnull=False).values_list("code", "lat", "lng", "name")
        )
        if not self.places:
            raise SimulationError("no regions: run `vetvol load_regions` or `vetvol seed_demo` first")

    def _say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text)

    def step(self, now: Any) -> None:
        rng, actor = self.rng, self.actor
        if time.monotonic() >= self.next_incident:
            self._open(rng, actor, self.places)
            self.next_incident = time.monotonic() + self.incident_every
        self._answer(rng, now, actor if self.link_accounts else None)
        self._move(rng, now)
        self._close(rng, actor, now)

    def _open(self, rng: random.Random, actor: Any, places: list) -> None:
        code, lat, lng, name = rng.choice(places)
        kind = rng.choice(IncidentType.values)
        lat += rng.uniform(-0.05, 0.05)
        lng += rng.uniform(-0.05, 0.05)
        incident = actions.create_incident(
            actor,
            region=Region.objects.get(code=code),
            type=kind,
            level=rng.choice([1, 2, 2]),
            title=f"{name}{IncidentType(kind).label}（演练）",
            lat=lat,
            lng=lng,
            risky=kind in ("water_rescue", "flood", "typhoon") and rng.random() < 0.3,
        )
        sent = incident.invitations.count()
        self._say(f"incident {incident.pk} {incident.title} level {incident.level}: {sent} invited")

    def _answer(self, rng: random.Random, now: Any, linker: Any) -> None:
        from vetvol.registry.actions.bulk_related import link_account

        pending = Invitation.objects.filter(status="pending", expires_at__gt=now).select_related("volunteer")
        for inv in pending[:50]:
            if inv.volunteer.user is None and linker is not None:
                inv.volunteer.refresh_from_db()
                if inv.volunteer.user is None:
                    user = User.objects.create_user(f"sim-{inv.volunteer.number}", password=None)
                    link_account(linker, inv.volunteer, user)
                    inv.volunteer.user = user
            if rng.random() < 0.4 or inv.volunteer.user is None:
                continue  # no answer yet (or no phone): the clock will expire it
            accept = rng.random() < 0.7
            try:
                actions.answer_invitation(inv.volunteer.user, inv, accept, now=now)
                self._say(f"volunteer {inv.volunteer.number} {'accepts' if accept else 'declines'} {inv.pk}")
            except ValidationError as exc:
                self._say(f"volunteer {inv.volunteer.number}: {exc.messages[0]}")

    def _move(self, rng: random.Random, now: Any) -> None:
        active = Assignment.objects.filter(status__in=ACTIVE_ASSIGNMENT).select_related(
            "volunteer", "incident"
        )
        for asg in active[:100]:
            v, inc = asg.volunteer, asg.incident
            if v.user is None:
                continue
            if asg.status == "accepted":
                actions.set_assignment_status(v.user, asg, "en_route", now=now)
            if v.location_consent:
                live = Loc.objects.filter(volunteer=v, source="live").first()
                lat, lng = (live.lat, live.lng) if live else (v.lat or inc.lat, v.lng or inc.lng)
                lat, lng = lat + (inc.lat - lat) * 0.3, lng + (inc.lng - lng) * 0.3
                actions.report_position(v.user, asg, lat, lng, at=now)
            if asg.status == "en_route" and rng.random() < 0.2:
                actions.set_assignment_status(v.user, asg, "on_scene", now=now)
                self._say(f"volunteer {v.number} on scene at incident {inc.pk}")

    def _close(self, rng: random.Random, actor: Any, now: Any) -> None:
        old = Incident.objects.exclude(status="closed").filter(opened_at__lt=now - timedelta(minutes=2))
        for incident in old[:3]:
            if rng.random() < 0.3:
                actions.close_incident(
                    actor,
                    incident,
                    people_rescued=rng.randint(0, 3),
                    people_served=rng.randint(0, 50),
                    summary="演练结束",
                    now=now,
                )
                self._say(f"incident {incident.pk} closed")
