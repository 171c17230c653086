"""Login: password, throttling, the TOTP second factor for admin roles, idle timeout, logout."""

import time

import pyotp
import pytest
from conftest import PASSWORD
from django.core.exceptions import ValidationError
from django.test import override_settings

from vetvol.accounts import actions
from vetvol.accounts.middleware import KEY as LAST_SEEN
from vetvol.core.models import AuditEntry


def _login(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _enrol_and_confirm(client, user):
    response = client.get("/accounts/login/enrol/")
    assert response.status_code == 200
    user.refresh_from_db()
    code = pyotp.TOTP(user.totp_secret).now()
    return client.post("/accounts/login/enrol/", {"code": code})


def test_volunteer_logs_in_with_password_alone_and_session_id_rotates(client, people):
    client.get("/accounts/login/")
    before = client.cookies.get("sessionid")
    response = _login(client, "volunteer")
    assert response.status_code == 302 and response.url == "/"
    assert client.cookies["sessionid"].value != (before.value if before else None)
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.login", subject="volunteer", outcome="success").count() == 1


def test_wrong_password_is_refused_in_chinese_and_audited(client, people):
    response = _login(client, "volunteer", "wrong")
    assert response.status_code == 400
    assert "用户名或密码错误" in response.content.decode()
    assert AuditEntry.objects.filter(action="auth.login_failed", subject="volunteer").count() == 1


def test_account_locks_after_five_failures_even_with_the_right_password(client, people):
    for _ in range(5):
        _login(client, "volunteer", "wrong")
    response = _login(client, "volunteer")
    assert response.status_code == 400
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert (
        AuditEntry.objects.filter(action="auth.login_locked", subject="volunteer", outcome="denied").count()
        == 1
    )


def test_failures_before_a_success_do_not_count(client, people):
    for _ in range(4):
        _login(client, "volunteer", "wrong")
    assert _login(client, "volunteer").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        _login(client, "volunteer", "wrong")
    assert _login(client, "volunteer").status_code == 302


@override_settings(VETVOL_LOGIN_MAX_FAILURES_PER_IP=3)
def test_address_is_throttled_across_usernames(client, people):
    for name in ("nobody1", "nobody2", "nobody3"):
        _login(client, name, "wrong")
    response = _login(client, "volunteer")
    assert "登录失败次数过多" in response.content.decode()


def test_admin_must_enrol_totp_then_is_logged_in(client, people):
    response = _login(client, "futian_admin")
    assert response.status_code == 302 and response.url == "/accounts/login/enrol/"
    assert "_auth_user_id" not in client.session  # not logged in until the second factor passes
    response = _enrol_and_confirm(client, people.futian_admin)
    assert response.status_code == 302 and response.url == "/"
    people.futian_admin.refresh_from_db()
    assert people.futian_admin.totp_confirmed_at is not None
    assert client.session["_auth_user_id"] == str(people.futian_admin.pk)


def test_enrolled_admin_needs_a_fresh_code_and_a_code_works_once(client, people):
    _login(client, "futian_admin")
    _enrol_and_confirm(client, people.futian_admin)
    client.post("/accounts/logout/")
    response = _login(client, "futian_admin")
    assert response.url == "/accounts/login/second-factor/"
    people.futian_admin.refresh_from_db()
    used_step = people.futian_admin.totp_last_step
    totp = pyotp.TOTP(people.futian_admin.totp_secret)
    replay = totp.generate_otp(used_step)
    response = client.post("/accounts/login/second-factor/", {"code": replay})
    assert response.status_code == 400
    assert "验证码不正确或已使用" in response.content.decode()
    assert "_auth_user_id" not in client.session
    fresh = totp.generate_otp(used_step + 1)
    response = client.post("/accounts/login/second-factor/", {"code": fresh})
    assert response.status_code == 302


def test_second_factor_page_without_a_password_step_goes_back_to_login(client, people):
    response = client.get("/accounts/login/second-factor/")
    assert response.status_code == 302 and response.url == "/accounts/login/"


def test_open_redirect_is_refused(client, people):
    response = client.post(
        "/accounts/login/", {"username": "volunteer", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_idle_session_is_logged_out(client, people):
    _login(client, "volunteer")
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/regions/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert AuditEntry.objects.filter(action="auth.idle_timeout", subject="volunteer").count() == 1


def test_logout_is_post_only_and_audited(client, people):
    _login(client, "volunteer")
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="auth.logout", subject="volunteer").count() == 1


@pytest.mark.django_db
def test_password_complexity_is_enforced(root):
    with pytest.raises(ValidationError) as err:
        actions.create_user(root, username="weak", password="alllowercaseletters")
    assert "至少三类" in " ".join(err.value.messages)
