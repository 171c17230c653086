"""Local peers that speak the channels' real protocols, for the tests and benchmarks (and an operator's
dry run): an SMS gateway of the generic HTTP protocol, an Alibaba Cloud SMS endpoint that checks the RPC
signature, an SMTP server (aiosmtpd), and a push service with its browser: it decrypts each message
(aes128gcm) with the subscription's own keys, as the phone would. Each records what it received, by key,
so a duplicate or a loss shows. They listen on 127.0.0.1 only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

ADDRESS = "127.0.0.1"


class _Server:
    """A threaded HTTP server on a free port; `handle(method, path, headers, body)` → (status, json)."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _do(self, method: str) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                status, answer = owner.handle(method, self.path, self.headers, body)  # case-insensitive
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._do("GET")

            def do_POST(self) -> None:
                self._do("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((ADDRESS, 0), Handler)
        self.httpd.daemon_threads = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{ADDRESS}:{self.httpd.server_address[1]}"

    def start(self) -> _Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError


class SmsGateway(_Server):
    """The generic HTTP gateway: ids are kept, a repeated id answers 409 and is not sent again.
    `fail(n, status)` answers the next n sends with `status`; `delay` makes every send that slow."""

    def __init__(self, token: str = "") -> None:
        super().__init__()
        self.token = token
        self.received: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, int] = defaultdict(int)
        self.failures: list[int] = []
        self.delay = 0.0

    def fail(self, n: int, status: int = 500) -> None:
        with self.lock:
            self.failures += [status] * n

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorised"}
        if method == "GET":
            key = path.rstrip("/").rsplit("/", 1)[-1]
            return (200, {"id": key}) if key in self.received else (404, {"error": "unknown"})
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if self.failures:
                return self.failures.pop(0), {"error": "failing on purpose"}
            data = json.loads(body or b"{}")
            key = str(data.get("id", ""))
            self.posts[key] += 1
            if key in self.received:
                return 409, {"error": "duplicate id"}
            if not str(data.get("to", "")).startswith("+86"):
                return 400, {"error": "bad number"}
            self.received[key] = {"to": data.get("to"), "text": data.get("text"), "at": time.time()}
        return 201, {"message_id": f"m-{key}"}


def _pct(text: str) -> str:
    return quote(text, safe="-_.~")


class AliyunSms(_Server):
    """Dysmsapi's SendSms and QuerySendDetails, with the RPC signature checked as the real endpoint does."""

    def __init__(self, key_id: str = "test-key", secret: str = "test-secret") -> None:  # noqa: S107
        super().__init__()
        self.key_id, self.secret = key_id, secret
        self.sent: list[dict[str, str]] = []
        self.fail_with: list[str] = []

    def _signature_ok(self, params: dict[str, str]) -> bool:
        given = params.pop("Signature", "")
        canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params.items()))
        to_sign = f"POST&{_pct('/')}&{_pct(canonical)}"
        digest = hmac.new(f"{self.secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(base64.b64encode(digest).decode(), given)

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        params = dict(parse_qsl(body.decode()))
        if params.get("AccessKeyId") != self.key_id or not self._signature_ok(params):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
        if params.get("Action") == "SendSms":
            with self.lock:
                if self.fail_with:
                    code = self.fail_with.pop(0)
                    return 200, {"Code": code, "Message": code}
                if not params.get("PhoneNumbers", "").isdigit():
                    return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "invalid number"}
                self.sent.append(params)
                return 200, {"Code": "OK", "Message": "OK", "BizId": f"biz{len(self.sent)}", "RequestId": "r"}
        if params.get("Action") == "QuerySendDetails":
            rows = [
                {"OutId": p.get("OutId", ""), "PhoneNum": p["PhoneNumbers"], "SendStatus": 3}
                for p in self.sent
                if p["PhoneNumbers"] == params.get("PhoneNumber")
            ]
            return 200, {
                "Code": "OK",
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": rows},
                "TotalCount": len(rows),
            }
        return 400, {"Code": "InvalidAction"}


class SmtpSink:
    """A real SMTP server (aiosmtpd) keeping each message's Message-ID, recipients and subject."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict[str, Any]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes
                from email.header import decode_header, make_header

                message = message_from_bytes(envelope.content)
                sink.messages.append(
                    {
                        "message_id": message.get("Message-ID", ""),
                        "to": list(envelope.rcpt_tos),
                        "subject": str(make_header(decode_header(message.get("Subject", "")))),
                        "at": time.time(),
                    }
                )
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd's controller needs a concrete port to check it is up
            probe.bind((ADDRESS, 0))
            free = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname=ADDRESS, port=free)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()


class PushService(_Server):
    """A push service and the browsers behind it: `subscribe()` makes a browser's keys and endpoint; each
    message is decrypted with that browser's private key and auth secret (RFC 8291), as the phone would."""

    def __init__(self) -> None:
        super().__init__()
        self.browsers: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.gone: set[str] = set()

    def subscribe(self) -> dict[str, Any]:
        import os

        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        auth = os.urandom(16)
        token = base64.urlsafe_b64encode(os.urandom(12)).decode().rstrip("=")
        self.browsers[token] = {"private": private, "auth": auth}

        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return {
            "endpoint": f"{self.url}/push/{token}",
            "p256dh": b64(public),
            "auth": b64(auth),
            "token": token,
        }

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        import http_ece

        token = path.rstrip("/").rsplit("/", 1)[-1]
        if token in self.gone or token not in self.browsers:
            return 410, {"error": "subscription expired"}
        if not headers.get("Authorization", "").startswith("vapid t="):
            return 401, {"error": "no VAPID"}
        browser = self.browsers[token]
        plain = http_ece.decrypt(body, private_key=browser["private"], auth_secret=browser["auth"])
        with self.lock:
            self.received.append(
                {
                    "token": token,
                    "topic": headers.get("Topic", ""),
                    "data": json.loads(plain),
                    "at": time.time(),
                }
            )
        return 201, None
