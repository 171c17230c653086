"""Idle timeout: a session unused for VETVOL_IDLE_TIMEOUT_MINUTES is logged out."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

from vetvol.accounts import actions

KEY = "vetvol_last_seen"
TOUCH_EVERY_S = 60  # write the session at most once a minute for this


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(KEY, now)
            if now - last > settings.VETVOL_IDLE_TIMEOUT_MINUTES * 60:
                actions.record_logout(user, reason="idle_timeout")
                logout(request)
                messages.info(request, gettext("长时间未操作，已自动退出登录，请重新登录。"))
            elif now - last >= TOUCH_EVERY_S or KEY not in request.session:
                request.session[KEY] = now
        return self.get_response(request)
