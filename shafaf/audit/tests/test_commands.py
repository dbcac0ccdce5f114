"""`manage.py audit_verify` and `audit_checkpoint` against a chain that an operator has tampered with.

Each tampering first drops the append-only triggers with raw SQL, as a database administrator would
have to; everything is rolled back with the test.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from shafaf.audit import services as audit
from shafaf.audit.models import AuditCheckpoint, AuditEvent
from tests.factories import OrganizationFactory

from . import tampering
from .tampering import event

EVENTS = 8


def append_events(n: int, subject) -> None:
    for i in range(n):
        with transaction.atomic():
            audit.record(
                actor=None, action="test.step", subject=subject, changes={"step": [i, i + 1]}, reason=f"step {i}"
            )


@pytest.fixture
def subject(db):
    return OrganizationFactory(name_ar="جمعية البر", name_en="Al-Birr Charity")


@pytest.fixture
def chain(subject):
    """Eight events, in a database with its production triggers."""
    tampering.install_triggers()
    append_events(EVENTS, subject)
    assert AuditEvent.objects.count() == EVENTS


def run(command: str, *args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def checkpoint_file(tmp_path):
    path = tmp_path / "checkpoint.json"
    code, output = run("audit_checkpoint", "--output", str(path))
    assert code == 0, output
    return path


def assert_broken_at(seq: int, output: str, code: int, words: str) -> None:
    assert code == 1, output
    assert f"audit chain BROKEN at event #{seq}:" in output
    assert words in output


# --- a whole chain -----------------------------------------------------------------------------------


def test_a_whole_chain_verifies_with_exit_code_zero(chain):
    code, output = run("audit_verify")
    assert code == 0
    assert f"audit chain OK: {EVENTS} events, head {event(EVENTS).hash}" in output


def test_an_empty_chain_verifies(db):
    code, output = run("audit_verify")
    assert code == 0
    assert "audit chain OK: 0 events" in output


def test_audit_checkpoint_prints_and_writes_the_count_and_head_hash(chain, tmp_path):
    path = tmp_path / "cp.json"
    code, output = run("audit_checkpoint", "--output", str(path))
    assert code == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["count"], data["head_hash"]) == (EVENTS, event(EVENTS).hash)
    assert json.loads(output) == data
    stored = AuditCheckpoint.objects.get()
    assert (stored.count, stored.head_hash) == (EVENTS, event(EVENTS).hash)


def test_a_checkpoint_still_holds_after_more_events(chain, subject, tmp_path):
    path = checkpoint_file(tmp_path)
    append_events(3, subject)
    code, output = run("audit_verify", "--checkpoint", str(path))
    assert code == 0, output
    assert f"{EVENTS + 1 + 3} events" in output  # the checkpoint's own event, then three more


# --- edited, deleted, inserted -------------------------------------------------------------------------


def test_an_edited_reason_is_found_and_named(chain):
    tampering.drop_triggers()
    tampering.edit_reason(5, "nothing to see here")
    code, output = run("audit_verify")
    assert_broken_at(5, output, code, "edited")


def test_edited_changes_are_found_and_named(chain):
    tampering.drop_triggers()
    original = event(3).changes
    tampering.edit_changes(3, {"step": [2, 30]})
    assert event(3).changes != original
    code, output = run("audit_verify")
    assert_broken_at(3, output, code, "edited")


def test_a_deleted_middle_event_is_found_and_named(chain):
    tampering.drop_triggers()
    tampering.delete_events(4)
    code, output = run("audit_verify")
    assert_broken_at(4, output, code, "missing")


def test_a_deleted_first_event_is_found_and_named(chain):
    tampering.drop_triggers()
    tampering.delete_events(1)
    code, output = run("audit_verify")
    assert_broken_at(1, output, code, "missing")


def test_a_forged_event_spliced_in_with_renumbered_seqs_is_found(chain):
    """The forger renumbers #4.. to #5.., inserts a self-consistent #4 linked to #3 and re-points the
    old #4 at it. The forged event is internally whole; the one after it no longer matches its hash."""
    tampering.drop_triggers()
    like, before = event(4), event(3)
    tampering.shift_seqs_from(4)
    tampering.set_prev_hash(5, "f" * 64)  # out of the way of the unique prev_hash
    forged = tampering.forge(seq=4, prev_hash=before.hash, like=like, reason="approved by phone")
    tampering.set_prev_hash(5, forged.hash)
    tampering.set_head_to_last()
    assert AuditEvent.objects.count() == EVENTS + 1
    code, output = run("audit_verify")
    assert_broken_at(5, output, code, "does not match its hash")


def test_a_forged_event_with_a_recomputed_hash_but_a_wrong_link_is_named(chain):
    tampering.drop_triggers()
    like = event(4)
    tampering.shift_seqs_from(4)
    # Its own hash is right, but it links to the head instead of to #3.
    tampering.forge(seq=4, prev_hash=event(EVENTS + 1).hash, like=like, reason="forged")
    tampering.set_head_to_last()
    code, output = run("audit_verify")
    assert_broken_at(4, output, code, "does not link")


def test_a_forged_event_appended_at_the_end_with_a_wrong_link_is_named(chain):
    tampering.drop_triggers()
    tampering.forge(seq=EVENTS + 1, prev_hash=event(EVENTS - 1).hash[::-1], like=event(EVENTS))
    tampering.set_head_to_last()
    code, output = run("audit_verify")
    assert_broken_at(EVENTS + 1, output, code, "does not link")


# --- a cut tail and a full rewrite -------------------------------------------------------------------------


def test_a_cut_tail_with_a_stale_head_row_is_found_without_a_checkpoint(chain):
    tampering.drop_triggers()
    tampering.delete_events(EVENTS - 1, EVENTS)
    code, output = run("audit_verify")
    assert_broken_at(EVENTS - 1, output, code, "tail cut")


def test_a_checkpoint_kept_in_the_database_finds_a_cut_tail_with_a_doctored_head(chain):
    run("audit_checkpoint")
    tampering.drop_triggers()
    tampering.delete_events(EVENTS - 1, EVENTS, EVENTS + 1)  # the last two events and the checkpoint's own
    tampering.set_head_to_last()
    code, output = run("audit_verify")
    assert_broken_at(EVENTS - 1, output, code, "tail cut")


def test_a_cut_tail_hidden_from_the_database_is_found_by_the_checkpoint_file(chain, tmp_path):
    path = checkpoint_file(tmp_path)
    tampering.drop_triggers()
    tampering.delete_events(EVENTS - 1, EVENTS, EVENTS + 1)  # the last two events and the checkpoint's own
    tampering.set_head_to_last()
    tampering.forget_checkpoints()

    code, output = run("audit_verify")
    assert code == 0, "the doctored chain is whole in itself: only the outside checkpoint can tell"

    code, output = run("audit_verify", "--checkpoint", str(path))
    assert_broken_at(EVENTS - 1, output, code, f"the checkpoint saw {EVENTS} events but only {EVENTS - 2} remain")


def test_a_full_rewrite_is_found_by_the_checkpoint_file(chain, tmp_path):
    path = checkpoint_file(tmp_path)
    tampering.drop_triggers()
    tampering.edit_reason(3, "rewritten history")
    tampering.rehash_from(3)
    tampering.set_head_to_last()
    tampering.forget_checkpoints()

    code, output = run("audit_verify")
    assert code == 0, "every hash was recomputed: the chain alone cannot tell"

    code, output = run("audit_verify", "--checkpoint", str(path))
    assert_broken_at(EVENTS, output, code, "history rewritten")


def test_a_rewrite_before_the_checkpoint_also_fails_when_events_were_added_since(chain, subject, tmp_path):
    path = checkpoint_file(tmp_path)
    append_events(2, subject)
    tampering.drop_triggers()
    tampering.edit_reason(2, "rewritten history")
    tampering.rehash_from(2)
    tampering.set_head_to_last()
    tampering.forget_checkpoints()
    assert run("audit_verify")[0] == 0
    code, output = run("audit_verify", "--checkpoint", str(path))
    assert_broken_at(EVENTS, output, code, "history rewritten")


# --- the commands' own errors ----------------------------------------------------------------------------------


def test_audit_checkpoint_refuses_a_broken_chain(chain, tmp_path):
    tampering.drop_triggers()
    tampering.edit_reason(2, "edited")
    path = tmp_path / "cp.json"
    with pytest.raises(CommandError, match="#2"):
        call_command("audit_checkpoint", "--output", str(path), stdout=io.StringIO())
    assert not path.exists()
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.parametrize("content", [None, "not json", '{"count": 3}', '{"count": "x", "head_hash": "y"}'])
def test_audit_verify_refuses_an_unreadable_checkpoint(chain, tmp_path, content):
    path = tmp_path / "cp.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read checkpoint"):
        call_command("audit_verify", "--checkpoint", str(path), stdout=io.StringIO(), stderr=io.StringIO())
