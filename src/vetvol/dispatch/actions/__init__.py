"""Dispatch actions: open an incident, invite by rounds, answer, move along, share position, close.

Every function: permission check before its transaction, one transaction, audit row, events after commit
(`dispatch.*`, payloads plain JSON with `region_code`). Nobody is assigned without accepting: dispatch only
invites. Claims are conditional UPDATEs decided by row count, backed by the constraints on the models.
"""

from vetvol.dispatch.actions.common import RADII_KM, invitation_timeout
from vetvol.dispatch.actions.incidents import (
    close_incident,
    create_incident,
    delete_run_card,
    reveal,
    run_card_for,
    save_run_card,
    update_incident,
)
from vetvol.dispatch.actions.responses import (
    RoleFull,
    answer_invitation,
    assign_team_members,
    invite_team,
    report_position,
    set_assignment_status,
)
from vetvol.dispatch.actions.rounds import (
    dispatch_batch,
    dispatch_round,
    expire_invitations,
    invite,
    open_slots,
    role_filter,
    tick,
)

__all__ = [
    "RADII_KM",
    "RoleFull",
    "answer_invitation",
    "assign_team_members",
    "close_incident",
    "create_incident",
    "delete_run_card",
    "dispatch_batch",
    "dispatch_round",
    "expire_invitations",
    "invitation_timeout",
    "invite",
    "invite_team",
    "open_slots",
    "report_position",
    "reveal",
    "role_filter",
    "run_card_for",
    "save_run_card",
    "set_assignment_status",
    "tick",
    "update_incident",
]
