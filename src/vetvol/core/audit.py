"""The audit log: append-only, hash-chained, never holding a secret or a full identifier.

`record()` appends one row inside the caller's transaction, so a rolled-back change leaves no row saying
it happened. Denials are recorded before any transaction that could roll them back is opened (see
`core.scoping.require`). `verify()` walks the chains and names the first row that does not match.

The log is `settings.VETVOL_AUDIT_CHAINS` interleaved chains. An append locks the head of its chain until
its transaction ends; on PostgreSQL it takes the first head no other transaction holds (`SKIP LOCKED`), so
concurrent changes (a thousand volunteers checking in) do not queue behind one lock. Each chain on its own is
a complete hash chain; `id` orders the log as a whole. SQLite serialises writers anyway: one chain there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from vetvol.core import chains as hash_chains
from vetvol.core import rawsql
from vetvol.core.context import client_ip
from vetvol.core.models import AuditChainHead, AuditEntry, AuditOutcome

GENESIS = hash_chains.GENESIS
_SECRET_KEYS = re.compile(r"pass|secret|token|otp|key|id_number|idcard", re.IGNORECASE)
_ID_NUMBER = re.compile(r"\b(\d{6})\d{8}(\d{3}[\dXx])\b")


def _clean(value: Any) -> Any:
    """Drop secret-looking keys and cut 18-digit ID numbers down to their masked form."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if not _SECRET_KEYS.search(str(k))}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _ID_NUMBER.sub(lambda m: m.group(1)[:3] + "*" * 11 + m.group(2)[-4:], value)
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)


_digest = hash_chains.digest


def _fields(entry: AuditEntry) -> dict[str, Any]:
    """The hashed content of a row, in the form it reads back from the database. (The chain number is
    hashed from chain 2 on; rows of chain 1 hash as they did when the log had a single chain.)"""
    fields = {"chain": entry.chain} if entry.chain != 1 else {}
    return {
        **fields,
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "outcome": entry.outcome,
        "subject": entry.subject,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "region_code": entry.region_code,
        "ip": entry.ip,
        "detail": entry.detail,
    }


def record(action: str, **fields: Any) -> AuditEntry:
    """Append one row. `action` is dotted (`auth.login`, `regions.service_centre.create`); `fields` are
    those of `entry`: actor, outcome, subject, obj, region_code, detail."""
    return append([entry(action, **fields)])[0]


def entry(
    action: str,
    *,
    actor: Any = None,
    outcome: str = AuditOutcome.SUCCESS,
    subject: str = "",
    obj: models.Model | None = None,
    region_code: str = "",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """A row to `append` (not yet in a chain): what `record` takes, for a batch of changes."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None and not region_code:
        region_code = getattr(obj, getattr(obj, "region_field", "region_code"), "") or ""
    return AuditEntry(
        actor=actor,
        actor_label=(actor.get_username() if actor is not None else "")[:150],
        action=action,
        outcome=outcome,
        subject=subject[:150],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        region_code=region_code,
        ip=ip if ip is not None else client_ip.get(),
        detail=_clean(detail or {}),
    )


def append(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Append rows made by `entry`, in order, to one chain: one head lock and one insert for the batch
    (a group of check-ins written together, see core.groupcommit)."""
    # Inside the caller's transaction no savepoint is needed: if anything here fails, the change it audits
    # must roll back with it.
    with transaction.atomic(savepoint=False):
        chain, last_hash, last_seq = _lock_head()
        at = timezone.now()
        for e in entries:
            last_seq += 1
            e.chain, e.seq, e.at, e.prev_hash = chain, last_seq, at, last_hash
            e.entry_hash = last_hash = _digest(e.prev_hash, _fields(e))
        if len(entries) == 1:
            rawsql.insert(entries[0])
        else:
            columns = [f.attname for f in AuditEntry._meta.concrete_fields if not f.primary_key]
            rawsql.insert_many(AuditEntry, [{c: getattr(e, c) for c in columns} for e in entries])
        hash_chains.set_head(AuditChainHead, chain, last_hash, last_seq)
    return entries


def chains() -> int:
    return hash_chains.count("VETVOL_AUDIT_CHAINS")


def _lock_head() -> tuple[int, str, int]:
    return hash_chains.lock_head(AuditChainHead, chains())


@dataclass
class VerifyResult:
    checked: int
    bad_seq: int | None = None
    reason: str = ""
    chain: int = 1

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


def verify(batch_size: int = 5000) -> VerifyResult:
    """Recompute every chain from its first row; the first mismatch is named by chain and sequence number."""
    checked = 0
    heads = {h.id: h for h in AuditChainHead.objects.all()}
    for chain in sorted({*heads, *AuditEntry.objects.values_list("chain", flat=True).distinct()}):
        prev_hash: str | None = None
        expected_seq = 1
        rows = AuditEntry.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=batch_size)
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyResult(checked, expected_seq, f"row {expected_seq} is missing", chain)
            if prev_hash is not None and entry.prev_hash != prev_hash:
                return VerifyResult(checked, entry.seq, "link to the previous row is broken", chain)
            if _digest(entry.prev_hash, _fields(entry)) != entry.entry_hash:
                return VerifyResult(checked, entry.seq, "content does not match its hash", chain)
            prev_hash, expected_seq = entry.entry_hash, entry.seq + 1
            checked += 1
        head = heads.get(chain)
        if head is not None and head.last_seq and head.last_hash != prev_hash:
            return VerifyResult(checked, head.last_seq, "the newest rows are missing", chain)
    return VerifyResult(checked)
