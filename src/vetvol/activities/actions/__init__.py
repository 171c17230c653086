"""Activities state changes, split by sub-domain; import from here."""

from vetvol.activities.actions.attendance import (
    CheckIn,
    check_in,
    check_in_many,
    check_out,
    close_forgotten,
    rotating_code,
)
from vetvol.activities.actions.certificates import issue_certificate, revoke_certificate
from vetvol.activities.actions.exemplars import (
    approve_exemplar,
    nominate_exemplar,
    reject_exemplar,
    set_exemplar_consent,
)
from vetvol.activities.actions.hours import approve_hours, backfill_hours, correct_hours, enter_hours
from vetvol.activities.actions.projects import add_insurance, cancel_activity, create_activity, create_project
from vetvol.activities.actions.signups import cancel_signup, decide_signup, mark_no_show, sign_up
from vetvol.activities.actions.stars import approve_star, reject_star, request_star, revoke_star

__all__ = [
    "CheckIn",
    "add_insurance",
    "approve_exemplar",
    "approve_hours",
    "approve_star",
    "backfill_hours",
    "cancel_activity",
    "cancel_signup",
    "check_in",
    "check_in_many",
    "check_out",
    "close_forgotten",
    "correct_hours",
    "create_activity",
    "create_project",
    "decide_signup",
    "enter_hours",
    "issue_certificate",
    "mark_no_show",
    "nominate_exemplar",
    "reject_exemplar",
    "reject_star",
    "request_star",
    "revoke_certificate",
    "revoke_star",
    "rotating_code",
    "set_exemplar_consent",
    "sign_up",
]
