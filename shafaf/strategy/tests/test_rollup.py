"""Roll-ups from project indicators to charity objectives to ministry objectives: the three rules (sum, average,
latest), accepted values against pending ones (submitted or returned reports), and targets' periods."""

from __future__ import annotations

import datetime as dt

import pytest

from shafaf.reports import services as report_services
from shafaf.strategy import selectors, services
from tests.factories import licensed, make_project, progress_report, strategy_plans

pytestmark = pytest.mark.django_db

Q1, Q2, Q3 = dt.date(2027, 1, 1), dt.date(2027, 4, 1), dt.date(2027, 7, 1)
YEAR = (dt.date(2027, 1, 1), dt.date(2027, 12, 31))


def _row(indicator, start=YEAR[0]):
    return next(row for row in selectors.indicator_rollup(indicator) if row.period_start == start)


def test_sum_rolls_up_accepted_values_and_keeps_pending_apart(world):
    plans = strategy_plans(world)
    a, b = licensed(world.project_a), licensed(world.project_b)
    review = (world.reviewer, "accept")
    progress_report(world.najat, a, {"REACHED": "100"}, period_start=Q1, review=review)
    progress_report(world.najat, a, {"REACHED": "50"}, period_start=Q2, submit=True)
    progress_report(world.rahma, b, {"REACHED": "30"}, period_start=Q1, review=review)
    progress_report(world.rahma, b, {"REACHED": "70"}, period_start=Q2, review=(world.reviewer, "return"))
    progress_report(world.rahma, b, {"REACHED": "999"}, period_start=Q3)  # a draft: neither actual nor pending

    ministry = _row(plans.m_water)
    assert (ministry.target_milli, ministry.actual_milli, ministry.pending_milli) == (1_000_000, 130_000, 120_000)
    assert ministry.contributors == 2 and ministry.percent_bp == 1300
    charity_a = _row(plans.a_water)
    assert (charity_a.target_milli, charity_a.actual_milli, charity_a.pending_milli) == (400_000, 100_000, 50_000)
    assert charity_a.percent_bp == 2500
    # A project indicator without targets: one row per reporting period.
    rows = selectors.indicator_rollup(plans.reached_a)
    assert [(r.period_start, r.actual_milli, r.pending_milli, r.target_milli) for r in rows] == [
        (Q1, 100_000, None, None),
        (Q2, None, 50_000, None),
    ]


def test_a_returned_report_is_pending_until_accepted_again(world):
    plans = strategy_plans(world)
    a = licensed(world.project_a)
    report = progress_report(world.najat, a, {"REACHED": "40"}, period_start=Q1, review=(world.reviewer, "return"))
    assert (_row(plans.m_water).actual_milli, _row(plans.m_water).pending_milli) == (None, 40_000)
    report_services.report_update(actor=world.najat, report=report, indicator_values={"REACHED": "45"})
    report = report_services.report_submit(actor=world.najat, report=report)
    assert (_row(plans.m_water).actual_milli, _row(plans.m_water).pending_milli) == (None, 45_000)
    report_services.report_accept(actor=world.reviewer, report=report)
    row = _row(plans.m_water)
    assert (row.actual_milli, row.pending_milli, row.percent_bp) == (45_000, None, 450)


def _rule_world(world, rule: str, project_rule: str):
    """A second ministry plan whose indicator and charity A's feeding indicator use `rule`; two projects of A
    whose indicators (rule `project_rule`) feed it."""
    admin = world.ministry_admin
    plan = services.plan_create(
        actor=admin,
        organization=world.mosa,
        code=f"rule-{rule}",
        name_en=rule,
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2027, 12, 31),
    )
    version = plan.versions.get()
    objective = services.objective_create(actor=admin, version=version, code="M", title_en="M")
    ministry = services.indicator_create(
        actor=admin, objective=objective, code="M", name_en="M", unit="households", aggregation=rule
    )
    services.target_set(actor=admin, indicator=ministry, period_start=YEAR[0], period_end=YEAR[1], value="200")
    services.version_publish(actor=admin, version=version)
    charity_plan = services.plan_create(
        actor=world.najat,
        organization=world.charity_a,
        code=f"a-{rule}",
        name_en=rule,
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2027, 12, 31),
    )
    version = charity_plan.versions.get()
    charity_objective = services.objective_create(
        actor=world.najat, version=version, code="C", title_en="C", maps_to=objective
    )
    charity = services.indicator_create(
        actor=world.najat,
        objective=charity_objective,
        code="C",
        name_en="C",
        unit="households",
        aggregation=rule,
        feeds=ministry,
    )
    services.version_publish(actor=world.najat, version=version)
    projects = []
    for title in ("one", "two"):
        project = licensed(make_project(world.najat, world.charity_a, title_en=title))
        services.indicator_create(
            actor=world.najat,
            project=project,
            code="HH",
            name_en="Households",
            unit="households",
            aggregation=project_rule,
            feeds=charity,
        )
        projects.append(project)
    accept = (world.reviewer, "accept")
    progress_report(world.najat, projects[0], {"HH": "100"}, period_start=Q1, review=accept)
    progress_report(world.najat, projects[1], {"HH": "30"}, period_start=Q1, review=accept)
    progress_report(world.najat, projects[0], {"HH": "51"}, period_start=Q2, review=accept)
    return ministry, charity


@pytest.mark.parametrize(
    ("rule", "project_rule", "charity_expected", "ministry_expected"),
    [
        ("sum", "sum", 181_000, 181_000),  # (100 + 51) + 30
        ("average", "sum", 90_500, 90_500),  # mean(151, 30); the ministry's mean of its one contributor
        ("average", "average", 53_000, 53_000),  # mean(mean(100, 51) = 75.5, 30) = 52.75 → 52.75 exactly
        ("latest", "latest", 51_000, 51_000),  # project one reported last (51 in Q2)
        ("latest", "sum", 151_000, 151_000),  # project one reported last: its sum for the year
    ],
)
def test_the_three_rules(world, rule, project_rule, charity_expected, ministry_expected):
    ministry, charity = _rule_world(world, rule, project_rule)
    if (rule, project_rule) == ("average", "average"):
        charity_expected = ministry_expected = 52_750
    assert _row(charity).actual_milli == charity_expected
    row = _row(ministry)
    assert row.actual_milli == ministry_expected and row.contributors == 2
    assert row.percent_bp == round(ministry_expected * 10_000 / 200_000)


def test_values_outside_every_target_period_get_their_own_rows(world):
    from shafaf.projects.models import Project

    plans = strategy_plans(world)
    Project.objects.filter(pk=world.project_a.pk).update(planned_end=dt.date(2028, 6, 30))
    a = licensed(world.project_a, on=dt.date(2027, 11, 1))
    progress_report(world.najat, a, {"REACHED": "5"}, review=(world.reviewer, "accept"))
    rows = selectors.indicator_rollup(plans.m_water)
    # Licensed in November: the first quarter ends on 2028-01-31, after the 2027 target: a 2028 row of its own.
    assert [(r.period_start, r.target_milli, r.actual_milli) for r in rows] == [
        (dt.date(2027, 1, 1), 1_000_000, None),
        (dt.date(2028, 1, 1), None, 5_000),
    ]


def test_objective_progress_percent_is_the_mean_of_its_indicators_latest_percent(world):
    strategy_plans(world)
    a = licensed(world.project_a)
    progress_report(world.najat, a, {"REACHED": "250"}, period_start=Q1, review=(world.reviewer, "accept"))
    rows = {r["objective"].code: r for r in selectors.objective_progress(world.reviewer, today=dt.date(2027, 6, 1))}
    assert rows["P1.1"]["percent_bp"] == 2500
    assert rows["P1"]["percent_bp"] is None  # no indicator of its own
    rows = {
        r["objective"].code: r
        for r in selectors.objective_progress(world.najat, charity=world.charity_a, today=dt.date(2027, 6, 1))
    }
    assert rows["A1"]["percent_bp"] == 6250
