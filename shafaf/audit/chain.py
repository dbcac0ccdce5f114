"""The audit hash chain: canonical content, hashing and verification. No writes here."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise

from .models import GENESIS_HASH, AuditEvent

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "organization_id",
    "action",
    "subject_type",
    "subject_id",
    "subject_repr",
    "changes",
    "reason",
    "request_id",
    "prev_hash",
)


_AS_IS = frozenset({str, int, bool, type(None)})


def jsonable(value):
    """Turns a value into JSON that reads back as itself on SQLite and PostgreSQL alike.

    The common shapes (plain text, numbers, dicts with text keys, lists) are recognised by their exact type first:
    a bulk import hashes thousands of events. Anything else takes `_jsonable_other`, whose answers are the same
    as they always were (the chain's hashes depend on them)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {(k if type(k) is str else str(k)): jsonable(v) for k, v in value.items()}
    if kind is list:
        return [jsonable(v) for v in value]
    return _jsonable_other(value)


def _jsonable_other(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # Floats do not survive every JSON column bit for bit; their repr does.
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Promise)):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


def content_of(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def compute_hash(content: dict) -> str:
    return hash_json_ready(jsonable(content))


def hash_json_ready(content: dict) -> str:
    """compute_hash of content that is already what `jsonable` makes of it (a bulk import prepares thousands of
    events' changes once, and does not walk them a second time to hash them)."""
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" if self.seq is not None else "chain"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class VerifyResult:
    count: int
    head_hash: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(*, up_to: int | None = None, batch_size: int = 2000) -> VerifyResult:
    """Walks the chain in order and stops at the first event that is not what the chain says it is.

    Catches an edited event (its hash no longer matches its content), a deleted one (a gap in the
    sequence and a broken link) and an inserted one (a broken link, or a hash that does not match).
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    queryset = AuditEvent.objects.order_by("seq")
    if up_to is not None:
        queryset = queryset.filter(seq__lte=up_to)
    for event in queryset.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                message = f"events #{expected_seq} to #{event.seq - 1} are missing"
                return VerifyResult(expected_seq - 1, prev_hash, Problem(expected_seq, message))
            return VerifyResult(expected_seq - 1, prev_hash, Problem(event.seq, "sequence number out of order"))
        if event.prev_hash != prev_hash:
            return VerifyResult(
                expected_seq - 1,
                prev_hash,
                Problem(event.seq, "does not link to the event before it (inserted or reordered)"),
            )
        actual = compute_hash(content_of(event))
        if actual != event.hash:
            return VerifyResult(
                expected_seq - 1, prev_hash, Problem(event.seq, "content does not match its hash (edited)")
            )
        prev_hash = event.hash
        expected_seq += 1
    return VerifyResult(expected_seq - 1, prev_hash, None)


def verify_against_checkpoint(count: int, head_hash: str) -> VerifyResult:
    """Proves that the first ``count`` events are those the checkpoint saw: none cut, none rewritten."""
    result = verify_chain(up_to=count)
    if not result.ok:
        return result
    if result.count < count:
        return VerifyResult(
            result.count,
            result.head_hash,
            Problem(result.count + 1, f"the checkpoint saw {count} events but only {result.count} remain (tail cut)"),
        )
    if result.head_hash != head_hash:
        return VerifyResult(
            result.count,
            result.head_hash,
            Problem(count, "differs from the checkpoint's head hash (history rewritten)"),
        )
    return result


def verify_everything() -> VerifyResult:
    """The chain, then the head row, then every checkpoint stored in the database."""
    from .models import AuditChainHead, AuditCheckpoint

    result = verify_chain()
    if not result.ok:
        return result
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (result.count, result.head_hash):
        if head.seq > result.count:
            message = f"the chain head records {head.seq} events but only {result.count} remain (tail cut)"
        else:
            message = "the chain head does not match the last event"
        return VerifyResult(result.count, result.head_hash, Problem(min(head.seq, result.count) + 1, message))
    for checkpoint in AuditCheckpoint.objects.order_by("count"):
        checked = verify_against_checkpoint(checkpoint.count, checkpoint.head_hash)
        if not checked.ok:
            return VerifyResult(result.count, result.head_hash, checked.problem)
    return result
