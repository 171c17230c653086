"""Check-in and check-out, three ways: the organiser scans the volunteer's e-card, the volunteer scans the
activity's rotating code, or the phone's position inside the activity's geofence."""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.http import Http404
from django.utils import timezone

from vetvol.activities.actions.hours import record_attendance_hours
from vetvol.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    CheckMethod,
    FencePolicy,
    InsurancePolicy,
    Project,
    SignUp,
    SignUpStatus,
)
from vetvol.core import audit, events, rawsql
from vetvol.core.context import client_ip
from vetvol.core.scoping import Action
from vetvol.registry.models import Volunteer

CODE_WINDOW_S = 30
ECARD_MAX_AGE_S = 180
EARLY_CHECKIN_MINUTES = 60


def rotating_code(activity: Activity, at: float | None = None) -> str:
    """The activity's check-in code for the current 30-second window (a QR on the organiser's screen)."""
    window = int((at if at is not None else time.time()) // CODE_WINDOW_S)
    digest = hmac.new(
        activity.qr_secret.encode(), f"{activity.pk}:{window}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{activity.pk}-{digest[:10]}"


def _code_is_current(activity: Activity, code: str) -> bool:
    now = time.time()
    return any(hmac.compare_digest(code, rotating_code(activity, now - k * CODE_WINDOW_S)) for k in (0, 1))


def ecard_token(volunteer: Volunteer) -> str:
    """What the volunteer's e-card QR holds: their number, signed and short-lived (a screenshot expires)."""
    return signing.dumps({"n": volunteer.number}, salt="vetvol.ecard", compress=True)


def volunteer_from_ecard(token: str) -> Volunteer:
    try:
        data = signing.loads(token, salt="vetvol.ecard", max_age=ECARD_MAX_AGE_S)
    except signing.SignatureExpired as exc:
        raise ValidationError({"token": ["电子证二维码已过期，请志愿者刷新后再扫"]}) from exc
    except signing.BadSignature as exc:
        raise ValidationError({"token": ["不是有效的志愿者电子证"]}) from exc
    volunteer = Volunteer.objects.filter(number=data.get("n")).first()
    if volunteer is None:
        raise ValidationError({"token": ["不是有效的志愿者电子证"]})
    return volunteer


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _is_organiser(actor: Any, activity: Activity) -> bool:
    return (
        activity.project.__class__.objects.restrict(actor, Action.CHANGE)
        .filter(pk=activity.project_id)
        .exists()
    )


def _insured(volunteer: Volunteer, activity: Activity) -> bool:
    day = connection.ops.adapt_datefield_value(timezone.localtime(activity.starts_at).date())
    return InsurancePolicy.objects.filter(
        volunteer=volunteer, valid_from__lte=day, valid_until__gte=day
    ).exists()


@dataclass(eq=False)
class CheckIn:
    """One check-in to record (see `check_in`). `activity` may be its id: the batch reads the activities
    it names with one query. `ip` is the client's, taken where the request arrived."""

    actor: Any
    activity: Activity | int
    method: str
    ecard: str = ""
    code: str = ""
    lat: float | None = None
    lng: float | None = None
    at: datetime | None = None
    ip: str | None = field(default_factory=client_ip.get)


@dataclass
class _Standing:
    """What a check-in is decided on: the volunteer, their confirmed sign-up, whether they are already
    checked in, and whether the insurance gate stops them."""

    volunteer: Volunteer
    signup_id: int | None
    already: bool
    uninsured: bool


# The activity's columns a check-in reads (its decision, the audit entry, the event); the rest stay deferred.
_ACTIVITY_FIELDS = (
    "id", "region_code", "project", "starts_at", "ends_at", "lng", "lat", "geofence_m", "fence_policy",
    "status", "qr_secret",
)  # fmt: skip
_VOLUNTEER_FIELDS = ("id", "number", "user", "location_consent")


@functools.cache
def _columns(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(cast(models.Field, model._meta.get_field(name)).column for name in names)


def _reads(activity_id: int, actors: list[Any]) -> tuple[Activity | None, dict[int, _Standing]]:
    """The activity (None if there is none) and the standing there of each actor's own volunteer record,
    by user id: one query for a batch's check-ins to one activity.

    Hand-written: this runs for every check-in, thousands a minute at a big event, and compiling the same
    query through the ORM cost several times what the database spends on it (see core.rawsql). The day
    the insurance must cover is the activity's start in local time, worked out by the database the way
    the ORM's `__date` lookup does."""
    user_ids = sorted({a.pk for a in actors if a.is_authenticated})
    activity_columns, volunteer_columns = (
        _columns(Activity, _ACTIVITY_FIELDS),
        _columns(Volunteer, _VOLUNTEER_FIELDS),
    )
    day, day_params = connection.ops.datetime_cast_date_sql(
        'a."starts_at"', (), timezone.get_current_timezone_name()
    )
    selected = [*(f'a."{c}"' for c in activity_columns), *(f'v."{c}"' for c in volunteer_columns)]
    on = f'v."user_id" IN ({", ".join(["%s"] * len(user_ids))})' if user_ids else "1 = 0"
    sql = (
        f"SELECT {', '.join(selected)},"  # noqa: S608
        f' (SELECT s."id" FROM "{SignUp._meta.db_table}" s WHERE s."activity_id" = a."id"'
        ' AND s."volunteer_id" = v."id" AND s."status" = %s LIMIT 1) AS confirmed_signup_id,'
        f' EXISTS (SELECT 1 FROM "{Attendance._meta.db_table}" t WHERE t."activity_id" = a."id"'
        ' AND t."volunteer_id" = v."id") AS checked_in,'
        ' p."insurance_required",'
        f' EXISTS (SELECT 1 FROM "{InsurancePolicy._meta.db_table}" i WHERE i."volunteer_id" = v."id"'
        f' AND i."valid_from" <= {day} AND i."valid_until" >= {day}) AS insured'
        f' FROM "{Activity._meta.db_table}" a'
        f' INNER JOIN "{Project._meta.db_table}" p ON p."id" = a."project_id"'
        f' LEFT JOIN "{Volunteer._meta.db_table}" v ON {on}'
        ' WHERE a."id" = %s'
    )
    params = [SignUpStatus.CONFIRMED, *day_params, *day_params, *user_ids, activity_id]
    rows = rawsql.fetch_all(sql, params)
    if not rows:
        return None, {}
    n, m = len(activity_columns), len(activity_columns) + len(volunteer_columns)
    activity = rawsql.builder(Activity, activity_columns)(rows[0])
    volunteer_of = rawsql.builder(Volunteer, volunteer_columns)
    standings = {}
    for row in rows:
        if row[n] is None:  # no volunteer record among the actors
            continue
        volunteer = volunteer_of(row[n:m])
        signup_id, checked_in, insurance_required, insured = row[m:]
        standings[cast(int, volunteer.user_id)] = _Standing(
            volunteer=volunteer,
            signup_id=signup_id,
            already=bool(checked_in),
            uninsured=bool(insurance_required) and not insured,
        )
    return activity, standings


def _scanned_standing(actor: Any, activity: Activity, ecard: str) -> _Standing:
    """The organiser scans a volunteer's e-card: the volunteer it names, and their standing."""
    if not _is_organiser(actor, activity):
        raise PermissionDenied("not an organiser")
    volunteer = volunteer_from_ecard(ecard)
    return _Standing(
        volunteer=volunteer,
        signup_id=(
            SignUp.objects.filter(activity=activity, volunteer=volunteer, status=SignUpStatus.CONFIRMED)
            .values_list("pk", flat=True)
            .first()
        ),
        already=Attendance.objects.filter(activity=activity, volunteer=volunteer).exists(),
        uninsured=activity.is_risky and not _insured(volunteer, activity),
    )


def _decide(req: CheckIn, activity: Activity, standing: _Standing) -> Attendance:
    """The attendance this check-in records, or the ValidationError saying why not (every reason)."""
    at = req.at or timezone.now()
    errors: dict[str, list[str]] = {}
    if activity.status == ActivityStatus.CANCELLED:
        errors["activity"] = ["活动已取消"]
    elif not (
        activity.starts_at.timestamp() - EARLY_CHECKIN_MINUTES * 60
        <= at.timestamp()
        <= activity.ends_at.timestamp()
    ):
        errors["activity"] = [f"只能在活动开始前 {EARLY_CHECKIN_MINUTES} 分钟到活动结束之间签到"]
    if standing.signup_id is None:
        errors.setdefault("volunteer", []).append("该志愿者未被录取参加本活动")
    if standing.uninsured:
        errors.setdefault("volunteer", []).append("本活动有风险，须有当天有效的意外保险才能签到")
    outside, dist = False, None
    if req.method == CheckMethod.VOLUNTEER_SCAN and not _code_is_current(activity, req.code.strip()):
        errors["code"] = ["签到码无效或已过期，请扫描现场最新的签到码"]
    if req.method == CheckMethod.GPS:
        if req.lat is None or req.lng is None or activity.lat is None or activity.lng is None:
            errors["position"] = ["无法获取位置，请打开手机定位后重试，或请组织者扫码签到"]
        else:
            dist = distance_m(req.lat, req.lng, activity.lat, activity.lng)
            outside = dist > activity.geofence_m
            if outside and activity.fence_policy == FencePolicy.REFUSE:
                errors["position"] = [
                    f"您距离活动地点约 {round(dist)} 米，超出 {activity.geofence_m} 米签到范围"
                ]
    if req.method not in (CheckMethod.ORGANISER_SCAN, CheckMethod.VOLUNTEER_SCAN, CheckMethod.GPS):
        errors["method"] = ["未知签到方式"]
    if errors:
        raise ValidationError(errors)
    if standing.already:
        raise ValidationError({"volunteer": [ALREADY]})
    return Attendance(
        activity=activity,
        volunteer=standing.volunteer,
        signup_id=standing.signup_id,
        checked_in_at=at,
        in_method=req.method,
        in_lat=req.lat,
        in_lng=req.lng,
        in_distance_m=round(dist) if dist is not None else None,
        outside_fence=outside,
        needs_review=outside,
        recorded_by=req.actor,
    )


ALREADY = "已经签到过了"


def check_in(
    actor: Any,
    activity: Activity,
    *,
    method: str,
    ecard: str = "",
    code: str = "",
    lat: float | None = None,
    lng: float | None = None,
    at: datetime | None = None,
) -> Attendance:
    """Record a check-in. `organiser_scan`: the actor organises and `ecard` names the volunteer;
    `volunteer_scan`: the actor is the volunteer and `code` is the activity's current code; `gps`: the actor
    is the volunteer and (lat, lng) lies inside the geofence (outside: refused or flagged, per activity)."""
    req = CheckIn(actor, activity, method, ecard=ecard, code=code, lat=lat, lng=lng, at=at)
    answer = check_in_many([req])[0]
    if isinstance(answer, Exception):
        raise answer
    return answer


def check_in_many(requests: list[CheckIn]) -> list[Attendance | Exception]:
    """Record a batch of check-ins (see core.groupcommit): one answer per request, in order, the
    attendance or the exception refusing that request alone. The reads are one query per activity, with the
    standing there of the volunteers checking themselves in (an organiser's scan reads its volunteer on its
    own); the writes are one insert of the attendances, one audit append and one statistics mark, in one
    transaction. A volunteer checked in twice in one batch, or by a concurrent batch, gets "already checked
    in" for the later request."""
    answers: list[Attendance | Exception | None] = [None] * len(requests)
    activities = {r.activity.pk: r.activity for r in requests if isinstance(r.activity, Activity)}
    own: dict[int, dict[int, _Standing]] = {}
    for activity_id in sorted({_id(r.activity) for r in requests}):
        actors = [
            r.actor
            for r in requests
            if _id(r.activity) == activity_id and r.method != CheckMethod.ORGANISER_SCAN
        ]
        if actors or activity_id not in activities:
            activity, own[activity_id] = _reads(activity_id, actors)
            if activity is not None:
                activities.setdefault(activity_id, activity)
    decided: list[tuple[int, Attendance]] = []
    for i, r in enumerate(requests):
        activity = activities.get(_id(r.activity))
        try:
            if activity is None:
                raise Http404("no such activity")
            if r.method == CheckMethod.ORGANISER_SCAN:
                standing = _scanned_standing(r.actor, activity, r.ecard)
            else:
                found = own.get(activity.pk, {}).get(getattr(r.actor, "pk", None) or 0)
                if found is None:
                    raise PermissionDenied("no volunteer record")
                standing = found
            decided.append((i, _decide(r, activity, standing)))
        except (ValidationError, PermissionDenied, Http404) as exc:
            answers[i] = exc
    with transaction.atomic(savepoint=False):
        written = rawsql.insert_new([a for _, a in decided], unique=("activity_id", "volunteer_id"))
        entries, checked_in = [], []
        for (i, attendance), new in zip(decided, written, strict=True):
            if not new:
                # a concurrent check-in of the same volunteer won the race
                answers[i] = ValidationError({"volunteer": [ALREADY]})
                continue
            answers[i] = attendance
            r, activity, volunteer = requests[i], attendance.activity, attendance.volunteer
            entries.append(
                audit.entry(
                    "activities.check_in",
                    actor=r.actor,
                    obj=activity,
                    ip=r.ip,
                    detail={
                        "volunteer": volunteer.number,
                        "method": r.method,
                        "outside": attendance.outside_fence,
                    },
                )
            )
            # where the volunteer now is on duty (their phone's fix, else the site), for the dispatch
            # index: used only with their consent to share their location on duty
            here = (r.lat, r.lng) if r.lat is not None and r.lng is not None else (activity.lat, activity.lng)
            checked_in.append(
                {
                    "activity_id": activity.pk,
                    "volunteer_id": volunteer.pk,
                    "region_code": activity.region_code,
                    "lat": here[0],
                    "lng": here[1],
                    "at": attendance.checked_in_at.isoformat(),
                    "location_consent": bool(volunteer.location_consent),
                }
            )
        if entries:
            audit.append(entries)
        events.emit_many("activities.checked_in", checked_in)
    return answers  # type: ignore[return-value]


def _id(activity: Activity | int) -> int:
    return activity.pk if isinstance(activity, Activity) else activity


def check_out(actor: Any, attendance: Attendance, *, method: str, at: datetime | None = None) -> Attendance:
    """Record the check-out and the hours it earns (by the volunteer, or an organiser for them)."""
    activity = attendance.activity
    own = attendance.volunteer.user_id == getattr(actor, "pk", None)
    if not own and not _is_organiser(actor, activity):
        raise PermissionDenied("not this volunteer's organiser")
    at = at or timezone.now()
    if at < attendance.checked_in_at:
        raise ValidationError({"at": ["签退时间不能早于签到时间"]})
    with transaction.atomic():
        changed = Attendance.objects.filter(pk=attendance.pk, checked_out_at__isnull=True).update(
            checked_out_at=at, out_method=method
        )
        if changed != 1:
            raise ValidationError({"attendance": ["已经签退过了"]})
        attendance.checked_out_at, attendance.out_method = at, method
        record = record_attendance_hours(attendance, actor)
        audit.record(
            "activities.check_out",
            actor=actor,
            obj=activity,
            detail={"volunteer_id": attendance.volunteer_id, "minutes": record.minutes if record else 0},
        )
        events.emit(
            "activities.checked_out",
            activity_id=activity.pk,
            volunteer_id=attendance.volunteer_id,
            region_code=activity.region_code,
        )
    return attendance


def close_forgotten(activity: Activity, now: datetime | None = None) -> int:
    """Close attendances still open after the activity ended: checked out at the end, flagged for review,
    their hours waiting for the organiser rather than credited."""
    now = now or timezone.now()
    if now < activity.ends_at:
        return 0
    closed = 0
    for attendance in Attendance.objects.filter(
        activity=activity, checked_out_at__isnull=True
    ).select_related("volunteer"):
        with transaction.atomic():
            changed = Attendance.objects.filter(pk=attendance.pk, checked_out_at__isnull=True).update(
                checked_out_at=activity.ends_at, out_method=CheckMethod.AUTO_CLOSE, needs_review=True
            )
            if changed != 1:
                continue
            attendance.checked_out_at, attendance.out_method, attendance.needs_review = (
                activity.ends_at,
                CheckMethod.AUTO_CLOSE,
                True,
            )
            record_attendance_hours(attendance, None)
            audit.record(
                "activities.auto_close", obj=activity, detail={"volunteer_id": attendance.volunteer_id}
            )
            closed += 1
    return closed
