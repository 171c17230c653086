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
from vetvol.core import idempotency
from vetvol.core.middleware import CSP
from vetvol.core.scoping import Action
from vetvol.dispatch import actions, board, queries
from vetvol.dispatch.forms import IncidentForm
from vetvol.dispatch.models import ACTIVE_ASSIGNMENT, Assignment, AssignmentStatus, Invitation
from vetvol.regions.models import Region

DATA_DIR = Region._meta.app_config.path + "/data"  # type: ignore[union-attr]


def _errors(exc: ValidationError) -> str:
    return "；".join(exc.messages)


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
            return redirect(f"{_board_url()}?region={incident.region_code[:6]}&incident={incident.pk}")
    return render(request, "dispatch/incident_form.html", {"form": form})


def _board_url() -> str:
    from django.urls import reverse

    return reverse("dispatch:board")


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
    template = "dispatch/_mine.html" if request.headers.get("HX-Request") else "dispatch/me.html"
    return render(request, template, context)


def _form_once(request: HttpRequest, scope: str, body: dict[str, Any], handler: Any) -> None:
    try:
        idempotency.run(request.user, scope, request.POST.get("form_key", ""), body, handler)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except (idempotency.BadKey, idempotency.KeyReused):
        messages.error(request, _("页面已过期，请刷新后重试"))


@login_required
@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    invitation: Invitation = queries.own_invitation(request.user, pk)
    accept = request.POST.get("accept") == "1"

    def handler() -> tuple[int, dict[str, Any]]:
        inv = actions.answer_invitation(request.user, invitation, accept)
        return 200, {"status": inv.status}

    _form_once(request, f"dispatch_answer:{invitation.pk}", {"accept": accept}, handler)
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

    _form_once(request, f"dispatch_status:{assignment.pk}", {"status": status}, handler)
    return redirect("dispatch:me")
