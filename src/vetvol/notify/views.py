"""Pages: the inbox, opening a notification, the person's settings and devices, the staff's delivery log;
and the installable app's manifest and service worker (served from the site root for a whole-site scope)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vetvol.core import audit
from vetvol.core.pages import form_errors
from vetvol.core.scoping import Action
from vetvol.notify import actions, queries
from vetvol.notify.api import masked_address
from vetvol.notify.channels import webpush
from vetvol.notify.forms import PreferenceForm
from vetvol.notify.models import Channel, DeliveryStatus, Notification
from vetvol.registry.validation import display_phone


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.inbox(request.user), 30).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    actions.mark_seen(request.user, ids=[n.pk for n in rows if n.seen_at is None])
    return render(request, "notify/inbox.html", {"page": page, "rows": rows})


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    actions.mark_read(request.user)
    return redirect("notify:inbox")


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a push, SMS or e-mail link leads: marks it read (and seen), then goes to what it is about."""
    user: Any = request.user
    note = Notification.objects.filter(pk=pk, user_id=user.pk).first()
    if note is None:
        raise Http404
    actions.mark_read(request.user, [note.pk])
    target = note.url if url_has_allowed_host_and_scheme(note.url, allowed_hosts=None) else ""
    return redirect(target or reverse("notify:inbox"))


@csrf_exempt
@require_POST
def receipt(request: HttpRequest, token: str) -> HttpResponse:
    """The service worker showed the push: the signed token in the message says which notification."""
    try:
        note_id = signing.loads(token, salt=webpush.RECEIPT_SALT, max_age=7 * 86400)
    except signing.BadSignature as exc:
        raise Http404 from exc
    actions.mark_received(int(note_id))
    return HttpResponse(status=204)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    pref = actions.preference(request.user.pk)
    shown_phone = _masked_phone(str(pref.phone or ""))
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                actions.save_preferences(request.user, **data)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("通知设置已保存"))
                return redirect("notify:preferences")
        status = 400
    else:
        form = PreferenceForm(
            initial={
                "push": pref.push,
                "sms": pref.sms,
                "email": pref.email,
                "quiet_start": pref.quiet_start,
                "quiet_end": pref.quiet_end,
                "phone": shown_phone,
                "language": pref.language,
            }
        )
        status = 200
    user: Any = request.user
    devices = user.push_subscriptions.filter(gone_at=None).order_by("-created_at")
    return render(
        request,
        "notify/preferences.html",
        {"form": form, "devices": devices, "push_ready": webpush.configured()},
        status=status,
    )


def _masked_phone(e164: str) -> str:
    from vetvol.core.masking import mask

    return mask(display_phone(e164), "phone") if e164 else ""


@login_required
def delivery_log(request: HttpRequest) -> HttpResponse:
    """What was sent to whom, when, by which channel, with what outcome (numbers masked). Audited."""
    user: Any = request.user
    if not (user.is_superuser or user.region_prefixes(Action.VIEW_PEOPLE)):
        raise Http404
    channel = request.GET.get("channel", "")
    status = request.GET.get("status", "")
    channel = channel if channel in Channel.values else ""
    status = status if status in DeliveryStatus.values else ""
    qs = queries.log_filter(queries.delivery_log(request.user), channel=channel, status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(d, masked_address(d)) for d in page.object_list]
    audit.record("notify.deliveries.view", actor=request.user, detail={"channel": channel, "status": status})
    return render(
        request,
        "notify/deliveries.html",
        {
            "page": page,
            "rows": rows,
            "channel": channel,
            "status": status,
            "channels": Channel.choices,
            "statuses": DeliveryStatus.choices,
        },
    )


@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    from django.conf import settings

    name = str(settings.VETVOL_SITE_NAME)
    data: dict[str, Any] = {
        "name": name,
        "short_name": _("老兵志愿"),
        "lang": "zh-CN",
        "start_url": reverse("activities:me") + "?source=app",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b71c1c",
        "icons": [
            {"src": static("notify/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("notify/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
        "shortcuts": [
            {"name": _("应急任务"), "url": reverse("dispatch:me")},
            {"name": _("关爱走访"), "url": reverse("care:me")},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    from django.contrib.staticfiles import finders

    path = finders.find("notify/sw.js")
    if not path:
        raise Http404
    with open(str(path), encoding="utf-8") as f:
        body = f.read()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response
