"""The inbox, settings and delivery log on pages and in the API; the installable app's files."""

from __future__ import annotations

import json

from django.db import transaction
from django.urls import reverse

from vetvol.notify.actions import Message, enqueue
from vetvol.notify.models import Delivery, Notification, PushSubscription
from vetvol.notify.tests.conftest import SWIMMERS
from vetvol.notify.worker import Worker

PASSWORD = "Test-pass-2026!"


def login(client, user):
    client.force_login(user)
    return client


def tell(user, key="1", kind="care.task.due", region="440304001"):
    with transaction.atomic():
        return enqueue(
            [
                Message(
                    user.pk,
                    kind,
                    key,
                    {"task": "上门", "recipient": "张*", "due": "12-07"},
                    url="/care/me/",
                    region_code=region,
                )
            ]
        )[0]


def test_inbox_bell_counts_unread_and_opening_reads(client, people):
    note = tell(people.volunteer)
    tell(people.volunteer, key="2")
    login(client, people.volunteer)
    page = client.get(reverse("home"))
    assert b"data-bell-count>2<" in page.content
    inbox = client.get(reverse("notify:inbox"))
    assert "关爱任务即将到期".encode() in inbox.content
    assert Notification.objects.get(pk=note.pk).seen_at is not None  # listed = seen
    response = client.get(reverse("notify:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/care/me/"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    api = client.get("/api/notify/inbox").json()
    assert api["unread"] == 1 and len(api["results"]) == 2
    assert client.post("/api/notify/inbox/read", {}, content_type="application/json").json() == {
        "read": 1,
        "unread": 0,
    }


def test_someone_elses_notification_is_404(client, people):
    note = tell(people.volunteer)
    login(client, people.station_staff)
    assert client.get(reverse("notify:open", args=[note.pk])).status_code == 404


def test_push_subscription_api_validates_and_registers(client, people, push_service):
    login(client, people.volunteer)
    key = client.get("/api/notify/push/key").json()["application_server_key"]
    assert len(key) == 87  # a P-256 point, base64url
    bad = client.post(
        "/api/notify/push/subscriptions",
        {"endpoint": "ftp://x/y", "keys": {"p256dh": "abc", "auth": "def"}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]} if "errors" in bad.json() else set(bad.json())
    assert fields & {"endpoint", "p256dh", "auth"}
    browser = push_service.subscribe()
    ok = client.post(
        "/api/notify/push/subscriptions",
        {"endpoint": browser["endpoint"], "keys": {"p256dh": browser["p256dh"], "auth": browser["auth"]}},
        content_type="application/json",
    )
    assert ok.status_code == 201 and PushSubscription.objects.get().user == people.volunteer
    done = client.post(
        "/api/notify/push/unsubscribe", {"endpoint": browser["endpoint"]}, content_type="application/json"
    )
    assert done.json() == {"done": True} and PushSubscription.objects.get().gone_at is not None


def test_preferences_refuse_a_malformed_phone(client, people):
    login(client, people.station_staff)
    response = client.put(
        "/api/notify/preferences", {"phone": "12345", "push": True}, content_type="application/json"
    )
    assert response.status_code == 422 and "phone" in json.dumps(response.json())
    page = client.post(reverse("notify:preferences"), {"phone": "999", "language": "zh-hans"})
    assert page.status_code == 400 and "手机号码".encode() in page.content
    ok = client.put(
        "/api/notify/preferences", {"phone": "13912345678", "sms": False}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["phone"] == "139****5678" and ok.json()["sms"] is False


def test_delivery_log_is_scoped_and_masks_numbers(client, people, responder, open_incident, sms_gateway):
    v = responder(1, {"water_rescue": 2}, km_east=1)
    open_incident(SWIMMERS)
    Worker().drain()
    d = Delivery.objects.get(channel="sms")
    assert d.status == "sent"
    login(client, people.futian_admin)
    page = client.get(reverse("notify:deliveries"))
    national = str(v.phone)
    assert page.status_code == 200 and national.encode() not in page.content
    assert f"{national[:3]}****{national[-4:]}".encode() in page.content
    api = client.get("/api/notify/deliveries?channel=sms").json()
    assert api["results"][0]["address"] == f"{national[:3]}****{national[-4:]}"
    client.force_login(people.tianhe_admin)  # another district: sees nothing of Futian's
    assert client.get("/api/notify/deliveries").json()["results"] == []
    client.force_login(people.outsider)
    assert client.get(reverse("notify:deliveries")).status_code == 404
    assert client.get("/api/notify/deliveries").status_code == 403


def test_dispatcher_sees_delivered_seen_answered(
    client, people, responder, open_incident, device, push_service
):
    from vetvol.dispatch.models import Invitation

    a = responder(1, {"water_rescue": 2}, km_east=1)
    responder(2, {"water_rescue": 2}, km_east=2)
    device(a.user)
    incident = open_incident(SWIMMERS)
    Worker().drain()
    receipt = push_service.received[0]["data"]["receipt"]
    assert client.post(receipt).status_code == 204  # the phone's service worker: shown
    client.force_login(a.user)
    client.get(reverse("dispatch:me"))  # the invitation on the volunteer's screen: seen
    note = Notification.objects.get(user=a.user)
    assert note.received_at and note.seen_at
    client.force_login(people.futian_admin)
    page = client.get(reverse("dispatch:incident", args=[incident.pk])).content.decode()
    page = page[page.index("邀请与回复") :]
    assert "手机推送已发送" in page and "手机已收到" in page and "未查看" in page  # b has not looked
    assert Invitation.objects.filter(incident=incident).count() >= 1


def test_manifest_and_service_worker(client):
    manifest = client.get("/manifest.webmanifest")
    data = manifest.json()
    assert manifest["Content-Type"] == "application/manifest+json" and data["display"] == "standalone"
    assert {i["sizes"] for i in data["icons"]} >= {"192x192", "512x512"}
    from django.contrib.staticfiles import finders

    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/"))
    sw = client.get("/sw.js")
    assert (
        sw.status_code == 200
        and sw["Service-Worker-Allowed"] == "/"
        and b'addEventListener("push"' in sw.content
    )


# session, user, paginator count, the page, marking it seen, grants and the bell (base page), and the
# session's save (savepoint, update, release)
INBOX_QUERIES = 10
# session, user, grants, paginator count, the page (deliveries with notification and person), the audit
# row (chain head, insert, head update), the bell, the session's save
DELIVERY_LOG_QUERIES = 12


def test_inbox_page_query_count_is_pinned(client, people, django_assert_max_num_queries):
    """A full page of 30 notifications costs what one does: no query per row."""
    for n in range(30):
        tell(people.volunteer, key=str(n))
    login(client, people.volunteer)
    with django_assert_max_num_queries(INBOX_QUERIES):
        page = client.get(reverse("notify:inbox"))
    assert page.status_code == 200 and page.content.count(b'class="unread"') == 30
    assert Notification.objects.filter(user=people.volunteer, seen_at=None).count() == 0


def test_delivery_log_query_count_is_pinned(client, people, django_assert_max_num_queries):
    """30 deliveries to 30 people on the staff's log: the notification and its person come with each
    delivery, not one query each."""
    from vetvol.accounts import actions as account_actions

    for n in range(30):
        user = account_actions.create_user(people.root, username=f"told{n}", password=PASSWORD)
        tell(user, key=str(n))
    assert Delivery.objects.filter(region_code="440304001").count() == 30
    login(client, people.futian_admin)
    with django_assert_max_num_queries(DELIVERY_LOG_QUERIES):
        page = client.get(reverse("notify:deliveries"))
    assert page.status_code == 200 and page.content.count(b'class="status-pending"') == 30
