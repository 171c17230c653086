"""The audit log viewer (auditors and superusers)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from vetvol.core import audit
from vetvol.core.models import AuditEntry, AuditOutcome
from vetvol.core.scoping import Action, allowed_prefixes


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if allowed_prefixes(request.user, Action.VIEW_AUDIT) == []:
        audit.record("core.audit_log.view", actor=request.user, outcome=AuditOutcome.DENIED)
        raise PermissionDenied("audit log")
    entries = (
        AuditEntry.objects.restrict(request.user, Action.VIEW_AUDIT).select_related("actor").order_by("-id")
    )
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    outcome = request.GET.get("outcome", "")
    if outcome in AuditOutcome.values:
        entries = entries.filter(outcome=outcome)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "page": page,
        "action": action,
        "outcome": outcome,
        "outcomes": AuditOutcome.choices,
    }
    if request.GET.get("verify") == "1":
        context["verify"] = audit.verify()
    return render(request, "core/audit_log.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database readiness for load balancers (and the trivial endpoint of load benchmarks)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
