"""Care endpoints under /api/care/: recipients (masked, reveals audited), life events and cases, party-member
pairing, campaigns, help requests and complaints. Thin: parse, look up through the scoped queries, call the
action, present. Every change goes through `vetvol.care.actions`.

One module per part of care; they all register their routes on the one router of `common`.
"""

from vetvol.care.api import campaigns, cases, pairing, recipients, requests  # noqa: F401  (registers routes)
from vetvol.care.api.common import router

__all__ = ["router"]
