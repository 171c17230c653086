"""Model volunteer (先进典型) pages for staff: candidates ranked for a region and period, nominating one,
the nominations in scope with their decision (approve, or reject with a reason) and the consent to publish;
and the volunteer's own page, where they give or withdraw that consent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from vetvol.activities import actions, queries
from vetvol.activities import exemplars as rules
from vetvol.activities.actions.exemplars import CITATION_MAX, CONSENT_VERSION
from vetvol.activities.actions.stars import REASON_MAX
from vetvol.activities.models import (
    Exemplar,
    ExemplarCategory,
    ExemplarConsent,
    ExemplarStatus,
    ExemplarTier,
    NameForm,
)
from vetvol.core.pages import error_text, form_errors
from vetvol.core.scoping import Action, get_for_user, minimal_prefixes
from vetvol.regions.queries import get_region_for_user
from vetvol.registry.models import Volunteer
from vetvol.registry.queries import page_of

PAGE_SIZE = 50

_DATE_ERRORS = {"invalid": gettext_lazy("日期格式应为 2025-01-31")}
_PAGE_ERRORS = {
    "invalid": gettext_lazy("页码应为正整数。"),
    "min_value": gettext_lazy("页码应为正整数。"),
    "max_value": gettext_lazy("页码太大。"),
}


class RankingForm(forms.Form):
    region = forms.CharField(label=gettext_lazy("区划代码"), required=False, max_length=12)
    since = forms.DateField(label=gettext_lazy("统计起始日期"), required=False, error_messages=_DATE_ERRORS)
    until = forms.DateField(label=gettext_lazy("统计截止日期"), required=False, error_messages=_DATE_ERRORS)
    order = forms.ChoiceField(
        label=gettext_lazy("排序"),
        required=False,
        choices=[
            ("hours", gettext_lazy("服务时长")),
            ("stars", gettext_lazy("星级")),
            ("missions", gettext_lazy("应急任务")),
            ("care", gettext_lazy("关爱探访")),
        ],
        error_messages={"invalid_choice": gettext_lazy("没有这种排序方式，请从列表中选择。")},
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, error_messages=_PAGE_ERRORS)


class NominationForm(forms.Form):
    tier = forms.ChoiceField(label=gettext_lazy("级别"), choices=ExemplarTier.choices)
    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=ExemplarCategory.choices)
    year = forms.IntegerField(
        label=gettext_lazy("年度"), error_messages={"invalid": gettext_lazy("年度应为四位数字")}
    )
    citation = forms.CharField(
        label=gettext_lazy("事迹简介"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=CITATION_MAX * 2,  # the action counts after trimming and says how many are too many
        error_messages={"required": gettext_lazy("请填写事迹简介")},
    )
    since = forms.DateField(label=gettext_lazy("统计起始日期"), error_messages=_DATE_ERRORS)
    until = forms.DateField(label=gettext_lazy("统计截止日期"), error_messages=_DATE_ERRORS)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        error_messages={
            "required": gettext_lazy("请填写驳回理由"),
            "max_length": gettext_lazy("理由不能超过 200 个字"),
        },
    )


def _errors(form: forms.Form) -> list[str]:
    return [str(m) for errors in form.errors.values() for m in errors]


def _default_period(today: date) -> tuple[date, date]:
    return date(today.year, 1, 1), today


def _require_nominator(user: Any) -> None:
    if not rules.may_nominate(user):
        raise PermissionDenied("exemplar nomination")


def _default_region(user: Any) -> str:
    prefixes = rules.nominating_prefixes(user)
    return "44" if prefixes is None else minimal_prefixes(prefixes)[0]


@login_required
def candidates(request: HttpRequest) -> HttpResponse:
    """Candidates of a region (in the user's scope; another's is a 404) for a period, ranked by the figure
    chosen, 50 a page; one query for the page whatever the region's size."""
    _require_nominator(request.user)
    form = RankingForm(request.GET)
    form.is_valid()  # the valid fields only: a bad one is reported and its default used
    data = form.cleaned_data
    today = timezone.localdate()
    since, until = _default_period(today)
    since, until = data.get("since") or since, data.get("until") or until
    errors = _errors(form)
    if since > until:
        errors.append(gettext("统计起始日期不能晚于截止日期"))
        since, until = _default_period(today)
    region = get_region_for_user(
        request.user, data.get("region") or _default_region(request.user), Action.VIEW_PEOPLE
    )
    order = data.get("order") or "hours"
    number = data.get("page") or 1
    offset = (number - 1) * PAGE_SIZE
    rows = list(
        rules.ranking(request.user, region.code, since, until, order)[offset : offset + PAGE_SIZE + 1]
    )
    context = {
        "form": form,
        "region": region,
        "since": since,
        "until": until,
        "order": order,
        "rows": [
            (offset + i + 1, row, queries.hours_label(row["minutes"]))
            for i, row in enumerate(rows[:PAGE_SIZE])
        ],
        "page_number": number,
        "has_next": len(rows) > PAGE_SIZE,
        "errors": errors,
        "may_nominate_here": rules.may_nominate(request.user, region.code),
    }
    return render(request, "activities/exemplars/candidates.html", context, status=200 if not errors else 400)


@login_required
def nominate(request: HttpRequest, pk: int) -> HttpResponse:
    """Nominate a volunteer in the user's scope (another's is a 404), with the period's figures shown."""
    _require_nominator(request.user)
    volunteer = get_for_user(
        Volunteer.objects.select_related("home_region"), request.user, Action.VIEW_PEOPLE, pk=pk
    )
    today = timezone.localdate()
    since, until = _default_period(today)
    initial = {"year": today.year, "since": since, "until": until, "tier": ExemplarTier.COUNTY}
    form = NominationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            exemplar = actions.nominate_exemplar(request.user, volunteer, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        except PermissionDenied:
            form.add_error(
                None, gettext("您无权推荐该志愿者（本人不能推荐自己，推荐须由区县级以上管理员提出）")
            )
        else:
            messages.success(request, gettext("已提交推荐，等待审核"))
            return redirect("activities:exemplar_detail", pk=exemplar.pk)
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    figures = rules.figures_for(volunteer, since, until) if since <= until else None
    context = {
        "form": form,
        "v": volunteer,
        "figures": figures,
        "hours": queries.hours_label(figures.minutes) if figures else "",
        "since": since,
        "until": until,
        "citation_max": CITATION_MAX,
    }
    return render(request, "activities/exemplars/nominate.html", context, status=400 if form.errors else 200)


@login_required
def exemplar_list(request: HttpRequest) -> HttpResponse:
    """Nominations of volunteers in the user's scope, newest first, 50 a page; those waiting for the user's
    decision first when asked (`?status=mine`)."""
    status = request.GET.get("status", "")
    if status not in {"", "mine", *ExemplarStatus.values}:
        status = ""
    qs = rules.exemplars_for(request.user, "" if status == "mine" else status)
    if status == "mine":
        qs = qs.filter(rules.to_decide_q(request.user))
    raw = request.GET.get("page", "1")
    number = min(int(raw), 100_000) if raw.isdecimal() and 0 < len(raw) <= 6 and int(raw) > 0 else 1
    page = page_of(qs.order_by("-created_at", "-id"), number, PAGE_SIZE)
    context = {
        "page": page,
        "status": status,
        "statuses": ExemplarStatus.choices,
        "may_nominate": rules.may_nominate(request.user),
    }
    return render(request, "activities/exemplars/list.html", context)


def _exemplar_for(request: HttpRequest, pk: int) -> Exemplar:
    return get_for_user(
        Exemplar.objects.select_related("volunteer", "volunteer__home_region", "nominated_by", "decided_by"),
        request.user,
        Action.VIEW,
        pk=pk,
    )


@login_required
def exemplar_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exemplar = _exemplar_for(request, pk)
    if exemplar.volunteer.user_id == request.user.pk and not rules.may_nominate(request.user):
        return redirect("activities:my_exemplars")
    consents = list(
        ExemplarConsent.objects.filter(exemplar=exemplar)
        .select_related("recorded_by")
        .order_by("-at", "-id")[:50]
    )
    published = Exemplar.objects.filter(rules.published_q(), pk=exemplar.pk).exists()
    context = {
        "e": exemplar,
        "hours": queries.hours_label(exemplar.minutes),
        "may_decide": rules.may_decide(request.user, exemplar),
        "may_record_consent": Volunteer.objects.restrict(request.user, Action.CHANGE)
        .filter(pk=exemplar.volunteer_id)
        .exists(),
        "consents": consents,
        "published": published,
        "public_name": rules.public_name(exemplar.volunteer.name, exemplar.name_form),
        "name_forms": NameForm.choices,
        "reason_max": REASON_MAX,
        "consent_version": CONSENT_VERSION,
    }
    return render(request, "activities/exemplars/detail.html", context)


def _decision_message(request: HttpRequest, exemplar: Exemplar) -> str:
    if exemplar.nominated_by_id == request.user.pk:
        return gettext("不能审核本人提出的推荐，请由其他工作人员审核")
    if exemplar.volunteer.user_id == request.user.pk:
        return gettext("不能审核关于本人的推荐")
    return gettext("您无权审核该推荐：区县级、市级先进典型由地级市审核，省级先进典型由省级审核")


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    exemplar = _exemplar_for(request, pk)
    try:
        actions.approve_exemplar(request.user, exemplar)
    except PermissionDenied:
        messages.error(request, _decision_message(request, exemplar))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, gettext("已认定为先进典型；本人同意后在信息公开页面公布"))
    return redirect("activities:exemplar_detail", pk=exemplar.pk)


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    exemplar = _exemplar_for(request, pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        actions.reject_exemplar(request.user, exemplar, form.cleaned_data["reason"])
    except PermissionDenied:
        messages.error(request, _decision_message(request, exemplar))
    except ValidationError as exc:
        messages.error(request, gettext("驳回未完成：") + error_text(exc))
    else:
        messages.success(request, gettext("已驳回该推荐"))
    return redirect("activities:exemplar_detail", pk=exemplar.pk)


@login_required
@require_POST
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    """Give (`granted=1` with `name_form`) or withdraw (`granted=0`) the consent to publish: the volunteer
    on their own page, or staff recording a signed form."""
    exemplar = _exemplar_for(request, pk)
    own = exemplar.volunteer.user_id == request.user.pk
    granted = request.POST.get("granted") == "1"
    try:
        actions.set_exemplar_consent(
            request.user, exemplar, granted=granted, name_form=request.POST.get("name_form", "")
        )
    except PermissionDenied:
        messages.error(request, gettext("您无权为该志愿者登记授权"))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, gettext("已同意公开") if granted else gettext("已撤回同意，信息公开页面不再显示")
        )
    if own:
        return redirect("activities:my_exemplars")
    return redirect("activities:exemplar_detail", pk=exemplar.pk)


@login_required
def my_exemplars(request: HttpRequest) -> HttpResponse:
    """The volunteer's own honours and nominations, with the consent to publish each one."""
    volunteer = queries.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    context = {
        "v": volunteer,
        "rows": [
            (e, rules.public_name(volunteer.name, NameForm.MASKED)) for e in rules.my_exemplars(volunteer)
        ],
        "full_name": volunteer.name,
        "name_forms": NameForm.choices,
        "consent_version": CONSENT_VERSION,
    }
    return render(request, "activities/exemplars/mine.html", context)
