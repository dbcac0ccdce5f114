"""A settlement import outside any transaction on PostgreSQL: its chunks are written by several threads, each in its
own connection and transaction (imports._Writers). The rows, counts, errors and ledger must be those of the
import one chunk after another."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone, translation

from shafaf.donations import imports
from shafaf.donations.models import Allocation, Donation, DonationImport
from shafaf.donations.tests.helpers import import_text
from shafaf.finance import ledger
from shafaf.finance.tests.helpers import license_project
from tests.factories import World, approved_bank_account, donor_of

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="chunks are written in parallel on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

DAY = (timezone.localdate() - dt.timedelta(days=1)).isoformat()


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 40)  # many chunks, several of them written at once
    with translation.override("en"):
        world = World()
        project = license_project(world)
        account = approved_bank_account(world)
        donor_of(world, external_ref="D-7")
    return world, project, account


def run(world, account, text: str, progress=None):
    assert not connection.in_atomic_block and imports._Writers.usable()
    return import_text(world, account, text, progress=progress)


def test_parallel_chunks_keep_every_good_row_once_with_the_counts_and_errors_in_row_order(setup):
    world, project, account = setup
    lines = ["channel_ref,received_at,amount,donor_ref,project"]
    kept, refused, duplicates, expected_total = [], 0, 0, 0
    for i in range(600):
        if i % 97 == 13:
            lines.append(f"B{i},{DAY} 09:00,-1,,")  # refused
            refused += 1
        elif i % 50 == 7 and i > 50:
            lines.append(f"{kept[-41]},{DAY} 09:00,9,,")  # a reference kept about one chunk before
            duplicates += 1
        else:
            minor = 1000 + i
            expected_total += minor
            kept.append(f"P{i}")
            lines.append(f"P{i},{DAY} 09:00,{minor // 1000}.{minor % 1000:03d},D-7,{project.reference}")
    seen = []
    batch = run(world, account, "\n".join(lines) + "\n", progress=seen.append)
    assert batch.status == DonationImport.Status.DONE
    assert (batch.rows_done, batch.rows_ok, batch.rows_duplicate, batch.rows_failed) == (
        600,
        len(kept),
        duplicates,
        refused,
    )
    assert [error["row"] for error in batch.errors] == sorted(error["row"] for error in batch.errors)
    assert len(batch.errors) == refused
    donations = Donation.objects.filter(batch=batch)
    assert donations.count() == batch.rows_ok
    assert donations.values("channel_ref").distinct().count() == batch.rows_ok
    assert sum(donations.values_list("amount_minor", flat=True)) == expected_total
    assert Allocation.objects.filter(donation__batch=batch).count() == batch.rows_ok
    assert ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor == expected_total
    assert ledger.unbalanced_transactions() == [] and sum(ledger.trial_balance().values()) == 0
    assert seen and seen[-1]["done"] <= 600

    again = run(world, account, "\n".join(lines) + "\n")
    assert (again.rows_ok, again.rows_duplicate, again.rows_failed) == (0, 600 - refused, refused)
    assert Donation.objects.count() == batch.rows_ok


def test_the_same_reference_in_chunks_written_at_once_is_kept_once(setup):
    """Every chunk carries the same reference, each time with another amount: the file's first row is the one
    kept, as when the chunks are written one after another."""
    world, _project, account = setup
    lines = ["channel_ref,received_at,amount"]
    for chunk in range(8):
        lines.extend(f"U{chunk}-{i},{DAY} 09:00,1" for i in range(chunk * 4))
        lines.append(f"SAME,{DAY} 09:00,{chunk + 2}")
        lines.extend(f"V{chunk}-{i},{DAY} 09:00,1" for i in range(39 - chunk * 4))
    batch = run(world, account, "\n".join(lines) + "\n")
    assert (batch.rows_done, batch.rows_ok, batch.rows_duplicate, batch.rows_failed) == (320, 313, 7, 0)
    assert list(Donation.objects.filter(channel_ref="SAME").values_list("amount_minor", flat=True)) == [2000]
    assert ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor == 312_000 + 2000


def test_a_writer_error_stops_the_import_and_is_raised(setup, monkeypatch):
    world, _project, account = setup
    written, lock = [], threading.Lock()
    original = imports._write

    def failing(run_, kept):
        with lock:
            if len(written) >= 2:
                raise RuntimeError("the disk is full")
            written.append(len(kept))
        return original(run_, kept)

    monkeypatch.setattr(imports, "_write", failing)
    lines = ["channel_ref,received_at,amount"] + [f"E{i},{DAY} 09:00,1" for i in range(2000)]
    with pytest.raises(RuntimeError, match="the disk is full"):
        run(world, account, "\n".join(lines) + "\n")
    # The chunks committed before the error stay, whole; nothing else does.
    assert Donation.objects.count() == sum(written) == 80
    assert ledger.unbalanced_transactions() == []


def test_two_imports_of_one_file_at_once_record_each_reference_once(setup):
    """Two imports (a file uploaded twice at once) race for the same references: the database's unique index
    makes a chunk that meets the other import's uncommitted rows wait, fail and be written again (or a
    deadlock between them be broken and retried); every reference ends up recorded once, the unidentified
    donor too."""
    world, _project, account = setup
    text = "channel_ref,received_at,amount\n" + "".join(f"R{i},{DAY} 09:00,1.5\n" for i in range(400))
    results, problems = [], []

    def one():
        try:
            results.append(run(world, account, text))
        except Exception as error:  # shown by the assertion below
            problems.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert sorted((batch.rows_ok + batch.rows_duplicate, batch.rows_failed) for batch in results) == [(400, 0)] * 2
    assert sum(batch.rows_ok for batch in results) == 400
    assert Donation.objects.count() == Donation.objects.values("channel_ref").distinct().count() == 400
    assert ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor == 400 * 1500
    assert ledger.unbalanced_transactions() == []
