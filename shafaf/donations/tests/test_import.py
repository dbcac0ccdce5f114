"""Settlement files: good rows kept, bad rows reported, a second import records nothing, the ledger balances."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import NotAllowed
from shafaf.donations import imports, services
from shafaf.donations.models import Allocation, Donation, DonationImport, Purpose
from shafaf.donations.tests.helpers import import_text
from shafaf.finance import ledger
from shafaf.finance.tests.helpers import license_project
from tests.factories import World, approved_bank_account, donor_of

YESTERDAY = (timezone.localdate() - dt.timedelta(days=1)).isoformat()


@pytest.fixture
def setup(db):
    with translation.override("en"):
        world = World()
        project = license_project(world)
        account = approved_bank_account(world)
        donor = donor_of(world, external_ref="D-7")
    return world, project, account, donor


def run(world, account, text: str | bytes, channel="knet", actor=None):
    return import_text(world, account, text, channel=channel, actor=actor)


def test_good_rows_are_kept_bad_rows_reported_with_row_and_column(setup):
    world, project, account, donor = setup
    text = (
        "channel_ref,received_at,amount,currency,donor_ref,project,anonymous\n"
        f"T1,{YESTERDAY} 10:00,5.250,KWD,D-7,,no\n"
        f"T2,{YESTERDAY} 11:00,1.000,,,{project.reference},yes\n"
        f"T3,{YESTERDAY},0,KWD,,,\n"
        f"T4,{YESTERDAY},1.0001,KWD,,,\n"
        f"T5,not a date,1,KWD,,,\n"
        f"T6,{YESTERDAY},1,USD,,,\n"
        f"T7,{YESTERDAY},1,KWD,NOPE,,\n"
        f"T8,{YESTERDAY},1,KWD,,PRJ-NONE,\n"
        f"T9,2999-01-01,1,KWD,,,\n"
        f",{YESTERDAY},1,KWD,,,\n"
        f"T1,{YESTERDAY},5.250,KWD,,,\n"
    )
    batch = run(world, account, text)
    assert batch.status == DonationImport.Status.DONE
    assert (batch.rows_done, batch.rows_ok, batch.rows_duplicate, batch.rows_failed) == (11, 2, 1, 8)
    where = {(error["row"], error["column"]) for error in batch.errors}
    assert where == {
        (4, "amount"),
        (5, "amount"),
        (6, "received_at"),
        (7, "currency"),
        (8, "donor_ref"),
        (9, "project"),
        (10, "received_at"),
        (11, "channel_ref"),
    }
    t1 = Donation.objects.get(channel_ref="T1")
    assert (t1.donor_id, t1.amount_minor, t1.purpose, t1.batch_id) == (donor.pk, 5250, Purpose.GENERAL, batch.pk)
    t2 = Donation.objects.get(channel_ref="T2")
    assert t2.anonymous and t2.purpose == Purpose.PROJECT and t2.donor.external_ref == imports.UNIDENTIFIED_REF
    assert Allocation.objects.get(donation=t2).amount_minor == 1000
    assert ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor == 6250
    assert ledger.balance(ledger.project_fund(project, "KWD")).minor == -1000
    assert ledger.balance(services.general_fund(world.charity_a, "KWD")).minor == -5250
    assert AuditEvent.objects.filter(action="donation_import.finish", subject_id=str(batch.pk)).exists()


def test_importing_the_same_file_twice_records_nothing_new(setup):
    world, _project, account, _donor = setup
    text = "channel_ref;received_at;amount\n" + "".join(f"R{i};{YESTERDAY} 09:00;1.5\n" for i in range(30))
    first = run(world, account, text)
    second = run(world, account, text)
    assert (first.rows_ok, second.rows_ok, second.rows_duplicate) == (30, 0, 30)
    assert Donation.objects.count() == 30
    # Another channel's references are its own.
    assert run(world, account, text, channel="card").rows_ok == 30


def test_chunks_and_a_line_in_another_encoding(setup, monkeypatch):
    world, _project, account, _donor = setup
    monkeypatch.setattr(imports, "CHUNK_ROWS", 7)
    lines = [f"C{i},{YESTERDAY} 09:00,2\n".encode() for i in range(20)]
    lines[5] = f"C5,{YESTERDAY} 09:00,2,\u00e9\n".encode("latin-1")  # not UTF-8
    data = b"\xef\xbb\xbfchannel_ref,received_at,amount\n" + b"".join(lines)
    batch = run(world, account, data)
    assert (batch.rows_ok, batch.rows_failed) == (19, 1)
    assert batch.errors[0]["row"] == 7 and "UTF-8" in batch.errors[0]["message"]
    assert ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor == 38000
    assert sum(ledger.trial_balance().values()) == 0


def test_a_file_without_the_required_columns_or_not_utf8_fails_clearly(setup):
    world, _project, account, _donor = setup
    batch = run(world, account, "ref,amount\nX,1\n")
    assert batch.status == DonationImport.Status.FAILED and "received_at" in batch.errors[0]["message"]
    batch = run(world, account, "channel_ref,received_at,amount,مبلغ\n".encode("cp1256"))
    assert batch.status == DonationImport.Status.FAILED and "UTF-8" in batch.errors[0]["message"]
    assert run(world, account, b"").status == DonationImport.Status.FAILED
    assert not Donation.objects.exists()


def test_only_the_charitys_finance_roles_import(setup):
    world, _project, account, _donor = setup
    for outsider in (world.staff_a, world.rahma, world.reviewer, world.donor):
        with pytest.raises(NotAllowed):
            run(world, account, "channel_ref,received_at,amount\n", actor=outsider)


def test_the_command(setup, tmp_path, capsys):
    _world, _project, account, _donor = setup
    path = tmp_path / "sms.csv"
    path.write_text(f"channel_ref,received_at,amount\nS1,{YESTERDAY},3\nS2,{YESTERDAY},x\n", encoding="utf-8")
    call_command("import_donations", "charity-a", "sms", str(path), "--bank-account", account.iban, "--user", "najat")
    out = capsys.readouterr().out
    assert "1 kept" in out and "row 3, amount" in out
    with pytest.raises(CommandError):
        call_command("import_donations", "charity-a", "sms", str(path), "--bank-account", "X", "--user", "najat")
