"""Settlement-file row errors in the platform's row-error format (shafaf.interop.rows.RowError)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from shafaf.donations.models import DonationImport
from shafaf.donations.tests.helpers import import_text
from shafaf.finance.tests.helpers import license_project
from tests.factories import World, approved_bank_account, donor_of

YESTERDAY = (timezone.localdate() - dt.timedelta(days=1)).isoformat()


@pytest.fixture
def setup(db):
    with translation.override("en"):
        world = World()
        license_project(world)
        account = approved_bank_account(world)
        donor_of(world, external_ref="D-7")
    return world, account


run = import_text


def test_each_bad_row_has_row_column_value_code_and_message(setup):
    world, account = setup
    text = (
        "channel_ref,received_at,amount,currency,donor_ref,project,anonymous\n"
        f"T1,{YESTERDAY} 10:00,5.250,KWD,D-7,,no\n"
        f"T2,{YESTERDAY},1.0001,KWD,,,\n"
        f"T3,not a date,1,KWD,,,\n"
        f"T4,{YESTERDAY},1,USD,,,\n"
        f"T5,{YESTERDAY},1,KWD,NOPE,,\n"
        f"T6,{YESTERDAY},1,KWD,,PRJ-NONE,\n"
        f"T7,{YESTERDAY},1,KWD,,,maybe\n"
        f",{YESTERDAY},1,KWD,,,\n"
    )
    batch = run(world, account, text)
    assert (batch.rows_ok, batch.rows_failed) == (1, 7)
    for error in batch.errors:
        assert set(error) == {"row", "column", "value", "code", "message"}
    got = {error["row"]: (error["column"], error["value"], error["code"]) for error in batch.errors}
    assert got == {
        3: ("amount", "1.0001", "invalid_amount"),
        4: ("received_at", "not a date", "invalid_date"),
        5: ("currency", "USD", "currency_mismatch"),
        6: ("donor_ref", "NOPE", "unknown_donor"),
        7: ("project", "PRJ-NONE", "invalid_project"),
        8: ("anonymous", "maybe", "invalid_choice"),
        9: ("channel_ref", "", "required"),
    }


def test_a_refused_file_is_row_zero_with_code_file(setup):
    world, account = setup
    batch = run(world, account, "reference,when\nA,B\n")
    assert batch.status == DonationImport.Status.FAILED
    first = batch.errors[0]
    assert (first["row"], first["column"], first["code"]) == (0, "", "file")
    assert "channel_ref" in first["message"]
