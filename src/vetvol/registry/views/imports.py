"""Excel import and export pages: upload, the per-row report with the choice of what to write, a progress
bar polled by htmx while the background import runs, template downloads, and the exports."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from vetvol.core import exports as export_files
from vetvol.core.scoping import Action, allowed_prefixes, get_for_user
from vetvol.registry import exports
from vetvol.registry.actions import imports as actions
from vetvol.registry.filters import FilterError, talent_filter_from_params, team_filters_from_params
from vetvol.registry.imports import COLUMNS, MAX_UPLOAD_BYTES, MSG_TOO_LARGE, TEMPLATES, UploadRefused
from vetvol.registry.models import ImportJob, ImportKind, ImportMode, ImportStatus

XLSX = export_files.XLSX
SHOWN_ERRORS = 500


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("导入内容"),
        choices=lambda: [(k, ImportKind(k).label) for k in actions.HANDLERS],
        initial=ImportKind.VOLUNTEERS,
    )
    file = forms.FileField(
        label=gettext_lazy("Excel 文件（.xlsx）"),
        allow_empty_file=True,  # refused by the import's own checks, with their message
        help_text=gettext_lazy("请使用下载的模板填写；最大 20 MB。上传后先逐行检查，不会立即写入。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )


def get_job_for_user(user: Any, pk: UUID, action: str = Action.VIEW) -> ImportJob:
    return get_for_user(ImportJob.objects.select_related("uploaded_by"), user, action, pk=pk)


def _may_import(user: Any) -> bool:
    return any(allowed_prefixes(user, action) != [] for action in actions.NEEDED.values())


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not _may_import(request.user):
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise UploadRefused(MSG_TOO_LARGE, status=413)
                job = actions.upload(request.user, form.cleaned_data["kind"], upload.name, upload.read())
            except UploadRefused as exc:
                form.add_error("file", exc.message)
                status = exc.status
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("registry:import_job", pk=job.pk)
        status = status if status != 200 else 400
    jobs = ImportJob.objects.restrict(request.user, Action.VIEW).select_related("uploaded_by")[:20]
    return render(
        request,
        "registry/imports/upload.html",
        {"form": form, "jobs": jobs, "may_import": _may_import(request.user)},
        status=status,
    )


def _labels(kind: str) -> dict[str, str]:
    return {c.key: c.header for c in COLUMNS[kind]} | {"home_region": "居住街道（乡镇）代码"}


def _context(job: ImportJob) -> dict[str, Any]:
    labels = _labels(job.kind)
    errors = [(row, labels.get(field, field), message) for row, field, message in job.errors[:SHOWN_ERRORS]]
    return {
        "job": job,
        "errors": errors,
        "more_errors": job.error_count - len(errors),
        "modes": ImportMode,
        "statuses": ImportStatus,
        "can_run": job.status == ImportStatus.CHECKED and job.valid_rows > job.already_imported,
    }


@login_required
def job_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    job = get_job_for_user(request.user, pk)
    return render(request, "registry/imports/job.html", _context(job))


@login_required
def job_progress(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The progress fragment htmx polls every second; once the run has ended the whole page reloads."""
    job = get_job_for_user(request.user, pk)
    response = render(request, "registry/imports/_progress.html", _context(job))
    if (job.status != ImportStatus.IMPORTING or job.is_stale) and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def job_run(request: HttpRequest, pk: UUID) -> HttpResponse:
    job = get_job_for_user(request.user, pk, Action.CHANGE)
    try:
        actions.start_run(request.user, job, request.POST.get("mode") or None)
    except ValidationError as exc:
        messages.error(request, "；".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, gettext("已开始导入，可以离开本页，稍后回来查看结果。"))
    return redirect("registry:import_job", pk=job.pk)


@login_required
@require_POST
def job_discard(request: HttpRequest, pk: UUID) -> HttpResponse:
    job = get_job_for_user(request.user, pk, Action.CHANGE)
    try:
        actions.discard(request.user, job)
    except ValidationError as exc:
        messages.error(request, "；".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.info(request, gettext("已放弃本次导入，上传的文件已删除。"))
    return redirect("registry:import_upload")


@login_required
def job_errors(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The stored per-row report as CSV (row, column, message): no personal data, only where to look."""
    job = get_job_for_user(request.user, pk)
    labels = _labels(job.kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["行号", "列", "问题"])
    for row, field, message in job.errors:
        neutral = export_files.neutralise
        writer.writerow([row, neutral(labels.get(field, field)), neutral(message)])
    response = HttpResponse(
        ("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        content_disposition_header(True, f"检查结果-{job.filename}.csv") or "attachment"
    )
    return response


@login_required
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in TEMPLATES:
        raise Http404
    response = HttpResponse(TEMPLATES[kind](), content_type=XLSX)
    response["Content-Disposition"] = (
        content_disposition_header(True, f"{ImportKind(kind).label}导入模板.xlsx") or "attachment"
    )
    return response


def _bad_filter(request: HttpRequest, exc: FilterError) -> HttpResponse:
    return render(request, "registry/imports/export_error.html", {"errors": exc.errors}, status=400)


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "registry/imports/export_error.html", {"errors": {"": message}}, status=403)


@login_required
def export_volunteers(request: HttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in export_files.FORMATS:
        raise Http404
    try:
        f = talent_filter_from_params(request.GET)
    except FilterError as exc:
        return _bad_filter(request, exc)
    try:
        export = exports.volunteer_export(request.user, f, fmt)
    except PermissionDenied:
        return _refused(
            request, gettext("您没有导出个人信息的权限。导出志愿者名单需要区县级及以上管理员权限。")
        )
    return export_files.response(export, fmt)


@login_required
def export_teams(request: HttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in export_files.FORMATS:
        raise Http404
    try:
        filters = team_filters_from_params(request.GET)
    except FilterError as exc:
        return _bad_filter(request, exc)
    try:
        export = exports.team_export(request.user, filters, fmt)
    except PermissionDenied:
        return _refused(request, gettext("您没有导出数据的权限。导出队伍名单需要区县级及以上管理员权限。"))
    return export_files.response(export, fmt)
