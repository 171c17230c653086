"""Fixtures for notifications: dispatch's responders and incidents, and the local protocol peers."""

from __future__ import annotations

import pytest

from vetvol.dispatch.tests.conftest import open_incident, responder  # noqa: F401 - fixtures
from vetvol.notify import testing

SWIMMERS = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 2}]


@pytest.fixture
def sms_gateway(settings):
    server = testing.SmsGateway(token="gw-token").start()
    settings.VETVOL_SMS_GATEWAY = "http"
    settings.VETVOL_SMS_URL = server.url + "/messages"
    settings.VETVOL_SMS_TOKEN = "gw-token"
    settings.VETVOL_NOTIFY_BACKOFF_SECONDS = 0
    yield server
    server.stop()


@pytest.fixture
def push_service():
    server = testing.PushService().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(settings):
    sink = testing.SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    yield sink
    sink.stop()


@pytest.fixture
def device(push_service):
    """subscribe a user's browser to the local push service through the product's own action"""
    from vetvol.notify import actions

    def make(user):
        browser = push_service.subscribe()
        actions.subscribe_push(
            user, endpoint=browser["endpoint"], p256dh=browser["p256dh"], auth=browser["auth"]
        )
        return browser

    return make
