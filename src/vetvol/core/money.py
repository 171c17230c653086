"""Money is integer fen (分) everywhere; yuan strings exist only at the edges (forms, display, export)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import models


class FenField(models.BigIntegerField):
    """An amount in fen. Never a float, never a Decimal column."""


def yuan_to_fen(text: str | int | Decimal) -> int:
    """Exact conversion of a yuan amount ("1234.5", "1,234.56") to fen; more than 2 decimals is an error."""
    try:
        amount = Decimal(str(text).replace(",", "").replace("¥", "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return int(fen)


def format_fen(fen: int) -> str:
    """1234567 → '12,345.67'; negative amounts keep their sign."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"
