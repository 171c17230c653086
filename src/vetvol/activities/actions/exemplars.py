"""Model volunteers (先进典型): a district (or city) admin nominates a volunteer of their subtree with a
citation; the city decides county- and city-level honours and the province provincial ones, approving or
rejecting with a reason. Nobody nominates themselves nor decides a nomination they made or one about
themselves (audited, then refused). Publication needs the volunteer's consent, given or withdrawn by them or
recorded by staff from a signed form; a withdrawal takes the entry off the portal at once."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from vetvol.activities import exemplars as rules
from vetvol.activities.actions.stars import clean_reason
from vetvol.activities.models import (
    Exemplar,
    ExemplarCategory,
    ExemplarConsent,
    ExemplarStatus,
    ExemplarTier,
    NameForm,
)
from vetvol.core import audit, events
from vetvol.core.models import AuditOutcome
from vetvol.core.scoping import Action, require, require_object
from vetvol.registry.models import Volunteer, VolunteerStatus

CITATION_MAX = 1000
CONSENT_VERSION = "exemplar-2026-1"  # the text the volunteer agrees to (shown on the consent form)
MAX_PERIOD_DAYS = 5 * 366
FIRST_YEAR = 2000


def clean_citation(text: str) -> str:
    """The citation as plain text: lines kept, spaces trimmed, required, at most CITATION_MAX characters,
    no control characters (it is shown on public pages, always escaped)."""
    lines = [" ".join(line.split()) for line in (text or "").replace("\r\n", "\n").split("\n")]
    citation = "\n".join(lines).strip()
    while "\n\n\n" in citation:
        citation = citation.replace("\n\n\n", "\n\n")
    if not citation:
        raise ValidationError({"citation": [gettext("请填写事迹简介")]})
    if len(citation) > CITATION_MAX:
        raise ValidationError(
            {
                "citation": [
                    gettext("事迹简介不能超过 %(max)d 个字（现有 %(n)d 个字）")
                    % {"max": CITATION_MAX, "n": len(citation)}
                ]
            }
        )
    if any(not ch.isprintable() and ch != "\n" for ch in citation):
        raise ValidationError({"citation": [gettext("事迹简介含有不可显示的字符，请删除后重试")]})
    return citation


def check_period(since: date, until: date, today: date) -> None:
    if since > until:
        raise ValidationError({"since": [gettext("统计起始日期不能晚于截止日期")]})
    if until > today:
        raise ValidationError({"until": [gettext("统计截止日期不能晚于今天")]})
    if (until - since).days > MAX_PERIOD_DAYS:
        raise ValidationError({"since": [gettext("统计期间不能超过五年")]})


def _choice(value: str, choices: Any, field: str, message: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: [message]})
    return value


def _refuse(actor: Any, what: str, obj: Any, why: str) -> None:
    audit.record(what, actor=actor, obj=obj, outcome=AuditOutcome.DENIED, detail={"why": why})
    raise PermissionDenied(why)


def nominate_exemplar(
    actor: Any,
    volunteer: Volunteer,
    *,
    tier: str,
    category: str,
    year: int,
    citation: str,
    since: date,
    until: date,
    today: date | None = None,
) -> Exemplar:
    """Nominate `volunteer` for `year` at `tier`, judged on the figures of `since`–`until` (kept with the
    nomination). One standing nomination per volunteer, year and tier (a rejected one may be made again)."""
    what = "activities.exemplar.nominate"
    if volunteer.user_id is not None and volunteer.user_id == getattr(actor, "pk", None):
        _refuse(actor, what, volunteer, "own")
    if not rules.may_nominate(actor, volunteer.region_code):
        _refuse(actor, what, volunteer, "no county-level grant")
    today = today or timezone.localdate()
    tier = _choice(tier, ExemplarTier, "tier", gettext("请选择先进典型级别"))
    category = _choice(category, ExemplarCategory, "category", gettext("请选择先进典型类别"))
    if not FIRST_YEAR <= year <= today.year:
        raise ValidationError(
            {
                "year": [
                    gettext("年度应在 %(first)d 至 %(last)d 之间") % {"first": FIRST_YEAR, "last": today.year}
                ]
            }
        )
    text = clean_citation(citation)
    check_period(since, until, today)
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ValidationError({"volunteer": [gettext("只能推荐在册（已审核通过）的志愿者")]})
    duplicate = gettext("该志愿者 %(year)d 年度已有%(tier)s推荐") % {
        "year": year,
        "tier": ExemplarTier(tier).label,
    }
    standing = Exemplar.objects.filter(volunteer=volunteer, year=year, tier=tier).exclude(
        status=ExemplarStatus.REJECTED
    )
    if standing.exists():
        raise ValidationError({"tier": [duplicate]})
    figures = rules.figures_for(volunteer, since, until)
    approver = rules.decider_code(volunteer.region_code, tier)
    try:
        with transaction.atomic():
            exemplar = Exemplar.objects.create(
                volunteer=volunteer,
                year=year,
                tier=tier,
                category=category,
                citation=text,
                period_from=since,
                period_to=until,
                minutes=figures.minutes,
                stars=figures.stars,
                missions=figures.missions,
                care_visits=figures.care_visits,
                nominated_by=actor,
                approver_code=approver,
                region_code=volunteer.region_code,
            )
            audit.record(
                what,
                actor=actor,
                obj=volunteer,
                detail={
                    "exemplar": exemplar.pk,
                    "volunteer": volunteer.number,
                    "year": year,
                    "tier": tier,
                    "category": category,
                    "minutes": figures.minutes,
                    "approver": approver,
                },
            )
            events.emit(
                "activities.exemplar.nominated",
                exemplar_id=exemplar.pk,
                volunteer_id=volunteer.pk,
                approver_code=approver,
            )
    except IntegrityError as exc:  # the same nomination, made a moment ago by someone else
        raise ValidationError({"tier": [duplicate]}) from exc
    return exemplar


def _check_decider(actor: Any, exemplar: Exemplar, what: str) -> None:
    """Before the transaction: not one's own nomination nor one about oneself, and a grant on the deciding
    node (the city, or the province for provincial honours)."""
    pk = getattr(actor, "pk", None)
    if exemplar.nominated_by_id == pk:
        _refuse(actor, what, exemplar, "own nomination")
    if exemplar.volunteer.user_id is not None and exemplar.volunteer.user_id == pk:
        _refuse(actor, what, exemplar, "own")
    require(actor, Action.CHANGE_PEOPLE, exemplar.approver_code, what=what)


def _decide(actor: Any, exemplar: Exemplar, status: str, reason: str, what: str) -> Exemplar:
    now = timezone.now()
    with transaction.atomic():
        # A conditional update decided by row count: of two decisions at the same moment one wins.
        won = Exemplar.objects.filter(pk=exemplar.pk, status=ExemplarStatus.NOMINATED).update(
            status=status, decided_by=actor, decided_at=now, decision_reason=reason, updated_at=now
        )
        if won != 1:
            raise ValidationError({"status": [gettext("该推荐已审核，请刷新页面")]})
        exemplar.status, exemplar.decided_by, exemplar.decided_at = status, actor, now
        exemplar.decision_reason = reason
        audit.record(
            what,
            actor=actor,
            obj=exemplar.volunteer,
            detail={
                "exemplar": exemplar.pk,
                "volunteer": exemplar.volunteer.number,
                "year": exemplar.year,
                "tier": exemplar.tier,
                "reason": reason,
            },
        )
        events.emit(
            f"activities.exemplar.{status}",
            exemplar_id=exemplar.pk,
            volunteer_id=exemplar.volunteer_id,
            region_code=exemplar.approver_code,
        )
    return exemplar


def approve_exemplar(actor: Any, exemplar: Exemplar) -> Exemplar:
    """Approve a waiting nomination. It is published once (and while) the volunteer consents."""
    what = "activities.exemplar.approve"
    _check_decider(actor, exemplar, what)
    if exemplar.status != ExemplarStatus.NOMINATED:
        raise ValidationError({"status": [gettext("该推荐已审核，请刷新页面")]})
    if exemplar.volunteer.status != VolunteerStatus.ACTIVE:
        raise ValidationError({"status": [gettext("该志愿者已不在册（暂停服务或已退出），不能认定")]})
    return _decide(actor, exemplar, ExemplarStatus.APPROVED, "", what)


def reject_exemplar(actor: Any, exemplar: Exemplar, reason: str) -> Exemplar:
    """Reject a waiting nomination with the reason the nominating district is told."""
    what = "activities.exemplar.reject"
    _check_decider(actor, exemplar, what)
    text = clean_reason(reason, "reason", gettext("请填写驳回理由"))
    if exemplar.status != ExemplarStatus.NOMINATED:
        raise ValidationError({"status": [gettext("该推荐已审核，请刷新页面")]})
    return _decide(actor, exemplar, ExemplarStatus.REJECTED, text, what)


def set_exemplar_consent(
    actor: Any, exemplar: Exemplar, *, granted: bool, name_form: str = ""
) -> ExemplarConsent:
    """Give (with the form of the name shown) or withdraw the consent to publish this honour. The
    volunteer's own account or staff who may change the volunteer's record (recording a signed form) may
    do it. A withdrawal is always accepted and unpublishes at once; consent to a rejected nomination is not
    taken."""
    volunteer = exemplar.volunteer
    require_object(actor, Action.CHANGE, volunteer, what="activities.exemplar.consent")
    if granted:
        name_form = _choice(name_form, NameForm, "name_form", gettext("请选择公开姓名的方式"))
        if exemplar.status == ExemplarStatus.REJECTED:
            raise ValidationError({"granted": [gettext("该推荐已驳回，无需授权公开")]})
    else:
        name_form = exemplar.name_form
    by_volunteer = volunteer.user_id is not None and volunteer.user_id == getattr(actor, "pk", None)
    now = timezone.now()
    with transaction.atomic():
        # Locked first, so that of a grant and a withdrawal made at the same moment the later row is the
        # one mirrored.
        Exemplar.objects.select_for_update().filter(pk=exemplar.pk).values_list("pk").get()
        consent = ExemplarConsent.objects.create(
            exemplar=exemplar,
            granted=granted,
            name_form=name_form,
            version=CONSENT_VERSION,
            recorded_by=actor,
            by_volunteer=by_volunteer,
        )
        Exemplar.objects.filter(pk=exemplar.pk).update(
            consent_granted=granted, name_form=name_form, consent_at=now, updated_at=now
        )
        exemplar.consent_granted, exemplar.name_form, exemplar.consent_at = granted, name_form, now
        audit.record(
            "activities.exemplar.consent",
            actor=actor,
            obj=volunteer,
            detail={
                "exemplar": exemplar.pk,
                "granted": granted,
                "name_form": name_form,
                "by_volunteer": by_volunteer,
                "version": CONSENT_VERSION,
            },
        )
        events.emit(
            "activities.exemplar.consent",
            exemplar_id=exemplar.pk,
            volunteer_id=volunteer.pk,
            granted=granted,
        )
    return consent
