"""The channels a delivery goes by. Each sender resolves the address, sends with the delivery's idempotency
key, and raises `Transient` (retry later) or `Permanent` (give up, with the reason); `Gone` means the push
subscription no longer exists. `already_sent` answers, where the provider can tell, whether a message whose
worker died before marking it did go out (True/False), or None when nobody can tell."""

from __future__ import annotations

from typing import Any, Protocol


class Transient(Exception):
    """Try again later (timeout, 5xx, throttling)."""


class Permanent(Exception):
    """Will never succeed (bad number, refused by the provider, no address)."""


class Gone(Permanent):
    """The push subscription has expired (404/410 from the push service)."""


class Sender(Protocol):
    def address(self, delivery: Any) -> str: ...

    def send(self, delivery: Any, address: str) -> str: ...

    def already_sent(self, delivery: Any, address: str) -> bool | None: ...

    def close(self) -> None: ...


def sender_for(channel: str) -> Sender | None:
    """The configured sender of a channel, or None when the channel is not set up on this installation."""
    from vetvol.notify.channels import email, sms, webpush

    if channel == "push":
        return webpush.WebPushSender() if webpush.configured() else None
    if channel == "sms":
        return sms.configured_gateway()
    if channel == "email":
        return email.EmailSender() if email.configured() else None
    return None


def public_url(path: str) -> str:
    from django.conf import settings

    return f"{settings.VETVOL_PUBLIC_URL}{path}" if path else settings.VETVOL_PUBLIC_URL
