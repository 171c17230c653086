"""Bulk versions of per-record registry actions, for imports and the demo province at scale.

Each follows the rules of its single-record action (`add_member`, `add_certificate`, `set_consent`): the
permission check (before any transaction, so a denial's audit row stays), the same validation, then one
transaction per chunk with one audit row per chunk and its event after commit. Everything is checked
before the first chunk is written. Rows that are already in the database (an active membership, the same
certificate, a consent flag already at that value) are skipped, so a run can be repeated.

`link_account` (a login for an existing volunteer record) lives here for now too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vetvol.core import audit, events
from vetvol.core.models import AuditOutcome
from vetvol.core.scoping import Action, require
from vetvol.registry.actions.volunteers import CONSENT_VERSION
from vetvol.registry.models import (
    Certificate,
    CertificateType,
    Consent,
    ConsentKind,
    MemberRole,
    Membership,
    Team,
    TeamSpecialty,
    Volunteer,
    VolunteerStatus,
)

CHUNK = 2000
_CODE_LENGTHS = (12, 9, 6, 4, 2)


@dataclass(frozen=True, slots=True)
class MemberRow:
    team_id: int
    volunteer_id: int
    role: str = MemberRole.MEMBER
    joined_on: date | None = None


@dataclass(frozen=True, slots=True)
class CertificateRow:
    volunteer_id: int
    type_code: str
    issuer: str
    number: str = ""
    issued_on: date | None = None
    valid_until: date | None = None


@dataclass
class BulkResult:
    added: int = 0
    skipped: int = 0  # already there
    chunks: int = 0
    errors: list[str] = field(default_factory=list)


def common_region(codes: Iterable[str]) -> str:
    """The deepest region code that contains all `codes` ("" if they share no province)."""
    items = list(codes)
    if not items:
        return ""
    prefix = min(items)
    last = max(items)
    n = 0
    while n < min(len(prefix), len(last)) and prefix[n] == last[n]:
        n += 1
    return next((prefix[:k] for k in _CODE_LENGTHS if k <= n), "")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _deny(actor: Any, what: str, needed: str, count: int) -> None:
    audit.record(what, actor=actor, outcome=AuditOutcome.DENIED, detail={"needed": needed, "rows": count})
    raise PermissionDenied(f"{needed} not granted on {count} of the rows")


def _require_all(actor: Any, queryset: Any, ids: set[int], action: str, *, what: str) -> None:
    """Like `require_object` for many rows: every id must be reachable with `action`."""
    ordered = sorted(ids)
    allowed = 0
    for part in _chunks(ordered):
        allowed += queryset.restrict(actor, action).filter(pk__in=part).count()
    if allowed != len(ordered):
        _deny(actor, what, action, len(ordered) - allowed)


def _volunteer_regions(ids: set[int]) -> dict[int, str]:
    regions: dict[int, str] = {}
    for part in _chunks(sorted(ids)):
        regions.update(Volunteer.objects.filter(pk__in=part).values_list("pk", "region_code"))
    return regions


# -- memberships -----------------------------------------------------------------------------------------


def bulk_add_members(actor: Any, rows: Iterable[MemberRow], *, today: date | None = None) -> BulkResult:
    """Add many (team, volunteer, role) memberships with `add_member`'s rules: the actor may change every
    team (region grant or team leadership), volunteers are active, roles known, a squad's members belong to
    its parent team. Existing active memberships and repeated rows are skipped."""
    today = today or timezone.localdate()
    items = list(rows)
    result = BulkResult()
    bad_roles = {r.role for r in items if r.role not in MemberRole.values}
    if bad_roles:
        raise ValidationError({"role": [f"未知角色：{'、'.join(sorted(bad_roles))}"]})
    team_ids = {r.team_id for r in items}
    _require_all(actor, Team.objects, team_ids, Action.CHANGE, what="registry.membership.add")
    teams: dict[int, tuple[str, int | None, str]] = {}
    for part in _chunks(sorted(team_ids)):
        teams.update(
            (pk, (specialty, parent, region))
            for pk, specialty, parent, region in Team.objects.filter(pk__in=part).values_list(
                "pk", "specialty", "parent_id", "region_code"
            )
        )
    volunteer_ids = {r.volunteer_id for r in items}
    inactive = 0
    for part in _chunks(sorted(volunteer_ids)):
        found = Volunteer.objects.filter(pk__in=part, status=VolunteerStatus.ACTIVE).count()
        inactive += len(part) - found
    if inactive:
        raise ValidationError(
            {"volunteer": [f"{inactive} 名志愿者不是在册志愿者，只有在册志愿者可以加入队伍"]}
        )
    # The volunteers' active memberships (of these teams, and of the squads' parent teams).
    existing: set[tuple[int, int]] = set()
    for part in _chunks(sorted(volunteer_ids)):
        existing.update(
            Membership.objects.filter(volunteer_id__in=part, left_on=None).values_list(
                "team_id", "volunteer_id"
            )
        )
    fresh: list[MemberRow] = []
    seen: set[tuple[int, int]] = set()
    for row in items:
        key = (row.team_id, row.volunteer_id)
        if key in existing or key in seen:
            result.skipped += 1
            continue
        seen.add(key)
        fresh.append(row)
    outside = 0
    for row in fresh:
        specialty, parent, _region = teams[row.team_id]
        if specialty == TeamSpecialty.SQUAD and parent:
            pair = (parent, row.volunteer_id)
            if pair not in existing and pair not in seen:
                outside += 1
    if outside:
        raise ValidationError(
            {"volunteer": [f"{outside} 名志愿者尚未加入班的上级队伍，加入班之前须先加入上级队伍"]}
        )
    # Parent teams first, so a squad's rows never come before their parent's in another chunk.
    fresh.sort(key=lambda r: (teams[r.team_id][0] == TeamSpecialty.SQUAD, r.team_id, r.volunteer_id))
    for part in _chunks(fresh):
        with transaction.atomic():
            Membership.objects.bulk_create(
                [
                    Membership(
                        team_id=r.team_id,
                        volunteer_id=r.volunteer_id,
                        role=r.role,
                        joined_on=r.joined_on or today,
                    )
                    for r in part
                ],
                batch_size=1000,
            )
            chunk_teams = {r.team_id for r in part}
            audit.record(
                "registry.membership.bulk_add",
                actor=actor,
                region_code=common_region(teams[t][2] for t in chunk_teams),
                detail={"rows": len(part), "teams": len(chunk_teams)},
            )
            events.emit("registry.memberships.added", count=len(part), teams=len(chunk_teams))
        result.added += len(part)
        result.chunks += 1
    return result


# -- certificates ----------------------------------------------------------------------------------------


def bulk_add_certificates(actor: Any, rows: Iterable[CertificateRow]) -> BulkResult:
    """Record many certificates with `add_certificate`'s rules (known active type, an issuer, an expiry
    date for types that expire, not expiring before issue). A row equal to a stored certificate (same
    volunteer, type and number) is skipped."""
    items = list(rows)
    result = BulkResult()
    types = {t.code: t for t in CertificateType.objects.filter(is_active=True)}
    errors: list[str] = []
    for n, row in enumerate(items, start=1):
        ctype = types.get(row.type_code)
        if ctype is None:
            errors.append(f"第 {n} 条：未知证书类型 {row.type_code}")
        elif ctype.expires and row.valid_until is None:
            errors.append(f"第 {n} 条：{ctype.name}有有效期，请填写有效期至")
        if not row.issuer.strip():
            errors.append(f"第 {n} 条：请填写发证机构")
        if row.issued_on and row.valid_until and row.valid_until < row.issued_on:
            errors.append(f"第 {n} 条：有效期不能早于发证日期")
    if errors:
        raise ValidationError({"certificates": errors[:20]})
    volunteer_ids = {r.volunteer_id for r in items}
    _require_all(
        actor, Volunteer.objects, volunteer_ids, Action.CHANGE, what="registry.volunteer.certificate"
    )
    regions = _volunteer_regions(volunteer_ids)
    existing: set[tuple[int, int, str]] = set()
    for part in _chunks(sorted(volunteer_ids)):
        existing.update(
            Certificate.objects.filter(volunteer_id__in=part).values_list("volunteer_id", "type_id", "number")
        )
    fresh = []
    for row in items:
        key = (row.volunteer_id, types[row.type_code].pk, row.number.strip()[:50])
        if key in existing:
            result.skipped += 1
            continue
        existing.add(key)
        fresh.append(row)
    for part in _chunks(fresh):
        with transaction.atomic():
            Certificate.objects.bulk_create(
                [
                    Certificate(
                        volunteer_id=r.volunteer_id,
                        type=types[r.type_code],
                        issuer=r.issuer.strip()[:100],
                        number=r.number.strip()[:50],
                        issued_on=r.issued_on,
                        valid_until=r.valid_until,
                        region_code=regions[r.volunteer_id],
                    )
                    for r in part
                ],
                batch_size=1000,
            )
            audit.record(
                "registry.volunteer.certificate.bulk_add",
                actor=actor,
                region_code=common_region(regions[r.volunteer_id] for r in part),
                detail={"rows": len(part), "types": sorted({r.type_code for r in part})},
            )
        result.added += len(part)
        result.chunks += 1
    return result


# -- consents --------------------------------------------------------------------------------------------

_FLAGS = {ConsentKind.PUBLICITY: "publicity_consent", ConsentKind.LOCATION: "location_consent"}


def bulk_set_consent(actor: Any, volunteer_ids: Iterable[int], kind: str, granted: bool) -> BulkResult:
    """Record one consent (given or withdrawn) for many volunteers, as `set_consent` does for one: a
    consent row with the text version, and the volunteer's flag. Volunteers whose flag already has that
    value are skipped."""
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": ["未知的授权类型"]})
    ids = set(volunteer_ids)
    result = BulkResult()
    _require_all(actor, Volunteer.objects, ids, Action.CHANGE, what="registry.volunteer.consent")
    flag = _FLAGS.get(ConsentKind(kind))
    todo: list[tuple[int, str]] = []
    for part in _chunks(sorted(ids)):
        qs = Volunteer.objects.filter(pk__in=part)
        if flag:
            qs = qs.exclude(**{flag: granted})
        todo.extend(qs.values_list("pk", "region_code"))
    result.skipped = len(ids) - len(todo)
    user = actor if getattr(actor, "is_authenticated", False) else None
    for part in _chunks(todo):
        pks = [pk for pk, _ in part]
        with transaction.atomic():
            Consent.objects.bulk_create(
                [
                    Consent(
                        volunteer_id=pk, kind=kind, granted=granted, version=CONSENT_VERSION, recorded_by=user
                    )
                    for pk in pks
                ],
                batch_size=1000,
            )
            if flag:
                Volunteer.objects.filter(pk__in=pks).update(**{flag: granted, "updated_at": timezone.now()})
            audit.record(
                "registry.volunteer.consent.bulk",
                actor=actor,
                region_code=common_region(code for _, code in part),
                detail={"kind": kind, "granted": granted, "rows": len(pks)},
            )
        result.added += len(pks)
        result.chunks += 1
    return result


# -- accounts --------------------------------------------------------------------------------------------


def link_account(actor: Any, volunteer: Volunteer, user: Any) -> Volunteer:
    """Link an existing login to a volunteer record (one login per person, one person per login). Needs
    the right to manage users and to change people in the volunteer's region."""
    require(actor, Action.MANAGE_USERS, volunteer.region_code, what="registry.volunteer.link_account")
    require(actor, Action.CHANGE_PEOPLE, volunteer.region_code, what="registry.volunteer.link_account")
    if volunteer.user_id == user.pk:
        return volunteer
    if volunteer.user_id is not None:
        raise ValidationError({"user": ["该志愿者已关联其他账号"]})
    if Volunteer.objects.filter(Q(user_id=user.pk) & ~Q(pk=volunteer.pk)).exists():
        raise ValidationError({"user": ["该账号已关联其他志愿者"]})
    with transaction.atomic():
        Volunteer.objects.filter(pk=volunteer.pk).update(user=user, updated_at=timezone.now())
        audit.record(
            "registry.volunteer.link_account",
            actor=actor,
            obj=volunteer,
            detail={"user": user.get_username()},
        )
        events.emit("registry.volunteer.account_linked", id=volunteer.pk, user_id=user.pk)
    volunteer.user = user
    return volunteer
