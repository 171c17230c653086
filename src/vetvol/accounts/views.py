"""Login (password, then TOTP for admin roles), enrolment of the second factor, logout."""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from vetvol.accounts import actions
from vetvol.accounts.forms import CodeForm, LoginForm
from vetvol.accounts.models import RoleGrant, User
from vetvol.regions.queries import root_regions

PENDING = "vetvol_pending_user"
PENDING_MAX_AGE_S = 300
LOCKED_MESSAGE = _("登录失败次数过多，已临时锁定，请在 %(minutes)s 分钟后再试。")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _finish(request: HttpRequest, user: User, target: str) -> HttpResponse:
    request.session.pop(PENDING, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # rotates the session id
    actions.record_login(user)
    return redirect(target)


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            step = actions.check_password(
                form.cleaned_data["username"], form.cleaned_data["password"], request
            )
        except actions.LoginLocked as exc:
            error = LOCKED_MESSAGE % {"minutes": exc.minutes}
        except PermissionDenied:
            error = gettext("用户名或密码错误。")
        else:
            if not step.needs_second_factor:
                return _finish(request, step.user, _next_url(request))
            request.session.cycle_key()
            request.session[PENDING] = {
                "id": step.user.pk,
                "at": int(time.time()),
                "next": _next_url(request),
            }
            return redirect("accounts:enrol" if step.needs_enrolment else "accounts:second_factor")
    status = 400 if error or form.errors else 200
    return render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": _next_url(request)},
        status=status,
    )


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_MAX_AGE_S:
        return None
    return User.objects.filter(pk=pending["id"], is_active=True).first()


def _code_step(request: HttpRequest, template: str, extra: Callable[[User], dict]) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            actions.verify_second_factor(user, form.cleaned_data["code"])
        except actions.LoginLocked as exc:
            request.session.pop(PENDING, None)
            error = LOCKED_MESSAGE % {"minutes": exc.minutes}
        except PermissionDenied:
            error = gettext("验证码不正确或已使用，请输入动态口令应用中当前显示的 6 位数字。")
        else:
            return _finish(request, user, request.session[PENDING].get("next") or settings.LOGIN_REDIRECT_URL)
    context = {"form": form, "error": error, "pending": user, **extra(user)}
    if settings.VETVOL_DEMO_MODE and user.totp_secret:
        context["demo_code"] = pyotp.TOTP(user.totp_secret).now()
    return render(request, template, context, status=400 if error or form.errors else 200)


def second_factor_view(request: HttpRequest) -> HttpResponse:
    return _code_step(request, "accounts/second_factor.html", lambda user: {})


def enrol_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is not None and user.totp_confirmed_at is not None:
        return redirect("accounts:second_factor")

    def qr(user: User) -> dict:
        uri = actions.start_enrolment(user)
        svg = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
        return {"qr_data_uri": svg, "secret": user.totp_secret}

    return _code_step(request, "accounts/enrol.html", qr)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's start page: their roles and the regions they look after."""
    user = request.user
    assert isinstance(user, User)
    grants = RoleGrant.objects.filter(user=user).select_related("region").order_by("region_code", "role")
    return render(request, "accounts/home.html", {"grants": grants, "roots": root_regions(user)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    actions.record_logout(request.user)
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
