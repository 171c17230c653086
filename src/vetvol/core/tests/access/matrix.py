"""The access matrix's vocabulary: roles, who covers which side, how to read an expectation, how to call.

An expectation names the roles that get through, per side: `who="P S F St Au | P T Au"` means on side a the
province, Shenzhen, Futian admins, the station staff and the auditor succeed, on side b the province and
Tianhe admins and the auditor. Everyone else gets a refusal: 404 if their grants do not cover the object's
region at all (the same answer as for a missing object), 403 or 404 if they cover it but lack the action.
Pages without an object take one list of roles (`who="P S F T Au"`); `"*"` is every logged-in user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conftest import CAST

ROLES = {
    "P": "province_admin",
    "S": "sz_admin",
    "F": "futian_admin",
    "T": "tianhe_admin",
    "St": "station_staff",
    "L": "team_leader",
    "V": "volunteer",
    "W": "social_worker",
    "Au": "auditor",
    "O": "outsider",
}
ABBREV = {name: short for short, name in ROLES.items()}
STREETS = {"a": "440304001", "b": "440106001"}


def covers(role: str, side: str) -> bool:
    """Whether the role's grant lies on the path to the side's street (the outsider has none)."""
    grant = CAST.get(role)
    return grant is not None and STREETS[side].startswith(grant[1])


def parse_roles(text: str) -> set[str]:
    if text.strip() == "*":
        return {name for name in ROLES.values()}
    if text.strip() == "-":
        return set()
    return {ROLES[short] for short in text.split()}


@dataclass(frozen=True)
class Entry:
    """How to call one URL pattern or API operation and who must get through.

    `kw(ids)` builds the URL's arguments from one side's objects; a dict gives constant arguments and None
    none (both: the URL names no object of a side); True: the API path's parameters name the side's objects.
    `who`: see the module docstring; "public" means anonymous visitors too.
    `post`: the view takes POST only; the matrix then checks refusals and the anonymous answer, never a
    success (it would change the world the other rows look at)."""

    who: str
    kw: Any = None
    post: bool = False
    query: str = ""
    ok: tuple[int | str, ...] = (200, 204, 302)
    note: str = ""
    refused: tuple[int, ...] = field(default=(403, 404))
    outside: tuple[int, ...] = (404,)  # the answer to a role whose grants do not cover the side
    body: Any = None  # a JSON body for an API write, instead of the one made from its schema
    leak: tuple[str, ...] = ()  # kinds of world.markers a role outside the side must never see in the body

    def sides(self) -> tuple[str, ...]:
        return ("a", "b") if self.kw is True or callable(self.kw) else ("-",)

    def kwargs(self, ids: dict[str, Any]) -> dict[str, Any]:
        return self.kw(ids) if callable(self.kw) else dict(self.kw or {})

    def allowed(self, side: str) -> set[str] | None:
        """The roles that succeed on this side; None for a public entry."""
        if self.who == "public":
            return None
        parts = [p.strip() for p in self.who.split("|")]
        if side == "-" or len(parts) == 1:
            return parse_roles(parts[0])
        return parse_roles(parts[0] if side == "a" else parts[1])


def expected(entry: Entry, role: str | None, side: str) -> tuple[int | str, ...]:
    """The acceptable status codes for one role (None: anonymous) on one side."""
    allowed = entry.allowed(side)
    if allowed is None:
        return entry.ok
    if role is None:
        return ("login",)
    if role in allowed:
        return entry.ok
    if side != "-" and not covers(role, side):
        return entry.outside
    return entry.refused


def pk(kind: str, name: str = "pk", **extra: Any):
    return lambda ids: {name: ids[kind], **extra}


def page_url(name: str, entry: Entry, ids: dict[str, Any]) -> str:
    from django.urls import reverse

    url = "/favicon.ico" if name == "favicon.ico" else reverse(name, kwargs=entry.kwargs(ids))
    query = entry.query if not entry.query or entry.query.startswith("?") else ids[entry.query]
    return url + query


def outcome(response: Any) -> int | str:
    """The status, or "login" for the answer an anonymous caller should get (the login page or 401)."""
    if response.status_code in (301, 302) and response.get("Location", "").startswith("/accounts/login/"):
        return "login"
    if response.status_code == 401:
        return "login"
    return response.status_code


def body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def run(entry: Entry, clients: dict[str, Any], world: Any, call: Any, label: str) -> list[str]:
    """Every role and anonymous against one entry on each side; the problems found, one line each.
    `call(client, role, side, ids)` makes the request."""
    problems = []
    for side in entry.sides():
        ids = world.ids["a" if side == "-" else side]
        for role, client in clients.items():
            who = None if role == "anon" else role
            allowed = entry.allowed(side)
            if entry.post and allowed is not None and who in allowed:
                continue  # a success would change the world the other rows look at
            response = call(client, who, side, ids)
            got = outcome(response)
            want = expected(entry, who, side)
            if got not in want:
                problems.append(f"{role} on side {side}: {label} answered {got}, expected one of {want}")
            if entry.leak and who and got == 200:
                text = body(response)
                for other in ("a", "b") if side == "-" else (side,):
                    if covers(who, other):
                        continue
                    for kind in entry.leak:
                        if world.markers[other][kind] in text:
                            problems.append(
                                f"{role}: {label} shows {kind} {world.markers[other][kind]!r} of side {other}"
                            )
    return problems
