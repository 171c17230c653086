"""SMS through a gateway adapter. Nothing leaves the installation unless the operator configures one:

- `http`: a generic HTTP gateway (`VETVOL_SMS_URL`, bearer `VETVOL_SMS_TOKEN`). POST {id, to, text} as JSON;
  2xx with {"message_id"} is sent, 409 means "this id was already sent" (the gateway keeps ids), 4xx is a
  refusal, 5xx and timeouts are retried. GET <url>/<id> answers 200 if that id was sent, 404 if not.
- `aliyun`: Alibaba Cloud SMS (Dysmsapi 2017-05-25, RPC signature v1 with HMAC-SHA1): SendSms with the
  operator's sign name and template (`${content}` receives the text) and the delivery key as `OutId`;
  after a crash, QuerySendDetails tells whether a message with that OutId went out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils import timezone

from vetvol.notify.channels import Permanent, Transient, public_url

TIMEOUT_S = 10


def configured_gateway() -> Any:
    kind = settings.VETVOL_SMS_GATEWAY
    if kind == "http" and settings.VETVOL_SMS_URL:
        return HttpGateway(settings.VETVOL_SMS_URL, settings.VETVOL_SMS_TOKEN)
    if kind == "aliyun" and settings.VETVOL_SMS_ALIYUN_ACCESS_KEY_ID:
        return AliyunGateway(
            endpoint=settings.VETVOL_SMS_ALIYUN_ENDPOINT,
            key_id=settings.VETVOL_SMS_ALIYUN_ACCESS_KEY_ID,
            secret=settings.VETVOL_SMS_ALIYUN_ACCESS_KEY_SECRET,
            sign_name=settings.VETVOL_SMS_ALIYUN_SIGN_NAME,
            template=settings.VETVOL_SMS_ALIYUN_TEMPLATE_CODE,
        )
    return None


def phone_of(user_id: int) -> str:
    """The person's mobile in E.164: their own setting, else their volunteer record's number."""
    from vetvol.notify.models import Preference
    from vetvol.registry.models import Volunteer
    from vetvol.registry.validation import normalise_phone

    own = Preference.objects.filter(user_id=user_id).values_list("phone", flat=True).first()
    if own:
        return str(own)
    number = str(Volunteer.objects.filter(user_id=user_id).values_list("phone", flat=True).first() or "")
    if not number:
        return ""
    try:  # the registry keeps the national form of numbers it checked on entry
        return normalise_phone(number)
    except ValueError:
        return ""


def text_of(note: Any) -> str:
    from django.urls import reverse

    return f"{note.body} {public_url(reverse('notify:open', args=[note.pk]))}"


class _Gateway:
    def __init__(self) -> None:
        self.session = requests.Session()

    def address(self, delivery: Any) -> str:
        phone = phone_of(delivery.notification.user_id)
        if not phone:
            raise Permanent("没有可用的手机号码")
        return phone

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.Timeout as exc:
            raise Transient("短信网关超时") from exc
        except requests.RequestException as exc:
            raise Transient(f"短信网关无法连接：{type(exc).__name__}") from exc


class HttpGateway(_Gateway):
    def __init__(self, url: str, token: str = "") -> None:
        super().__init__()
        self.url = url.rstrip("/")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def send(self, delivery: Any, address: str) -> str:
        body = {"id": delivery.key, "to": address, "text": text_of(delivery.notification)}
        response = self._call("POST", self.url, json=body)
        if response.status_code == 409:
            return delivery.key  # the gateway already has this id: sent once, not twice
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"短信网关答复 {response.status_code}")
        if response.status_code >= 400:
            raise Permanent(f"短信网关拒绝：{response.status_code} {response.text[:200]}")
        try:
            return str(response.json().get("message_id", ""))[:100]
        except ValueError:
            return ""

    def already_sent(self, delivery: Any, address: str) -> bool | None:
        response = self._call("GET", f"{self.url}/{delivery.key}")
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        return None


def _pct(text: str) -> str:
    return quote(text, safe="-_.~")


class AliyunGateway(_Gateway):
    VERSION = "2017-05-25"

    def __init__(self, *, endpoint: str, key_id: str, secret: str, sign_name: str, template: str) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.key_id, self.secret = key_id, secret
        self.sign_name, self.template = sign_name, template

    def signed(self, action: str, params: dict[str, str]) -> dict[str, str]:
        """The request's parameters with the common ones and the RPC signature (HMAC-SHA1 over the sorted,
        percent-encoded query, keyed with the secret and "&")."""
        query = {
            "AccessKeyId": self.key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": self.VERSION,
            **params,
        }
        canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(query.items()))
        to_sign = f"POST&{_pct('/')}&{_pct(canonical)}"
        digest = hmac.new(f"{self.secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        query["Signature"] = base64.b64encode(digest).decode("ascii")
        return query

    def _rpc(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        response = self._call("POST", self.endpoint, data=self.signed(action, params))
        if response.status_code >= 500:
            raise Transient(f"阿里云短信答复 {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise Transient(f"阿里云短信答复无法解析（{response.status_code}）") from exc
        return answer if isinstance(answer, dict) else {}

    def send(self, delivery: Any, address: str) -> str:
        national = address[3:] if address.startswith("+86") else address.lstrip("+")
        answer = self._rpc(
            "SendSms",
            {
                "PhoneNumbers": national,
                "SignName": self.sign_name,
                "TemplateCode": self.template,
                "TemplateParam": json.dumps({"content": text_of(delivery.notification)}, ensure_ascii=False),
                "OutId": delivery.key,
            },
        )
        code = str(answer.get("Code", ""))
        if code == "OK":
            return str(answer.get("BizId", ""))[:100]
        if code.startswith(("Throttling", "isp.", "SignatureNonceUsed")) or code in ("ServiceUnavailable",):
            raise Transient(f"阿里云短信：{code}")
        raise Permanent(f"阿里云短信拒绝：{code} {str(answer.get('Message', ''))[:150]}")

    def already_sent(self, delivery: Any, address: str) -> bool | None:
        national = address[3:] if address.startswith("+86") else address.lstrip("+")
        day = timezone.localdate(delivery.lease_until or timezone.now()).strftime("%Y%m%d")
        answer = self._rpc(
            "QuerySendDetails",
            {"PhoneNumber": national, "SendDate": day, "PageSize": "50", "CurrentPage": "1"},
        )
        if answer.get("Code") != "OK":
            return None
        rows = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
        return any(row.get("OutId") == delivery.key for row in rows)
