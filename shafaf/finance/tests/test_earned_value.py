"""Earned value, computed by hand: PV, EV, AC, CPI, SPI and EAC, their roundings, and the S-curve."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import translation

from shafaf.core.money import Money
from shafaf.finance import earned_value as ev_module
from shafaf.finance.earned_value import PhasePlan, compute, earned_value, elapsed_fraction, s_curve

from .helpers import license_project
from .helpers_insight import budget, phase, spend

D = dt.date
KWD = "KWD"

# Two phases of ten days each: weights 3 and 1, the first half done, the second not started.
PHASES = [
    PhasePlan(weight=3, planned_start=D(2027, 1, 1), planned_end=D(2027, 1, 10), percent_complete=50),
    PhasePlan(weight=1, planned_start=D(2027, 1, 11), planned_end=D(2027, 1, 20), percent_complete=0),
]


HALF_WAY = D(2027, 1, 5)


def run(bac_minor=1_000_000, ac_minor=300_000, on=HALF_WAY, phases=PHASES):
    return compute(
        bac=Money(bac_minor, KWD),
        ac=Money(ac_minor, KWD),
        phases=phases,
        project_start=D(2027, 1, 1),
        project_end=D(2027, 12, 31),
        on_date=on,
    )


def test_elapsed_fraction_counts_whole_days():
    assert elapsed_fraction(D(2027, 1, 1), D(2027, 1, 10), D(2026, 12, 31)) == 0
    assert elapsed_fraction(D(2027, 1, 1), D(2027, 1, 10), D(2027, 1, 1)) == Fraction(1, 10)
    assert elapsed_fraction(D(2027, 1, 1), D(2027, 1, 10), D(2027, 1, 5)) == Fraction(1, 2)
    assert elapsed_fraction(D(2027, 1, 1), D(2027, 1, 10), D(2027, 1, 10)) == 1
    assert elapsed_fraction(D(2027, 1, 1), D(2027, 1, 10), D(2030, 1, 1)) == 1
    assert elapsed_fraction(D(2027, 1, 1), D(2027, 1, 1), D(2027, 1, 1)) == 1  # a one-day phase


def test_half_way_through_the_first_phase():
    # PV = 1000 × (3 × 1/2 + 1 × 0) / 4 = 375; EV = 1000 × (3 × 50 + 1 × 0) / 100 / 4 = 375.
    result = run()
    assert result.bac == Money(1_000_000, KWD)
    assert result.planned_fraction == Fraction(3, 8)
    assert result.earned_fraction == Fraction(3, 8)
    assert result.pv == Money(375_000, KWD)
    assert result.ev == Money(375_000, KWD)
    assert result.ac == Money(300_000, KWD)
    assert result.cpi == Decimal("1.25")  # 375 / 300
    assert result.spi == Decimal("1.00")
    assert result.eac == Money(800_000, KWD)  # 1000 / 1.25
    assert result.cv == Money(75_000, KWD)
    assert result.sv == Money(0, KWD)
    assert result.has_phases and result.explanation == ""


def test_half_way_through_the_second_phase_the_project_is_behind():
    # PV = 1000 × (3 × 1 + 1 × 1/2) / 4 = 875; SPI = 375 / 875 = 0.428571… → 0.43.
    result = run(on=D(2027, 1, 15))
    assert result.pv == Money(875_000, KWD)
    assert result.spi == Decimal("0.43")
    assert result.sv == Money(-500_000, KWD)


def test_indices_round_half_even_and_amounts_to_the_minor_unit():
    # 4 fils × 3/8 = 1.5 → 2; 12 fils × 3/8 = 4.5 → 4 (half to even); 1 fils × 3/8 = 0.375 → 0.
    assert run(bac_minor=4).pv == Money(2, KWD)
    assert run(bac_minor=12).pv == Money(4, KWD)
    assert run(bac_minor=1).pv == Money(0, KWD)
    # CPI = 375 / 240 = 1.5625 → 1.56; = 375 / 400 = 0.9375 → 0.94; an exact half-hundredth goes to even:
    assert run(ac_minor=240_000).cpi == Decimal("1.56")
    assert run(ac_minor=400_000).cpi == Decimal("0.94")
    assert ev_module.index(Fraction(1), Fraction(8)) == Decimal("0.12")  # 0.125 → 0.12
    assert ev_module.index(Fraction(3), Fraction(8)) == Decimal("0.38")  # 0.375 → 0.38
    # EAC uses the unrounded CPI: 1000 × 240 / 375 = 640.000 exactly (1000 / 1.56 would be 641.026).
    assert run(ac_minor=240_000).eac == Money(640_000, KWD)


def test_zero_actual_cost_gives_no_cpi_and_no_eac():
    result = run(ac_minor=0)
    assert result.cpi is None
    assert result.eac is None
    assert result.spi == Decimal("1.00")


def test_nothing_earned_gives_cpi_zero_and_no_eac():
    phases = [PhasePlan(weight=1, planned_start=D(2027, 1, 1), planned_end=D(2027, 1, 10), percent_complete=0)]
    result = run(phases=phases)
    assert result.ev == Money(0, KWD)
    assert result.cpi == Decimal("0.00")
    assert result.eac is None


def test_before_the_start_nothing_is_planned_so_no_spi():
    result = run(on=D(2026, 12, 1))
    assert result.pv == Money(0, KWD)
    assert result.spi is None


def test_milestones_weigh_nothing():
    milestone = PhasePlan(
        weight=5, planned_start=D(2027, 1, 1), planned_end=D(2027, 1, 1), percent_complete=100, is_milestone=True
    )
    assert run(phases=[*PHASES, milestone]).pv == run().pv
    assert run(phases=[*PHASES, milestone]).ev == run().ev


def test_no_phases_plans_linearly_over_the_project_and_earns_nothing_measurable():
    # The project runs 2027-01-01 .. 2027-12-31 (365 days); at the end of 2027-01-05, 5/365 has elapsed.
    for phases in ([], [PhasePlan(0, D(2027, 1, 1), D(2027, 1, 1), 100, is_milestone=True)]):
        result = run(phases=phases)
        assert not result.has_phases
        assert result.planned_fraction == Fraction(5, 365)
        assert result.pv == Money(13_699, KWD)  # 1,000,000 × 5 / 365 = 13,698.63 → 13,699
        assert result.ev is None and result.cpi is None and result.spi is None and result.eac is None
        assert result.explanation == str(ev_module.NO_PHASES)
    with translation.override("en"):
        assert "phases" in run(phases=[]).explanation


def test_floats_are_refused():
    with pytest.raises(TypeError):
        Money(1.5, KWD)  # the inputs are Money, hence never floats


@pytest.mark.django_db
def test_from_the_database(world):
    project = world.project_a
    budget(project, world.najat, {"PRG-1": 600_000, "ADM-1": 400_000})
    phase(project, position=1, weight=3, start=D(2027, 1, 1), end=D(2027, 1, 10), percent=50)
    phase(project, position=2, weight=1, start=D(2027, 1, 11), end=D(2027, 1, 20))
    phase(project, position=3, weight=0, start=D(2027, 1, 20), end=D(2027, 1, 20), milestone=True)
    spend(project, world.najat, "PRG-1", 200_000, on=D(2027, 1, 3))
    spend(project, world.najat, "ADM-1", 100_000, on=D(2027, 1, 5))
    spend(project, world.najat, "ADM-1", 50_000, on=D(2027, 1, 6))  # after the date: not in AC
    result = earned_value(project, D(2027, 1, 5))
    assert result.pv == Money(375_000, KWD)
    assert result.ev == Money(375_000, KWD)
    assert result.ac == Money(300_000, KWD)
    assert (result.cpi, result.spi, result.eac) == (Decimal("1.25"), Decimal("1.00"), Money(800_000, KWD))


@pytest.mark.django_db
def test_without_a_budget_everything_is_zero(world):
    result = earned_value(world.project_a, D(2027, 6, 1))
    assert result.bac == Money(0, KWD)
    assert result.pv == Money(0, KWD)
    assert result.spi is None


@pytest.mark.django_db
def test_s_curve_is_monthly_and_cumulative(world, django_assert_max_num_queries):
    project = world.project_a  # planned 2027-01-01 .. 2027-12-31
    budget(project, world.najat, {"PRG-1": 1_200_000})
    spend(project, world.najat, "PRG-1", 100_000, on=D(2027, 1, 31))
    spend(project, world.najat, "PRG-1", 50_000, on=D(2027, 2, 1))
    spend(project, world.najat, "PRG-1", 25_000, on=D(2027, 2, 1))
    with django_assert_max_num_queries(4):
        points = s_curve(project, today=D(2027, 3, 10))
    dates = [point.on_date for point in points]
    assert dates[:4] == [D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 10), D(2027, 3, 31)]
    assert dates[-1] == D(2027, 12, 31) and len(dates) == 13
    # Without phases PV is linear over 365 days: 1,200,000 × 31 / 365 = 101,917.8… → 101,918.
    assert points[0].pv == Money(101_918, KWD)
    assert points[-1].pv == Money(1_200_000, KWD)
    assert [p.ac.minor if p.ac else None for p in points[:4]] == [100_000, 175_000, 175_000, None]
    assert all(point.ev is None for point in points)  # no phases: nothing earned to show


@pytest.mark.django_db
def test_s_curve_runs_to_today_after_the_planned_end(world):
    project = world.project_a
    budget(project, world.najat, {"PRG-1": 1_000_000})
    phase(project, position=1, weight=1, start=D(2027, 1, 1), end=D(2027, 12, 31), percent=40)
    points = s_curve(project, today=D(2028, 2, 15))
    assert points[-1].on_date == D(2028, 2, 15)
    assert points[-1].ev == Money(400_000, KWD)
    assert points[-1].pv == Money(1_000_000, KWD)


@pytest.mark.django_db
def test_the_earned_value_page(world, login):
    project = license_project(world)
    budget(project, world.najat, {"PRG-1": 1_000_000})
    phase(project, position=1, weight=3, start=D(2027, 1, 1), end=D(2027, 1, 10), percent=50)
    spend(project, world.najat, "PRG-1", 300_000, on=D(2027, 1, 3))
    url = reverse("finance:earned_value", args=[project.pk])
    response = login(world.reviewer).get(url, {"on": "2027-01-05"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="s-curve-data"' in text and "js/s_curve.js" in text and "vendor/chartjs/chart.umd.min.js" in text
    assert "<script>" not in text  # no inline script (CSP)
    assert response.context["result"].cpi == Decimal("1.67")  # 500 / 300
    assert "1.67" in text
    assert login(world.rahma).get(url).status_code == 404
    assert login(world.partner_reporter).get(url).status_code == 404
    assert login(world.najat).get(url, {"on": "not a date"}).status_code == 400
