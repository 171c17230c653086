"""Helpers shared by the apps' page views (not the API): one way to show an action's refusal as a message,
one way to run a form post at most once, and when a form kept offline was filled in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from vetvol.core import idempotency


def error_text(exc: ValidationError) -> str:
    """An action's refusal as one line for a page message."""
    return "；".join(exc.messages)


def form_errors(form: Any, exc: ValidationError) -> None:
    """An action's refusal on the form: on its field where the form has one, else above the form."""
    for field, msgs in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, msgs)


def run_form_once(request: HttpRequest, scope: str, body: dict[str, Any], handler: Any) -> bool:
    """Run a form post once per form key (`form_key`, rendered into the form): a resubmitted form (a double
    tap, a lost signal) changes nothing. A refusal or a stale form becomes an error message (and False)."""
    try:
        idempotency.run(request.user, scope, request.POST.get("form_key", ""), body, handler)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except (idempotency.BadKey, idempotency.KeyReused):
        messages.error(request, gettext("页面已过期，请刷新后重试"))
    else:
        return True
    return False


QUEUED_MAX_AGE = timedelta(hours=6)


def queued_at(request: HttpRequest) -> datetime | None:
    """When a form the phone kept while offline was filled in (`queued_at`, milliseconds since the epoch,
    set by the offline queue): trusted for up to six hours back, never in the future; otherwise None (now)."""
    raw = request.POST.get("queued_at", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 13):
        return None
    at = datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    now = timezone.now()
    return at if now - QUEUED_MAX_AGE <= at <= now else None
