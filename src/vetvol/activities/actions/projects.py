"""Projects, activities and insurance."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vetvol.activities.models import Activity, ActivityStatus, InsurancePolicy, Project
from vetvol.core import audit, events
from vetvol.core.scoping import Action, require, require_object
from vetvol.regions.models import Region, ServiceCentre
from vetvol.registry.models import CertificateType, Skill, Team, Volunteer

PROJECT_FIELDS = ("name", "brand", "domain", "description", "risk_statement", "insurance_required")
ACTIVITY_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "place_name",
    "address",
    "lng",
    "lat",
    "geofence_m",
    "fence_policy",
    "capacity",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_cutoff_hours",
    "approval",
    "team_only",
    "min_age",
    "max_age",
)


def create_project(
    actor: Any,
    *,
    region: Region,
    owner_team: Team | None = None,
    owner_centre: ServiceCentre | None = None,
    **fields: Any,
) -> Project:
    """A project owned by a team (its leaders or the region's staff) or by a service centre (its staff)."""
    if owner_team is not None:
        require_object(actor, Action.CHANGE, owner_team, what="activities.project.create")
    else:
        require(actor, Action.CHANGE, region.code, what="activities.project.create")
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items() if k in PROJECT_FIELDS}
    if not fields.get("risk_statement"):
        raise ValidationError(
            {"risk_statement": ["请如实填写活动风险提示（志愿服务条例要求招募时告知风险）"]}
        )
    if owner_team is None and owner_centre is None:
        raise ValidationError({"owner": ["请选择主办队伍或服务中心（站）"]})
    project = Project(
        region_code=region.code, owner_team=owner_team, owner_centre=owner_centre, created_by=actor, **fields
    )
    project.full_clean()
    with transaction.atomic():
        project.save(force_insert=True)
        audit.record("activities.project.create", actor=actor, obj=project, detail={"name": project.name})
        events.emit("activities.project.created", id=project.pk, region_code=project.region_code)
    return project


def create_activity(
    actor: Any,
    project: Project,
    *,
    skills: list[str] | None = None,
    certificates: list[str] | None = None,
    region: Region | None = None,
    **fields: Any,
) -> Activity:
    """A shift under a project. Its region is the project's unless a node inside it is given."""
    require_object(actor, Action.CHANGE, project, what="activities.activity.create")
    region_code = region.code if region is not None else project.region_code
    if not region_code.startswith(project.region_code):
        raise ValidationError({"region": ["活动地点须在项目所在区划内"]})
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items() if k in ACTIVITY_FIELDS}
    activity = Activity(
        project=project, region_code=region_code, created_by=actor, qr_secret=secrets.token_hex(16), **fields
    )
    errors: dict[str, list[str]] = {}
    if activity.starts_at and activity.ends_at and activity.ends_at <= activity.starts_at:
        errors["ends_at"] = ["结束时间应晚于开始时间"]
    if activity.signup_closes_at and activity.ends_at and activity.signup_closes_at > activity.ends_at:
        errors["signup_closes_at"] = ["报名截止时间不能晚于活动结束时间"]
    if activity.min_age and activity.max_age and activity.min_age > activity.max_age:
        errors["max_age"] = ["最大年龄不能小于最小年龄"]
    if errors:
        raise ValidationError(errors)
    activity.full_clean()
    skill_rows = list(Skill.objects.filter(code__in=skills or []))
    cert_rows = list(CertificateType.objects.filter(code__in=certificates or []))
    if len(skill_rows) != len(set(skills or [])) or len(cert_rows) != len(set(certificates or [])):
        raise ValidationError({"requirements": ["所需技能或证书中有未知项"]})
    with transaction.atomic():
        activity.save(force_insert=True)
        activity.required_skills.set(skill_rows)
        activity.required_certificates.set(cert_rows)
        audit.record(
            "activities.activity.create", actor=actor, obj=activity, detail={"title": activity.title}
        )
        events.emit("activities.activity.created", id=activity.pk, region_code=activity.region_code)
    return activity


def cancel_activity(actor: Any, activity: Activity, reason: str) -> Activity:
    require_object(actor, Action.CHANGE, activity.project, what="activities.activity.cancel")
    if not reason.strip():
        raise ValidationError({"reason": ["请填写取消原因"]})
    with transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.CANCELLED)
        audit.record(
            "activities.activity.cancel", actor=actor, obj=activity, detail={"reason": reason.strip()[:200]}
        )
        events.emit("activities.activity.cancelled", id=activity.pk, region_code=activity.region_code)
    activity.status = ActivityStatus.CANCELLED
    return activity


def add_insurance(
    actor: Any, volunteer: Volunteer, *, insurer: str, policy_number: str, valid_from: date, valid_until: date
) -> InsurancePolicy:
    require(actor, Action.CHANGE_PEOPLE, volunteer.region_code, what="activities.insurance.add")
    if valid_until < valid_from:
        raise ValidationError({"valid_until": ["保险截止日期不能早于生效日期"]})
    if not insurer.strip() or not policy_number.strip():
        raise ValidationError({"policy_number": ["请填写保险公司和保单号"]})
    with transaction.atomic():
        policy = InsurancePolicy.objects.create(
            volunteer=volunteer,
            insurer=insurer.strip()[:100],
            policy_number=policy_number.strip()[:60],
            valid_from=valid_from,
            valid_until=valid_until,
            recorded_by=actor,
        )
        audit.record(
            "activities.insurance.add", actor=actor, obj=volunteer, detail={"until": str(valid_until)}
        )
    return policy
