"""The national-system page: choose a region and full / changes, download the batch's zip; the batches made.
Thin: parse, call the action, send the file. Without the export and unmask rights the page is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from vetvol.core.pages import error_text
from vetvol.national import actions, queries
from vetvol.national.models import BatchMode

ZIP = "application/zip"


@login_required
def index(request: HttpRequest) -> HttpResponse:
    if not queries.may_export(request.user):
        raise Http404
    page = Paginator(queries.batches_for_user(request.user), 25).get_page(request.GET.get("page"))
    context = {"regions": queries.export_regions(request.user), "page": page, "modes": BatchMode.choices}
    return render(request, "national/index.html", context)


@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponseBase:
    code = request.POST.get("region", "").strip()
    if not (code.isascii() and code.isdigit()):
        raise Http404
    region = queries.get_region_for_export(request.user, code)
    try:
        batch, file = actions.export_batch(request.user, region, request.POST.get("mode", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("national:index")
    name = f"全国志愿服务信息系统报送-{batch.number}.zip"
    return FileResponse(file, as_attachment=True, filename=name, content_type=ZIP)
