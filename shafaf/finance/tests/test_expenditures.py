"""expenditure_record: who may record, every bad input refused with a clear message and nothing written, the
conversion keeping its rate and date, the ledger and the roll-up after it."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from unittest import mock

import pytest

from shafaf.accounts.choices import Role
from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money
from shafaf.finance import expenditures, ledger, rates
from shafaf.finance.expenditures import Converter, expenditure_record
from shafaf.finance.models import Expenditure, LedgerEntry, ProjectFinance
from tests.factories import member, pdf_upload

from .helpers import english, finance_officer
from .helpers_expenditures import END, SPENT, START, TODAY, line, rate, running_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(world):
    return running_project(world)


def record(world, project, *, actor=None, **overrides):
    values = {
        "line": line(project, "A"),
        "amount": "100.250",
        "currency": "KWD",
        "spent_on": SPENT,
        "evidence_kind": "invoice",
        "file": pdf_upload("invoice.pdf"),
        "reference": "INV-1",
        "place": "Khartoum",
        "description": "Cement",
    }
    values.update(overrides)
    with english():
        return expenditure_record(actor=actor or world.najat, project=project, **values)


def refused(world, project, field: str, **overrides) -> str:
    """The message on `field` of the refusal, after checking that nothing was written."""
    before = (Expenditure.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DomainError) as caught:
        record(world, project, **overrides)
    assert (Expenditure.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count()) == before
    assert field in caught.value.fields, caught.value.fields
    return " ".join(str(m) for m in caught.value.fields[field])


def test_recorded_in_the_project_currency_with_ledger_rollup_and_audit(world, project):
    expenditure = record(world, project)
    assert (expenditure.amount_minor, expenditure.currency, expenditure.project_amount_minor) == (
        100_250,
        "KWD",
        100_250,
    )
    assert expenditure.rate == "" and expenditure.rate_date is None
    assert len(expenditure.sha256) == 64 and expenditure.file
    assert line(project, "A").spent_minor == 100_250
    finance = ProjectFinance.objects.get(project=project)
    assert finance.spent_minor == 100_250 and finance.budget_minor == 1_500_000
    assert ledger.trial_balance() == {"KWD": 0}
    assert ledger.balance(ledger.project_line(project, line(project, "A"), "KWD")) == Money(100_250, "KWD")
    assert ledger.balance(ledger.project_advance(project, "KWD")) == Money(-100_250, "KWD")
    event = AuditEvent.objects.get(action="expenditure.record")
    assert event.changes["amount"][1] == {"amount": "100.250", "currency": "KWD"}


def test_ten_times_a_tenth_is_exactly_one(world, project):
    for index in range(10):
        record(world, project, amount="0.100", reference=f"R{index}")
    assert line(project, "A").spent_minor == 1000
    assert ProjectFinance.objects.get(project=project).spent_minor == 1000


def test_conversion_keeps_rate_and_its_date(world, project):
    rate("USD", SPENT - dt.timedelta(days=3), "0.305")
    expenditure = record(world, project, amount="1000.00", currency="USD")
    assert expenditure.amount_minor == 100_000 and expenditure.currency == "USD"
    assert expenditure.project_amount_minor == 305_000
    assert expenditure.rate == "0.305" and expenditure.rate_date == SPENT - dt.timedelta(days=3)
    assert line(project, "A").spent_minor == 305_000
    assert ledger.trial_balance() == {"KWD": 0}


def test_missing_rate_is_refused_naming_currency_and_date(world, project):
    message = refused(world, project, "currency", amount="10.00", currency="EUR")
    assert "EUR" in message and SPENT.isoformat() in message


@pytest.mark.parametrize(
    ("amount", "currency", "field", "words"),
    [
        ("0.0001", "KWD", "amount", "more decimals than KWD"),
        ("0.001", "USD", "amount", "more decimals than USD"),
        ("-5.000", "KWD", "amount", "more than zero"),
        ("0", "KWD", "amount", "more than zero"),
        ("1000000000001", "KWD", "amount", "beyond any plausible"),
        ("12abc", "KWD", "amount", "not an amount"),
        ("", "KWD", "amount", "Give the amount"),
        ("10.000", "XYZ", "currency", "Unknown currency code: XYZ"),
        ("10.000", "", "currency", "Give the currency"),
    ],
)
def test_bad_amounts_and_currencies_refused(world, project, amount, currency, field, words):
    rate("USD", SPENT, "0.3")
    assert words in refused(world, project, field, amount=amount, currency=currency)


def test_largest_plausible_amount_is_accepted(world, project):
    assert record(world, project, amount="1000000000000.000").amount_minor == 10**15


def test_dates_outside_the_project_and_in_the_future_refused(world, project):
    assert "outside the project's dates" in refused(world, project, "spent_on", spent_on=START - dt.timedelta(days=1))
    assert START.isoformat() in refused(world, project, "spent_on", spent_on=START - dt.timedelta(days=1))
    assert "in the future" in refused(world, project, "spent_on", spent_on=TODAY + dt.timedelta(days=1))
    assert "Give the date" in refused(world, project, "spent_on", spent_on=None)
    # The first and last days are inside.
    assert record(world, project, spent_on=START).spent_on == START


def test_line_of_another_project_refused(world, project):
    from shafaf.finance.models import BudgetLine

    foreign = BudgetLine.objects.create(project=world.project_b, code="X", category="programme")
    assert "not a budget line of this project" in refused(world, project, "line", line=foreign)
    assert "Choose the budget line" in refused(world, project, "line", line=None)


def test_evidence_rules(world, project):
    assert "invoice or a receipt" in refused(world, project, "evidence_kind", evidence_kind="reported")
    assert "Attach the invoice or receipt" in refused(world, project, "file", file=None)
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = SimpleUploadedFile("notes.pdf", b"just text, not a pdf", content_type="application/pdf")
    assert refused(world, project, "file", file=text)
    assert "At most 100" in refused(world, project, "reference", reference="x" * 101)


def test_several_problems_reported_together(world, project):
    with pytest.raises(DomainError) as caught:
        record(world, project, amount="0.0001", spent_on=TODAY + dt.timedelta(days=3), evidence_kind="x", file=None)
    assert set(caught.value.fields) == {"amount", "spent_on", "evidence_kind", "file"}


def test_line_blocked_by_a_rejected_deviation(world, project):
    with mock.patch.object(expenditures.deviations, "spending_blocked", return_value="Deviation rejected on A."):
        assert "Deviation rejected on A." in refused(world, project, "line")
    assert Expenditure.objects.count() == 0


def test_deviation_detection_runs_after_recording(world, project):
    with mock.patch.object(expenditures.deviations, "deviations_detect", return_value=[]) as detect:
        record(world, project)
    detect.assert_called_once()
    assert detect.call_args.kwargs["actor"] == world.najat


def test_who_may_record(world, project):
    assert record(world, project, actor=finance_officer(world)).pk
    assert record(world, project, actor=world.partner_reporter, reference="P-1").recorded_by == world.partner_reporter
    for user in (world.staff_a, world.rahma, world.reviewer, world.auditor, world.donor):
        with pytest.raises(NotAllowed):
            record(world, project, actor=user)
    assert Expenditure.objects.count() == 2


def test_partner_reporter_records_only_for_its_partners_projects(world, project):
    from shafaf.accounts.models import Organization

    other = Organization.objects.create(kind="partner", slug="other-partner", name_en="Other", name_ar="آخر")
    reporter = member(Role.PARTNER_REPORTER, other, "other_reporter")
    with pytest.raises(NotAllowed):
        record(world, project, actor=reporter)


def test_only_while_the_project_runs(world):
    project = world.project_a  # a draft
    from .helpers_expenditures import set_budget

    set_budget(world, project, {"A": 1000})
    with pytest.raises(Conflict) as caught:
        record(world, project)
    assert caught.value.code == "project_not_licensed"


def test_converter_matches_convert_on(world, project):
    """The import's cached converter gives exactly what rates.convert_on gives, crossed rates included."""
    rate("USD", SPENT, "0.30512")
    rate("EUR", SPENT - dt.timedelta(days=2), "0.33333")
    rate("JPY", SPENT, "0.0021")
    generator = random.Random(6)
    for target in ("KWD", "EUR", "USD"):
        converter = Converter(target)
        for _ in range(200):
            currency = generator.choice(["KWD", "USD", "EUR", "JPY"])
            money = Money(generator.randint(1, 10**12), currency)
            expected = rates.convert_on(money, target, SPENT)
            got = converter(money, SPENT)
            assert got.money == expected.money
            assert got.rate_text == expected.rate_text and got.rate_date == (
                expected.rate_date if expected.rate_text else None
            )


def test_amount_given_as_decimal_or_money(world, project):
    assert record(world, project, amount=Decimal("2.5")).amount_minor == 2500
    assert record(world, project, amount=Money(7, "KWD"), reference="M").amount_minor == 7
    assert "not KWD" in refused(world, project, "amount", amount=Money(7, "USD"))
    assert END > TODAY
