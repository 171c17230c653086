"""Public pages: no login, nothing personal, cacheable by shared caches for five minutes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from vetvol.activities.certificates import verify
from vetvol.fund import receipts
from vetvol.portal import fund_queries, queries
from vetvol.registry.models import Team

PUBLIC_MAX_AGE = 300  # seconds


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET/HEAD only; a successful page says `Cache-Control: public, max-age=300`.

    The page is the same for everyone, but a staff member's request may come back with a refreshed session
    cookie (idle timeout), and a shared cache must never hand that cookie to others: requests carrying a
    session cookie get `private` instead. The language comes from the language cookie only (never from
    Accept-Language), so `Vary: Cookie` covers it.
    """

    @require_safe
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            if settings.SESSION_COOKIE_NAME in request.COOKIES:
                patch_cache_control(response, private=True, max_age=PUBLIC_MAX_AGE)
            else:
                patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        patch_vary_headers(response, ["Cookie"])
        return response

    return wrapper


class PageForm(forms.Form):
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        error_messages={
            "invalid": _("页码应为正整数。"),
            "min_value": _("页码应为正整数。"),
            "max_value": _("页码太大。"),
        },
    )


class TeamFilterForm(PageForm):
    """Filters of a region's team list. Choices only: a value outside them is refused, never searched."""

    brand = forms.ChoiceField(
        label=_("品牌"),
        required=False,
        error_messages={"invalid_choice": _("本地区没有这个品牌的队伍，请从列表中选择。")},
    )
    specialty = forms.ChoiceField(
        label=_("类型"),
        required=False,
        choices=[("", _("全部类型")), *queries.PUBLIC_SPECIALTIES],
        error_messages={"invalid_choice": _("没有这个队伍类型，请从列表中选择。")},
    )

    def __init__(self, data: Any, brands: list[str]) -> None:
        super().__init__(data)
        field = self.fields["brand"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("全部品牌")), *((b, b) for b in brands)]


def _page(teams: QuerySet[Team], number: int | None) -> Page:
    """One page of 50 teams in tree order, with their current member counts: two queries."""
    paginator = Paginator(queries.with_member_counts(teams).order_by("path"), queries.PAGE_SIZE)
    page = paginator.get_page(number or 1)
    page.object_list = list(page.object_list)
    return page


def _errors(form: forms.Form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


@public_page
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/index.html", {"overview": queries.overview()})


@public_page
def region(request: HttpRequest, code: str) -> HttpResponse:
    node = queries.get_public_region(code)
    form = TeamFilterForm(request.GET, brands=queries.brands_in(node))
    valid = form.is_valid()
    data = form.cleaned_data  # the valid fields only: a bad filter is reported and ignored
    brand, specialty = data.get("brand") or "", data.get("specialty") or ""
    teams = queries.region_teams(node, brand=brand, specialty=specialty)
    context = {
        "overview": queries.region_overview(node, teams),
        "form": form,
        "errors": _errors(form),
        "brand": brand,
        "specialty": specialty,
        "page": _page(teams, data.get("page")),
    }
    return render(request, "portal/region.html", context, status=200 if valid else 400)


@public_page
def brand(request: HttpRequest, brand: str) -> HttpResponse:
    overview = queries.brand_overview(brand)
    form = PageForm(request.GET)
    valid = form.is_valid()
    context = {
        "overview": overview,
        "errors": _errors(form),
        "page": _page(queries.brand_teams(overview.brand), form.cleaned_data.get("page")),
    }
    return render(request, "portal/brand.html", context, status=200 if valid else 400)


@public_page
def team(request: HttpRequest, team_id: str) -> HttpResponse:
    page = queries.team_page(queries.get_public_team(team_id))
    return render(request, "portal/team.html", {"tp": page, "team": page.team})


@public_page
def recruiting(request: HttpRequest) -> HttpResponse:
    """Activities recruiting now, province-wide or in one region (`?region=<code>`, an unknown one is 404):
    what, when, where, seats left and the project's risk statement. Signing up is in the app, after login."""
    code = request.GET.get("region", "")
    region = queries.get_public_region(code) if code else None
    form = PageForm(request.GET)
    valid = form.is_valid()
    paginator = Paginator(queries.recruiting(region), queries.RECRUITING_PAGE_SIZE)
    context = {
        "region": region,
        "errors": _errors(form),
        "page": paginator.get_page(form.cleaned_data.get("page") or 1),
    }
    return render(request, "portal/recruiting.html", context, status=200 if valid else 400)


@public_page
def certificate(request: HttpRequest, number: str) -> HttpResponse:
    """Verification of a service certificate, reached by its QR code: masked name, number, hours, validity.
    An unknown number, a wrong check code (`s`) and a tampered certificate all answer 404 with the same
    page ("此证明不存在或已被篡改"), so numbers cannot be walked and nothing tells the cases apart. A revoked
    certificate, reached with its right check code, answers 410 with its public facts and the date it was
    revoked (never the reason). Only a 200 is cached, so a revocation shows at most PUBLIC_MAX_AGE late."""
    result = verify(number, request.GET.get("s", ""))
    context = {"v": result, "number": number}
    status = 200 if result.valid else 410 if result.revoked else 404
    response = render(request, "portal/certificate.html", context, status=status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# The special fund ---------------------------------------------------------------------------------------


class FundFilterForm(PageForm):
    """The fund page's filter: province-wide, or one city (a code outside the list is refused)."""

    region = forms.ChoiceField(
        label=_("地区"),
        required=False,
        error_messages={"invalid_choice": _("没有这个地级市，请从列表中选择。")},
    )

    def __init__(self, data: Any, cities: list[Any]) -> None:
        super().__init__(data)
        field = self.fields["region"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("全省")), *((c.code, c.name) for c in cities)]


@public_page
def fund(request: HttpRequest) -> HttpResponse:
    """专项基金信息公开: income and spending by month and purpose, balances, the largest named donors (the
    others only in total), and every disbursement paid or reported; province-wide or `?region=<city>`. A bad
    filter is reported (400) and ignored: the province's figures show."""
    cities = fund_queries.fund_cities()
    form = FundFilterForm(request.GET, cities)
    valid = form.is_valid()
    data = form.cleaned_data
    code = data.get("region") or ""
    region = next((c for c in cities if c.code == code), None)
    paginator: Paginator[Any] = Paginator(
        fund_queries.disclosed_disbursements(region), fund_queries.FUND_PAGE_SIZE
    )
    page = paginator.get_page(data.get("page") or 1)
    page.object_list = fund_queries.public_disbursements(list(page.object_list))
    context = {
        "fund": fund_queries.fund_disclosure(region),
        "form": form,
        "region": region,
        "code": code,
        "errors": _errors(form),
        "page": page,
    }
    return render(request, "portal/fund_index.html", context, status=200 if valid else 400)


@public_page
def fund_donors(request: HttpRequest) -> HttpResponse:
    """捐赠芳名录: donors who agreed to be named, with what they gave (donations that stand), the others
    in total by kind, and the memorial plaques."""
    form = PageForm(request.GET)
    valid = form.is_valid()
    paginator: Paginator[Any] = Paginator(fund_queries.named_donors(), fund_queries.HONOUR_PAGE_SIZE)
    page = paginator.get_page(form.cleaned_data.get("page") or 1)
    page.object_list = fund_queries.donor_rows(list(page.object_list))
    context = {
        "page": page,
        "others": fund_queries.other_donors(),
        "plaques": fund_queries.plaques(),
        "errors": _errors(form),
    }
    return render(request, "portal/fund_donors.html", context, status=200 if valid else 400)


@public_page
def fund_receipt(request: HttpRequest, number: str) -> HttpResponse:
    """Verification of a donation receipt, reached by its QR code, as the certificates' page: an unknown
    number, a wrong check code (`s`) and a tampered receipt all answer 404 with the same page; a void receipt
    (its donation reversed) answers 410 with its public facts and the date it was voided (never the reason).
    The donor's name is masked unless they agreed to be named."""
    result = receipts.verify(number, request.GET.get("s", ""))
    context = {"v": result, "number": number}
    status = 200 if result.valid else 410 if result.void else 404
    response = render(request, "portal/fund_receipt.html", context, status=status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
