"""Template filters: masking and money, so templates never format identifiers or amounts by hand."""

from django import template

from vetvol.core.masking import mask as mask_value
from vetvol.core.money import format_fen

register = template.Library()


@register.filter
def mask(value: str | None, kind: str) -> str:
    return mask_value(value, kind)


@register.filter
def fen(value: int | None) -> str:
    return "" if value is None else format_fen(int(value))
