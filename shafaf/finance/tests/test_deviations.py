"""Deviations through their services: detection at the thresholds exactly, warnings before a threshold is crossed,
the justification and the ministry's decision, the block a rejection puts on spending until a budget revision or an
approved justification, idempotence, permissions, the settings and the oversight rule."""

from __future__ import annotations

import pytest

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.finance import deviations, rollup
from shafaf.finance.models import Deviation, DeviationScope, FinanceSettings, ProjectFinance
from shafaf.finance.rates import settings as finance_settings

from .helpers import english, finance_officer
from .helpers_deviations import line, set_budget, spend

JUSTIFICATION = "The price of cement rose by a third after the floods; the contractor's invoices are attached."


@pytest.fixture
def project(world):
    """Charity A's project with two lines: 1 = 1,000.000 KWD, 2 = 9,000.000 KWD (total 10,000.000)."""
    set_budget(world, world.project_a, {"1": 1_000_000, "2": 9_000_000})
    return world.project_a


def unsettled(project):
    return list(deviations.unsettled_deviations(project))


# --- the maths ---------------------------------------------------------------------------------------------------


def test_ratio_texts_and_decimals_are_exact():
    assert deviations.ratio_decimal(1_073_400, 1_000_000) == deviations.Decimal("1.0734")
    assert str(deviations.ratio_decimal(2, 3)) == "0.6667"
    assert str(deviations.ratio_decimal(1, 20000)) == "0.0000"  # 0.00005 rounds half-even to 0.0000
    assert str(deviations.ratio_decimal(3, 20000)) == "0.0002"  # 0.00015 rounds half-even to 0.0002
    assert deviations.ratio_decimal(5, 0) is None
    assert deviations.ratio_text(10734) == "107.34 %"
    assert deviations.ratio_text(None, infinite=True) == "∞"
    assert deviations.percent_text(750) == "7.5" and deviations.percent_text(1000) == "10"
    value = deviations.Variance("KWD", 0, 5, 1000)
    assert value.infinite and value.beyond and value.ratio_text == "∞" and value.ratio_bp is None


def test_parse_percent_refuses_bad_input():
    assert deviations.parse_percent("7.5", field="x") == 750
    assert deviations.parse_percent("٧٫٥", field="x") == 750
    for bad in ("", "ten", "-1", "7.555", "1000.01", "NaN", "Infinity"):
        with pytest.raises(DomainError) as error:
            deviations.parse_percent(bad, field="x")
        assert "x" in error.value.fields


# --- detection ---------------------------------------------------------------------------------------------------


def test_exactly_ten_percent_over_a_line_is_within_and_one_fils_more_is_beyond(world, project):
    spend(world, project, "1", 1_100_000)  # exactly 110 %
    assert unsettled(project) == []
    spend(world, project, "1", 1)  # 110.0001 %
    [deviation] = unsettled(project)
    assert (deviation.scope, deviation.line, deviation.status) == (DeviationScope.LINE, line(project, "1"), "open")
    assert (deviation.budget_minor, deviation.spent_minor, deviation.threshold_bp) == (1_000_000, 1_100_001, 1000)
    assert deviation.ratio_bp == 11000  # 110.0001 % in basis points, half-even
    assert ProjectFinance.objects.get(pk=project.pk).open_deviations == 1
    event = AuditEvent.objects.get(action="deviation.open")
    assert event.subject_id == str(deviation.pk) and event.organization == world.charity_a


def test_ten_point_zero_one_percent_is_beyond(world, project):
    spend(world, project, "1", 1_100_100)
    assert [d.ratio_bp for d in unsettled(project)] == [11001]


def test_the_total_opens_beyond_five_percent_and_under_spending_never_does(world, project):
    spend(world, project, "2", 9_500_000)  # line 2 at 105.6 % (within 10 %), total 95 %
    assert unsettled(project) == []
    spend(world, project, "1", 1_000_000)  # total exactly 105 %: within
    assert unsettled(project) == []
    spend(world, project, "1", 1)  # total 105.00001 %
    [total] = unsettled(project)
    assert total.scope == DeviationScope.TOTAL and total.line is None
    assert (total.budget_minor, total.spent_minor) == (10_000_000, 10_500_001)


def test_spending_on_a_line_without_an_amount_is_beyond_every_threshold(world, project):
    set_budget(world, project, {"1": 1_000_000, "2": 9_000_000, "3": 0}, reason="A new line")
    spend(world, project, "3", 1)
    [deviation] = unsettled(project)
    assert deviation.line == line(project, "3") and deviation.budget_minor == 0
    data = deviations.project_variance(project)
    row = next(r for r in data.lines if r.line.code == "3")
    assert row.variance.ratio_text == "∞" and row.variance.needs_deviation


def test_detection_is_idempotent_and_updates_the_figures_of_a_standing_deviation(world, project):
    spend(world, project, "1", 1_200_000)
    events = AuditEvent.objects.count()
    deviations.deviations_detect(project)
    deviations.deviations_detect(project)
    assert AuditEvent.objects.count() == events
    spend(world, project, "1", 100_000)
    [deviation] = unsettled(project)
    assert deviation.spent_minor == 1_300_000 and deviation.ratio_bp == 13000
    assert Deviation.objects.count() == 1


def test_a_new_threshold_applies_on_the_next_detection(world, project):
    spend(world, project, "1", 1_080_000)
    assert unsettled(project) == []
    with english():
        deviations.settings_update(
            actor=world.ministry_admin,
            line_threshold_percent="7.5",
            total_threshold_percent="5",
            warning_percent="80",
            rate_max_age_days="31",
        )
    assert FinanceSettings.objects.get().line_threshold_bp == 750
    deviations.detect_all()
    [deviation] = unsettled(project)
    assert deviation.threshold_bp == 750


# --- warnings ------------------------------------------------------------------------------------------------------


def test_warnings_show_before_the_threshold_is_crossed(world, project):
    spend(world, project, "1", 999_999)
    assert deviations.deviation_warnings(project) == []
    spend(world, project, "1", 1)  # 100 %: fully spent
    with english():
        [warning] = deviations.deviation_warnings(project)
    assert (warning["code"], warning["level"], warning["ratio_text"]) == ("1", "at_budget", "100.00 %")
    assert "110.00 %" in warning["message"]
    spend(world, project, "1", 79_999)  # 107.9999 %
    assert [w["level"] for w in deviations.deviation_warnings(project)] == ["at_budget"]
    spend(world, project, "1", 1)  # 108 %: 80 % of the way to the 10 % threshold
    assert [w["level"] for w in deviations.deviation_warnings(project)] == ["near_threshold"]
    assert unsettled(project) == []
    assert ProjectFinance.objects.get(pk=project.pk).warning is True
    spend(world, project, "1", 20_001)  # beyond: a deviation, no warning any more
    assert deviations.deviation_warnings(project) == [] and len(unsettled(project)) == 1


def test_the_total_warns_too(world, project):
    spend(world, project, "2", 9_500_000)  # line 2 at 105.6 %: fully spent, not yet near its 10 % threshold
    spend(world, project, "1", 899_999)  # total 103.99999 %
    found = {(w["scope"], w["level"]) for w in deviations.deviation_warnings(project)}
    assert found == {("line", "at_budget"), ("total", "at_budget")}
    spend(world, project, "1", 1)  # total 104 %: 80 % of the way to the 5 % threshold
    with english():
        found = deviations.deviation_warnings(project)
    assert {(w["scope"], w["level"]) for w in found} == {("line", "at_budget"), ("total", "near_threshold")}


# --- the workflow ----------------------------------------------------------------------------------------------


def over(world, project, amount=1_200_000):
    spend(world, project, "1", amount)
    return unsettled(project)[0]


def test_justify_then_approve_covers_the_spending_until_it_passes_the_approval_again(world, project):
    deviation = over(world, project)
    officer = finance_officer(world)
    with english():
        deviation = deviations.deviation_justify(actor=officer, deviation=deviation, text=JUSTIFICATION)
    assert (deviation.status, deviation.justified_by, deviation.justification) == ("justified", officer, JUSTIFICATION)
    assert ProjectFinance.objects.get(pk=project.pk).open_deviations == 1
    with english():
        deviation = deviations.deviation_decide(actor=world.reviewer, deviation=deviation, decision="approve")
    assert (deviation.status, deviation.approved_spent_minor, deviation.decided_by) == (
        "approved",
        1_200_000,
        world.reviewer,
    )
    assert unsettled(project) == [] and ProjectFinance.objects.get(pk=project.pk).open_deviations == 0
    assert deviations.spending_blocked(project, line(project, "1")) is None
    spend(world, project, "1", 120_000)  # 1,320,000 = approved + exactly 10 %
    assert unsettled(project) == []
    spend(world, project, "1", 1)
    [again] = unsettled(project)
    assert again.pk != deviation.pk and again.status == "open" and again.spent_minor == 1_320_001
    actions = list(
        AuditEvent.objects.filter(subject_type="finance.deviation", subject_id=str(deviation.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["deviation.open", "deviation.justify", "deviation.approve"]


def test_a_rejection_blocks_the_line_until_a_revision_brings_it_within_the_threshold(world, project):
    deviation = over(world, project)
    with english():
        deviation = deviations.deviation_justify(actor=world.najat, deviation=deviation, text=JUSTIFICATION)
        with pytest.raises(DomainError) as error:
            deviations.deviation_decide(actor=world.reviewer, deviation=deviation, decision="reject", note=" ")
        assert "note" in error.value.fields
        deviation = deviations.deviation_decide(
            actor=world.reviewer, deviation=deviation, decision="reject", note="No tender was held for the cement."
        )
        reason = deviations.spending_blocked(project, line(project, "1"))
    assert deviation.status == "rejected" and "1" in reason and "blocked" in reason
    assert deviations.spending_blocked(project, line(project, "2")) is None  # only the line is blocked
    assert ProjectFinance.objects.get(pk=project.pk).open_deviations == 1
    set_budget(world, project, {"1": 1_100_000, "2": 8_900_000}, reason="Cement prices")  # 1.2 / 1.1 = 109.1 %
    deviation.refresh_from_db()
    assert (deviation.status, deviation.resolution) == ("resolved", deviations.RESOLVED_WITHIN)
    assert deviations.spending_blocked(project, line(project, "1")) is None
    assert AuditEvent.objects.filter(action="deviation.resolve", subject_id=str(deviation.pk)).exists()
    assert ProjectFinance.objects.get(pk=project.pk).open_deviations == 0


def test_a_rejected_deviation_justified_again_and_approved_unblocks_the_line(world, project):
    deviation = over(world, project)
    with english():
        deviation = deviations.deviation_justify(actor=world.najat, deviation=deviation, text=JUSTIFICATION)
        deviation = deviations.deviation_decide(
            actor=world.ministry_admin, deviation=deviation, decision="reject", note="Give the tender documents."
        )
        assert deviations.spending_blocked(project, line(project, "1"))
        deviation = deviations.deviation_justify(
            actor=world.najat, deviation=deviation, text=JUSTIFICATION + " Tender documents attached."
        )
        assert deviation.decision_note == "" and deviation.status == "justified"
        deviation = deviations.deviation_decide(actor=world.ministry_admin, deviation=deviation, decision="approve")
    assert deviation.status == "approved"
    assert deviations.spending_blocked(project, line(project, "1")) is None


def test_a_rejected_total_blocks_every_line(world, project):
    spend(world, project, "2", 9_900_000)
    spend(world, project, "1", 700_000)  # total 106 %, lines within
    [total] = unsettled(project)
    assert total.scope == "total"
    with english():
        total = deviations.deviation_justify(actor=world.najat, deviation=total, text=JUSTIFICATION)
        deviations.deviation_decide(actor=world.reviewer, deviation=total, decision="reject", note="Not convincing.")
        assert "project" in deviations.spending_blocked(project, line(project, "1"))
        assert deviations.spending_blocked(project, line(project, "2"))


def test_who_may_justify_and_decide(world, project):
    deviation = over(world, project)
    with english():
        for outsider in (world.staff_a, world.rahma, world.reviewer, world.auditor, world.partner_reporter):
            with pytest.raises(NotAllowed):
                deviations.deviation_justify(actor=outsider, deviation=deviation, text=JUSTIFICATION)
        with pytest.raises(DomainError) as error:
            deviations.deviation_justify(actor=world.najat, deviation=deviation, text="Too short.")
        assert "text" in error.value.fields
        with pytest.raises(Conflict):
            deviations.deviation_decide(actor=world.reviewer, deviation=deviation, decision="approve")
        justified = deviations.deviation_justify(actor=world.najat, deviation=deviation, text=JUSTIFICATION)
        for outsider in (world.najat, world.staff_a, world.auditor, world.accreditation_officer):
            with pytest.raises(NotAllowed):
                deviations.deviation_decide(actor=outsider, deviation=justified, decision="approve")
        with pytest.raises(DomainError):
            deviations.deviation_decide(actor=world.reviewer, deviation=justified, decision="maybe")
        with pytest.raises(Conflict):  # already justified
            deviations.deviation_justify(actor=world.najat, deviation=justified, text=JUSTIFICATION)


def test_a_stale_copy_loses_the_race(world, project):
    deviation = over(world, project)
    stale = Deviation.objects.get(pk=deviation.pk)
    with english():
        deviations.deviation_justify(actor=world.najat, deviation=deviation, text=JUSTIFICATION)
        with pytest.raises(Conflict):
            deviations.deviation_justify(actor=world.najat, deviation=stale, text=JUSTIFICATION)
        deviations.deviation_decide(actor=world.reviewer, deviation=deviation, decision="approve")
        stale.status = "justified"
        with pytest.raises(Conflict):
            deviations.deviation_decide(actor=world.ministry_admin, deviation=stale, decision="reject", note="late")
    assert Deviation.objects.get(pk=deviation.pk).decided_by == world.reviewer


# --- settings -----------------------------------------------------------------------------------------------------


def test_settings_are_the_ministry_admins_and_refuse_bad_input(world):
    good = {"line_threshold_percent": "10", "total_threshold_percent": "5", "warning_percent": "80"}
    with english():
        for user in (world.reviewer, world.najat, world.auditor):
            with pytest.raises(NotAllowed):
                deviations.settings_update(actor=user, rate_max_age_days="31", **good)
        with pytest.raises(DomainError) as error:
            deviations.settings_update(
                actor=world.ministry_admin,
                line_threshold_percent="-3",
                total_threshold_percent="5.123",
                warning_percent="0",
                rate_max_age_days="a week",
            )
    assert set(error.value.fields) == {
        "line_threshold_percent",
        "total_threshold_percent",
        "warning_percent",
        "rate_max_age_days",
    }
    assert finance_settings().line_threshold_bp == 1000
    with english():
        row = deviations.settings_update(
            actor=world.ministry_admin,
            line_threshold_percent="12.25",
            total_threshold_percent="٥",
            warning_percent="90",
            rate_max_age_days="7",
        )
    assert (row.line_threshold_bp, row.total_threshold_bp, row.warning_percent, row.rate_max_age_days) == (
        1225,
        500,
        90,
        7,
    )
    event = AuditEvent.objects.get(action="finance.settings_update")
    assert event.changes == {
        "line_threshold_bp": [1000, 1225],
        "rate_max_age_days": [31, 7],
        "warning_percent": [80, 90],
    }


# --- the oversight rule --------------------------------------------------------------------------------------------


def test_the_oversight_rule_raises_a_critical_alert_for_an_unsettled_deviation(world, project):
    from shafaf.projects.oversight import rules

    rule = rules.RULES["budget_deviation"]
    assert rule.available and rule.severity == "critical"
    assert rule.evaluate(project, today=None, limits={}, interface=rule.load()) is None
    over(world, project)
    message_ar, message_en, facts = rule.evaluate(project, today=None, limits={}, interface=rule.load())
    assert facts["lines"] == ["1"] and facts["by_status"] == {"open": 1}
    assert "1" in message_en and "الميزانية" in message_ar
    warning_rule = rules.RULES["budget_warning"]
    assert warning_rule.available and warning_rule.severity == "warning"


def test_rollup_refresh_counts_open_deviations(world, project):
    over(world, project)
    ProjectFinance.objects.filter(pk=project.pk).update(open_deviations=0)
    assert rollup.refresh(project).open_deviations == 1


def test_variance_per_period_is_informational(world):
    import datetime as dt

    project = world.project_a
    periods = [
        (dt.date(2027, 1, 1), dt.date(2027, 6, 30), 600_000),
        (dt.date(2027, 7, 1), dt.date(2027, 12, 31), 400_000),
    ]
    set_budget(world, project, {"1": 1_000_000}, periods=periods)
    spend(world, project, "1", 700_000, on=dt.date(2027, 6, 30))  # the first period: 116.67 %, no threshold
    spend(world, project, "1", 100_000, on=dt.date(2027, 7, 1))
    data = deviations.project_variance(project)
    assert [(p.variance.spent_minor, p.variance.ratio_text) for p in data.periods] == [
        (700_000, "116.67 %"),
        (100_000, "25.00 %"),
    ]
    assert all(p.variance.threshold_bp is None and not p.variance.beyond for p in data.periods)
    assert data.total.difference.minor == -200_000 and not data.total.warning  # under budget: variance only
    assert unsettled(project) == []
