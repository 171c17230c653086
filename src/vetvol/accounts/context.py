"""Navigation by role: each page's menu lists only what the user may open."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from vetvol.core.scoping import Action


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        items.append(("首页", reverse("home")))
        if user.is_superuser or user.region_prefixes(Action.VIEW):
            items.append(("行政区划", reverse("regions:browser")))
        if user.is_superuser or user.region_prefixes(Action.VIEW_AUDIT):
            items.append(("审计日志", reverse("core:audit_log")))
        items.append(("API 文档", "/api/docs"))
    return {"nav_items": items, "site_name": settings.VETVOL_SITE_NAME}
