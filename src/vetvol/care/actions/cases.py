"""Life events and cases: a recorded event opens a case from its plan; the case team works its tasks,
visits and notes, refers what the station cannot do, and closes it with an outcome."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vetvol.care.actions.visits import clean_visit, write_visit
from vetvol.care.models import (
    OPEN_STATUSES,
    Case,
    CaseEntry,
    CaseLevel,
    CaseMember,
    CaseMemberRole,
    CaseOutcome,
    CasePlan,
    CaseStatus,
    CaseTask,
    Department,
    EntryKind,
    LifeEvent,
    LifeEventType,
    Pairing,
    Recipient,
    Referral,
    TaskStatus,
    Visit,
)
from vetvol.core import audit, events, ids
from vetvol.core.scoping import Action, allowed_prefixes, covers, require, require_object
from vetvol.registry.models import Volunteer

MSG_CLOSED = "该案件已办结，不能再修改"
MSG_CLOSED_TWICE = "该案件已经办结，不能重复办结"
TEXT_LIMIT = 2000


def _case_number(year: int) -> str:
    return f"C{year}{ids.allocate(f'case_number_{year}')[0]:07d}"


def _entry(case: Case, kind: str, actor: Any, text: str = "", visit: Visit | None = None) -> CaseEntry:
    return CaseEntry.objects.create(
        case=case,
        kind=kind,
        at=timezone.now(),
        author=actor if getattr(actor, "is_authenticated", False) else None,
        text=text,
        visit=visit,
    )


def _may_own(user: Any, region_code: str) -> bool:
    return bool(user) and covers(allowed_prefixes(user, Action.VIEW_PEOPLE), region_code)


def _require_open(case: Case) -> None:
    if case.status not in OPEN_STATUSES:
        raise ValidationError({"case": [MSG_CLOSED]})


def record_life_event(
    actor: Any,
    recipient: Recipient,
    *,
    event_type: str,
    level: int,
    occurred_on: date,
    description: str = "",
    owner: Any = None,
) -> Case:
    """Record an event in a recipient's life and open its case from the plan for the type and level: the
    first-contact and closing deadlines, a task per planned service, the paired volunteer in the team."""
    errors: dict[str, list[str]] = {}
    if event_type not in LifeEventType.values:
        errors["event_type"] = ["请选择事件类型：" + "、".join(LifeEventType.labels)]
    if level not in CaseLevel.values:
        errors["level"] = ["请选择等级：紧急、重要或一般"]
    if occurred_on is None or occurred_on > timezone.localdate():
        errors["occurred_on"] = ["发生日期不能为空，也不能晚于今天"]
    if len(description or "") > TEXT_LIMIT:
        errors["description"] = [f"情况说明最多 {TEXT_LIMIT} 字"]
    if errors:
        raise ValidationError(errors)
    require(actor, Action.CHANGE_PEOPLE, recipient.region_code, what="care.case.open")
    owner = owner or actor
    if not owner.is_superuser and not _may_own(owner, recipient.region_code):
        raise ValidationError({"owner": ["负责人须为该服务对象所在区划的工作人员或社工"]})
    if recipient.status != "active":
        raise ValidationError({"recipient": ["该服务对象已迁出或已故，不能立案"]})
    plan = CasePlan.objects.filter(event_type=event_type, level=level, is_active=True).first()
    if plan is None:
        raise ValidationError({"event_type": ["该事件类型和等级没有可用的帮扶预案，请先在预案中配置"]})
    now = timezone.now()
    deadline = now + timedelta(days=plan.duration_days)
    with transaction.atomic():
        event = LifeEvent.objects.create(
            recipient=recipient,
            region_code=recipient.region_code,
            event_type=event_type,
            level=level,
            occurred_on=occurred_on,
            description=(description or "").strip(),
            reported_by=actor,
        )
        case = Case.objects.create(
            number=_case_number(timezone.localdate().year),
            recipient=recipient,
            event=event,
            plan=plan,
            level=level,
            owner=owner,
            opened_at=now,
            first_contact_due=now + timedelta(hours=plan.response_hours),
            deadline=deadline,
            visits_required=plan.visits_required,
            region_code=recipient.region_code,
        )
        tasks = [CaseTask(case=case, title="首次联系服务对象", due_at=case.first_contact_due)]
        for i, service in enumerate(plan.services, start=1):
            due = now + (deadline - now) * i / (len(plan.services) + 1)
            tasks.append(CaseTask(case=case, title=service, due_at=max(due, case.first_contact_due)))
        for task in tasks:
            task.region_code = case.region_code
        CaseTask.objects.bulk_create(tasks)
        role = CaseMemberRole.SOCIAL_WORKER if _is_social_worker(owner) else CaseMemberRole.STAFF
        CaseMember.objects.create(case=case, user=owner, role=role)
        paired = Pairing.objects.filter(recipient=recipient, status="active").values_list(
            "volunteer_id", flat=True
        )
        for volunteer_id in paired:
            CaseMember.objects.create(case=case, volunteer_id=volunteer_id, role=CaseMemberRole.VOLUNTEER)
        _entry(
            case, EntryKind.OPENED, actor, f"{event.get_event_type_display()}（{case.get_level_display()}）"
        )
        audit.record(
            "care.case.open",
            actor=actor,
            obj=case,
            detail={"event_type": event_type, "level": level, "recipient_id": recipient.pk},
        )
        events.emit("care.case.opened", id=case.pk, region_code=case.region_code, owner_id=owner.pk)
    return case


def _is_social_worker(user: Any) -> bool:
    return "social_worker" in getattr(user, "roles", set())


def add_case_member(
    actor: Any, case: Case, *, user: Any = None, volunteer: Volunteer | None = None, role: str = ""
) -> CaseMember:
    require_object(actor, Action.CHANGE, case, what="care.case.team")
    _require_open(case)
    if (user is None) == (volunteer is None):
        raise ValidationError({"member": ["请选择一名工作人员、社工或志愿者"]})
    if volunteer is not None and volunteer.status != "active":
        raise ValidationError({"volunteer": ["该志愿者不在册，不能加入案件团队"]})
    if user is not None and not _may_own(user, case.region_code):
        raise ValidationError({"user": ["该用户在此区划没有相应角色"]})
    role = role or (CaseMemberRole.VOLUNTEER if volunteer else CaseMemberRole.SOCIAL_WORKER)
    if role not in CaseMemberRole.values:
        raise ValidationError({"role": ["角色无效"]})
    if CaseMember.objects.filter(case=case, user=user, volunteer=volunteer).exists():
        raise ValidationError({"member": ["已在案件团队中"]})
    with transaction.atomic():
        member = CaseMember.objects.create(case=case, user=user, volunteer=volunteer, role=role)
        _entry(case, EntryKind.TEAM, actor, f"加入团队：{volunteer or user}")
        audit.record("care.case.team", actor=actor, obj=case, detail={"member_id": member.pk, "role": role})
    return member


def add_task(
    actor: Any, case: Case, *, title: str, due_at: datetime, assignee: Volunteer | None = None
) -> CaseTask:
    require_object(actor, Action.CHANGE, case, what="care.case.task")
    _require_open(case)
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title or len(title) > 200:
        errors["title"] = ["请填写事项（最多 200 字）"]
    if due_at is None:
        errors["due_at"] = ["请填写完成时限"]
    if assignee is not None and not CaseMember.objects.filter(case=case, volunteer=assignee).exists():
        errors["assignee"] = ["只能指派给案件团队中的志愿者"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = CaseTask.objects.create(
            case=case, title=title, due_at=due_at, assignee=assignee, region_code=case.region_code
        )
        _entry(case, EntryKind.TASK, actor, f"新增任务：{title}")
        audit.record("care.case.task", actor=actor, obj=case, detail={"task_id": task.pk})
        events.emit("care.task.added", id=task.pk, case_id=case.pk, assignee_id=getattr(assignee, "pk", None))
    return task


def complete_task(actor: Any, task: CaseTask) -> CaseTask:
    case = task.case
    require_object(actor, Action.CHANGE, case, what="care.case.task_done")
    now = timezone.now()
    with transaction.atomic():
        done = CaseTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.DONE, done_at=now, done_by=actor, updated_at=now
        )
        if not done:
            raise ValidationError({"task": ["该任务已完成或已取消"]})
        _entry(case, EntryKind.TASK, actor, f"完成任务：{task.title}")
        if task.title == "首次联系服务对象":
            _mark_contact(case, now)
        audit.record("care.case.task_done", actor=actor, obj=case, detail={"task_id": task.pk})
    task.refresh_from_db()
    return task


def _mark_contact(case: Case, at: datetime) -> None:
    """The first contact (a visit, a call, the task done): stamp it once and move the case to active."""
    Case.objects.filter(pk=case.pk, first_contact_at__isnull=True).update(first_contact_at=at, updated_at=at)
    Case.objects.filter(pk=case.pk, status=CaseStatus.OPEN).update(status=CaseStatus.ACTIVE, updated_at=at)
    CaseTask.objects.filter(case=case, title="首次联系服务对象", status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, done_at=at, updated_at=at
    )


def add_case_note(actor: Any, case: Case, text: str) -> CaseEntry:
    require_object(actor, Action.CHANGE, case, what="care.case.note")
    _require_open(case)
    text = (text or "").strip()
    if not text or len(text) > TEXT_LIMIT:
        raise ValidationError({"text": [f"请填写记录内容（最多 {TEXT_LIMIT} 字）"]})
    with transaction.atomic():
        entry = _entry(case, EntryKind.NOTE, actor, text)
        audit.record("care.case.note", actor=actor, obj=case, detail={"entry_id": entry.pk})
    return entry


def log_case_visit(
    actor: Any,
    case: Case,
    *,
    volunteer: Volunteer | None,
    visited_on: date,
    mode: str,
    summary: str = "",
    minutes: int = 0,
) -> Visit:
    """A visit for a case, by a volunteer of its team (or by staff, volunteer None); the first one is the
    first contact."""
    require_object(actor, Action.CHANGE, case, what="care.case.visit")
    _require_open(case)
    fields = clean_visit(visited_on, mode, summary, minutes)
    if volunteer is not None and not CaseMember.objects.filter(case=case, volunteer=volunteer).exists():
        raise ValidationError({"volunteer": ["该志愿者不在本案件团队中"]})
    with transaction.atomic():
        visit = write_visit(actor, case.recipient, volunteer, fields, what=case.number, case=case)
        Case.objects.filter(pk=case.pk).update(visits_done=F("visits_done") + 1)
        _mark_contact(case, timezone.now())
        _entry(case, EntryKind.VISIT, actor, fields["summary"], visit=visit)
    case.refresh_from_db()
    return visit


def refer_case(actor: Any, case: Case, *, department: str, reason: str) -> Referral:
    require_object(actor, Action.CHANGE, case, what="care.case.refer")
    _require_open(case)
    errors: dict[str, list[str]] = {}
    if department not in Department.values:
        errors["department"] = ["请选择转介部门"]
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        errors["reason"] = ["请填写转介事由（最多 500 字）"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = Referral.objects.create(
            case=case, department=department, reason=reason, referred_at=timezone.now(), referred_by=actor
        )
        _entry(case, EntryKind.REFERRAL, actor, f"转介{referral.get_department_display()}：{reason}")
        audit.record("care.case.refer", actor=actor, obj=case, detail={"department": department})
    return referral


def respond_referral(actor: Any, referral: Referral, response: str) -> Referral:
    case = referral.case
    require_object(actor, Action.CHANGE, case, what="care.case.referral_response")
    response = (response or "").strip()
    if not response or len(response) > 500:
        raise ValidationError({"response": ["请填写办理结果（最多 500 字）"]})
    now = timezone.now()
    with transaction.atomic():
        if not Referral.objects.filter(pk=referral.pk, responded_at__isnull=True).update(
            response=response, responded_at=now
        ):
            raise ValidationError({"response": ["该转介已登记过办理结果"]})
        _entry(case, EntryKind.REFERRAL, actor, f"{referral.get_department_display()}答复：{response}")
        audit.record(
            "care.case.referral_response", actor=actor, obj=case, detail={"referral_id": referral.pk}
        )
    referral.refresh_from_db()
    return referral


def close_case(actor: Any, case: Case, *, outcome: str, note: str = "") -> Case:
    """Close with an outcome, once: a conditional update decides, so a double submit or two staff closing
    at the same moment close it once and the second is told so."""
    require_object(actor, Action.CHANGE, case, what="care.case.close")
    if outcome not in CaseOutcome.values:
        raise ValidationError({"outcome": ["请选择办结结果"]})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"outcome_note": ["办结说明最多 500 字"]})
    if outcome == CaseOutcome.OTHER and not note:
        raise ValidationError({"outcome_note": ["选择“其他”时请填写办结说明"]})
    now = timezone.now()
    with transaction.atomic():
        closed = Case.objects.filter(pk=case.pk, status__in=OPEN_STATUSES).update(
            status=CaseStatus.CLOSED,
            closed_at=now,
            closed_by=actor,
            outcome=outcome,
            outcome_note=note,
            updated_at=now,
        )
        if not closed:
            raise ValidationError({"case": [MSG_CLOSED_TWICE]})
        CaseTask.objects.filter(case=case, status=TaskStatus.OPEN).update(
            status=TaskStatus.CANCELLED, updated_at=now
        )
        _entry(case, EntryKind.CLOSED, actor, f"{CaseOutcome(outcome).label}{'：' + note if note else ''}")
        audit.record("care.case.close", actor=actor, obj=case, detail={"outcome": outcome})
        events.emit("care.case.closed", id=case.pk, region_code=case.region_code)
    case.refresh_from_db()
    return case
