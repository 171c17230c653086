"""The project API: one NinjaAPI with session and bearer-token auth, and one error shape.

Errors are always JSON `{"detail": ..., "errors": [{"field": ..., "message": ...}]}` with a 4xx status:
validation errors are 422 with the field at fault, missing and not-yours are both 404, a denied change 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Header, NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from vetvol.accounts.actions import user_for_token
from vetvol.activities.api import CheckInIn
from vetvol.core.idempotency import KeyReused as KeyReusedConflict


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionUser(SessionAuth):
    """Django session (with CSRF on unsafe methods) for the pages' own htmx and fetch calls."""


api = NinjaAPI(
    title="vetvol API",
    version="1",
    description="退役军人志愿服务信息系统 API. Every endpoint is scoped to the caller's region grants.",
    urls_namespace="api",
    auth=[TokenAuth(), SessionUser()],
    docs_url="/docs",
)


def _error(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _field(loc: list) -> str:
    """('body', 'payload', 'name') → 'name'; ('path', 'code') → 'code'; the body as a whole → 'body'."""
    parts = [str(p) for p in loc]
    parts = parts[2:] if parts[:1] == ["body"] else parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [{"field": _field(e.get("loc", [])), "message": e.get("msg", "")} for e in exc.errors]
    return _error(request, 422, gettext("输入有误"), errors)


@api.exception_handler(ValidationError)
def _model_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": field if field != "__all__" else "body", "message": message}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]
    return _error(request, 422, gettext("输入有误"), errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, gettext("未找到"))


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, gettext("无权进行此操作"))


@api.exception_handler(KeyReusedConflict)
def _conflict(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 409, "该 Idempotency-Key 已用于另一个不同的请求")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, gettext("请先登录或提供有效的 API 令牌"))


def register_routers() -> None:
    from vetvol.activities.api import router as activities_router
    from vetvol.care.api import router as care_router
    from vetvol.dispatch.api import router as dispatch_router
    from vetvol.fund.api import router as fund_router
    from vetvol.notify.api import router as notify_router
    from vetvol.regions.api import router as regions_router
    from vetvol.registry.api import router as registry_router

    api.add_router("/regions", regions_router)
    api.add_router("/registry", registry_router)
    api.add_router("/activities", activities_router)
    api.add_router("/dispatch", dispatch_router)
    api.add_router("/care", care_router)
    api.add_router("/notify", notify_router)
    api.add_router("/fund", fund_router)


register_routers()


# -- the authenticated no-op -------------------------------------------------------------------------------
# A baseline, not a feature: what one API request costs before any domain work (bearer-token lookup, the
# path, header and body parsing of the check-in endpoint, a validated JSON answer) and nothing else. The
# check-in benchmark (bench/checkin_load.py) measures it beside the check-in, so its `ratio_auth` says how
# much the check-in itself costs over the API's fixed cost. It reads the token (as every request does) and
# writes nothing.


class NoopOut(Schema):
    user_id: int
    activity_id: int | None = None
    method: str = ""


@api.get("/noop", response=NoopOut, url_name="noop", summary="Authenticated no-op (a benchmark baseline)")
def noop(request: HttpRequest) -> dict:
    return {"user_id": request.user.pk}


@api.post(
    "/noop/{activity_id}",
    response=NoopOut,
    url_name="noop_check_in",
    summary="Authenticated no-op with the check-in's parsing (a benchmark baseline; nothing is written)",
)
def noop_check_in(
    request: HttpRequest,
    activity_id: int,
    payload: CheckInIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> dict:
    return {"user_id": request.user.pk, "activity_id": activity_id, "method": payload.method}
