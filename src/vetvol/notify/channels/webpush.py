"""Web push (RFC 8030 with VAPID, RFC 8292, and aes128gcm, RFC 8291) through pywebpush.

The message carries the delivery's key as its `Topic`: a push service holding an undelivered message with
the same topic replaces it, so a resend after a worker died is not shown twice. The service worker posts a
signed receipt when it shows the message (`Notification.received_at`).
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

import requests
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid02 as Vapid  # RFC 8292: "Authorization: vapid t=…, k=…"
from pywebpush import WebPushException, webpush

from vetvol.notify.channels import Gone, Permanent, Transient

RECEIPT_SALT = "vetvol.notify.receipt"


def configured() -> bool:
    return bool(settings.VETVOL_VAPID_PRIVATE_KEY)


@lru_cache(maxsize=1)
def _vapid(private_key: str) -> Vapid:
    raw = base64.b64decode(private_key)
    return Vapid.from_raw(base64.urlsafe_b64encode(raw).rstrip(b"="))


def vapid() -> Vapid:
    return _vapid(settings.VETVOL_VAPID_PRIVATE_KEY)


def application_server_key() -> str:
    """The VAPID public key as the browser's `applicationServerKey` (base64url, uncompressed point)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = vapid().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def receipt_token(note_id: int) -> str:
    return signing.dumps(note_id, salt=RECEIPT_SALT)


def payload(note: Any) -> dict[str, Any]:
    return {
        "id": note.pk,
        "title": note.title,
        "body": note.body,
        "url": reverse("notify:open", args=[note.pk]),
        "emergency": note.emergency,
        "receipt": reverse("notify:receipt", args=[receipt_token(note.pk)]),
    }


class WebPushSender:
    def __init__(self) -> None:
        self.session = requests.Session()

    def address(self, delivery: Any) -> str:
        sub = delivery.subscription
        if sub is None or sub.gone_at is not None:
            raise Gone("推送订阅已失效")
        return sub.endpoint

    def send(self, delivery: Any, address: str) -> str:
        sub = delivery.subscription
        note = delivery.notification
        info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        headers = {"Topic": delivery.key, "Urgency": "high" if note.emergency else "normal"}
        try:
            response = webpush(
                info,
                data=json.dumps(payload(note), ensure_ascii=False),
                vapid_private_key=vapid(),
                vapid_claims={"sub": settings.VETVOL_VAPID_CONTACT},
                ttl=3600 if note.emergency else 86400,
                headers=headers,
                timeout=10,
                requests_session=self.session,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                type(sub).objects.filter(pk=sub.pk).update(gone_at=timezone.now())
                raise Gone(f"推送服务答复 {status}：订阅已失效") from exc
            if status is not None and (status == 429 or status >= 500):
                raise Transient(f"推送服务答复 {status}") from exc
            raise Permanent(f"推送服务拒绝：{status}") from exc
        except requests.RequestException as exc:
            raise Transient(f"推送服务无法连接：{type(exc).__name__}") from exc
        type(sub).objects.filter(pk=sub.pk).update(last_ok_at=timezone.now())
        return getattr(response, "headers", {}).get("Location", "")[:100]

    def already_sent(self, delivery: Any, address: str) -> bool | None:
        return False  # resend with the same Topic: the push service keeps one of them

    def close(self) -> None:
        self.session.close()
