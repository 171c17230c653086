"""Import and export endpoints: upload a file (checked, nothing written), read a job and its per-row
report, run it, and export the volunteer or team list as CSV. Everything is scoped: another user's job is
404 unless the caller's grants cover it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from vetvol.core.exports import Export, csv_response
from vetvol.core.scoping import Action
from vetvol.registry import exports
from vetvol.registry.actions import imports as actions
from vetvol.registry.filters import talent_filter_from_params, team_filters_from_params
from vetvol.registry.imports import MAX_UPLOAD_BYTES, MSG_TOO_LARGE, UploadRefused
from vetvol.registry.models import ImportJob
from vetvol.registry.views.imports import get_job_for_user

router = Router(tags=["imports"])


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError]


class RowErrorOut(Schema):
    row: int
    field: str
    message: str


class JobOut(Schema):
    id: UUID
    kind: str
    filename: str
    sha256: str
    status: str
    mode: str
    total_rows: int
    valid_rows: int
    bad_rows: int
    error_count: int
    already_imported: int
    written: int
    progress: int
    percent: int
    can_resume: bool
    failure: str
    notes: list[str]
    created_at: datetime
    heartbeat: datetime | None
    finished_at: datetime | None
    errors: list[RowErrorOut]
    errors_truncated: bool


class RunIn(Schema):
    mode: Literal["valid", "all"] | None = None


def _out(job: ImportJob) -> dict:
    return {
        **{name: getattr(job, name) for name in JobOut.model_fields if name != "errors"},
        "errors": [{"row": r, "field": f, "message": m} for r, f, m in job.errors],
    }


def _refused(message: str, status: int, field: str = "file") -> Status:
    return Status(status, {"detail": message, "errors": [{"field": field, "message": message}]})


@router.post(
    "/",
    response={201: JobOut, 403: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    url_name="registry_import_upload",
    summary="Upload an xlsx file: checked row by row, nothing written yet",
)
def upload(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[Literal["volunteers", "teams"]] = "volunteers",
):  # type: ignore[no-untyped-def]
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        return _refused(MSG_TOO_LARGE, 413)
    try:
        job = actions.upload(request.user, kind, file.name or "", file.read())
    except UploadRefused as exc:
        return _refused(exc.message, exc.status)
    except PermissionDenied:
        return _refused("您没有导入该类数据的权限", 403, "kind")
    return Status(201, _out(job))


@router.get(
    "/{job_id}", response=JobOut, url_name="registry_import_job", summary="An import job and its report"
)
def job(request: HttpRequest, job_id: UUID):  # type: ignore[no-untyped-def]
    return _out(get_job_for_user(request.user, job_id))


@router.post(
    "/{job_id}/run",
    response={202: JobOut},
    url_name="registry_import_run",
    summary='Write the rows in the background: mode "valid" (valid rows) or "all" (only if none is bad)',
)
def run(request: HttpRequest, job_id: UUID, payload: RunIn):  # type: ignore[no-untyped-def]
    job = get_job_for_user(request.user, job_id, Action.CHANGE)
    return Status(202, _out(actions.start_run(request.user, job, payload.mode)))


def _csv(export: Export) -> StreamingHttpResponse:
    return csv_response(export)


export_router = Router(tags=["exports"])


@export_router.get(
    "/volunteers.csv",
    response={200: None, 403: ErrorOut, 422: ErrorOut},
    url_name="registry_export_volunteers",
    summary="The volunteers the caller may see and export, talent-pool filters as query parameters (CSV)",
)
def export_volunteers(request: HttpRequest) -> StreamingHttpResponse | Status:
    f = talent_filter_from_params(request.GET)
    try:
        return _csv(exports.volunteer_export(request.user, f, "csv"))
    except PermissionDenied:
        return _refused("您没有导出个人信息的权限", 403, "body")


@export_router.get(
    "/teams.csv",
    response={200: None, 403: ErrorOut, 422: ErrorOut},
    url_name="registry_export_teams",
    summary="The teams the caller may see and export (CSV); filters region, brand, specialty, text",
)
def export_teams(request: HttpRequest) -> StreamingHttpResponse | Status:
    filters = team_filters_from_params(request.GET)
    try:
        return _csv(exports.team_export(request.user, filters, "csv"))
    except PermissionDenied:
        return _refused("您没有导出数据的权限", 403, "body")
