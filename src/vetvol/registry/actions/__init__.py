"""Registry state changes, split by sub-domain; import from here."""

from vetvol.registry.actions.bulk import BulkReport, RowError, bulk_register
from vetvol.registry.actions.teams import (
    add_member,
    apply_squads,
    assign_liaison_point,
    create_team,
    remove_member,
    set_member_role,
    update_team,
)
from vetvol.registry.actions.volunteers import (
    CONSENT_VERSION,
    DuplicateVolunteer,
    add_certificate,
    change_status,
    register_volunteer,
    reveal,
    self_register,
    set_consent,
    set_skills,
    update_volunteer,
)

__all__ = [
    "CONSENT_VERSION",
    "BulkReport",
    "DuplicateVolunteer",
    "RowError",
    "add_certificate",
    "add_member",
    "apply_squads",
    "assign_liaison_point",
    "bulk_register",
    "change_status",
    "create_team",
    "register_volunteer",
    "remove_member",
    "reveal",
    "self_register",
    "set_consent",
    "set_member_role",
    "set_skills",
    "update_team",
    "update_volunteer",
]
