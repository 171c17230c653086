"""Field encryption (AES-256-GCM) and keyed-hash lookups for personal identifiers.

Ciphertext is stored as text `v1.<key id>.<base64url(nonce | ciphertext+tag)>`. The key id lets keys be
rotated: VETVOL_DATA_KEY lists keys newest first; the newest encrypts, any listed key decrypts. The
associated data binds each ciphertext to its model field, so a value copied into another column does not
decrypt. Equality lookups go through `lookup_hash`, an HMAC with a separate key, stored beside the
ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "v1"


class DecryptionError(Exception):
    """A stored value that no configured key opens, or that was altered."""


def _decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured("VETVOL_DATA_KEY entries must be base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("VETVOL_DATA_KEY entries must be 32 bytes (256 bits) once decoded")
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"vetvol-key-id" + key).hexdigest()[:8]


@lru_cache(maxsize=4)
def _keys(raw: tuple[str, ...]) -> tuple[tuple[str, AESGCM], dict[str, AESGCM]]:
    decoded = [_decode_key(k) for k in raw]
    by_id = {_key_id(k): AESGCM(k) for k in decoded}
    return (_key_id(decoded[0]), by_id[_key_id(decoded[0])]), by_id


def encrypt(plaintext: str, context: bytes) -> str:
    (kid, aead), _ = _keys(tuple(settings.VETVOL_DATA_KEY))
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), context)
    return f"{PREFIX}.{kid}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def decrypt(token: str, context: bytes) -> str:
    _, by_id = _keys(tuple(settings.VETVOL_DATA_KEY))
    try:
        prefix, kid, body = token.split(".", 2)
        if prefix != PREFIX:
            raise ValueError(prefix)
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        return by_id[kid].decrypt(raw[:12], raw[12:], context).decode("utf-8")
    except (ValueError, KeyError, InvalidTag) as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def lookup_hash(value: str, purpose: str) -> str:
    """Keyed hash of a normalised value, for equality lookups (e.g. one person, one ID number)."""
    key = settings.VETVOL_LOOKUP_KEY.encode("utf-8")
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column holding ciphertext; Python sees the plaintext. Not searchable: pair it with a
    `lookup_hash` column where equality lookups are needed."""

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        self._context = f"{cls._meta.label_lower}.{name}".encode()

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value, self._context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value), self._context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            return None  # ciphertext is randomised: only the lookup-hash column can be compared
        return super().get_lookup(lookup_name)
