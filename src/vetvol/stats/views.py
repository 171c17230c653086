"""Dashboard pages and downloads; thin: parse, call a query or an action, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from vetvol.core import exports as core_exports
from vetvol.core.pages import form_errors
from vetvol.core.scoping import Action
from vetvol.regions.models import Region
from vetvol.stats import actions, exports, queries
from vetvol.stats.forms import PopulationForm
from vetvol.stats.models import VeteranPopulation


@login_required
def index(request: HttpRequest) -> HttpResponse:
    tops = queries.roots(request.user)
    if not tops:
        raise Http404
    return redirect("stats:dashboard", code=tops[0].code)


def _chart_data(data: dict[str, Any], figure: str) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        return float(v) if not isinstance(v, int) else v

    return {
        "region": data["region"].code,
        "level": data["region"].level,
        "figure": figure,
        "figure_label": str(queries.FIGURE_BY_NAME[figure].label),
        "children": [
            {"code": c["code"], "name": c["name"], "value": plain(c["values"][figure])}
            for c in data["children"]
        ],
        "months": data["months"],
        "trend": {k: [plain(v) for v in vs] for k, vs in data["trend"].items()},
        "trend_labels": {k: _(v) for k, v in exports.TREND_LABELS.items()},
    }


@login_required
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    region = queries.get_region_for_stats(request.user, code)
    period = queries.parse_period(request.GET.get("period"))
    figure = request.GET.get("figure", "")
    if figure not in queries.MAP_FIGURES:
        figure = "volunteers"
    data = queries.dashboard(request.user, region, period)
    parents = Region.objects.restrict(request.user, queries.STATS_ACTION).filter(
        code__in=region.ancestor_codes()
    )
    context = {
        **data,
        "figures": [(f, data["totals"][f.name]) for f in queries.FIGURES],
        "map_figures": [queries.FIGURE_BY_NAME[n] for n in queries.MAP_FIGURES],
        "figure": figure,
        "columns": [
            queries.FIGURE_BY_NAME[n]
            for n in (
                "volunteers",
                "teams",
                "service_hours",
                "active_volunteers",
                "activities",
                "missions",
                "visits",
                "cases_overdue",
            )
        ],
        "teams": queries.team_league(request.user, region),
        "parents": list(parents.order_by("code")),
        "chart_data": _chart_data(data, figure),
        "geo_url": reverse("dispatch:board_geo", args=[region.code]),
        "may_enter_population": bool(
            Region.objects.restrict(request.user, Action.CHANGE).filter(code=region.code).exists()
        ),
    }
    return render(request, "stats/dashboard.html", context)


@login_required
def chart_xlsx(request: HttpRequest, code: str, which: str) -> HttpResponseBase:
    region = queries.get_region_for_stats(request.user, code)
    if which not in exports.CHARTS:
        raise Http404
    period = queries.parse_period(request.GET.get("period"))
    return core_exports.response(exports.chart(request.user, region, period, which), "xlsx")


@login_required
def civilisation_xlsx(request: HttpRequest, code: str) -> HttpResponseBase:
    region = queries.get_region_for_stats(request.user, code)
    year = queries.parse_period(request.GET.get("period"))[:4]
    return core_exports.response(exports.civilisation(request.user, region, year), "xlsx")


@login_required
def population(request: HttpRequest, code: str) -> HttpResponse:
    """Enter the veteran population of the node (the registration rate's denominator)."""
    region = queries.get_region_for_stats(request.user, code)
    form = PopulationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_veteran_population(
                request.user, region, form.cleaned_data["year"], form.cleaned_data["veterans"]
            )
        except ValidationError as exc:
            form_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("您无权填报该地区的退役军人人数"))
        else:
            messages.success(request, _("已保存"))
            return redirect("stats:population", code=region.code)
    rows = VeteranPopulation.objects.filter(region=region).order_by("-year")
    return render(request, "stats/population.html", {"region": region, "form": form, "rows": rows})
