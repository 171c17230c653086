"""Reads of care, always through the scoping primitive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from vetvol.care.actions.visits import HIDDEN, PLAIN, visit_access
from vetvol.care.models import (
    OPEN_STATUSES,
    Campaign,
    CampaignTask,
    Case,
    CaseEntry,
    CaseTask,
    Complaint,
    EntryKind,
    HelpInvitation,
    HelpRequest,
    Pairing,
    Recipient,
    Visit,
)
from vetvol.core.scoping import Action, get_for_user


def get_recipient_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Recipient:
    return get_for_user(Recipient.objects.all(), user, action, pk=pk)


def get_case_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Case:
    return get_for_user(
        Case.objects.select_related("recipient", "owner", "event", "plan"), user, action, pk=pk
    )


def get_pairing_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Pairing:
    return get_for_user(Pairing.objects.select_related("volunteer", "recipient"), user, action, pk=pk)


def get_campaign_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Campaign:
    return get_for_user(Campaign.objects.all(), user, action, pk=pk)


def get_campaign_task_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> CampaignTask:
    qs = CampaignTask.objects.select_related("campaign", "recipient", "volunteer")
    return get_for_user(qs, user, action, pk=pk)


def get_help_request_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> HelpRequest:
    qs = HelpRequest.objects.select_related("recipient", "volunteer", "skill")
    return get_for_user(qs, user, action, pk=pk)


def get_complaint_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Complaint:
    return get_for_user(Complaint.objects.select_related("recipient"), user, action, pk=pk)


def recipients(user: Any, *, q: str = "", category: str = "", region: str = "") -> QuerySet[Recipient]:
    qs = Recipient.objects.restrict(user, Action.VIEW)
    if q:
        qs = qs.filter(Q(name__startswith=q) | Q(number=q))
    if category:
        qs = qs.filter(category=category)
    if region.isdigit():
        qs = qs.filter(region_code__gte=region, region_code__lt=region + ":")
    return qs.order_by("number")


def overdue_cases(user: Any, now: datetime | None = None) -> QuerySet[Case]:
    """Open cases past their closing deadline, or still waiting for a first contact past its time limit."""
    now = now or timezone.now()
    return (
        Case.objects.restrict(user, Action.VIEW)
        .filter(status__in=OPEN_STATUSES)
        .filter(Q(deadline__lt=now) | Q(first_contact_due__lt=now, first_contact_at__isnull=True))
        .select_related("recipient", "owner")
        .order_by("deadline", "id")
    )


def overdue_tasks(user: Any, now: datetime | None = None) -> QuerySet[CaseTask]:
    now = now or timezone.now()
    cases = Case.objects.restrict(user, Action.VIEW).filter(status__in=OPEN_STATUSES)
    return (
        CaseTask.objects.filter(status="open", due_at__lt=now, case__in=cases)
        .select_related("case", "case__recipient", "assignee")
        .order_by("due_at", "id")
    )


def overdue_rollup(user: Any, parent: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open and overdue cases per child of `parent` (a city's districts, a district's streets …): the SLA
    breaches of every station visible upward. One grouped query over the open-case index."""
    now = now or timezone.now()
    child_len = {2: 4, 4: 6, 6: 9, 9: 12}.get(len(parent), 12)
    qs = Case.objects.restrict(user, Action.VIEW).filter(
        status__in=OPEN_STATUSES, region_code__gte=parent, region_code__lt=parent + ":"
    )
    late = Q(deadline__lt=now) | Q(first_contact_due__lt=now, first_contact_at__isnull=True)
    rows = (
        qs.annotate(child=Substr("region_code", 1, child_len))
        .values("child")
        .annotate(open=Count("id"), overdue=Count("id", filter=late))
        .order_by("child")
    )
    return list(rows)


def my_pairings(volunteer: Any) -> QuerySet[Pairing]:
    return Pairing.objects.filter(volunteer=volunteer, status="active").select_related("recipient")


def my_campaign_tasks(volunteer: Any) -> QuerySet[CampaignTask]:
    return (
        CampaignTask.objects.filter(volunteer=volunteer, status="assigned")
        .select_related("campaign", "recipient")
        .order_by("planned_on", "id")
    )


def my_invitations(volunteer: Any) -> QuerySet[HelpInvitation]:
    return HelpInvitation.objects.filter(volunteer=volunteer, status="pending").select_related(
        "request", "request__recipient"
    )


def missed_pairing_visits(user: Any, today: Any = None) -> QuerySet[Pairing]:
    today = today or timezone.localdate()
    return (
        Pairing.objects.restrict(user, Action.VIEW)
        .filter(status="active", next_visit_due__lt=today)
        .select_related("volunteer", "recipient")
        .order_by("next_visit_due")
    )


def campaign_progress(user: Any, campaign: Campaign, level_len: int) -> list[dict[str, Any]]:
    """Tasks per region at a level (9 streets, 6 districts, 4 cities) by state."""
    qs = CampaignTask.objects.restrict(user, Action.VIEW).filter(campaign=campaign)
    rows = (
        qs.annotate(part=Substr("region_code", 1, level_len))
        .values("part")
        .annotate(
            total=Count("id"),
            assigned=Count("id", filter=Q(status="assigned")),
            done=Count("id", filter=Q(status="done")),
            unassigned=Count("id", filter=Q(status="unassigned")),
        )
        .order_by("part")
    )
    return list(rows)


def recipient_visits(user: Any, recipient: Recipient, limit: int = 20) -> list[tuple[Visit, str]]:
    """The recipient's latest visits, each with how `user` sees its summary (actions.visit_access)."""
    visits = list(recipient.visits.select_related("volunteer").order_by("-visited_on", "-id")[:limit])
    access = visit_access(user, recipient, visits)
    return [(v, access[v.pk]) for v in visits]


def case_timeline(user: Any, case: Case, *, newest_first: bool = False) -> list[tuple[CaseEntry, str]]:
    """The case's timeline, each entry with how `user` sees its text: a visit's entry carries the visit's
    summary, so it is shown as the visit is (actions.visit_access); other entries as written."""
    order = ("-at", "-id") if newest_first else ("at", "id")
    entries = list(case.entries.select_related("author", "visit").order_by(*order))
    access = visit_access(user, case.recipient, [e.visit for e in entries if e.visit is not None])
    return [(e, access.get(e.visit_id or 0, HIDDEN) if e.kind == EntryKind.VISIT else PLAIN) for e in entries]
