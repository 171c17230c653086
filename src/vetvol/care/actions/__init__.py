"""Every state change of care: permission check, one transaction, an audit row, events after commit."""

from vetvol.care.actions.campaigns import assign_campaign, create_campaign, log_campaign_visit
from vetvol.care.actions.cases import (
    add_case_member,
    add_case_note,
    add_task,
    close_case,
    complete_task,
    log_case_visit,
    record_life_event,
    refer_case,
    respond_referral,
)
from vetvol.care.actions.pairing import create_pairing, end_pairing, hand_over_pairing, log_pairing_visit
from vetvol.care.actions.recipients import (
    DuplicateRecipient,
    may_reveal,
    register_recipient,
    reveal,
    set_honour_plaque,
    update_recipient,
)
from vetvol.care.actions.requests import (
    accept_help,
    cancel_help_request,
    complete_help,
    decline_help,
    file_complaint,
    invite_volunteers,
    rate_help,
    resolve_complaint,
    submit_help_request,
    verify_help_request,
)
from vetvol.care.actions.visits import reveal_visit, visit_access

__all__ = [
    "DuplicateRecipient",
    "accept_help",
    "add_case_member",
    "add_case_note",
    "add_task",
    "assign_campaign",
    "cancel_help_request",
    "close_case",
    "complete_help",
    "complete_task",
    "create_campaign",
    "create_pairing",
    "decline_help",
    "end_pairing",
    "file_complaint",
    "hand_over_pairing",
    "invite_volunteers",
    "log_campaign_visit",
    "log_case_visit",
    "log_pairing_visit",
    "may_reveal",
    "rate_help",
    "record_life_event",
    "refer_case",
    "register_recipient",
    "resolve_complaint",
    "respond_referral",
    "reveal",
    "reveal_visit",
    "set_honour_plaque",
    "submit_help_request",
    "update_recipient",
    "verify_help_request",
    "visit_access",
]
