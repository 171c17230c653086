"""Recognition pages for staff: the star approvers' list (approve, or reject with a reason), and one
volunteer's stars and certificates with their revocation; and the volunteer's own star request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from vetvol.activities import actions, queries
from vetvol.activities.actions.stars import REASON_MAX
from vetvol.activities.certificates import NUMBER_RE
from vetvol.activities.models import ServiceCertificate, StarAward, StarRequest
from vetvol.activities.stars import may_decide
from vetvol.core.pages import error_text
from vetvol.core.scoping import Action, allowed_prefixes, covers, get_for_user
from vetvol.registry.models import Volunteer
from vetvol.registry.queries import page_of

PAGE_SIZE = 50


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("理由"),
        max_length=REASON_MAX,
        error_messages={
            "required": gettext_lazy("请填写理由"),
            "max_length": gettext_lazy("理由不能超过 200 个字"),
        },
    )


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdecimal() and len(raw) <= 9 else 1
    return min(max(number, 1), 100_000)


# The approvers' list -------------------------------------------------------------------------------------


@login_required
def star_requests(request: HttpRequest) -> HttpResponse:
    """Pending star requests at the levels the user's grants cover, oldest first, 50 a page (no COUNT)."""
    if not may_decide(request.user):
        raise PermissionDenied("star approval")
    page = page_of(queries.star_requests_to_decide(request.user), _page_number(request), PAGE_SIZE)
    rows = [(r, queries.hours_label(r.minutes_at_request)) for r in page.rows]
    return render(
        request, "activities/star_requests.html", {"page": page, "rows": rows, "reason_max": REASON_MAX}
    )


def _own_message(user: Any, star_request: StarRequest) -> str:
    if star_request.volunteer.user_id == user.pk:
        return gettext("不能审核本人的星级申请")
    if star_request.requested_by_id == user.pk:
        return gettext("不能审核本人提出的星级申请，请由其他工作人员审核")
    return gettext("您无权审核该星级申请")


@login_required
@require_POST
def star_approve(request: HttpRequest, pk: int) -> HttpResponse:
    star_request = queries.get_star_request_for_decision(request.user, pk)
    volunteer = star_request.volunteer
    try:
        actions.approve_star(request.user, volunteer, star_request.stars)
    except PermissionDenied:
        messages.error(request, _own_message(request.user, star_request))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            gettext("已认定 %(name)s 为%(stars)d星级志愿者")
            % {"name": volunteer.name, "stars": star_request.stars},
        )
    return redirect("activities:star_requests")


@login_required
@require_POST
def star_reject(request: HttpRequest, pk: int) -> HttpResponse:
    star_request = queries.get_star_request_for_decision(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("驳回未完成：") + error_text(ValidationError(form.errors)))
        return redirect("activities:star_requests")
    try:
        actions.reject_star(request.user, star_request, form.cleaned_data["reason"])
    except PermissionDenied:
        messages.error(request, _own_message(request.user, star_request))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            gettext("已驳回 %(name)s 的%(stars)d星级申请")
            % {"name": star_request.volunteer.name, "stars": star_request.stars},
        )
    return redirect("activities:star_requests")


# One volunteer's stars and certificates -------------------------------------------------------------------


@login_required
def volunteer_recognition(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff view of a volunteer's star awards, requests and certificates, with revocation where the user
    may revoke. Anyone who may not see the volunteer gets 404."""
    volunteer = get_for_user(Volunteer.objects.all(), request.user, Action.VIEW_PEOPLE, pk=pk)
    change = allowed_prefixes(request.user, Action.CHANGE)
    awards = list(
        StarAward.objects.filter(volunteer=volunteer)
        .select_related("approved_by", "revocation", "revocation__revoked_by")
        .order_by("-approved_at", "-id")
    )
    certs = list(
        ServiceCertificate.objects.filter(volunteer=volunteer)
        .select_related("issued_by", "revocation", "revocation__revoked_by")
        .order_by("-issued_at", "-id")[:100]
    )
    context = {
        "v": volunteer,
        "awards": [
            (a, covers(change, a.region_code), queries.hours_label(a.minutes_at_award)) for a in awards
        ],
        "star_requests": StarRequest.objects.filter(volunteer=volunteer)
        .select_related("requested_by", "rejection", "rejection__rejected_by")
        .order_by("-requested_at", "-id")[:50],
        "certificates": certs,
        "may_revoke_certificates": covers(
            allowed_prefixes(request.user, Action.CHANGE_PEOPLE), volunteer.region_code
        ),
        "current_stars": max((a.stars for a in awards if not hasattr(a, "revocation")), default=0),
        "reason_max": REASON_MAX,
    }
    return render(request, "activities/volunteer_recognition.html", context)


def _visible_volunteer(request: HttpRequest, volunteer_id: int) -> Volunteer:
    return get_for_user(Volunteer.objects.all(), request.user, Action.VIEW_PEOPLE, pk=volunteer_id)


def _revoke(request: HttpRequest, revoke: Callable[[str], object], done: str) -> None:
    """Run a revocation with the reason from the form; the outcome is a message on the next page."""
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        revoke(form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, gettext("撤销未完成：") + error_text(exc))
    else:
        messages.success(request, done)


@login_required
@require_POST
def star_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    award = StarAward.objects.filter(pk=pk).first()
    if award is None:
        raise Http404
    award.volunteer = _visible_volunteer(request, award.volunteer_id)
    _revoke(
        request,
        lambda reason: actions.revoke_star(request.user, award, reason),
        gettext("已撤销%(stars)d星级认定") % {"stars": award.stars},
    )
    return redirect("activities:volunteer_recognition", pk=award.volunteer_id)


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, number: str) -> HttpResponse:
    cert = ServiceCertificate.objects.filter(number=number).first() if NUMBER_RE.match(number) else None
    if cert is None:
        raise Http404
    cert.volunteer = _visible_volunteer(request, cert.volunteer_id)
    _revoke(
        request,
        lambda reason: actions.revoke_certificate(request.user, cert, reason),
        gettext("已撤销证明 %(number)s") % {"number": cert.number},
    )
    return redirect("activities:volunteer_recognition", pk=cert.volunteer_id)


# The volunteer's own request ------------------------------------------------------------------------------


@login_required
@require_POST
def my_star_request(request: HttpRequest) -> HttpResponse:
    """The volunteer asks for the star level they have earned (from their certificates page)."""
    volunteer = queries.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    try:
        star_request = actions.request_star(request.user, volunteer)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, gettext("已提交%(stars)d星级志愿者申请，请等待审核") % {"stars": star_request.stars}
        )
    return redirect("activities:my_certificates")
