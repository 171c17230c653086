"""Sign-ups: eligibility, seats claimed by conditional update, the waiting list, cancellation, no-shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from vetvol.activities.models import ACTIVE_SIGNUP, Activity, ActivityStatus, Approval, SignUp, SignUpStatus
from vetvol.core import audit, events
from vetvol.core.scoping import Action, require_object
from vetvol.registry.models import Certificate, Membership, Volunteer, VolunteerSkill, VolunteerStatus


def _may_act_for(actor: Any, volunteer: Volunteer) -> bool:
    """The volunteer themselves, or staff who may change people in the volunteer's region."""
    return Volunteer.objects.restrict(actor, Action.CHANGE).filter(pk=volunteer.pk).exists()


def eligibility_problems(activity: Activity, volunteer: Volunteer) -> list[str]:
    """Why this volunteer may not take this activity (empty: eligible). Rules of Art. 15–16: age, skills,
    certificates valid on the day, team-only activities."""
    problems = []
    day = timezone.localtime(activity.starts_at).date()
    if volunteer.status != VolunteerStatus.ACTIVE:
        problems.append("志愿者注册尚未审核通过或已暂停服务")
    age = volunteer.age_on(day)
    if activity.min_age and age < activity.min_age:
        problems.append(f"本活动要求年满 {activity.min_age} 周岁")
    if activity.max_age and age > activity.max_age:
        problems.append(f"本活动要求年龄不超过 {activity.max_age} 周岁")
    needed = {s.pk: s.name for s in activity.required_skills.all()}
    have = set(
        VolunteerSkill.objects.filter(volunteer=volunteer, skill_id__in=needed).values_list(
            "skill_id", flat=True
        )
    )
    problems += [f"需要技能：{name}" for pk, name in needed.items() if pk not in have]
    certs = {c.pk: c.name for c in activity.required_certificates.all()}
    valid = set(
        Certificate.objects.filter(volunteer=volunteer, type_id__in=certs)
        .filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
            Q(issued_on__isnull=True) | Q(issued_on__lte=day),
        )
        .values_list("type_id", flat=True)
    )
    problems += [f"需要活动当天有效的证书：{name}" for pk, name in certs.items() if pk not in valid]
    owner = activity.project.owner_team_id
    if (
        activity.team_only
        and owner
        and not Membership.objects.filter(team_id=owner, volunteer=volunteer, left_on=None).exists()
    ):
        problems.append("本活动仅限主办队伍的队员报名")
    return problems


def _claim_seat(activity_id: int) -> bool:
    """Take one seat if one is free; the row count of the conditional update is the answer."""
    return (
        Activity.objects.filter(pk=activity_id, seats_taken__lt=F("capacity")).update(
            seats_taken=F("seats_taken") + 1
        )
        == 1
    )


def _release_seat(activity_id: int) -> None:
    Activity.objects.filter(pk=activity_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)


def _promote(activity: Activity) -> list[SignUp]:
    """Fill freed seats from the waiting list, in sign-up order."""
    promoted = []
    for signup in SignUp.objects.filter(activity=activity, status=SignUpStatus.WAITLISTED).order_by(
        "created_at", "id"
    ):
        if not _claim_seat(activity.pk):
            break
        SignUp.objects.filter(pk=signup.pk).update(status=SignUpStatus.CONFIRMED, updated_at=timezone.now())
        signup.status = SignUpStatus.CONFIRMED
        promoted.append(signup)
        audit.record("activities.signup.promoted", obj=activity, detail={"volunteer_id": signup.volunteer_id})
        events.emit("activities.signup.promoted", activity_id=activity.pk, volunteer_id=signup.volunteer_id)
    return promoted


def sign_up(actor: Any, activity: Activity, volunteer: Volunteer, note: str = "") -> SignUp:
    """Sign up: confirmed while seats last (auto approval), pending (leader approval), else waiting list."""
    if not _may_act_for(actor, volunteer):
        raise PermissionDenied("not this volunteer")
    now = timezone.now()
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError({"activity": ["活动已取消"]})
    if not activity.signup_opens_at <= now <= activity.signup_closes_at:
        raise ValidationError({"activity": ["不在报名时间内"]})
    problems = eligibility_problems(activity, volunteer)
    if problems:
        raise ValidationError({"volunteer": problems})
    try:
        with transaction.atomic():
            if activity.approval == Approval.LEADER:
                status = SignUpStatus.PENDING
            else:
                status = SignUpStatus.CONFIRMED if _claim_seat(activity.pk) else SignUpStatus.WAITLISTED
            signup = SignUp.objects.create(
                activity=activity, volunteer=volunteer, status=status, note=note.strip()[:200]
            )
            audit.record(
                "activities.signup.create",
                actor=actor,
                obj=activity,
                detail={"volunteer": volunteer.number, "status": status},
            )
            events.emit(
                "activities.signup.created", activity_id=activity.pk, volunteer_id=volunteer.pk, status=status
            )
    except IntegrityError as exc:
        raise ValidationError({"activity": ["您已报名本活动"]}) from exc
    return signup


def cancel_signup(actor: Any, signup: SignUp, reason: str = "") -> SignUp:
    """The volunteer (or staff for them) cancels before the cut-off; a freed seat goes to the waiting list."""
    volunteer, activity = signup.volunteer, signup.activity
    if not _may_act_for(actor, volunteer):
        raise PermissionDenied("not this volunteer")
    if signup.status not in ACTIVE_SIGNUP:
        raise ValidationError({"signup": ["该报名已不能取消"]})
    if timezone.now() > activity.starts_at - timedelta(hours=activity.cancel_cutoff_hours):
        raise ValidationError(
            {"signup": [f"活动开始前 {activity.cancel_cutoff_hours} 小时内不能在线取消，请联系组织者"]}
        )
    with transaction.atomic():
        changed = SignUp.objects.filter(pk=signup.pk, status=signup.status).update(
            status=SignUpStatus.CANCELLED, note=reason.strip()[:200], updated_at=timezone.now()
        )
        if changed != 1:
            raise ValidationError({"signup": ["报名状态刚刚发生变化，请刷新后重试"]})
        if signup.status == SignUpStatus.CONFIRMED:
            _release_seat(activity.pk)
            _promote(activity)
        audit.record(
            "activities.signup.cancel", actor=actor, obj=activity, detail={"volunteer": volunteer.number}
        )
    signup.status = SignUpStatus.CANCELLED
    return signup


def decide_signup(actor: Any, signup: SignUp, approve: bool, note: str = "") -> SignUp:
    """The organiser approves (a seat, or the waiting list) or turns down a pending sign-up."""
    require_object(actor, Action.CHANGE, signup.activity.project, what="activities.signup.decide")
    if signup.status != SignUpStatus.PENDING:
        raise ValidationError({"signup": ["只能审核待审核的报名"]})
    with transaction.atomic():
        if approve:
            status = SignUpStatus.CONFIRMED if _claim_seat(signup.activity_id) else SignUpStatus.WAITLISTED
        else:
            status = SignUpStatus.REJECTED
        SignUp.objects.filter(pk=signup.pk).update(
            status=status, decided_by=actor, note=note.strip()[:200], updated_at=timezone.now()
        )
        audit.record(
            "activities.signup.decide",
            actor=actor,
            obj=signup.activity,
            detail={"volunteer_id": signup.volunteer_id, "status": status},
        )
        events.emit(
            "activities.signup.decided",
            activity_id=signup.activity_id,
            volunteer_id=signup.volunteer_id,
            status=status,
        )
    signup.status = status
    return signup


def mark_no_show(actor: Any, signup: SignUp) -> SignUp:
    """After the start, the organiser marks a confirmed volunteer who did not come (Art. 22)."""
    require_object(actor, Action.CHANGE, signup.activity.project, what="activities.signup.no_show")
    if signup.status != SignUpStatus.CONFIRMED or (
        hasattr(signup, "attendance") and signup.attendance is not None
    ):
        raise ValidationError({"signup": ["只能对已录取且未签到的志愿者标记缺席"]})
    if timezone.now() < signup.activity.starts_at:
        raise ValidationError({"signup": ["活动开始后才能标记缺席"]})
    with transaction.atomic():
        SignUp.objects.filter(pk=signup.pk).update(
            status=SignUpStatus.NO_SHOW, decided_by=actor, updated_at=timezone.now()
        )
        audit.record(
            "activities.signup.no_show",
            actor=actor,
            obj=signup.activity,
            detail={"volunteer_id": signup.volunteer_id},
        )
    signup.status = SignUpStatus.NO_SHOW
    return signup
