"""The one definition of "beyond a threshold", the roll-ups the portfolio reads, and the money a disbursement
leaves in the ledger and the roll-ups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money
from shafaf.finance import ledger, rollup, services, variance
from shafaf.finance.models import (
    BudgetKind,
    BudgetLine,
    BudgetVersion,
    BudgetVersionLine,
    Deviation,
    DeviationScope,
    DeviationStatus,
    ExchangeRate,
    Expenditure,
    ExpenditureSource,
    FinanceSettings,
    ProjectFinance,
)

from .helpers import english, license_project, register

# --- variance: pure -----------------------------------------------------------------------------------------------


def test_ten_percent_over_is_within_a_ten_percent_threshold_and_one_fils_more_is_beyond():
    assert not variance.is_beyond(110_000, 100_000, 1000)
    assert variance.is_beyond(110_001, 100_000, 1000)
    assert variance.state(110_000, 100_000, 1000, 80) == variance.WARNING
    assert variance.state(110_001, 100_000, 1000, 80) == variance.BEYOND


def test_warnings_start_before_the_threshold():
    # Threshold 10 %, warn at 80 % of it: from 108 % on; and whenever the line is fully spent.
    assert variance.state(107_999, 100_000, 1000, 80) == variance.WARNING  # fully spent already
    assert variance.state(99_999, 100_000, 1000, 80) == variance.WITHIN
    assert variance.state(100_000, 100_000, 1000, 80) == variance.WARNING
    assert variance.warning_level_bp(1000, 80) == 10800
    # With a warning level below 100 % (threshold 50 %, warn at 10 %: 105 %), spending of 95 % is within.
    assert variance.state(95_000, 100_000, 5000, 10) == variance.WITHIN


def test_spending_without_a_budget_is_always_beyond_and_underspending_never_is():
    assert variance.is_beyond(1, 0, 100000)
    assert not variance.is_beyond(0, 0, 0)
    assert not variance.is_beyond(0, 100_000, 0)
    assert variance.ratio_bp(5, 0) is None
    assert variance.Variance(budget=100, spent=40).difference == -60


@given(spent=st.integers(0, 10**15), budget=st.integers(1, 10**15), threshold=st.integers(0, 100000))
def test_beyond_agrees_with_exact_fractions(spent, budget, threshold):
    from fractions import Fraction

    assert variance.is_beyond(spent, budget, threshold) == (Fraction(spent, budget) > 1 + Fraction(threshold, 10000))


def test_risk_ranks_unsettled_deviations_first_then_how_far_over():
    calm = variance.risk(budget=100, spent=50, worst_line_bp=5000, unsettled=0, warning=False, lines_over=0)
    over = variance.risk(budget=100, spent=130, worst_line_bp=15000, unsettled=0, warning=False, lines_over=1)
    flagged = variance.risk(budget=100, spent=100, worst_line_bp=10000, unsettled=1, warning=False, lines_over=0)
    no_budget = variance.risk(budget=0, spent=5, worst_line_bp=None, unsettled=0, warning=False, lines_over=0)
    assert calm == 0 and calm < over < flagged and over < no_budget


# --- roll-ups -----------------------------------------------------------------------------------------------------


def budget(world, project, amounts: dict[str, int], *, number=1):
    version = BudgetVersion.objects.create(
        project=project,
        number=number,
        kind=BudgetKind.ORIGINAL if number == 1 else BudgetKind.REVISION,
        currency=project.currency,
        total_minor=sum(amounts.values()),
        created_by=world.najat,
    )
    lines = {}
    for code, amount in amounts.items():
        line, _ = BudgetLine.objects.get_or_create(project=project, code=code, defaults={"category": "programme"})
        BudgetVersionLine.objects.create(version=version, line=line, amount_minor=amount)
        lines[code] = line
    return version, lines


def spend(world, project, line, minor, *, on=dt.date(2026, 3, 1)):
    return Expenditure.objects.create(
        project=project,
        line=line,
        amount_minor=minor,
        currency=project.currency,
        project_amount_minor=minor,
        spent_on=on,
        evidence_kind="invoice",
        source=ExpenditureSource.ENTERED,
        recorded_by=world.najat,
    )


@pytest.fixture
def project(world):
    return world.project_a


def test_refresh_sums_lines_and_flags_the_worst(world, project):
    _version, lines = budget(world, project, {"A": 100_000, "B": 50_000})
    spend(world, project, lines["A"], 60_000)
    spend(world, project, lines["B"], 56_000)  # 112 %: beyond 10 %
    finance = rollup.refresh(project)
    assert (finance.budget_minor, finance.spent_minor) == (150_000, 116_000)
    assert finance.ratio_bp == 7733 and finance.worst_line_ratio_bp == 11200
    assert finance.lines_over == 1 and not finance.warning
    assert BudgetLine.objects.get(pk=lines["B"].pk).spent_minor == 56_000
    assert finance.risk > 0


def test_a_revision_is_the_budget_and_thresholds_are_the_ministrys(world, project):
    _v1, lines = budget(world, project, {"A": 100_000})
    spend(world, project, lines["A"], 109_000)
    assert rollup.refresh(project).warning
    budget(world, project, {"A": 120_000}, number=2)
    finance = rollup.refresh(project)
    assert finance.budget_version.number == 2 and finance.ratio_bp == 9083 and not finance.warning
    FinanceSettings.objects.update_or_create(pk=1, defaults={"line_threshold_bp": 0, "total_threshold_bp": 0})
    spend(world, project, lines["A"], 11_001)
    assert rollup.refresh(project).lines_over == 1


def test_unsettled_deviations_count_and_rank_first(world, project):
    version, lines = budget(world, project, {"A": 100_000})
    spend(world, project, lines["A"], 120_000)
    Deviation.objects.create(
        project=project,
        scope=DeviationScope.LINE,
        line=lines["A"],
        currency="KWD",
        budget_minor=100_000,
        spent_minor=120_000,
        ratio_bp=12000,
        threshold_bp=1000,
        budget_version=version,
        status=DeviationStatus.REJECTED,
        detected_at=timezone.now(),
    )
    finance = rollup.refresh(project)
    assert finance.open_deviations == 1 and finance.risk >= 1_000_000


def test_the_fast_path_agrees_with_a_full_refresh(world, project):
    _version, lines = budget(world, project, {"A": 100_000, "B": 10_000})
    rollup.refresh(project)
    spend(world, project, lines["B"], 12_000)
    fast = rollup.add_spending(lines["B"], 12_000)
    figures = ("spent_minor", "ratio_bp", "worst_line_ratio_bp", "lines_over", "warning", "risk")
    fast_figures = [getattr(fast, name) for name in figures]
    full = rollup.refresh(project)
    assert fast_figures == [getattr(full, name) for name in figures]


# --- disbursements: conversion, ledger, roll-up --------------------------------------------------------------------


def test_a_disbursement_is_converted_posted_and_rolled_up(world):
    project = license_project(world)
    ExchangeRate.objects.create(currency="USD", on_date=dt.date(2026, 2, 27), rate="0.30512")
    contract = register(world, project, currency="USD", amount="5000.00")
    with english():
        disbursement = services.disbursement_record(
            actor=world.najat, contract=contract, amount="1000.00", paid_on=dt.date(2026, 3, 1), reference="TR-9"
        )
    disbursement.refresh_from_db()
    # 1,000.00 USD at 0.30512 KWD, the rate of the last working day before the transfer.
    assert (disbursement.project_amount_minor, disbursement.rate) == (305_120, "0.30512")
    assert disbursement.rate_date == dt.date(2026, 2, 27)
    assert ProjectFinance.objects.get(project=project).disbursed_minor == 305_120
    advance = ledger.project_advance(project, "USD")
    assert ledger.balance(advance) == Money(100_000, "USD")
    assert ledger.balance(ledger.charity_bank(project.charity, "USD")) == Money(-100_000, "USD")
    assert all(total == 0 for total in ledger.trial_balance().values())


def test_a_disbursement_without_a_rate_is_refused_and_nothing_is_written(world):
    project = license_project(world)
    contract = register(world, project, currency="EUR", amount="5000.00")
    with english(), pytest.raises(DomainError) as caught:
        services.disbursement_record(
            actor=world.najat, contract=contract, amount="10.00", paid_on=dt.date(2026, 3, 1), reference="TR-1"
        )
    assert "EUR" in caught.value.fields["paid_on"][0] and "2026-03-01" in caught.value.fields["paid_on"][0]
    assert not project.disbursements.exists() and ledger.trial_balance() == {}
