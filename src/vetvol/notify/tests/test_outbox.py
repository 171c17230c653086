"""The outbox: written with the change, sent by the worker through real protocol peers, escalated, retried."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from vetvol.dispatch import actions as dispatch
from vetvol.dispatch.models import Invitation
from vetvol.notify import actions
from vetvol.notify.models import Delivery, Notification, PushSubscription
from vetvol.notify.tests.conftest import SWIMMERS
from vetvol.notify.worker import Worker


def drain(now=None):
    w = Worker()
    try:
        if now is None:
            return w.drain()
        total = 0
        while n := w.step(now):
            total += n
        return total
    finally:
        w.close()


def test_invitation_is_pushed_at_once_and_texted_only_if_not_seen(
    people, responder, open_incident, device, push_service, sms_gateway, settings
):
    a = responder(1, {"water_rescue": 2}, km_east=1)
    b = responder(2, {"water_rescue": 2}, km_east=2)
    device(a.user)
    incident = open_incident(SWIMMERS)
    note = Notification.objects.get(user=a.user)
    assert note.emergency and incident.title in note.title
    channels = sorted(Delivery.objects.filter(notification=note).values_list("channel", flat=True))
    assert channels == ["push", "sms"]
    # b has no device: the text goes at once; a's text waits for the escalation time
    drain()
    assert [m["data"]["title"] for m in push_service.received] == [note.title]
    assert len(sms_gateway.received) == 1 and b.phone[-4:] in next(iter(sms_gateway.received.values()))["to"]
    # a opens the dispatch page: seen, so the escalation SMS is skipped
    client_user = a.user
    actions.mark_seen(client_user, subjects=[f"dispatch.invitation:{Invitation.objects.get(volunteer=a).pk}"])
    later = timezone.now() + timedelta(seconds=settings.VETVOL_NOTIFY_ESCALATE_SECONDS + 1)
    drain(later)
    sms = Delivery.objects.get(notification=note, channel="sms")
    assert sms.status == "skipped" and "已查看" in sms.last_error
    assert len(sms_gateway.received) == 1


def test_unseen_invitation_is_texted_after_the_escalation_time(
    people, responder, open_incident, device, sms_gateway, settings
):
    a = responder(1, {"water_rescue": 2}, km_east=1)
    device(a.user)
    open_incident(SWIMMERS)
    drain()
    assert not sms_gateway.received  # not yet
    drain(timezone.now() + timedelta(seconds=settings.VETVOL_NOTIFY_ESCALATE_SECONDS + 1))
    assert len(sms_gateway.received) == 1
    sms = Delivery.objects.get(channel="sms")
    assert sms.status == "sent" and str(sms.address).startswith("+86")


def test_answer_cancels_the_escalation(people, responder, open_incident, device, sms_gateway, settings):
    a = responder(1, {"water_rescue": 2}, km_east=1)
    device(a.user)
    open_incident(SWIMMERS)
    dispatch.answer_invitation(a.user, Invitation.objects.get(volunteer=a), True)
    drain(timezone.now() + timedelta(seconds=settings.VETVOL_NOTIFY_ESCALATE_SECONDS + 1))
    assert not sms_gateway.received
    assert Delivery.objects.get(channel="sms").last_error == "志愿者已回复"
    assert Notification.objects.get(user=a.user).seen_at is not None


def test_rolled_back_change_writes_and_sends_nothing(people, responder, open_incident, sms_gateway):
    responder(1, {"water_rescue": 2}, km_east=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        open_incident(SWIMMERS)
        assert Notification.objects.count() == 1  # written inside the change's transaction...
        raise RuntimeError("the change fails")
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0  # ...and gone with it
    drain()
    assert not sms_gateway.received


def test_gateway_errors_are_retried_then_failed_with_the_reason(
    people, responder, open_incident, sms_gateway, settings
):
    settings.VETVOL_NOTIFY_MAX_ATTEMPTS = 3
    responder(1, {"water_rescue": 2}, km_east=1)
    sms_gateway.fail(2, 500)
    open_incident(SWIMMERS)
    drain()
    d = Delivery.objects.get(channel="sms")
    assert d.status == "sent" and d.attempts == 3  # two 500s, then through
    sms_gateway.fail(6, 503)  # both invitees of the second incident: three tries each
    second = responder(2, {"water_rescue": 2}, km_east=2)
    open_incident(SWIMMERS, title="第二起")
    drain()
    failed = Delivery.objects.get(channel="sms", notification__user=second.user)
    assert failed.status == "failed" and "重试 3 次后失败" in failed.last_error and "503" in failed.last_error


def test_gateway_timeout_is_retried(people, responder, open_incident, sms_gateway, settings, monkeypatch):
    from vetvol.notify.channels import sms

    monkeypatch.setattr(sms, "TIMEOUT_S", 0.2)  # a short client timeout, against a really slow gateway
    sms_gateway.delay = 0.5
    responder(1, {"water_rescue": 2}, km_east=1)
    open_incident(SWIMMERS)
    Worker().step()
    d = Delivery.objects.get(channel="sms")
    assert d.status == "pending" and d.attempts == 1 and "超时" in d.last_error


def test_expired_push_subscription_is_dropped_not_retried(
    people, responder, open_incident, device, push_service, sms_gateway
):
    a = responder(1, {"water_rescue": 2}, km_east=1)
    browser = device(a.user)
    push_service.gone.add(browser["token"])
    open_incident(SWIMMERS)
    drain()
    push = Delivery.objects.get(channel="push")
    assert push.status == "dropped" and "410" in push.last_error and push.attempts == 1
    assert PushSubscription.objects.get().gone_at is not None
    # the next notification does not try that device again
    responder(2, {"water_rescue": 2}, km_east=2)
    open_incident(SWIMMERS, title="第二起")
    assert not Delivery.objects.filter(channel="push").exclude(pk=push.pk).exists()


def test_worker_that_died_after_sending_does_not_send_twice(people, responder, open_incident, sms_gateway):
    responder(1, {"water_rescue": 2}, km_east=1)
    open_incident(SWIMMERS)
    dead = Worker()
    claimed, _ = dead.claim(timezone.now())
    d = claimed[0]
    address = dead.sender("sms").address(d)
    dead.sender("sms").send(d, address)  # sent, then the worker is killed before marking it
    assert len(sms_gateway.received) == 1
    drain(timezone.now() + timedelta(minutes=5))  # its lease runs out; another worker takes the row over
    assert Delivery.objects.get(channel="sms").status == "sent"
    assert sum(sms_gateway.posts.values()) == 1  # asked the gateway, not sent again


def test_aliyun_adapter_signs_sends_and_reconciles(people, responder, open_incident, settings):
    from vetvol.notify import testing

    server = testing.AliyunSms(key_id="ak", secret="sk").start()
    try:
        settings.VETVOL_SMS_GATEWAY = "aliyun"
        settings.VETVOL_SMS_ALIYUN_ENDPOINT = server.url + "/"
        settings.VETVOL_SMS_ALIYUN_ACCESS_KEY_ID = "ak"
        settings.VETVOL_SMS_ALIYUN_ACCESS_KEY_SECRET = "sk"
        settings.VETVOL_SMS_ALIYUN_SIGN_NAME = "退役军人志愿服务"
        settings.VETVOL_SMS_ALIYUN_TEMPLATE_CODE = "SMS_000001"
        v = responder(1, {"water_rescue": 2}, km_east=1)
        open_incident(SWIMMERS)
        dead = Worker()
        d = dead.claim(timezone.now())[0][0]
        dead.sender("sms").send(d, dead.sender("sms").address(d))  # killed before marking
        drain(timezone.now() + timedelta(minutes=5))
        assert len(server.sent) == 1  # QuerySendDetails found its OutId: not sent again
        sent = server.sent[0]
        assert sent["OutId"] == f"vv{d.pk}" and sent["PhoneNumbers"] == str(v.phone).removeprefix("+86")
        assert "深圳河溺水" in sent["TemplateParam"]
        assert Delivery.objects.get(channel="sms").status == "sent"
        # a wrong secret is refused by the endpoint: a permanent failure with the provider's code
        settings.VETVOL_SMS_ALIYUN_ACCESS_KEY_SECRET = "wrong"
        responder(2, {"water_rescue": 2}, km_east=2)
        open_incident(SWIMMERS, title="第二起")
        drain()
        bad = Delivery.objects.filter(channel="sms").order_by("-id").first()
        assert bad.status == "failed" and "SignatureDoesNotMatch" in bad.last_error
    finally:
        server.stop()


def test_email_goes_through_a_real_smtp_server(people, responder, smtp, root):
    from vetvol.activities import actions as activities  # noqa: F401 - the kinds below come from its events
    from vetvol.notify.actions import Message, enqueue

    people.volunteer.email = "vol@example.org"
    people.volunteer.save(update_fields=["email"])
    with transaction.atomic():
        enqueue(
            [
                Message(
                    people.volunteer.pk,
                    "registry.import.finished",
                    "job-1",
                    {"name": "志愿者名单.xlsx", "status": "已完成", "written": 12},
                    url="/notify/",
                    region_code="440304001",
                )
            ]
        )
    drain()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    d = Delivery.objects.get(channel="email")
    assert message["message_id"] == f"<vv{d.pk}@vetvol.invalid>" and message["to"] == ["vol@example.org"]
    assert "志愿者名单.xlsx" in message["subject"] and d.status == "sent"


def test_quiet_hours_defer_ordinary_messages_but_not_emergencies(people, responder, open_incident, settings):
    from vetvol.notify.actions import Message, enqueue, quiet_until
    from vetvol.notify.models import Preference

    v = responder(1, {"water_rescue": 2}, km_east=1)
    actions.save_preferences(v.user, push=True, sms=True, email=True, quiet_start=time(22), quiet_end=time(7))
    pref = Preference.objects.get(user=v.user)
    night = timezone.make_aware(timezone.datetime(2026, 12, 6, 23, 30))
    morning = quiet_until(pref, night)
    assert timezone.localtime(morning).hour == 7 and timezone.localtime(morning).day == 7
    assert quiet_until(pref, morning) == morning
    with transaction.atomic():
        enqueue(
            [Message(v.user.pk, "activities.signup.promoted", "x", {"activity": "a", "starts": "s"})],
            now=night,
        )
    sms = Delivery.objects.get()
    assert sms.channel == "sms" and sms.not_before == morning  # no device: SMS stands in, after the night
    open_incident(SWIMMERS)
    emergency = Delivery.objects.get(notification__kind="dispatch.invitation")
    assert emergency.not_before <= timezone.now()


def test_channel_preferences_apply_except_to_emergencies(people, responder, open_incident):
    from vetvol.notify.actions import Message, enqueue

    v = responder(1, {"water_rescue": 2}, km_east=1)
    actions.save_preferences(v.user, push=False, sms=False, email=False, quiet_start=None, quiet_end=None)
    with transaction.atomic():
        enqueue([Message(v.user.pk, "activities.signup.promoted", "x", {"activity": "a", "starts": "s"})])
    assert not Delivery.objects.exists()  # only the inbox
    open_incident(SWIMMERS)
    assert Delivery.objects.filter(channel="sms", notification__kind="dispatch.invitation").exists()


def test_malformed_phone_is_refused_and_nothing_saved(people):
    from django.core.exceptions import ValidationError

    from vetvol.notify.models import Preference

    with pytest.raises(ValidationError) as exc:
        actions.save_preferences(
            people.station_staff,
            push=True,
            sms=True,
            email=True,
            quiet_start=None,
            quiet_end=None,
            phone="12345",
        )
    assert "phone" in exc.value.message_dict
    assert not Preference.objects.exists()
    actions.save_preferences(
        people.station_staff,
        push=True,
        sms=True,
        email=True,
        quiet_start=None,
        quiet_end=None,
        phone="13812345678",
    )
    assert str(Preference.objects.get().phone) == "+8613812345678"


def test_once_per_key(people):
    from vetvol.notify.actions import Message, enqueue

    m = Message(people.volunteer.pk, "care.task.due", "7", {"task": "t", "recipient": "张*", "due": "d"})
    with transaction.atomic():
        assert len(enqueue([m, m])) == 1
    with transaction.atomic():
        assert enqueue([m]) == []
    assert Notification.objects.count() == 1


def test_translated_for_an_english_reader(people):
    from vetvol.notify.actions import Message, enqueue

    actions.save_preferences(
        people.volunteer, push=True, sms=True, email=True, quiet_start=None, quiet_end=None, language="en"
    )
    with transaction.atomic():
        enqueue(
            [Message(people.volunteer.pk, "care.task.due", "7", {"task": "T", "recipient": "R", "due": "D"})]
        )
    note = Notification.objects.get()
    assert note.title.isascii() and "T" in note.title
