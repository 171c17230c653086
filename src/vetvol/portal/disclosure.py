"""Public pages of the disclosure of model volunteers (先进典型) and of projects (项目公开): no login, nothing
personal but names shown as their owners agreed, escaped, cacheable as every portal page (`public_page`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from vetvol.portal import disclosure_queries as dq
from vetvol.portal import queries
from vetvol.portal.views import PageForm, _errors, public_page


class ExemplarFilterForm(PageForm):
    """The year filter: one of the years with published entries (anything else is refused, not searched)."""

    year = forms.TypedChoiceField(
        label=_("年度"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("该年度没有公开的先进典型，请从列表中选择。")},
    )

    def __init__(self, data: Any, years: list[int]) -> None:
        super().__init__(data)
        field = self.fields["year"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("全部年度")), *((str(y), str(y)) for y in years)]


def _region(request: HttpRequest) -> Any:
    """`?region=<code>`: a city, county-level or street/town node; an unknown one is a 404."""
    code = request.GET.get("region", "")
    return queries.get_public_region(code) if code else None


@public_page
def exemplars(request: HttpRequest) -> HttpResponse:
    """先进典型: model volunteers who agreed to be published, province-wide or of one region, by year."""
    region = _region(request)
    form = ExemplarFilterForm(request.GET, dq.exemplar_years())
    valid = form.is_valid()
    data = form.cleaned_data
    year = data.get("year")
    paginator: Paginator[Any] = Paginator(dq.published_exemplars(region, year), dq.EXEMPLAR_PAGE_SIZE)
    page = paginator.get_page(data.get("page") or 1)
    page.object_list = dq.public_exemplars(list(page.object_list))
    context = {"region": region, "form": form, "year": year, "errors": _errors(form), "page": page}
    return render(request, "portal/exemplars.html", context, status=200 if valid else 400)


@public_page
def projects(request: HttpRequest) -> HttpResponse:
    """项目公开: what each project is, where, who organises it, and what it has done (activities held,
    person-times, volunteers, hours that count), province-wide or of one region."""
    region = _region(request)
    form = PageForm(request.GET)
    valid = form.is_valid()
    paginator: Paginator[Any] = Paginator(dq.disclosed_projects(region), dq.PROJECT_PAGE_SIZE)
    page = paginator.get_page(form.cleaned_data.get("page") or 1)
    page.object_list = dq.public_projects(list(page.object_list))
    context = {"region": region, "errors": _errors(form), "page": page}
    return render(request, "portal/projects.html", context, status=200 if valid else 400)
