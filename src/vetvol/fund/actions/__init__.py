"""Every change to the special fund: donors and their consent, donations (money or goods) and their
reversal, disbursements requested → approved (or rejected, or withdrawn) → paid → use reported.

Booking rules (accounts per fund holder: the province, or a city with its own fund):
- money donation:  Dr 1001 bank            Cr 3101 fund[purpose]
- goods donation:  Dr 1401 goods received  Cr 3102 goods fund (valued goods are not cash: no
                   disbursement, which is paid from the bank, can draw on them)
- approval:        Dr 3101 fund[purpose]   Cr 3201 released net assets
                   Dr 5101 expense[purpose] Cr 2202 payables
  (the restricted fund never goes negative, so nothing is approved that the fund does not hold)
- payment:         Dr 2202 payables        Cr 1001 bank
- corrections:     reversing transactions (ledger.reversal).
Approval tiers by amount; nobody approves their own request; the auditor holds `view_fund` only.
"""

from vetvol.fund.actions.common import (
    CHART,
    EVIDENCE_MAX_BYTES,
    EVIDENCE_TYPES,
    MAX_AMOUNT,
    RECEIPT_DOMAIN,
    RECEIPT_LANGUAGE,
    TIER_PREFIX,
    TIERS,
    chart,
    holder_of,
)
from vetvol.fund.actions.disbursements import (
    Upload,
    decide_disbursement,
    may_approve,
    pay_disbursement,
    report_use,
    request_disbursement,
    source_accounts,
    tier_for,
    withdraw_disbursement,
)
from vetvol.fund.actions.donations import (
    create_donor,
    receipt_content,
    record_donation,
    reverse_donation,
    set_donor_consent,
)

__all__ = [
    "CHART",
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_TYPES",
    "MAX_AMOUNT",
    "RECEIPT_DOMAIN",
    "RECEIPT_LANGUAGE",
    "TIERS",
    "TIER_PREFIX",
    "Upload",
    "chart",
    "create_donor",
    "decide_disbursement",
    "holder_of",
    "may_approve",
    "pay_disbursement",
    "receipt_content",
    "record_donation",
    "report_use",
    "request_disbursement",
    "reverse_donation",
    "set_donor_consent",
    "source_accounts",
    "tier_for",
    "withdraw_disbursement",
]
