"""Navigation by role: each page's menu lists only what the user may open."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext

from vetvol.core.scoping import Action


def navigation(request: HttpRequest) -> dict[str, Any]:
    from vetvol.activities.stars import may_decide as may_decide_stars  # the one rule of approval levels
    from vetvol.stats.queries import may_view as stats_may_view

    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        items.append((gettext("首页"), reverse("home")))
        items.append((gettext("志愿服务活动"), reverse("activities:list")))
        items.append((gettext("我的志愿服务"), reverse("activities:me")))
        items.append((gettext("应急任务"), reverse("dispatch:me")))
        items.append((gettext("关爱走访"), reverse("care:me")))
        if user.is_superuser or user.region_prefixes(Action.VIEW):
            items.append((gettext("行政区划"), reverse("regions:browser")))
        if user.is_superuser or user.region_prefixes(Action.VIEW_PEOPLE):
            items.append((gettext("志愿者"), reverse("registry:volunteer_list")))
            items.append((gettext("实时调度"), reverse("dispatch:board")))
            items.append((gettext("响应预案"), reverse("dispatch:run_cards")))
            items.append((gettext("关爱帮扶"), reverse("care:index")))
            items.append((gettext("通知发送记录"), reverse("notify:deliveries")))
        if user.is_superuser or user.region_prefixes(Action.CHANGE_PEOPLE):
            items.append((gettext("批量导入"), reverse("registry:import_upload")))
        if user.is_superuser or user.region_prefixes(Action.VIEW):
            items.append((gettext("志愿服务队"), reverse("registry:team_list")))
        if may_decide_stars(user):
            items.append((gettext("星级审核"), reverse("activities:star_requests")))
        if user.is_superuser or user.region_prefixes(Action.CHANGE_PEOPLE):
            items.append((gettext("先进典型"), reverse("activities:exemplars")))
        if user.is_superuser or user.region_prefixes(Action.VIEW_FUND):
            items.append((gettext("专项基金"), reverse("fund:index")))
        if stats_may_view(user):
            items.append((gettext("统计分析"), reverse("stats:index")))
        if user.is_superuser or (user.region_prefixes(Action.EXPORT) and user.region_prefixes(Action.UNMASK)):
            items.append((gettext("全国系统报送"), reverse("national:index")))
        if user.is_superuser or user.region_prefixes(Action.VIEW_AUDIT):
            items.append((gettext("审计日志"), reverse("core:audit_log")))
        items.append((gettext("API 文档"), "/api/docs"))
    return {"nav_items": items, "site_name": settings.VETVOL_SITE_NAME}
