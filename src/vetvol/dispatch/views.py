"""Dispatch pages: the live board for centres and commanders, reporting an incident, and the volunteer's
phone page for invitations and the assignment under way. Thin: parse, call a query or an action, render."""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vetvol.activities.queries import volunteer_of
from vetvol.core.middleware import CSP
from vetvol.core.pages import error_text, run_form_once
from vetvol.core.scoping import Action, subtree_q
from vetvol.dispatch import actions, board, queries
from vetvol.dispatch.forms import CloseForm, IncidentForm, RoleRows, RunCardForm, TeamInviteForm
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    Incident,
    IncidentStatus,
    Invitation,
    Need,
    RunCard,
    TeamInvitation,
)
from vetvol.notify import actions as notify_actions
from vetvol.notify import queries as notify_queries
from vetvol.regions.models import Region
from vetvol.registry.models import Team
from vetvol.registry.models.teams import LEADING_ROLES, Membership

DATA_DIR = Region._meta.app_config.path + "/data"  # type: ignore[union-attr]


def _labels() -> dict[str, Any]:
    """Words the board's script shows, in the page's language."""
    return {
        "events": {
            "dispatch.incident.opened": _("事件报告"),
            "dispatch.incident.updated": _("事件状态更新"),
            "dispatch.incident.closed": _("事件结束"),
            "dispatch.invitation.sent": _("发出邀请"),
            "dispatch.invitation.answered": _("志愿者回复"),
            "dispatch.invitation.expired": _("邀请超时"),
            "dispatch.assignment.status": _("任务进展"),
        },
        "status": {
            "reported": _("已报告"),
            "dispatching": _("调度中"),
            "on_scene": _("现场处置"),
            "closed": _("已结束"),
            "pending": _("待回复"),
            "accepted": _("已接受"),
            "declined": _("已拒绝"),
            "expired": _("已超时"),
            "cancelled": _("已取消"),
            "en_route": _("出发中"),
            "done": _("已完成"),
            "withdrawn": _("已撤回"),
        },
        "connected": _("实时连接正常"),
        "reconnecting": _("连接中断，正在重连…"),
        "volunteer": _("志愿者"),
        "team": _("队伍"),
        "filled": _("已到位"),
        "missing": _("缺口"),
        "no_incidents": _("当前没有进行中的事件"),
        "timeline": _("时间线"),
        "needs": _("岗位"),
        "close": _("关闭"),
        "km": _("公里"),
        "on_site": _("在岗"),
        "outcome": _("处置结果"),
        "details": _("详情与处置"),
    }


@login_required
def board_page(request: HttpRequest) -> HttpResponse:
    """The live board (实时调度大屏) of a region node: map, incidents with fill state, activity sites,
    responders on duty, per-district counters; initial state over the API, then events over /ws/board/."""
    code = request.GET.get("region", "")
    region = board.watchable(request.user, code) if code else board.home_region(request.user)
    if region is None:
        raise PermissionDenied("no region to watch")
    context = {
        "region": region,
        "roots": board.roots(request.user),
        "children": Region.objects.restrict(request.user, Action.VIEW_PEOPLE)
        .filter(parent=region)
        .order_by("code"),
        "parents": [
            r
            for r in Region.objects.restrict(request.user, Action.VIEW_PEOPLE).filter(
                code__in=region.ancestor_codes()
            )
        ],
        "labels": _labels(),
        "tile_url": settings.VETVOL_MAP_TILE_URL,
        "can_report": Region.objects.restrict(request.user, Action.CHANGE).filter(code=region.code).exists(),
    }
    response = render(request, "dispatch/board.html", context)
    if settings.VETVOL_MAP_TILE_URL:
        parts = urlsplit(settings.VETVOL_MAP_TILE_URL.replace("{", "").replace("}", ""))
        origin = f"{parts.scheme}://{parts.netloc}"
        response["Content-Security-Policy"] = CSP.replace(
            "img-src 'self' data:", f"img-src 'self' data: {origin}"
        )
    return response


@lru_cache(maxsize=4)
def _features(name: str) -> list[dict[str, Any]]:
    with open(f"{DATA_DIR}/{name}", encoding="utf-8") as fh:
        return json.load(fh)["features"]


@login_required
def board_geo(request: HttpRequest, code: str) -> HttpResponse:
    """Boundaries for a board: a province shows its cities, a city its counties, anything lower its county
    (shipped GeoJSON; no tile server needed)."""
    region = board.watchable(request.user, code)
    cities, counties = _features("guangdong_cities.geojson"), _features("guangdong_counties.geojson")
    if region.level == "province":
        features = [f for f in cities if f["properties"]["code"].startswith(region.code)]
    elif region.level == "city":
        features = [f for f in counties if f["properties"]["code"].startswith(region.code)] or [
            f for f in cities if f["properties"]["code"] == region.code
        ]
    else:
        features = [f for f in counties if region.code.startswith(f["properties"]["code"])] or [
            f for f in cities if region.code.startswith(f["properties"]["code"])
        ]
    response = HttpResponse(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        content_type="application/geo+json",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    """Report an incident: the plan comes from the run card of its type and level; dispatch starts at once."""
    form = IncidentForm(request.user, request.POST or None, initial={"region": request.GET.get("region", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = actions.create_incident(
                request.user,
                region=data["region"],
                type=data["type"],
                level=int(data["level"]),
                title=data["title"],
                lat=data["lat"],
                lng=data["lng"],
                address=data["address"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                risky=data["risky"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied:
            form.add_error("region", _("您无权在该地区报告事件"))
        else:
            messages.success(request, _("事件已报告，正在邀请志愿者：%(title)s") % {"title": incident.title})
            return redirect("dispatch:incident", pk=incident.pk)
    return render(request, "dispatch/incident_form.html", {"form": form})


# -- the volunteer's phone page ------------------------------------------------------------------------------
def _my_context(request: HttpRequest) -> dict[str, Any]:
    volunteer = volunteer_of(request.user)
    if volunteer is None:
        return {"volunteer": None}
    assignment = (
        Assignment.objects.filter(volunteer=volunteer, status__in=ACTIVE_ASSIGNMENT)
        .select_related("incident", "need")
        .first()
    )
    recent = list(
        Assignment.objects.filter(volunteer=volunteer)
        .exclude(status__in=ACTIVE_ASSIGNMENT)
        .select_related("incident", "need")
        .order_by("-accepted_at")[:10]
    )
    return {
        "volunteer": volunteer,
        "invitations": queries.my_invitations(request.user),
        "assignment": assignment,
        "next_steps": _next_steps(assignment),
        "recent": recent,
        "leads_team": Membership.objects.filter(
            volunteer=volunteer, role__in=LEADING_ROLES, left_on=None
        ).exists(),
        "form_key": uuid.uuid4().hex,
    }


def _next_steps(assignment: Assignment | None) -> list[tuple[str, str]]:
    if assignment is None:
        return []
    labels = {
        AssignmentStatus.EN_ROUTE: _("我已出发"),
        AssignmentStatus.ON_SCENE: _("我已到达现场"),
        AssignmentStatus.DONE: _("任务完成"),
    }
    from vetvol.dispatch.models import STATUS_FLOW

    return [(s, labels[s]) for s in STATUS_FLOW.get(assignment.status, ())]  # type: ignore[call-overload]


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """Invitations arrive here live (/ws/me/ tells the page to refresh its list)."""
    context = _my_context(request)
    # the invitations on this screen have been seen: no SMS escalation for them
    notify_actions.mark_seen(
        request.user, subjects=[f"dispatch.invitation:{i.pk}" for i in context.get("invitations", [])]
    )
    template = "dispatch/_mine.html" if request.headers.get("HX-Request") else "dispatch/me.html"
    return render(request, template, context)


@login_required
@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    invitation: Invitation = queries.own_invitation(request.user, pk)
    accept = request.POST.get("accept") == "1"

    def handler() -> tuple[int, dict[str, Any]]:
        inv = actions.answer_invitation(request.user, invitation, accept)
        return 200, {"status": inv.status}

    run_form_once(request, f"dispatch_answer:{invitation.pk}", {"accept": accept}, handler)
    if invitation.status == "accepted":
        messages.success(
            request, _("已接受任务：%(title)s。请注意安全！") % {"title": invitation.incident.title}
        )
    elif invitation.status == "declined":
        messages.info(request, _("已婉拒，感谢您的回复"))
    return redirect("dispatch:me")


@login_required
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = queries.own_assignment(request.user, pk)
    status = request.POST.get("status", "")
    if status not in AssignmentStatus.values:
        raise Http404

    def handler() -> tuple[int, dict[str, Any]]:
        actions.set_assignment_status(request.user, assignment, status)
        return 200, {"status": status}

    run_form_once(request, f"dispatch_status:{assignment.pk}", {"status": status}, handler)
    return redirect("dispatch:me")


# -- commanders: one incident --------------------------------------------------------------------------------
def _incident_context(request: HttpRequest, incident: Incident, **forms_: Any) -> dict[str, Any]:
    can_change = Incident.objects.restrict(request.user, Action.CHANGE).filter(pk=incident.pk).exists()
    detail = queries.incident_detail(incident, request.user)
    reached = notify_queries.invitee_status(f"dispatch.invitation:{i['id']}" for i in detail["invitations"])
    for i in detail["invitations"]:  # delivered (by which channel), seen on the phone, answered
        i["delivery"] = reached.get(f"dispatch.invitation:{i['id']}")
    context: dict[str, Any] = {"incident": incident, "detail": detail, "can_change": can_change}
    if can_change and incident.status != IncidentStatus.CLOSED:
        needs = [(n["id"], f"{n['name']}（{n['filled']}/{n['count']}）") for n in detail["needs"]]
        teams = list(
            Team.objects.restrict(request.user, Action.VIEW)
            .filter(subtree_q("region_code", [incident.region_code[:4]]))
            .order_by("region_code", "name")
            .values_list("pk", "name")[:300]
        )
        context["team_form"] = forms_.get("team_form") or TeamInviteForm(needs, teams)
        context["close_form"] = forms_.get("close_form") or CloseForm()
    context["team_invitations"] = list(
        TeamInvitation.objects.filter(incident=incident).select_related("team", "need").order_by("id")
    )
    return context


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An incident for its commander: needs with shortfall reasons, who was invited and who answered,
    team invitations, and (while open) inviting a team and closing with the outcome."""
    incident = queries.get_incident_for_user(request.user, pk)
    return render(request, "dispatch/incident_detail.html", _incident_context(request, incident))


@login_required
@require_POST
def incident_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """The full value of one masked field, for an htmx swap; refused and audited without the right."""
    incident = queries.get_incident_for_user(request.user, pk)
    value = actions.reveal(request.user, incident, field)
    return render(request, "registry/_revealed.html", {"value": value})


@login_required
@require_POST
def incident_close(request: HttpRequest, pk: int) -> HttpResponse:
    incident = queries.get_incident_for_user(request.user, pk, Action.CHANGE)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            actions.close_incident(request.user, incident, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("事件已结束，参与志愿者的服务时长已记录"))
            return redirect("dispatch:incident", pk=incident.pk)
    context = _incident_context(request, incident, close_form=form)
    return render(request, "dispatch/incident_detail.html", context, status=400)


@login_required
@require_POST
def incident_invite_team(request: HttpRequest, pk: int) -> HttpResponse:
    incident = queries.get_incident_for_user(request.user, pk, Action.CHANGE)
    context = _incident_context(request, incident)
    form = TeamInviteForm(
        context["team_form"].fields["need"].choices, context["team_form"].fields["team"].choices, request.POST
    )
    if form.is_valid():
        need = Need.objects.filter(pk=form.cleaned_data["need"], incident=incident).first()
        team = Team.objects.restrict(request.user, Action.VIEW).filter(pk=form.cleaned_data["team"]).first()
        if need is None or team is None:
            raise Http404
        try:
            actions.invite_team(request.user, incident, need, team)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已邀请%(team)s，由队长选派队员") % {"team": team.name})
            return redirect("dispatch:incident", pk=incident.pk)
    context["team_form"] = form
    return render(request, "dispatch/incident_detail.html", context, status=400)


# -- team leaders: pick members for a team invitation --------------------------------------------------------
@login_required
def team_invitations(request: HttpRequest) -> HttpResponse:
    """Open invitations of the teams the user leads, each with the members who could take the role now."""
    rows = []
    for ti in (
        TeamInvitation.objects.restrict(request.user, Action.VIEW)
        .exclude(incident__status=IncidentStatus.CLOSED)
        .select_related("incident", "need", "team")
        .order_by("-id")[:50]
    ):
        rows.append(
            {"ti": ti, "eligible": queries.eligible_team_members(ti), "open": actions.open_slots(ti.need)}
        )
    return render(request, "dispatch/team_invitations.html", {"rows": rows})


@login_required
@require_POST
def team_pick(request: HttpRequest, pk: int) -> HttpResponse:
    ti = queries.get_team_invitation_for_user(request.user, pk)
    ids = [int(v) for v in request.POST.getlist("volunteer") if v.isdigit()]
    if not ids:
        messages.error(request, _("请至少选择一名队员"))
        return redirect("dispatch:team_invitations")
    try:
        sent = actions.assign_team_members(request.user, ti, ids)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except PermissionDenied:
        messages.error(request, _("只有队长或副队长可以选派队员"))
    else:
        messages.success(request, _("已向 %(n)d 名队员发出邀请") % {"n": len(sent)})
    return redirect("dispatch:team_invitations")


# -- admins: run cards ---------------------------------------------------------------------------------------
@login_required
def run_cards(request: HttpRequest) -> HttpResponse:
    cards = RunCard.objects.restrict(request.user, Action.VIEW).prefetch_related("roles")
    can_edit = bool(request.user.is_superuser or request.user.region_prefixes(Action.MANAGE_USERS))  # type: ignore[union-attr]
    return render(request, "dispatch/run_cards.html", {"cards": cards, "can_edit": can_edit})


@login_required
def run_card_edit(request: HttpRequest) -> HttpResponse:
    """Create or replace the run card of a type and level on a region node (admins of that node)."""
    initial: dict[str, Any] = {k: request.GET.get(k, "") for k in ("region", "incident_type", "level")}
    rows_initial: list[dict[str, Any]] = []
    existing = RunCard.objects.restrict(request.user, Action.VIEW).filter(
        region_code=initial["region"], incident_type=initial["incident_type"], level=initial["level"] or 0
    )
    card = existing.prefetch_related("roles").first()
    if card:
        initial["note"] = card.note
        rows_initial = [
            {
                "name": r.name,
                "skill_code": r.skill_code,
                "certificate_code": r.certificate_code,
                "count": r.count,
            }
            for r in card.roles.all()
        ]
    form = RunCardForm(request.user, request.POST or None, initial=initial)
    rows = RoleRows(request.POST or None, initial=rows_initial, prefix="roles")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        roles = [r for r in rows.cleaned_data if r.get("name")]
        try:
            actions.save_run_card(
                request.user,
                region=form.cleaned_data["region"],
                incident_type=form.cleaned_data["incident_type"],
                level=form.cleaned_data["level"],
                roles=roles,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied:
            form.add_error("region", _("您无权修改该地区的响应预案"))
        else:
            messages.success(request, _("响应预案已保存"))
            return redirect("dispatch:run_cards")
    return render(request, "dispatch/run_card_form.html", {"form": form, "rows": rows})


@login_required
def team_totals(request: HttpRequest) -> HttpResponse:
    """Each team's record in emergency missions (like the Huizhou "Battle Flag" team's): missions, people
    rescued, bodies recovered, people served, volunteers and their counted hours."""
    teams = dict(Team.objects.restrict(request.user, Action.VIEW).values_list("pk", "name"))
    rows = [
        {**r, "name": teams[r["team_id"]], "hours": r["minutes"] / 60}
        for r in queries.team_totals(list(teams))
    ]
    return render(request, "dispatch/team_totals.html", {"rows": rows[:200]})
