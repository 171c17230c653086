"""Activity endpoints: listings, sign-up and cancellation, idempotent check-in and check-out, my hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from ninja import Header, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.activities import actions, queries
from vetvol.activities.models import Attendance, SignUp
from vetvol.core import idempotency
from vetvol.core.groupcommit import GroupCommit
from vetvol.registry.models import Volunteer
from vetvol.registry.queries import get_volunteer_for_user

router = Router(tags=["activities"])


class ActivityOut(Schema):
    id: int
    title: str
    project: str
    domain: str
    risk_statement: str
    insurance_required: bool
    starts_at: datetime
    ends_at: datetime
    place_name: str
    capacity: int
    seats_taken: int
    region_code: str


class SignUpIn(Schema):
    volunteer_id: int | None = None  # staff signing a volunteer up; omitted: the caller's own record
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class SignUpOut(Schema):
    id: int
    activity_id: int
    volunteer_id: int
    status: str


class CheckInIn(Schema):
    method: Annotated[str, StringConstraints(pattern=r"^(organiser_scan|volunteer_scan|gps)$")]
    code: Annotated[str, StringConstraints(max_length=40)] = ""
    ecard: Annotated[str, StringConstraints(max_length=400)] = ""
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class CheckOutIn(Schema):
    method: Annotated[str, StringConstraints(pattern=r"^(organiser_scan|volunteer_scan|gps)$")] = "gps"
    volunteer_id: int | None = None


class AttendanceOut(Schema):
    attendance_id: int
    volunteer_number: str
    checked_in_at: str
    checked_out_at: str | None
    outside_fence: bool


class HourOut(Schema):
    id: int
    service_date: date
    minutes: int
    source: str
    content: str
    standing: str


def _activity(request: HttpRequest, activity_id: int) -> Any:
    """Activities are public information (time, place, seats); any logged-in user may act on one."""
    activity = queries.Activity.objects.select_related("project").filter(pk=activity_id).first()
    if activity is None:
        raise Http404
    return activity


def _attendance_out(a: Attendance) -> dict:
    return {
        "attendance_id": a.pk,
        "volunteer_number": a.volunteer.number,
        "checked_in_at": a.checked_in_at.isoformat(),
        "checked_out_at": a.checked_out_at.isoformat() if a.checked_out_at else None,
        "outside_fence": a.outside_fence,
    }


def _idempotent(request: HttpRequest, scope: str, key: str | None, body: dict, handler: Any) -> Any:
    return _answer(lambda: idempotency.run(request.user, scope, key or "", body, handler))


def _answer(run: Callable[[], idempotency.Answer]) -> Any:
    try:
        status, response = run()
    except idempotency.BadKey as exc:
        raise ValidationError(
            {"Idempotency-Key": ["请求须带 8–80 位的 Idempotency-Key（由客户端生成）"]}
        ) from exc
    return Status(status, response)


@router.get("/open", response=list[ActivityOut], summary="Activities recruiting now")
def open_list(request: HttpRequest, region: str = "") -> list[dict]:
    rows = queries.open_activities(region if region.isdigit() else "")[:200]
    return [
        {
            **{
                f: getattr(a, f)
                for f in (
                    "id",
                    "title",
                    "starts_at",
                    "ends_at",
                    "place_name",
                    "capacity",
                    "seats_taken",
                    "region_code",
                )
            },
            "project": a.project.name,
            "domain": a.project.domain,
            "risk_statement": a.project.risk_statement,
            "insurance_required": a.project.insurance_required,
        }
        for a in rows
    ]


@router.post(
    "/{activity_id}/signups", response={201: SignUpOut}, summary="Sign up (yourself, or a volunteer)"
)
def sign_up(request: HttpRequest, activity_id: int, payload: SignUpIn):  # type: ignore[no-untyped-def]
    activity = _activity(request, activity_id)
    volunteer: Volunteer | None
    if payload.volunteer_id is not None:
        volunteer = get_volunteer_for_user(request.user, payload.volunteer_id)
    else:
        volunteer = queries.volunteer_of(request.user)
        if volunteer is None:
            raise ValidationError({"volunteer_id": ["您还不是注册志愿者"]})
    signup = actions.sign_up(request.user, activity, volunteer, payload.note)
    return Status(
        201,
        {"id": signup.pk, "activity_id": activity.pk, "volunteer_id": volunteer.pk, "status": signup.status},
    )


@router.post("/signups/{signup_id}/cancel", response=SignUpOut, summary="Cancel a sign-up before the cut-off")
def cancel(request: HttpRequest, signup_id: int) -> dict:
    signup = SignUp.objects.select_related("activity", "volunteer").filter(pk=signup_id).first()
    if signup is None:
        raise Http404
    try:
        signup = actions.cancel_signup(request.user, signup)
    except PermissionDenied as exc:
        raise Http404 from exc  # someone else's sign-up: same answer as a missing one
    return {
        "id": signup.pk,
        "activity_id": signup.activity_id,
        "volunteer_id": signup.volunteer_id,
        "status": signup.status,
    }


def _write_check_ins(
    batch: list[tuple[idempotency.Request, actions.CheckIn]],
) -> list[idempotency.Answer | Exception]:
    """A batch of check-ins from concurrent requests: their keys looked up together, the new ones recorded
    together, and their answers stored, in one transaction."""
    check_in_of = dict(batch)

    def handler(pending: list[idempotency.Request]) -> list[idempotency.Answer | Exception]:
        attendances = actions.check_in_many([check_in_of[r] for r in pending])
        return [a if isinstance(a, Exception) else (201, _attendance_out(a)) for a in attendances]

    # pipelined: the check-in's statements are hand-written and read no row counts
    return idempotency.run_many([r for r, _ in batch], handler, pipelined=True)


# Check-ins arriving together in this process are written together (see core.groupcommit). Under load a
# batch waits 2 ms for the requests on their way: in the check-in benchmark that doubled the batches (2.3 to
# 4.6 check-ins) and took a fifth off each check-in's CPU (server and PostgreSQL).
CHECK_INS = GroupCommit(_write_check_ins, gather_s=0.002)


@router.post(
    "/{activity_id}/check-in",
    response={201: AttendanceOut, 200: AttendanceOut},
    summary="Check in (idempotent: send an Idempotency-Key header)",
)
def check_in(
    request: HttpRequest,
    activity_id: int,
    payload: CheckInIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):  # type: ignore[no-untyped-def]
    body = payload.dict()
    key = idempotency.Request(request.user, f"check_in:{activity_id}", idempotency_key or "", body)
    check_in = actions.CheckIn(request.user, activity_id, **body)
    return _answer(lambda: CHECK_INS.submit((key, check_in)))


@router.post(
    "/{activity_id}/check-out",
    response={201: AttendanceOut, 200: AttendanceOut},
    summary="Check out (idempotent: send an Idempotency-Key header)",
)
def check_out(
    request: HttpRequest,
    activity_id: int,
    payload: CheckOutIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):  # type: ignore[no-untyped-def]
    activity = _activity(request, activity_id)
    volunteer: Volunteer | None
    if payload.volunteer_id is not None:
        volunteer = get_volunteer_for_user(request.user, payload.volunteer_id)
    else:
        volunteer = queries.volunteer_of(request.user)
    attendance = queries.my_attendance(volunteer, activity) if volunteer else None
    if attendance is None:
        raise ValidationError({"activity": ["还没有签到，不能签退"]})

    def handler() -> tuple[int, dict]:
        return 201, _attendance_out(actions.check_out(request.user, attendance, method=payload.method))

    return _idempotent(request, f"check_out:{activity.pk}", idempotency_key, payload.dict(), handler)


@router.get("/me/hours", response=list[HourOut], summary="My service-hour records and their standing")
def my_hours(request: HttpRequest) -> list[dict]:
    volunteer = queries.volunteer_of(request.user)
    if volunteer is None:
        return []
    return [
        {
            "id": r.pk,
            "service_date": r.service_date,
            "minutes": r.minutes,
            "source": r.source,
            "content": r.content,
            "standing": standing(r),
        }
        for r in queries.my_hours(volunteer)[:500]
    ]


def standing(record: Any) -> str:
    if record.is_superseded:
        return "superseded"
    if record.is_rejected:
        return "rejected"
    if record.required_level is None or record.is_approved:
        return "counted"
    return "awaiting_approval"
