"""What a database administrator could do to the audit table behind the application's back.

The application never updates or deletes an event, and the database's triggers refuse it; an
operator who owns the database can still drop the triggers first. These helpers do exactly that,
with raw SQL, so the tests can show that `audit_verify` (and a checkpoint kept outside) finds it.
Inside a test's transaction, everything here is rolled back with the test (DDL included, on both
SQLite and PostgreSQL).
"""

from __future__ import annotations

import json

from django.db import connection

from shafaf.audit import triggers
from shafaf.audit.chain import compute_hash, content_of
from shafaf.audit.models import AuditEvent


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def install_triggers() -> None:
    """The production state. The test database has no triggers (conftest removes them so that
    transactional tests can empty the table); installed inside a test, they go with its rollback."""
    triggers.install(connection)


def drop_triggers() -> None:
    """What an operator must do first: take the append-only triggers away."""
    if connection.vendor == "sqlite":
        _execute("DROP TRIGGER audit_event_no_update")
        _execute("DROP TRIGGER audit_event_no_delete")
    elif connection.vendor == "postgresql":
        _execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
    else:  # pragma: no cover - the project supports these two
        raise NotImplementedError(connection.vendor)


def event(seq: int) -> AuditEvent:
    return AuditEvent.objects.get(seq=seq)


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def edit_reason(seq: int, reason: str) -> None:
    assert _execute("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", [reason, seq]) == 1


def edit_changes(seq: int, changes: dict) -> None:
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    sql = "UPDATE audit_auditevent SET changes = " + cast + " WHERE seq = %s"  # noqa: S608 - no user input
    assert _execute(sql, [json.dumps(changes, ensure_ascii=False), seq]) == 1


def delete_events(*seqs: int) -> None:
    for seq in seqs:
        assert _execute("DELETE FROM audit_auditevent WHERE seq = %s", [seq]) == 1


def set_head(seq: int, head_hash: str) -> None:
    """Makes the chain head row agree with a doctored chain."""
    assert _execute("UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, head_hash]) == 1


def set_head_to_last() -> None:
    last = event(last_seq())
    set_head(last.seq, last.hash)


def forget_checkpoints() -> None:
    """An operator who cuts the chain also empties the checkpoints kept in the same database."""
    _execute("DELETE FROM audit_auditcheckpoint")


def shift_seqs_from(seq: int, by: int = 1) -> None:
    """Renumbers events seq.. to make room (in two steps, so no unique seq clashes on the way)."""
    _execute("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq >= %s", [seq])
    _execute("UPDATE audit_auditevent SET seq = seq - 1000000 + %s WHERE seq >= 1000000", [by])


def set_prev_hash(seq: int, prev_hash: str) -> None:
    assert _execute("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = %s", [prev_hash, seq]) == 1


def forge(*, seq: int, prev_hash: str, like: AuditEvent, **overrides) -> AuditEvent:
    """Inserts an event that looks like `like`, with a hash that matches its own content."""
    forged = AuditEvent(
        seq=seq,
        occurred_at=like.occurred_at,
        actor_id=like.actor_id,
        actor_username=like.actor_username,
        actor_role=like.actor_role,
        organization_id=like.organization_id,
        action=like.action,
        subject_type=like.subject_type,
        subject_id=like.subject_id,
        subject_repr=like.subject_repr,
        changes=like.changes,
        reason="",
        request_id=like.request_id,
        prev_hash=prev_hash,
    )
    for key, value in overrides.items():
        setattr(forged, key, value)
    forged.hash = compute_hash(content_of(forged))
    forged.save(force_insert=True)
    return forged


def rehash_from(seq: int) -> None:
    """Recomputes every hash from seq on, re-linking each event to the one before: a full rewrite."""
    previous = AuditEvent.objects.filter(seq=seq - 1).values_list("hash", flat=True).first()
    for ev in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if previous is not None:
            ev.prev_hash = previous
        ev.hash = compute_hash(content_of(ev))
        _execute(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s", [ev.prev_hash, ev.hash, ev.seq]
        )
        previous = ev.hash
