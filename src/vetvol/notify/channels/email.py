"""E-mail over SMTP (Django's SMTP backend and the EMAIL_* settings). One connection serves a worker's
batch. Each message's Message-ID is the delivery's key, so a resend after a crash is the same message
(mail stores collapse duplicates of one Message-ID); SMTP has no way to ask whether it was taken."""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from vetvol.notify.channels import Permanent, Transient, public_url


def configured() -> bool:
    return bool(settings.EMAIL_HOST)


class EmailSender:
    def __init__(self) -> None:
        self.connection: Any = None

    def address(self, delivery: Any) -> str:
        email = (delivery.notification.user.email or "").strip()
        if not email:
            raise Permanent("没有电子邮件地址")
        return email

    def send(self, delivery: Any, address: str) -> str:
        import smtplib

        from django.urls import reverse

        note = delivery.notification
        message_id = f"<{delivery.key}@{settings.VETVOL_NOTIFY_MAIL_DOMAIN}>"
        body = f"{note.body}\n\n{public_url(reverse('notify:open', args=[note.pk]))}\n"
        try:
            if self.connection is None:
                self.connection = get_connection(fail_silently=False)
                self.connection.open()
            message = EmailMessage(
                subject=note.title,
                body=body,
                to=[address],
                headers={"Message-ID": message_id},
                connection=self.connection,
            )
            message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise Permanent("收件地址被拒绝") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            code = getattr(exc, "smtp_code", 0) or 0
            if 500 <= code < 600:
                raise Permanent(f"邮件服务器拒绝：{code}") from exc
            raise Transient(f"邮件服务器不可用：{type(exc).__name__}") from exc
        return message_id

    def already_sent(self, delivery: Any, address: str) -> bool | None:
        return None

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # a dead connection is closed either way
                self.connection.close()
            self.connection = None
