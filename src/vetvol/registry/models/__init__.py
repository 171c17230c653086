"""Registry models, split by sub-domain."""

from vetvol.registry.models.imports import ImportJob, ImportKind, ImportMode, ImportStatus
from vetvol.registry.models.taxonomy import CertificateType, Skill, SkillCategory
from vetvol.registry.models.teams import CivilStatus, MemberRole, Membership, Team, TeamSpecialty
from vetvol.registry.models.volunteers import (
    Certificate,
    Consent,
    ConsentKind,
    Gender,
    ServiceBranch,
    StatusChange,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)

__all__ = [
    "Certificate",
    "CertificateType",
    "CivilStatus",
    "Consent",
    "ConsentKind",
    "Gender",
    "ImportJob",
    "ImportKind",
    "ImportMode",
    "ImportStatus",
    "MemberRole",
    "Membership",
    "ServiceBranch",
    "Skill",
    "SkillCategory",
    "StatusChange",
    "Team",
    "TeamSpecialty",
    "Volunteer",
    "VolunteerSkill",
    "VolunteerStatus",
]
