"""Activities models, split by sub-domain."""

from vetvol.activities.models.exemplars import (
    Exemplar,
    ExemplarCategory,
    ExemplarConsent,
    ExemplarStatus,
    ExemplarTier,
    NameForm,
)
from vetvol.activities.models.hours import ApprovalLevel, HourApproval, HourRecord, HourSource
from vetvol.activities.models.projects import (
    Activity,
    ActivityStatus,
    Approval,
    FencePolicy,
    InsurancePolicy,
    Project,
    ProjectStatus,
    ServiceDomain,
)
from vetvol.activities.models.recognition import (
    CertificateKind,
    CertificateRevocation,
    ServiceCertificate,
    StarAward,
    StarRejection,
    StarRequest,
    StarRevocation,
)
from vetvol.activities.models.signups import ACTIVE_SIGNUP, Attendance, CheckMethod, SignUp, SignUpStatus

__all__ = [
    "ACTIVE_SIGNUP",
    "Activity",
    "ActivityStatus",
    "Approval",
    "ApprovalLevel",
    "Attendance",
    "CertificateKind",
    "CertificateRevocation",
    "CheckMethod",
    "Exemplar",
    "ExemplarCategory",
    "ExemplarConsent",
    "ExemplarStatus",
    "ExemplarTier",
    "FencePolicy",
    "HourApproval",
    "HourRecord",
    "HourSource",
    "InsurancePolicy",
    "NameForm",
    "Project",
    "ProjectStatus",
    "ServiceCertificate",
    "ServiceDomain",
    "SignUp",
    "SignUpStatus",
    "StarAward",
    "StarRejection",
    "StarRequest",
    "StarRevocation",
]
