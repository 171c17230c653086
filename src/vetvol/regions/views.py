"""Region browser: the nodes a user may see, one page per node, search, and editing of the node's service
centre or station and its liaison points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import ModelForm, model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from vetvol.core.scoping import Action
from vetvol.regions import actions, queries
from vetvol.regions.forms import LiaisonPointForm, ServiceCentreForm


@login_required
def browser(request: HttpRequest) -> HttpResponse:
    roots = queries.root_regions(request.user)
    if len(roots) == 1:
        return redirect("regions:detail", code=roots[0].code)
    return render(request, "regions/browser.html", {"roots": roots})


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "regions/detail.html", {"page": queries.region_page(request.user, code)})


@login_required
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")[:30]
    results = queries.search_regions(request.user, text)
    template = "regions/_search_results.html" if request.headers.get("HX-Request") else "regions/search.html"
    return render(request, template, {"results": results, "q": text})


def _save_form(
    request: HttpRequest, form: ModelForm, save: Callable[[dict[str, Any]], Any], template: str, context: dict
) -> HttpResponse | None:
    """Run `save(cleaned_data)` for a valid POST; field errors from the action go back onto the form.

    Forms are bound to initial values, never to the instance: validating a ModelForm writes its data into
    its instance, and the action must compare against the stored object to see what changed.
    """
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
            return None
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    status = 400 if form.errors else 200
    return render(request, template, {**context, "form": form}, status=status)


@login_required
def edit_centre(request: HttpRequest, code: str) -> HttpResponse:
    region = queries.get_region_for_user(request.user, code, Action.CHANGE)
    centre = getattr(region, "service_centre", None)
    form = ServiceCentreForm(request.POST or None, initial=model_to_dict(centre) if centre else None)

    def save(data: dict[str, Any]) -> None:
        if centre is None:
            actions.create_service_centre(request.user, region, **data)
        else:
            actions.update_service_centre(request.user, centre, **data)

    response = _save_form(
        request, form, save, "regions/centre_form.html", {"region": region, "centre": centre}
    )
    return response or redirect("regions:detail", code=region.code)


@login_required
def add_liaison_point(request: HttpRequest, code: str) -> HttpResponse:
    region = queries.get_region_for_user(request.user, code, Action.CHANGE)
    centre = getattr(region, "service_centre", None)
    if centre is None:
        return redirect("regions:edit_centre", code=region.code)
    form = LiaisonPointForm(request.POST or None)
    response = _save_form(
        request,
        form,
        lambda data: actions.create_liaison_point(request.user, centre, **data),
        "regions/liaison_point_form.html",
        {"region": region, "centre": centre},
    )
    return response or redirect("regions:detail", code=region.code)


@login_required
def edit_liaison_point(request: HttpRequest, pk: int) -> HttpResponse:
    point = queries.get_liaison_point_for_user(request.user, pk, Action.CHANGE)
    centre = point.service_centre
    form = LiaisonPointForm(request.POST or None, initial=model_to_dict(point))
    response = _save_form(
        request,
        form,
        lambda data: actions.update_liaison_point(request.user, point, **data),
        "regions/liaison_point_form.html",
        {"region": centre.region, "centre": centre, "point": point},
    )
    return response or redirect("regions:detail", code=centre.region_code)
