"""`vetvol seed_demo`: the demo province.

Service centres and stations with their liaison points, one login per role, then the province at the
report's scale (4,023 teams, 65,000 volunteers; see `vetvol.demo.province`). Deterministic from `--seed`,
idempotent, and built through actions, so it is audited like real use.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from vetvol.accounts import actions as account_actions
from vetvol.accounts.models import User
from vetvol.demo import activities as demo_activities
from vetvol.demo import care as demo_care
from vetvol.demo import exemplars as demo_exemplars
from vetvol.demo import fund as demo_fund
from vetvol.demo import hours as demo_hours
from vetvol.demo import province, teams
from vetvol.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from vetvol.demo.geography import CITIES, CITY_BRANDS
from vetvol.regions import actions as region_actions
from vetvol.regions.models import Region, RegionLevel, ServiceCentre

OPENING_HOURS = "周一至周五 9:00-12:00，14:00-17:30"
SYSTEM_USER = "admin"


class Command(BaseCommand):
    help = (
        "Create the demo province: service centres and stations, liaison points, one account per role, "
        "4,023 teams and 65,000 volunteers (deterministic from --seed; running it again adds nothing)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo logins")
        parser.add_argument("--seed", type=int, default=province.DEFAULT_SEED, help="default %(default)s")
        parser.add_argument(
            "--volunteers",
            type=int,
            default=province.DEFAULT_VOLUNTEERS,
            help="volunteers to create (default %(default)s; 1000000 for benchmarks)",
        )
        parser.add_argument(
            "--recipients", type=int, default=3000, help="care service recipients (default %(default)s)"
        )
        parser.add_argument("--teams", type=int, default=teams.TOTAL_TEAMS, help="default %(default)s")
        parser.add_argument(
            "--cities",
            default="",
            help="only these cities, comma-separated codes (e.g. 4403 for a small, fast province)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if not Region.objects.filter(code="44").exists():
            self.stderr.write("The region tree is empty: run `vetvol load_regions` first.")
            raise SystemExit(1)
        cities = [c.strip() for c in options["cities"].split(",") if c.strip()]
        unknown = sorted(set(cities) - set(CITIES))
        if unknown:
            raise CommandError(f"unknown city codes: {', '.join(unknown)} (Guangdong's are 4401 … 4453)")
        if options["volunteers"] < 0 or options["teams"] < 1:
            raise CommandError("--volunteers must be 0 or more and --teams 1 or more")
        system = self._system_user()
        with transaction.atomic():
            centres = self._centres(system, cities)
        with transaction.atomic():
            accounts = self._accounts(system)

        def log(message: str) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(message)

        summary = province.build(
            system,
            seed=options["seed"],
            volunteers=options["volunteers"],
            teams_total=options["teams"],
            cities=cities or None,
            log=log,
        )
        shifts = demo_activities.build(system, seed=options["seed"], cities=cities or None)
        if shifts:
            self.stdout.write(f"activities: {shifts} shifts (one under way in each of their districts)")
        records, served = demo_hours.build(system, seed=options["seed"], cities=cities or None)
        if records:
            self.stdout.write(f"hours: {records} records of past shifts for {served} volunteers, approved")
        care = demo_care.build(
            system, seed=options["seed"], recipients=options["recipients"], cities=cities or None
        )
        if care:
            self.stdout.write("care: " + ", ".join(f"{n} {what}" for what, n in care.items()))
        fund = demo_fund.build(seed=options["seed"])
        if fund:
            self.stdout.write("fund: " + ", ".join(f"{n} {what}" for what, n in fund.items()))
        exemplars = demo_exemplars.build(system, seed=options["seed"], cities=cities or None)
        if exemplars:
            self.stdout.write(f"model volunteers: {exemplars} published")
        from vetvol.stats import rollup  # the province's figures counted once, so the server starts on them

        stats = rollup.rebuild()
        self.stdout.write(f"statistics: {stats.get('totals', 0)} region totals")
        self.stdout.write(summary.line(options["seed"], centres, accounts, time.perf_counter() - started))
        if not options["quiet_logins"]:
            self._print_logins()

    def _system_user(self) -> User:
        user = User.objects.filter(username=SYSTEM_USER).first()
        if user is None:
            user = User.objects.create_superuser(
                SYSTEM_USER, password=DEMO_PASSWORD, display_name="系统管理员"
            )
        return user

    def _centres(self, actor: User, cities: list[str]) -> int:
        have = set(ServiceCentre.objects.values_list("region_id", flat=True))
        levels = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
        created = 0
        nodes = Region.objects.filter(level__in=levels)
        if cities:
            scope = Q(code="44")
            for city in cities:
                scope |= Q(code__startswith=city)
            nodes = nodes.filter(scope)
        for region in nodes.order_by("code"):
            if region.code in have:
                continue
            centre = region_actions.create_service_centre(actor, region, opening_hours=OPENING_HOURS)
            created += 1
            for name, room in self._liaison_points(region):
                region_actions.create_liaison_point(actor, centre, name=name, room=room)
        return created

    def _liaison_points(self, region: Region) -> list[tuple[str, str]]:
        if region.level == RegionLevel.CITY:
            brand = CITY_BRANDS.get(region.code)
            team = f"“{brand}”退役军人志愿服务总队" if brand else f"{region.name}退役军人志愿服务总队"
            return [(f"{team}联络室", "二楼 201 室")]
        if region.level == RegionLevel.COUNTY:
            return [(f"{region.name}退役军人志愿服务队联络室", "一楼 102 室")]
        if region.level == RegionLevel.TOWNSHIP and region.kind == "street":
            return [(f"{region.name}退役军人志愿服务分队联络点", "一楼服务大厅")]
        return []

    def _accounts(self, actor: User) -> int:
        created = 0
        for account in DEMO_ACCOUNTS:
            user = User.objects.filter(username=account.username).first()
            if user is None:
                user = account_actions.create_user(
                    actor,
                    username=account.username,
                    password=DEMO_PASSWORD,
                    display_name=account.display_name,
                )
                created += 1
            if not user.grants.filter(role=account.role, region_id=account.region_code).exists():
                region = Region.objects.get(code=account.region_code)
                account_actions.grant_role(actor, user, account.role, region)
        return created

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"  {SYSTEM_USER:<16} 系统管理员 (superuser)")
        for a in DEMO_ACCOUNTS:
            self.stdout.write(f"  {a.username:<16} {a.display_name} — {a.role} @ {a.region_code}")
        self.stdout.write(
            "Admin and auditor logins ask for a TOTP code; the demo shows the current code on that page."
        )
