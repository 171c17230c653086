"""Print a new VAPID private key for VETVOL_VAPID_PRIVATE_KEY (base64 of the 32-byte P-256 scalar)."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Make a VAPID key pair for web push; prints the private key (keep it secret) to stdout."

    def handle(self, *args: Any, **options: Any) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.private_numbers().private_value.to_bytes(32, "big")
        self.stdout.write(base64.b64encode(raw).decode("ascii"))
