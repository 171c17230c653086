"""Per-request context (client address) for the audit log, set by middleware, read by core.audit."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def ip_from_meta(meta: dict) -> str | None:
    """The client address of a request. Behind a proxy, the proxy must set REMOTE_ADDR correctly."""
    raw = meta.get("REMOTE_ADDR") or ""
    try:
        return ipaddress.ip_address(raw).compressed
    except ValueError:
        return None
