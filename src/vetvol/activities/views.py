"""Activity pages: recruitment listing and sign-up, the organiser's screens (projects, shifts, sign-ups,
check-in codes), and the volunteer's phone pages (my activities, e-card, check-in/out, hours)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from vetvol.activities import actions, certificates, queries
from vetvol.activities.actions.attendance import ecard_token
from vetvol.activities.actions.signups import eligibility_problems
from vetvol.activities.forms import ActivityForm, ProjectForm
from vetvol.activities.models import (
    Activity,
    CertificateKind,
    Project,
    ServiceCertificate,
    SignUp,
    StarRequest,
)
from vetvol.activities.stars import star_status
from vetvol.core import audit
from vetvol.core.pages import error_text, queued_at, run_form_once
from vetvol.core.scoping import Action, get_for_user
from vetvol.regions.queries import get_region_for_user
from vetvol.registry.models import Volunteer

logger = logging.getLogger(__name__)


def _is_organiser(user: Any, activity: Activity) -> bool:
    return Project.objects.restrict(user, Action.CHANGE).filter(pk=activity.project_id).exists()


def _qr(text: str, scale: int = 6) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=scale, border=2)


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    """Activities recruiting now, and (for staff) the projects they run."""
    page = Paginator(queries.open_activities(), 30).get_page(request.GET.get("page"))
    projects = Project.objects.restrict(request.user, Action.CHANGE).order_by("-created_at")[:20]
    return render(request, "activities/list.html", {"page": page, "projects": projects})


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    code = request.POST.get("region") or request.GET.get("region", "")
    if request.method == "POST" and form.is_valid():
        try:
            region = get_region_for_user(request.user, code, Action.CHANGE)
            centre = getattr(region, "service_centre", None)
            project = actions.create_project(
                request.user, region=region, owner_centre=centre, **form.cleaned_data
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        except (PermissionDenied, Http404):
            messages.error(request, gettext("您无权在该区划发布项目，或区划代码有误"))
        else:
            return redirect("activities:project_detail", pk=project.pk)
    return render(
        request,
        "activities/project_form.html",
        {"form": form, "region": code},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_for_user(Project.objects.all(), request.user, Action.VIEW, pk=pk)
    form = ActivityForm(request.POST or None)
    can_change = Project.objects.restrict(request.user, Action.CHANGE).filter(pk=pk).exists()
    if request.method == "POST" and can_change and form.is_valid():
        data = dict(form.cleaned_data)
        skills = [s.code for s in data.pop("skills")]
        certs = [c.code for c in data.pop("certificates")]
        try:
            activity = actions.create_activity(
                request.user, project, skills=skills, certificates=certs, **data
            )
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, gettext("已发布活动“%(title)s”") % {"title": activity.title})
            return redirect("activities:detail", pk=activity.pk)
    context = {
        "project": project,
        "form": form,
        "can_change": can_change,
        "activities": project.activities.order_by("-starts_at")[:50],
    }
    return render(request, "activities/project_detail.html", context, status=400 if form.errors else 200)


def _visible_activity(user: Any, pk: int) -> Activity:
    """An activity's page is open to its organisers, to anyone with a volunteer record (they may sign up
    anywhere) and to viewers of its project; anyone else gets 404, as for a missing activity."""
    activity = Activity.objects.select_related("project").filter(pk=pk).first()
    if activity is None:
        raise Http404
    if (
        not _is_organiser(user, activity)
        and queries.volunteer_of(user) is None
        and not activity.project.__class__.objects.restrict(user, Action.VIEW)
        .filter(pk=activity.project_id)
        .exists()
    ):
        raise Http404
    return activity


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _visible_activity(request.user, pk)
    volunteer = queries.volunteer_of(request.user)
    organiser = _is_organiser(request.user, activity)
    mine = (
        SignUp.objects.filter(activity=activity, volunteer=volunteer).order_by("-created_at").first()
        if volunteer
        else None
    )
    context: dict[str, Any] = {
        "activity": activity,
        "volunteer": volunteer,
        "signup": mine,
        "attendance": queries.my_attendance(volunteer, activity) if volunteer else None,
        "problems": eligibility_problems(activity, volunteer) if volunteer and not mine else [],
        "organiser": organiser,
        "form_key": uuid.uuid4().hex,
        "now": timezone.now(),
    }
    if organiser:
        context["signups"] = activity.signups.select_related("volunteer").order_by("status", "created_at")
    return render(request, "activities/detail.html", context)


@login_required
def checkin_code(request: HttpRequest, pk: int) -> HttpResponse:
    """The rotating check-in QR for the organiser's screen; htmx refreshes it every 10 seconds."""
    activity = Activity.objects.select_related("project").filter(pk=pk).first()
    if activity is None or not _is_organiser(request.user, activity):
        raise Http404
    url = (
        request.build_absolute_uri(reverse("activities:scan", args=[activity.pk]))
        + f"?code={actions.rotating_code(activity)}"
    )
    return render(
        request, "activities/_checkin_code.html", {"activity": activity, "qr": _qr(url, 8), "url": url}
    )


@login_required
@require_POST
def sign_up(request: HttpRequest, pk: int) -> HttpResponse:
    activity = Activity.objects.select_related("project").filter(pk=pk).first()
    volunteer = queries.volunteer_of(request.user)
    if activity is None or volunteer is None:
        raise Http404
    if request.POST.get("risk_ack") != "1":
        messages.error(request, gettext("请先阅读并确认风险提示"))
        return redirect("activities:detail", pk=pk)
    try:
        signup = actions.sign_up(request.user, activity, volunteer)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            {
                "confirmed": gettext("报名成功，您已被录取"),
                "waitlisted": gettext("名额已满，您已进入候补名单"),
                "pending": gettext("报名成功，等待组织者审核"),
            }[signup.status],
        )
    return redirect("activities:detail", pk=pk)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = queries.volunteer_of(request.user)
    signup = (
        SignUp.objects.filter(pk=pk, volunteer=volunteer).select_related("activity").first()
        if volunteer
        else None
    )
    if signup is None:
        raise Http404
    try:
        actions.cancel_signup(request.user, signup, request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, gettext("已取消报名"))
    return redirect("activities:detail", pk=signup.activity_id)


@login_required
def scan(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the activity's QR code leads: the volunteer confirms and is checked in with that code."""
    activity = _visible_activity(request.user, pk)
    code = request.POST.get("code") or request.GET.get("code", "")
    if request.method == "POST":

        def handler() -> tuple[int, dict]:
            actions.check_in(request.user, activity, method="volunteer_scan", code=code)
            messages.success(request, gettext("签到成功"))
            return 201, {}

        run_form_once(request, f"check_in:{activity.pk}", {"code": code}, handler)
        return redirect("activities:detail", pk=pk)
    return render(
        request,
        "activities/scan.html",
        {"activity": activity, "code": code[:40], "form_key": uuid.uuid4().hex},
    )


@login_required
@require_POST
def gps_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Self check-in or check-out from the phone's position (sent by the page's script)."""
    activity = Activity.objects.select_related("project").filter(pk=pk).first()
    volunteer = queries.volunteer_of(request.user)
    if activity is None or volunteer is None:
        raise Http404
    what = request.POST.get("what", "in")
    at = queued_at(request)  # a check-in the phone kept while it had no signal counts from when it was made
    try:
        lat, lng = float(request.POST.get("lat", "")), float(request.POST.get("lng", ""))
    except ValueError:
        lat = lng = None  # type: ignore[assignment]

    def handler() -> tuple[int, dict]:
        if what == "out":
            attendance = queries.my_attendance(volunteer, activity)
            if attendance is None:
                raise ValidationError({"activity": [gettext("还没有签到，不能签退")]})
            actions.check_out(request.user, attendance, method="gps", at=at)
            messages.success(request, gettext("签退成功，服务时长已记录"))
        else:
            actions.check_in(request.user, activity, method="gps", lat=lat, lng=lng, at=at)
            messages.success(request, gettext("签到成功"))
        return 201, {}

    run_form_once(request, f"check_{what}:{activity.pk}", {"lat": lat, "lng": lng}, handler)
    return redirect("activities:detail", pk=pk)


@login_required
@require_POST
def organiser_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """The organiser's scanner (camera or a handheld scanner typing into the field) reads an e-card."""
    activity = Activity.objects.select_related("project").filter(pk=pk).first()
    if activity is None or not _is_organiser(request.user, activity):
        raise Http404
    token = request.POST.get("ecard", "").strip()

    def handler() -> tuple[int, dict]:
        attendance = actions.check_in(request.user, activity, method="organiser_scan", ecard=token)
        messages.success(request, gettext("%(name)s 签到成功") % {"name": attendance.volunteer.name})
        return 201, {}

    run_form_once(request, f"scan:{activity.pk}", {"ecard": token}, handler)
    return redirect("activities:detail", pk=pk)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    signup = SignUp.objects.select_related("activity", "activity__project").filter(pk=pk).first()
    if signup is None or not _is_organiser(request.user, signup.activity):
        raise Http404
    try:
        what = request.POST.get("what")
        if what == "no_show":
            actions.mark_no_show(request.user, signup)
        else:
            actions.decide_signup(request.user, signup, what == "approve")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("activities:detail", pk=signup.activity_id)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The volunteer's own page on the phone: e-card, upcoming activities, waiting list, hours."""
    volunteer = queries.volunteer_of(request.user)
    if volunteer is None:
        return render(request, "activities/me.html", {"volunteer": None})
    signups = list(queries.my_signups(volunteer)[:50])
    now = timezone.now()
    hours = list(queries.my_hours(volunteer)[:100])
    context = {
        "volunteer": volunteer,
        "upcoming": [
            s
            for s in signups
            if s.activity.ends_at >= now and s.status in ("confirmed", "pending", "waitlisted")
        ],
        "past": [
            s
            for s in signups
            if s.activity.ends_at < now or s.status not in ("confirmed", "pending", "waitlisted")
        ],
        "hours": hours,
        "counted_hours": queries.hours_label(queries.effective_minutes(volunteer)),
        "ecard_qr": _qr(ecard_token(volunteer), 7),
    }
    return render(request, "activities/me.html", context)


@login_required
def ecard(request: HttpRequest) -> HttpResponse:
    """The e-card QR alone (refreshed by htmx, since a token lives three minutes)."""
    volunteer = queries.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    return render(
        request,
        "activities/_ecard.html",
        {"volunteer": volunteer, "ecard_qr": _qr(ecard_token(volunteer), 7)},
    )


@login_required
def anomalies(request: HttpRequest) -> HttpResponse:
    """The hours anomaly report for reviewers (staff who may change, and auditors)."""
    from vetvol.activities import anomalies as anomaly_report
    from vetvol.core.scoping import allowed_prefixes

    if (
        allowed_prefixes(request.user, Action.CHANGE) == []
        and allowed_prefixes(request.user, Action.VIEW_AUDIT) == []
    ):
        raise PermissionDenied("anomaly report")
    return render(request, "activities/anomalies.html", {"report": anomaly_report.report(request.user)})


# Service certificates (志愿服务记录证明 / 服务时长证明) -----------------------------------------------------


class CertificateRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("证明类型"), choices=CertificateKind.choices, initial=CertificateKind.RECORD
    )
    period_from = forms.DateField(
        label=gettext_lazy("起始日期"), required=False, help_text=gettext_lazy("不填：从第一条服务记录起")
    )
    period_to = forms.DateField(
        label=gettext_lazy("截止日期"), required=False, help_text=gettext_lazy("不填：到今天")
    )


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    """The volunteer's certificates, and the form that issues a new one on the spot (free, self-service)."""
    volunteer = queries.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    form = CertificateRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cert = actions.issue_certificate(
                request.user, volunteer, data["kind"], (data["period_from"], data["period_to"])
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                gettext("已出具%(kind)s，编号 %(number)s")
                % {"kind": cert.get_kind_display(), "number": cert.number},
            )
            return redirect("activities:my_certificates")
    status = star_status(volunteer)
    latest_request = (
        StarRequest.objects.filter(volunteer=volunteer)
        .select_related("rejection")
        .order_by("-requested_at", "-id")
        .first()
    )
    context = {
        "volunteer": volunteer,
        "form": form,
        "certificates": ServiceCertificate.objects.filter(volunteer=volunteer)
        .select_related("revocation")
        .order_by("-issued_at")[:50],
        "stars": status,
        "star_request": latest_request,
        "star_request_pending": latest_request is not None
        and queries.pending_star_requests().filter(pk=latest_request.pk).exists(),
        "next_hours": queries.hours_label(status.next_minutes or 0),
        "counted_hours": queries.hours_label(queries.effective_minutes(volunteer)),
    }
    return render(request, "activities/my_certificates.html", context, status=400 if form.errors else 200)


@login_required
def certificate_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The PDF, for the volunteer themselves or staff who may see the volunteer; 404 for anyone else."""
    if not certificates.NUMBER_RE.match(number):
        raise Http404
    cert = ServiceCertificate.objects.select_related("volunteer", "revocation").filter(number=number).first()
    if cert is None:
        raise Http404
    volunteer = get_for_user(Volunteer.objects.all(), request.user, Action.VIEW, pk=cert.volunteer_id)
    if not certificates.is_authentic(cert):
        logger.error("certificate %s fails verification: not served", cert.number)
        raise Http404
    revoked_on = certificates.revoked_on(cert)
    if revoked_on is not None:  # withdrawn: no longer handed out as a valid certificate
        return render(
            request,
            "activities/certificate_revoked.html",
            {"cert": cert, "revoked_on": revoked_on},
            status=410,
        )
    if volunteer.user_id != request.user.pk:
        audit.record(
            "activities.certificate.download",
            actor=request.user,
            obj=volunteer,
            detail={"number": cert.number},
        )
    response = HttpResponse(certificates.render_pdf(cert), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@login_required
def export_hours(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Counted hour records (CSV or xlsx), filtered by region and dates (activities/exports.py)."""
    from datetime import date

    from vetvol.activities.exports import hours_export
    from vetvol.core import exports as export_files

    if fmt not in ("csv", "xlsx"):
        raise Http404
    region = request.GET.get("region", "").strip()
    try:
        since = date.fromisoformat(request.GET["from"]) if request.GET.get("from") else None
        until = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else None
    except ValueError:
        return HttpResponse(
            gettext("日期格式应为 YYYY-MM-DD，例如 2026-05-01"),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if region and (not region.isdigit() or len(region) not in (2, 4, 6, 9, 12)):
        return HttpResponse(
            gettext("区划代码应为 2、4、6、9 或 12 位数字"),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    export = hours_export(request.user, region=region, since=since, until=until, fmt=fmt)
    return export_files.response(export, fmt)
