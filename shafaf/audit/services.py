"""Writing to the audit chain. Every service write calls `record()` inside its own transaction."""

from __future__ import annotations

import functools

from django.db import connection, transaction
from django.utils import timezone

from shafaf.core import context
from shafaf.core.prepared import prepared_cursor

from .chain import compute_hash, content_of, jsonable
from .models import AuditChainHead, AuditCheckpoint, AuditEvent


def subject_type_of(subject) -> str:
    meta = subject._meta
    return f"{meta.app_label}.{meta.model_name}"


def diff(before: dict, after: dict) -> dict:
    """The fields whose value changed, as {field: [old, new]} in JSON-ready form."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def _role_for(actor, organization) -> str:
    if actor is None:
        return ""
    by_role = getattr(actor, "_shafaf_organizations_by_role", None)
    if by_role is not None:  # the actor's active memberships, already loaded for its permissions
        organization_id = getattr(organization, "pk", None)
        if organization_id is not None:
            own = sorted(role for role, ids in by_role.items() if organization_id in ids)
            if own:
                return own[0]
        return min(by_role, default="")
    memberships = actor.active_memberships()
    if organization is not None:
        own = memberships.filter(organization=organization).values_list("role", flat=True).first()
        if own:
            return own
    return memberships.order_by("role").values_list("role", flat=True).first() or ""


def record(
    *,
    actor,
    action: str,
    subject,
    changes: dict | None = None,
    reason: str = "",
    organization=None,
    role: str | None = None,
) -> AuditEvent:
    """Appends one event to the chain. Must run inside the caller's transaction, so that the event
    and the write it records are committed together or not at all."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must be called inside transaction.atomic()")
    head_seq, head_hash = _lock_head()
    event = AuditEvent(
        seq=head_seq + 1,
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_username=actor.get_username() if actor is not None and actor.pk else "",
        actor_role=role if role is not None else _role_for(actor, organization),
        organization=organization,
        action=action,
        subject_type=subject_type_of(subject),
        subject_id=str(subject.pk),
        subject_repr=str(subject)[:300],
        changes=jsonable(changes or {}),
        reason=reason or "",
        request_id=context.get_request_id(),
        prev_hash=head_hash,
    )
    event.hash = compute_hash(content_of(event))
    if connection.vendor == "postgresql":
        _insert_and_advance(event)
    else:
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def _lock_head() -> tuple[int, str]:
    """Locks the chain head until the transaction ends (every writer waits here for the one before it) and gives
    its sequence number and hash; creates it on the first event."""
    row = None
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(_HEAD_SQL)
            row = cursor.fetchone()
    if row is None:
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        return head.seq, head.hash
    return row[0], row[1]


_HEAD_SQL = f'SELECT "seq", "hash" FROM "{AuditChainHead._meta.db_table}" WHERE "id" = 1 FOR UPDATE'  # noqa: S608


@functools.cache
def _insert_sql() -> tuple[str, list]:
    """The statement of _insert_and_advance and the fields whose values it takes, in order."""
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    events, heads = AuditEvent._meta.db_table, AuditChainHead._meta.db_table
    sql = (
        f'WITH e AS (INSERT INTO "{events}" ({columns}) VALUES ({placeholders}) RETURNING "id", "seq", "hash") '  # noqa: S608
        f'UPDATE "{heads}" SET "seq" = e.seq, "hash" = e.hash FROM e WHERE "{heads}"."id" = 1 RETURNING e.id'
    )
    return sql, fields


def _insert_and_advance(event: AuditEvent) -> None:
    """Inserts the event and moves the chain head to it in one statement (PostgreSQL)."""
    sql, fields = _insert_sql()
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


def checkpoint_create(*, actor=None) -> AuditCheckpoint:
    """Stores the chain's current length and head hash, then records that it did (so the checkpoint
    covers every event before its own). Refuses when the chain is not whole."""
    from .chain import verify_everything

    with transaction.atomic():
        AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        result = verify_everything()
        if not result.ok:
            raise ValueError(str(result.problem))
        checkpoint = AuditCheckpoint.objects.create(count=result.count, head_hash=result.head_hash)
        record(
            actor=actor,
            action="audit.checkpoint",
            subject=checkpoint,
            changes={"count": [None, checkpoint.count], "head_hash": [None, checkpoint.head_hash]},
        )
    return checkpoint
