"""Care pages: the station's overview (overdue cases and tasks, missed pairing visits, the roll-up by
region), recipients, a case, campaigns, and the volunteer's phone page. Thin: parse, call a query or an
action, render."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vetvol.activities.queries import volunteer_of
from vetvol.care import actions, queries
from vetvol.care.actions.visits import REVEALABLE
from vetvol.care.forms import CloseForm, LifeEventForm, NoteForm, RecipientForm, ReferralForm, VisitForm
from vetvol.care.models import (
    OPEN_STATUSES,
    Campaign,
    CampaignTask,
    Case,
    HelpInvitation,
    Pairing,
    Recipient,
    RecipientCategory,
    Visit,
    VisitMode,
)
from vetvol.care.models.recipients import MASK_KIND
from vetvol.core.pages import error_text, form_errors, queued_at, run_form_once
from vetvol.core.scoping import Action, subtree_q
from vetvol.regions.models import Region

QUICK_MODES = (VisitMode.HOME, VisitMode.PHONE)
QUICK_MINUTES = {VisitMode.HOME: 60, VisitMode.PHONE: 15}
LEVEL_BELOW = {2: 4, 4: 6, 6: 9, 9: 12}


def _home_node(user: Any) -> str:
    """Where the overview starts: the user's broadest grant (the province for superusers)."""
    prefixes = user.region_prefixes(Action.VIEW)
    if prefixes is None:
        return "44"
    return min(prefixes, key=len) if prefixes else ""


# -- station staff and social workers ------------------------------------------------------------------------
@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    node = request.GET.get("region", "") or _home_node(user)
    if not node.isdigit():
        raise Http404
    region = Region.objects.filter(code=node).first()
    here = subtree_q("region_code", [node])  # the drill-down within what restrict() lets the user see
    rollup = queries.overdue_rollup(user, node) if len(node) < 12 else []
    names = dict(Region.objects.filter(code__in=[r["child"] for r in rollup]).values_list("code", "name"))
    for row in rollup:
        row["name"] = names.get(row["child"], row["child"])
    context = {
        "region": region,
        "node": node,
        "rollup": rollup,
        "overdue_cases": list(queries.overdue_cases(user).filter(here)[:50]),
        "overdue_tasks": list(queries.overdue_tasks(user).filter(here)[:50]),
        "missed": list(queries.missed_pairing_visits(user).filter(here)[:50]),
        "open_cases": Case.objects.restrict(user, Action.VIEW).filter(here, status__in=OPEN_STATUSES).count(),
    }
    return render(request, "care/index.html", context)


@login_required
def recipient_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    qs = queries.recipients(request.user, q=q, category=category, region=request.GET.get("region", ""))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "category": category, "categories": RecipientCategory.choices}
    return render(request, "care/recipient_list.html", context)


@login_required
def recipient_new(request: HttpRequest) -> HttpResponse:
    form = RecipientForm(request.POST or None, initial={"region": request.GET.get("region", "")})
    if request.method == "POST" and form.is_valid():
        try:
            raw = {k: v for k, v in form.cleaned_data.items() if v is not None}
            recipient = actions.register_recipient(request.user, raw)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记服务对象 %(name)s") % {"name": recipient.name})
            return redirect("care:recipient", pk=recipient.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "care/recipient_form.html", {"form": form}, status=status)


def _recipient_context(request: HttpRequest, recipient: Any, **forms_: Any) -> dict[str, Any]:
    return {
        "r": recipient,
        "can_change": Recipient.objects.restrict(request.user, Action.CHANGE)
        .filter(pk=recipient.pk)
        .exists(),
        "can_unmask": actions.may_reveal(request.user, recipient),
        "cases": recipient.cases.select_related("owner").order_by("-opened_at")[:20],
        "pairings": recipient.pairings.select_related("volunteer").order_by("-started_on")[:10],
        "visits": queries.recipient_visits(request.user, recipient),
        "event_form": forms_.get("event_form") or LifeEventForm(),
        "notes": [(f, recipient._meta.get_field(f).verbose_name) for f in MASK_KIND if f.endswith("_notes")],
    }


@login_required
def recipient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = queries.get_recipient_for_user(request.user, pk)
    return render(request, "care/recipient_detail.html", _recipient_context(request, recipient))


@login_required
@require_POST
def recipient_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """The full value of one masked field, for an htmx swap; refused and audited without the right."""
    recipient = queries.get_recipient_for_user(request.user, pk)
    if field not in MASK_KIND:
        raise Http404
    value = actions.reveal(request.user, recipient, field)
    return render(request, "registry/_revealed.html", {"value": value})


def _reveal_visit(request: HttpRequest, visit: Visit | None, field: str) -> HttpResponse:
    if visit is None or field not in REVEALABLE:
        raise Http404
    value = actions.reveal_visit(request.user, visit, field)
    return render(request, "registry/_revealed.html", {"value": value})


@login_required
@require_POST
def recipient_visit_reveal(request: HttpRequest, pk: int, visit: int, field: str) -> HttpResponse:
    """One visit's hidden summary on the recipient's page, for an htmx swap; refused and audited without
    the right."""
    recipient = queries.get_recipient_for_user(request.user, pk)
    return _reveal_visit(request, recipient.visits.filter(pk=visit).first(), field)


@login_required
@require_POST
def case_visit_reveal(request: HttpRequest, pk: int, visit: int, field: str) -> HttpResponse:
    """One visit's hidden summary on the case's timeline, for an htmx swap; refused and audited without
    the right."""
    case = queries.get_case_for_user(request.user, pk)
    return _reveal_visit(request, case.visits.select_related("recipient").filter(pk=visit).first(), field)


@login_required
@require_POST
def recipient_event(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = queries.get_recipient_for_user(request.user, pk, Action.CHANGE)
    form = LifeEventForm(request.POST)
    if form.is_valid():
        try:
            case = actions.record_life_event(request.user, recipient, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已立案 %(number)s，请按时限首次联系") % {"number": case.number})
            return redirect("care:case", pk=case.pk)
    context = _recipient_context(request, recipient, event_form=form)
    return render(request, "care/recipient_detail.html", context, status=400)


def _case_context(request: HttpRequest, case: Case, **forms_: Any) -> dict[str, Any]:
    can_change = Case.objects.restrict(request.user, Action.CHANGE).filter(pk=case.pk).exists()
    return {
        "case": case,
        "r": case.recipient,
        "can_change": can_change and case.status in OPEN_STATUSES,
        "tasks": case.tasks.select_related("assignee").order_by("status", "due_at", "id"),
        "entries": queries.case_timeline(request.user, case, newest_first=True),
        "members": case.members.select_related("user", "volunteer"),
        "referrals": case.referrals.order_by("-id"),
        "now": timezone.now(),
        "note_form": forms_.get("note_form") or NoteForm(),
        "visit_form": forms_.get("visit_form") or VisitForm(),
        "referral_form": forms_.get("referral_form") or ReferralForm(),
        "close_form": forms_.get("close_form") or CloseForm(),
    }


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = queries.get_case_for_user(request.user, pk)
    return render(request, "care/case_detail.html", _case_context(request, case))


CASE_STEPS: dict[str, tuple[type, str, str]] = {
    "note": (NoteForm, "note_form", "已添加记录"),
    "visit": (VisitForm, "visit_form", "已登记探访"),
    "refer": (ReferralForm, "referral_form", "已转介"),
    "close": (CloseForm, "close_form", "案件已办结"),
}


def _case_step(user: Any, case: Case, step: str, data: dict[str, Any]) -> None:
    if step == "note":
        actions.add_case_note(user, case, data["text"])
    elif step == "visit":
        actions.log_case_visit(user, case, volunteer=None, **data)
    elif step == "refer":
        actions.refer_case(user, case, **data)
    else:
        actions.close_case(user, case, **data)


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """One of the case page's forms: a note, a visit, a referral, closing."""
    if step not in CASE_STEPS:
        raise Http404
    case = queries.get_case_for_user(request.user, pk, Action.CHANGE)
    form_class, name, done = CASE_STEPS[step]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            _case_step(request.user, case, step, form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _(done))
            return redirect("care:case", pk=case.pk)
    case.refresh_from_db()
    context = _case_context(request, case, **{name: form})
    context["step_errors"] = [m for msgs in form.errors.values() for m in msgs]
    return render(request, "care/case_detail.html", context, status=400)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    from vetvol.care.models import CaseTask

    task = CaseTask.objects.select_related("case").filter(pk=pk).first()
    if task is None:
        raise Http404
    case = queries.get_case_for_user(request.user, task.case_id, Action.CHANGE)
    try:
        actions.complete_task(request.user, task)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("care:case", pk=case.pk)


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.restrict(request.user, Action.VIEW).order_by("-starts_on", "-id")[:100]
    return render(request, "care/campaign_list.html", {"campaigns": campaigns})


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = queries.get_campaign_for_user(request.user, pk)
    level = len(request.GET.get("region", "") or campaign.region_code)
    part_len = LEVEL_BELOW.get(level, 12)
    node = request.GET.get("region", "") or campaign.region_code
    rows = [
        r for r in queries.campaign_progress(request.user, campaign, part_len) if r["part"].startswith(node)
    ]
    names = dict(Region.objects.filter(code__in=[r["part"] for r in rows]).values_list("code", "name"))
    for row in rows:
        row["name"] = names.get(row["part"], row["part"])
        row["share"] = round(100 * row["done"] / row["total"]) if row["total"] else 0
    totals = {k: sum(r[k] for r in rows) for k in ("total", "assigned", "done", "unassigned")}
    context = {"campaign": campaign, "rows": rows, "totals": totals, "node": node, "drill": part_len < 12}
    return render(request, "care/campaign_detail.html", context)


# -- the volunteer's phone page ------------------------------------------------------------------------------
def _me_context(request: HttpRequest) -> dict[str, Any]:
    volunteer = volunteer_of(request.user)
    if volunteer is None:
        return {"volunteer": None}
    today = timezone.localdate()
    return {
        "volunteer": volunteer,
        "today": today,
        "pairings": queries.my_pairings(volunteer).order_by("next_visit_due", "id"),
        "tasks": queries.my_campaign_tasks(volunteer),
        "invitations": queries.my_invitations(volunteer),
        "quick_modes": [(m.value, m.label) for m in QUICK_MODES],
        "form_key": uuid.uuid4().hex,
    }


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """My pairings and visits due, biggest type: a visit is logged with one tap on how it was done
    (a note and the time spent are optional), so tap the person, tap the mode — done."""
    return render(request, "care/me.html", _me_context(request))


def _quick_visit(request: HttpRequest) -> dict[str, Any]:
    mode = request.POST.get("mode", "")
    try:
        minutes = int(request.POST.get("minutes") or QUICK_MINUTES.get(mode, 0))  # type: ignore[call-overload]
    except ValueError:
        minutes = -1
    at = queued_at(request)  # a visit the phone kept while it had no signal is dated when it was made
    return {
        "visited_on": timezone.localdate(at),
        "mode": mode,
        "summary": request.POST.get("summary", ""),
        "minutes": minutes,
    }


@login_required
@require_POST
def me_pairing_visit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = volunteer_of(request.user)
    pairing = (
        Pairing.objects.select_related("recipient", "volunteer").filter(pk=pk, volunteer=volunteer).first()
    )
    if volunteer is None or pairing is None:
        raise Http404  # a visit for a recipient outside your pairings: as if it did not exist
    data = _quick_visit(request)

    def handler() -> tuple[int, dict[str, Any]]:
        visit = actions.log_pairing_visit(request.user, pairing, **data)
        return 200, {"visit": visit.pk}

    if _run(request, f"care_pairing_visit:{pairing.pk}", data, handler):
        messages.success(request, _("已记录对%(name)s的探访，谢谢您！") % {"name": pairing.recipient.name})
    return redirect("care:me")


@login_required
@require_POST
def me_task_visit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = volunteer_of(request.user)
    task = (
        CampaignTask.objects.select_related("campaign", "recipient", "volunteer")
        .filter(pk=pk, volunteer=volunteer)
        .first()
    )
    if volunteer is None or task is None:
        raise Http404
    data = _quick_visit(request)

    def handler() -> tuple[int, dict[str, Any]]:
        visit = actions.log_campaign_visit(request.user, task, **data)
        return 200, {"visit": visit.pk}

    if _run(request, f"care_task_visit:{task.pk}", data, handler):
        messages.success(request, _("已记录对%(name)s的走访，谢谢您！") % {"name": task.recipient.name})
    return redirect("care:me")


@login_required
@require_POST
def me_answer(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = volunteer_of(request.user)
    invitation = HelpInvitation.objects.select_related("request").filter(pk=pk, volunteer=volunteer).first()
    if volunteer is None or invitation is None:
        raise Http404
    accept = request.POST.get("accept") == "1"

    def handler() -> tuple[int, dict[str, Any]]:
        if accept:
            actions.accept_help(request.user, invitation)
        else:
            actions.decline_help(request.user, invitation)
        return 200, {"accept": accept}

    if _run(request, f"care_answer:{invitation.pk}", {"accept": accept}, handler):
        messages.success(request, _("已接单，请按约定时间提供服务") if accept else _("已婉拒，感谢您的回复"))
    return redirect("care:me")


def _run(request: HttpRequest, scope: str, body: dict[str, Any], handler: Any) -> bool:
    """Once per form key; True when it went through (a refusal is shown as the page's message)."""
    try:
        return run_form_once(request, scope, {k: str(v) for k, v in body.items()}, handler)
    except PermissionDenied:
        raise Http404 from None
