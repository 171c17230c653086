"""Region scoping: the one primitive that decides which rows a user may see or change.

Administrative codes are hierarchical prefixes (44 → 4403 → 440304 → 440304001 → 440304001001). A role
granted on a node covers its whole subtree, so "may user U do A on row R" is "does some grant of U that
allows A have a code that is a prefix of R's region code". Codes are digits only, so the subtree of prefix
P is the half-open range [P, P + ":") — ":" sorts right after "9" — and a plain B-tree index on the code
column serves it on SQLite and PostgreSQL alike.

Pages and API call `Model.objects.restrict(user, action)` or a `get_*_for_user` accessor built on
`get_for_user`, and narrow to a chosen node with `.within(code)`; nothing else filters by region by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from collections.abc import Iterable


class Action:
    """Actions a role may be allowed to take on scoped data."""

    VIEW = "view"
    CHANGE = "change"
    UNMASK = "unmask"  # see full personal identifiers (audited)
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    VIEW_PEOPLE = "view_people"  # personal records (volunteers, later recipients) in a region
    CHANGE_PEOPLE = "change_people"
    EXPORT = "export"  # bulk export of personal information (audited)
    VIEW_FUND = "view_fund"  # the special fund's ledger, donations and disbursements
    CHANGE_FUND = "change_fund"  # record donations, request, approve and pay disbursements


class ScopedUser(Protocol):
    is_authenticated: bool

    def region_prefixes(self, action: str) -> Iterable[str] | None: ...


def subtree_q(field: str, prefixes: Iterable[str]) -> Q:
    """Rows whose `field` lies in the subtree of any of `prefixes` (no prefixes: no rows)."""
    q = Q(pk__in=[])
    for prefix in minimal_prefixes(prefixes):
        q |= Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + ":"})
    return q


def minimal_prefixes(prefixes: Iterable[str]) -> list[str]:
    """Drop prefixes covered by a shorter one, so the query has as few ranges as possible."""
    result: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not result or not prefix.startswith(result[-1]):
            result.append(prefix)
    return result


def covers(prefixes: Iterable[str] | None, code: str) -> bool:
    """Whether a region code lies in the subtree of any prefix (None means unrestricted)."""
    if prefixes is None:
        return True
    return any(code.startswith(p) for p in prefixes)


def allowed_prefixes(user: Any, action: str) -> list[str] | None:
    """The region prefixes on which `user` may take `action`; None for unrestricted (superuser)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    prefixes = user.region_prefixes(action)
    return None if prefixes is None else list(prefixes)


class ScopedQuerySet(models.QuerySet):
    """QuerySet of a model that belongs to a region.

    The model may declare:
    - `region_field`: the code column (default `region_code`);
    - `region_actions`: a map from the action asked to the grant action that covers it, e.g. personal
      records need `view_people` where a region node needs only `view`;
    - `owner_q(user, action)`: a classmethod giving rows the user reaches without a region grant (their own
      volunteer record, the members of a team they lead), or None;
    - `blank_region_is_province_wide`: rows with no region belong to province-wide grants.
    """

    def restrict(self, user: Any, action: str = Action.VIEW) -> ScopedQuerySet:
        model = self.model
        prefixes = allowed_prefixes(user, getattr(model, "region_actions", {}).get(action, action))
        if prefixes is None:
            return self
        field = getattr(model, "region_field", "region_code")
        q = subtree_q(field, prefixes)
        if getattr(model, "blank_region_is_province_wide", False) and any(len(p) == 2 for p in prefixes):
            q |= Q(**{field: ""})
        owner_q = getattr(model, "owner_q", None)
        if owner_q is not None and getattr(user, "is_authenticated", False):
            extra = owner_q(user, action)
            if extra is not None:
                q |= extra
        return self.filter(q)

    def within(self, *codes: str) -> ScopedQuerySet:
        """Rows in the subtree of any of `codes`: a drill-down to chosen region nodes (the region an export
        or a page was asked for), not a grant. It only narrows: chain it after `restrict` to keep the user's
        scope. No codes: no rows."""
        return self.filter(subtree_q(getattr(self.model, "region_field", "region_code"), codes))


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)

M = TypeVar("M", bound=models.Model)


def get_for_user(queryset: models.QuerySet[M], user: Any, action: str = Action.VIEW, **lookup: Any) -> M:
    """The one object matching `lookup` that `user` may take `action` on.

    Missing and not-visible get the same 404, so ids cannot be probed; an object the user may see but not
    change gets 403. Either denial of an existing object is audited (outside any transaction it could be
    rolled back with, as this runs before actions open theirs).
    """
    try:
        return queryset.restrict(user, action).get(**lookup)  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, ValueError, TypeError):
        pass
    try:
        obj = queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    visible = action != Action.VIEW and queryset.restrict(user, Action.VIEW).filter(pk=obj.pk).exists()  # type: ignore[attr-defined]
    _record_denial(user, f"access.{action}", obj=obj, detail={"visible": visible})
    if visible:
        raise PermissionDenied(f"{action} not granted")
    raise Http404


def require_object(user: Any, action: str, obj: models.Model, *, what: str) -> None:
    """Like `require`, for an object whose access may also come from ownership (see ScopedQuerySet)."""
    if type(obj)._default_manager.restrict(user, action).filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
        return
    _record_denial(user, what, obj=obj, detail={"needed": action})
    raise PermissionDenied(f"{action} not granted on {obj._meta.label_lower} {obj.pk}")


def require(user: Any, action: str, region_code: str, *, what: str) -> None:
    """Raise PermissionDenied unless `user` may take `action` in `region_code`; a denial is audited.

    Call it before opening the action's transaction, so that the audit row of a denial is not rolled back
    with the change it refused.
    """
    if covers(allowed_prefixes(user, action), region_code):
        return
    _record_denial(user, what, region_code=region_code, detail={"needed": action})
    raise PermissionDenied(f"{action} not granted on {region_code}")


def _record_denial(user: Any, what: str, **fields: Any) -> None:
    from vetvol.core import audit  # audit → models → scoping: imported late to keep the cycle open
    from vetvol.core.models import AuditOutcome

    audit.record(what, actor=user, outcome=AuditOutcome.DENIED, **fields)
