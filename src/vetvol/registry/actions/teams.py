"""Teams, memberships and squads."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vetvol.core import audit, events
from vetvol.core.scoping import Action, allowed_prefixes, covers, require, require_object
from vetvol.regions.models import LiaisonPoint, Region
from vetvol.registry.models import (
    CivilStatus,
    MemberRole,
    Membership,
    Team,
    TeamSpecialty,
    Volunteer,
    VolunteerStatus,
)
from vetvol.registry.squads import SquadProposal

TEAM_FIELDS = (
    "name",
    "brand",
    "specialty",
    "founded_on",
    "civil_status",
    "civil_number",
    "civil_date",
    "description",
    "squad_year_from",
    "squad_year_to",
    "is_active",
)


def _check_civil(fields: dict[str, Any]) -> None:
    status = fields.get("civil_status", CivilStatus.NONE)
    if status != CivilStatus.NONE and not fields.get("civil_number"):
        raise ValidationError({"civil_number": ["已登记或已备案的队伍须填写登记（备案）编号"]})
    if status != CivilStatus.NONE and not fields.get("civil_date"):
        raise ValidationError({"civil_date": ["请填写登记（备案）日期"]})


def create_team(actor: Any, *, region: Region, parent: Team | None = None, **fields: Any) -> Team:
    """A new team: admins and staff of the region, or the leaders of the parent team (for sub-teams)."""
    if parent is not None and not covers(allowed_prefixes(actor, Action.CHANGE), region.code):
        # Leaders may add sub-teams under their own team; staff of the region may add any team there.
        require_object(actor, Action.CHANGE, parent, what="registry.team.create")
    else:
        require(actor, Action.CHANGE, region.code, what="registry.team.create")
    if parent is not None and not region.code.startswith(parent.region_code):
        raise ValidationError({"region": ["下级队伍的区划须在上级队伍的区划范围内"]})
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items() if k in TEAM_FIELDS}
    if parent is not None and not fields.get("brand"):
        fields["brand"] = parent.brand
    _check_civil(fields)
    team = Team(
        region=region,
        region_code=region.code,
        parent=parent,
        depth=(parent.depth + 1) if parent else 0,
        path="",
        **fields,
    )
    team.full_clean(exclude=["path"])
    with transaction.atomic():
        team.save(force_insert=True)
        team.path = f"{parent.path if parent else '/'}{team.pk}/"
        team.save(update_fields=["path"])
        audit.record("registry.team.create", actor=actor, obj=team, detail={"name": team.name})
        events.emit("registry.team.created", id=team.pk, region_code=team.region_code)
    return team


def update_team(actor: Any, team: Team, **fields: Any) -> Team:
    require_object(actor, Action.CHANGE, team, what="registry.team.update")
    changes = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items() if k in TEAM_FIELDS}
    changes = {k: v for k, v in changes.items() if getattr(team, k) != v}
    if not changes:
        return team
    _check_civil(
        {f: changes.get(f, getattr(team, f)) for f in ("civil_status", "civil_number", "civil_date")}
    )
    for key, value in changes.items():
        setattr(team, key, value)
    team.full_clean()
    with transaction.atomic():
        team.save(update_fields=[*changes, "updated_at"])
        audit.record("registry.team.update", actor=actor, obj=team, detail={"fields": sorted(changes)})
        events.emit("registry.team.updated", id=team.pk, region_code=team.region_code)
    return team


def assign_liaison_point(actor: Any, team: Team, point: LiaisonPoint | None) -> Team:
    """Give the team a liaison room in a centre or station of its region (or take it away)."""
    require(actor, Action.CHANGE, team.region_code, what="registry.team.liaison_point")
    if point is not None:
        require(actor, Action.CHANGE, point.region_code, what="registry.team.liaison_point")
        if not point.region_code.startswith(team.region_code[:6]):
            raise ValidationError({"liaison_point": ["联络点应在本队所在区县的服务中心（站）内"]})
        holder = Team.objects.filter(liaison_point=point).exclude(pk=team.pk).first()
        if holder is not None:
            raise ValidationError({"liaison_point": [f"该联络点已分配给“{holder.name}”"]})
    with transaction.atomic():
        team.liaison_point = point
        team.save(update_fields=["liaison_point", "updated_at"])
        audit.record(
            "registry.team.liaison_point",
            actor=actor,
            obj=team,
            detail={"liaison_point": point.pk if point else None},
        )
    return team


def add_member(
    actor: Any, team: Team, volunteer: Volunteer, role: str = MemberRole.MEMBER, joined_on: date | None = None
) -> Membership:
    """Add an active volunteer to a team. A squad's members must belong to the squad's parent team."""
    require_object(actor, Action.CHANGE, team, what="registry.membership.add")
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ValidationError({"volunteer": ["只有在册志愿者可以加入队伍"]})
    if role not in MemberRole.values:
        raise ValidationError({"role": ["未知角色"]})
    if (
        team.specialty == TeamSpecialty.SQUAD
        and team.parent_id
        and not Membership.objects.filter(team_id=team.parent_id, volunteer=volunteer, left_on=None).exists()
    ):
        raise ValidationError({"volunteer": ["加入班之前须先加入上级队伍"]})
    membership = Membership(
        team=team, volunteer=volunteer, role=role, joined_on=joined_on or timezone.localdate()
    )
    try:
        with transaction.atomic():
            membership.save(force_insert=True)
            audit.record(
                "registry.membership.add",
                actor=actor,
                obj=team,
                detail={"volunteer": volunteer.number, "role": role},
            )
            events.emit("registry.membership.added", team_id=team.pk, volunteer_id=volunteer.pk)
    except IntegrityError as exc:
        raise ValidationError({"volunteer": ["该志愿者已是本队队员"]}) from exc
    return membership


def remove_member(actor: Any, membership: Membership, reason: str, left_on: date | None = None) -> Membership:
    require_object(actor, Action.CHANGE, membership.team, what="registry.membership.remove")
    if membership.left_on is not None:
        raise ValidationError({"membership": ["该队员已经退出"]})
    left_on = left_on or timezone.localdate()
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(left_on=left_on, left_reason=reason.strip()[:200])
        # Leaving a team also ends the memberships of its squads.
        Membership.objects.filter(
            team__parent=membership.team, volunteer_id=membership.volunteer_id, left_on=None
        ).update(left_on=left_on, left_reason="随上级队伍退出")
        audit.record(
            "registry.membership.remove",
            actor=actor,
            obj=membership.team,
            detail={"volunteer_id": membership.volunteer_id, "reason": reason},
        )
    membership.left_on = left_on
    return membership


def set_member_role(actor: Any, membership: Membership, role: str) -> Membership:
    require_object(actor, Action.CHANGE, membership.team, what="registry.membership.role")
    if role not in MemberRole.values:
        raise ValidationError({"role": ["未知角色"]})
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(role=role)
        audit.record(
            "registry.membership.role",
            actor=actor,
            obj=membership.team,
            detail={"volunteer_id": membership.volunteer_id, "role": role},
        )
    membership.role = role
    return membership


def apply_squads(actor: Any, team: Team, proposal: list[SquadProposal]) -> list[Team]:
    """Create the squads of a (possibly leader-adjusted) proposal under `team` and put members in them.
    Every proposed member must be a current member of the team, and in one squad only."""
    require_object(actor, Action.CHANGE, team, what="registry.team.squads")
    current = set(Membership.objects.filter(team=team, left_on=None).values_list("volunteer_id", flat=True))
    proposed = [vid for squad in proposal for vid in squad.volunteer_ids]
    if len(proposed) != len(set(proposed)):
        raise ValidationError({"squads": ["同一名队员不能分在两个班"]})
    outside = set(proposed) - current
    if outside:
        raise ValidationError({"squads": [f"{len(outside)} 名志愿者不是本队现任队员"]})
    today = timezone.localdate()
    created: list[Team] = []
    with transaction.atomic():
        for squad in proposal:
            child = create_team(
                actor,
                region=team.region,
                parent=team,
                name=squad.name,
                specialty=TeamSpecialty.SQUAD,
                squad_year_from=squad.year_from,
                squad_year_to=squad.year_to,
            )
            Membership.objects.bulk_create(
                [Membership(team=child, volunteer_id=vid, joined_on=today) for vid in squad.volunteer_ids]
            )
            created.append(child)
        audit.record(
            "registry.team.squads",
            actor=actor,
            obj=team,
            detail={"squads": len(created), "members": len(proposed)},
        )
    return created
