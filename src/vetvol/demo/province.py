"""The demo province at the report's scale: 4,023 teams and 65,000 volunteers (or a million, for benchmarks).

Everything is planned in memory from the seed first (people, team tree, memberships, squads), then written
through the registry's actions: teams with `create_team`, rooms with `create_liaison_point` and
`assign_liaison_point`, volunteers as import rows through the bulk engine (`check_rows` + `write_rows`,
batch "demo-<seed>"), certificates, consents and memberships through the bulk actions, squads with
`squads.propose` + `apply_squads`. Each step first looks at what is already there and writes only what is
missing, so a second run adds nothing and an interrupted run can be resumed.
"""

from __future__ import annotations

import multiprocessing
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Count, F, Q

from vetvol.accounts.models import User
from vetvol.core.idcard import generate_id_number
from vetvol.demo import geography, teams
from vetvol.demo.geography import NANYUAN, YONGHE
from vetvol.demo.people import CertificatePlan, Population
from vetvol.regions import actions as region_actions
from vetvol.regions.models import LiaisonPoint, Region, ServiceCentre
from vetvol.registry import actions, squads
from vetvol.registry.actions.bulk import BulkReport, check_rows, write_rows
from vetvol.registry.actions.bulk_related import (
    CertificateRow,
    MemberRow,
    bulk_add_certificates,
    bulk_add_members,
    bulk_set_consent,
    link_account,
)
from vetvol.registry.models import MemberRole, Membership, Team, TeamSpecialty, Volunteer
from vetvol.registry.models.volunteers import RegisteredVia
from vetvol.registry.validation import id_hash

DEFAULT_SEED = 2021
DEFAULT_VOLUNTEERS = 65000
YONGHE_RESIDENTS = 600  # people placed in 永和街道 at full size; 543 of them form its team
CHUNK = 20000
PARALLEL_FROM = 100_000  # volunteers from which a second process prepares the import rows


@dataclass(frozen=True)
class DemoPerson:
    """A demo login that also has a volunteer record."""

    username: str
    name: str
    birth: date
    home: str
    phone: str
    discharge: int
    enlistment: int


HONGXING_LEADER = DemoPerson(
    "hongxing_leader", "张卫东", date(1968, 5, 12), "440304007", "13823456701", 1990, 1986
)
ZHOU = DemoPerson("volunteer_zhou", "周德明", date(1956, 9, 20), NANYUAN, "13923456702", 1979, 1974)
DEMO_PEOPLE = (HONGXING_LEADER, ZHOU)


def demo_id(person: DemoPerson) -> str:
    return generate_id_number(person.home[:6], person.birth, 517, "M")


@dataclass
class Summary:
    teams: int = 0
    teams_created: int = 0
    squads: int = 0
    civil: int = 0
    rooms_assigned: int = 0
    rooms_created: int = 0
    volunteers: int = 0
    volunteers_created: int = 0
    certificates_created: int = 0
    consents_created: int = 0
    memberships_created: int = 0
    memberships: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def line(self, seed: int, centres: int, accounts: int, seconds: float) -> str:
        """The one-line summary `seed_demo` prints."""
        return (
            f"demo (seed {seed}): {self.teams:,} teams ({self.squads:,} squads, {self.civil} registered or "
            f"filed), {self.volunteers:,} volunteers, {self.memberships:,} memberships; added {centres} "
            f"centres/stations, {accounts} accounts, {self.teams_created:,} teams, "
            f"{self.rooms_created:,} liaison points, "
            f"{self.volunteers_created:,} volunteers, {self.memberships_created:,} memberships, "
            f"{self.certificates_created:,} certificates; {seconds:.0f} s"
        )

    @property
    def added(self) -> int:
        return (
            self.teams_created
            + self.rooms_created
            + self.volunteers_created
            + self.certificates_created
            + self.consents_created
            + self.memberships_created
        )


@dataclass
class _Chunk:
    start: int
    hashes: list[str]
    found: dict[str, int] = field(default_factory=dict)  # ID hash → pk of rows already written
    report: BulkReport | None = None
    checked: list[Any] = field(default_factory=list)
    certificates: list[tuple[int, CertificatePlan]] = field(default_factory=list)
    publicity: list[int] = field(default_factory=list)


_PREPARER: Builder | None = None  # the builder a forked worker prepares chunks for


def _prepare_chunk(start: int) -> _Chunk:
    assert _PREPARER is not None
    return _PREPARER.prepare_chunk(start)


class Builder:
    def __init__(
        self,
        actor: User,
        *,
        seed: int = DEFAULT_SEED,
        volunteers: int = DEFAULT_VOLUNTEERS,
        teams_total: int = teams.TOTAL_TEAMS,
        cities: list[str] | None = None,
        log: Callable[[str], None] = lambda _msg: None,
        parallel: bool | None = None,
    ) -> None:
        self.actor, self.seed, self.size, self.total, self.cities = (
            actor,
            seed,
            volunteers,
            teams_total,
            cities,
        )
        self.log = log
        self.batch = f"demo-{seed}"
        self.summary = Summary()
        self.parallel = volunteers >= PARALLEL_FROM if parallel is None else parallel

    def _timed(self, label: str, started: float, cpu: float) -> None:
        took = time.perf_counter() - started
        self.summary.seconds[label] = round(took, 1)
        self.log(f"  {label}: {took:.1f} s ({time.process_time() - cpu:.1f} s CPU)")

    def build(self) -> Summary:
        started, cpu = time.perf_counter(), time.process_time()
        self.geo = geography.load(self.seed, self.cities)
        self.yonghe = self.total >= 1000 and self.size >= 20000 and YONGHE in self.geo.town_index
        self.pop = Population.plan(
            self.seed,
            self.size,
            self.geo,
            yonghe=YONGHE_RESIDENTS if self.yonghe else 0,
            reserved=[demo_id(p) for p in DEMO_PEOPLE],
        )
        self.tree = teams.plan(self.seed, self.geo, self.pop, self.total, yonghe=self.yonghe)
        self._timed("plan", started, cpu)
        for label, step in (
            ("teams", self.build_teams),
            ("liaison points", self.assign_rooms),
            ("volunteers", self.write_volunteers),
            ("memberships", self.write_memberships),
            ("squads", self.make_squads),
            ("demo accounts", self.link_demo_accounts),
        ):
            started, cpu = time.perf_counter(), time.process_time()
            step()
            self._timed(label, started, cpu)
        self.summary.teams = len(self.tree.teams) + self.summary.squads
        return self.summary

    # -- teams -------------------------------------------------------------------------------------------

    def build_teams(self) -> None:
        specs = self.tree.teams
        regions = Region.objects.in_bulk({s.region for s in specs})
        scope = Q(pk__in=[])
        for city in self.geo.cities:
            scope |= Q(region_code__startswith=city.code)
        existing = {(t.parent_id, t.name): t for t in Team.objects.filter(scope)}
        self.teams: dict[int, Team] = {}
        for city in self.geo.cities:
            with transaction.atomic():  # one commit per city: thousands of small actions
                for spec in specs:
                    if spec.city != city.code:
                        continue
                    parent = self.teams[spec.parent] if spec.parent is not None else None
                    team = existing.get((parent.pk if parent else None, spec.name))
                    if team is None:
                        team = actions.create_team(
                            self.actor, region=regions[spec.region], parent=parent, **spec.fields
                        )
                        self.summary.teams_created += 1
                    self.teams[spec.key] = team
        self.summary.civil = sum(1 for s in specs if s.civil_status != "none")

    def assign_rooms(self) -> None:
        """Each team (squads meet in their parent's room) gets a liaison point at its region's centre or
        station: the one the centres step made for it if still free, or a new one."""
        codes = {s.region for s in self.tree.teams}
        centres = {c.region_code: c for c in ServiceCentre.objects.filter(region_code__in=codes)}
        points = {
            (p.region_code, p.name): p
            for p in LiaisonPoint.objects.filter(region_code__in=codes, is_active=True)
        }
        taken = set(Team.objects.exclude(liaison_point=None).values_list("liaison_point_id", flat=True))
        for city in self.geo.cities:
            with transaction.atomic():
                for spec in self.tree.teams:
                    team = self.teams[spec.key]
                    if spec.city != city.code or team.liaison_point_id is not None:
                        continue
                    centre = centres.get(spec.region)
                    if centre is None:
                        continue
                    point = points.get((spec.region, spec.room)) if spec.room else None
                    if point is None or point.pk in taken:
                        name = f"{team.name}联络室"
                        point = points.get((spec.region, name))
                        if point is None or point.pk in taken:
                            floor = 2 + spec.key % 3 if centre.kind == "centre" else 1 + spec.key % 2
                            point = region_actions.create_liaison_point(
                                self.actor,
                                centre,
                                name=name,
                                room=f"{floor}楼 {floor}{spec.key % 20 + 1:02d} 室",
                            )
                            self.summary.rooms_created += 1
                    actions.assign_liaison_point(self.actor, team, point)
                    taken.add(point.pk)
                    self.summary.rooms_assigned += 1

    # -- volunteers --------------------------------------------------------------------------------------

    def write_volunteers(self) -> None:
        """Import rows through the bulk engine, chunk by chunk; then certificates and publicity consent.

        For a large province a second process builds and checks the next chunk (`check_rows`, which only
        reads) while this one writes the current chunk (`write_rows`)."""
        pop = self.pop
        self.pks = array("q", bytes(8 * pop.size))
        starts = list(range(0, pop.size, CHUNK))
        global _PREPARER
        _PREPARER = self
        if self.parallel and len(starts) > 1 and not connection.in_atomic_block:
            connections.close_all()  # closed before the fork: the worker opens its own connection
            context = multiprocessing.get_context("fork")
            with context.Pool(1) as pool:
                pending = pool.apply_async(_prepare_chunk, (starts[0],))
                for n in range(len(starts)):
                    chunk = pending.get()
                    if n + 1 < len(starts):
                        pending = pool.apply_async(_prepare_chunk, (starts[n + 1],))
                    self._write_chunk(chunk)
        else:
            for start in starts:
                self._write_chunk(self.prepare_chunk(start))
        _PREPARER = None
        self.summary.volunteers = pop.size

    def prepare_chunk(self, start: int) -> _Chunk:
        """Build the people of one chunk and check the rows not yet in the database (reads only)."""
        pop, geo = self.pop, self.geo
        people = [pop.person(i) for i in range(start, min(pop.size, start + CHUNK))]
        chunk = _Chunk(start, [id_hash(p.id_number) for p in people])
        chunk.found = self._pks_by_hash(chunk.hashes)
        rows = []
        for p, h in zip(people, chunk.hashes, strict=True):
            if h not in chunk.found:
                row = p.row(geo)
                row["skills"] = "、".join(f"{code}（{level}）" for code, level in p.skills.items())
                rows.append((p.index + 1, row))
            chunk.certificates.extend((p.index, c) for c in p.certificates)
            if p.publicity:
                chunk.publicity.append(p.index)
        if rows:
            chunk.report, chunk.checked = check_rows(self.actor, rows, batch=self.batch)
        return chunk

    def _write_chunk(self, chunk: _Chunk) -> None:
        if chunk.report is not None:
            report = chunk.report
            if report.errors:
                first = report.errors[0]
                raise ValidationError(
                    f"demo row {first.row}: {first.field}: {first.message} ({len(report.errors)} errors)"
                )
            write_rows(self.actor, chunk.checked, report, batch=self.batch, via=RegisteredVia.IMPORT)
            self.summary.volunteers_created += report.written
            missing = [h for h in chunk.hashes if h not in chunk.found]
            chunk.found.update(self._pks_by_hash(missing))
        for n, h in enumerate(chunk.hashes):
            self.pks[chunk.start + n] = chunk.found[h]
        certificates = [
            CertificateRow(
                self.pks[i],
                c.type_code,
                c.issuer,
                number=c.number,
                issued_on=c.issued_on,
                valid_until=c.valid_until,
            )
            for i, c in chunk.certificates
        ]
        self.summary.certificates_created += bulk_add_certificates(self.actor, certificates).added
        consenting = [self.pks[i] for i in chunk.publicity]
        self.summary.consents_created += bulk_set_consent(self.actor, consenting, "publicity", True).added
        self.log(f"    {chunk.start + len(chunk.hashes)} / {self.pop.size}")

    @staticmethod
    def _pks_by_hash(hashes: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in range(0, len(hashes), 2000):
            found.update(
                Volunteer.objects.filter(id_hash__in=hashes[i : i + 2000]).values_list("id_hash", "pk")
            )
        return found

    def write_memberships(self) -> None:
        rows = [
            MemberRow(self.teams[key].pk, self.pks[p], role, self.tree.joined_on(key, p))
            for p, key, role in self.tree.memberships()
        ]
        self.summary.memberships_created += bulk_add_members(self.actor, rows).added
        self.summary.memberships = len(rows)

    # -- squads ------------------------------------------------------------------------------------------

    def make_squads(self) -> None:
        """Squads by discharge year under the street teams, as a leader would make them: propose, apply,
        then a squad leader (班长) and, in squads of eight or more, a deputy."""
        have = dict(
            Team.objects.filter(
                specialty=TeamSpecialty.SQUAD, parent_id__in=[t.pk for t in self.teams.values()]
            )
            .values("parent_id")
            .annotate(n=Count("pk"))
            .values_list("parent_id", "n")
        )
        for spec in self.tree.teams:
            team = self.teams[spec.key]
            if not spec.squads:
                continue
            if team.pk in have:
                self.summary.squads += have[team.pk]
                continue
            members = list(  # squads are by discharge year: the team's veterans
                Membership.objects.filter(team=team, left_on=None, volunteer__discharge_year__isnull=False)
                .order_by("volunteer_id")
                .values_list("volunteer_id", "volunteer__discharge_year")
            )
            count = min(spec.squads, len(members) // 2)
            if count < 1:
                continue
            proposal = squads.propose(members, max(2, len(members) // count), count=count)
            with transaction.atomic():
                created = actions.apply_squads(self.actor, team, proposal)
                self._squad_leaders(created)
            self.summary.squads += len(created)
            self.summary.teams_created += len(created)

    def _squad_leaders(self, created: list[Team]) -> None:
        by_squad: dict[int, list[Membership]] = {}
        rows = (
            Membership.objects.filter(team__in=created, left_on=None)
            .select_related("team")
            .annotate(
                party=F("volunteer__is_party_member"),
                born=F("volunteer__birth_date"),
                no=F("volunteer__number"),
            )
            .order_by("team_id", "no")
        )
        for m in rows:
            by_squad.setdefault(m.team_id, []).append(m)
        for squad in created:
            ranked = sorted(
                by_squad.get(squad.pk, []),
                key=lambda m: (not m.party, -m.born.year, m.no),  # type: ignore[attr-defined]
            )
            if ranked:
                actions.set_member_role(self.actor, ranked[0], MemberRole.LEADER)
            if len(ranked) >= 8:
                actions.set_member_role(self.actor, ranked[1], MemberRole.DEPUTY)

    # -- the demo logins' own records --------------------------------------------------------------------

    def link_demo_accounts(self) -> None:
        """hongxing_leader leads Futian's 红星 team; volunteer_zhou is a member of 南园街道's team."""
        targets = {
            HONGXING_LEADER.username: (self.tree.futian_team, MemberRole.LEADER),
            ZHOU.username: (self.tree.nanyuan_team, MemberRole.MEMBER),
        }
        for person in DEMO_PEOPLE:
            key, role = targets[person.username]
            user = User.objects.filter(username=person.username).first()
            if user is None or key is None:
                continue
            team = self.teams[key]
            volunteer = Volunteer.objects.filter(user=user).first()
            if volunteer is None:
                volunteer = Volunteer.objects.filter(id_hash=id_hash(demo_id(person))).first()
            if volunteer is None:
                volunteer = actions.register_volunteer(
                    self.actor,
                    {
                        "name": person.name,
                        "id_number": demo_id(person),
                        "phone": person.phone,
                        "home_region": person.home,
                        "address": f"{Region.objects.get(code=person.home).name}人民路18号3栋502房",
                        "is_veteran": True,
                        "service_branch": "army",
                        "enlistment_year": person.enlistment,
                        "discharge_year": person.discharge,
                        "is_party_member": True,
                    },
                    publicity_consent=True,
                )
                self.summary.volunteers_created += 1
            link_account(self.actor, volunteer, user)
            if not Membership.objects.filter(team=team, volunteer=volunteer, left_on=None).exists():
                actions.add_member(self.actor, team, volunteer, role=role, joined_on=team.founded_on)
                self.summary.memberships_created += 1


def build(actor: Any, **options: Any) -> Summary:
    return Builder(actor, **options).build()
