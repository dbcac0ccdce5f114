"""The strategy's services: plans and versions, objectives, indicators, targets, project links and the indicator
values that progress reports carry. Every bad input of the issue is refused with a field error, nothing is
stored, and every write is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.reports import services as report_services
from shafaf.reports.models import ProgressReport
from shafaf.strategy import selectors, services
from shafaf.strategy.models import (
    Indicator,
    IndicatorTarget,
    IndicatorValue,
    Objective,
    Plan,
    PlanVersion,
    ProjectObjective,
)
from tests.factories import licensed, make_project, pdf_upload, progress_report, strategy_plans

pytestmark = pytest.mark.django_db

Y2027 = {"period_start": dt.date(2027, 1, 1), "period_end": dt.date(2027, 12, 31)}


@pytest.fixture
def plans(world):
    return strategy_plans(world)


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


def _draft_plan(world, actor=None, organization=None, code="draft-plan"):
    plan = services.plan_create(
        actor=actor or world.najat,
        organization=organization or world.charity_a,
        code=code,
        name_en="Draft plan",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2028, 12, 31),
    )
    return plan, plan.versions.get()


# --- plans and versions ------------------------------------------------------------------------------------------


def test_plan_create_makes_a_first_draft_and_is_audited(world):
    plan, version = _draft_plan(world)
    assert version.number == 1 and version.status == "draft"
    event = _events("strategy.plan_create").get()
    assert event.subject_id == str(plan.pk) and event.organization_id == world.charity_a.pk
    assert event.changes["code"] == [None, "draft-plan"]


@pytest.mark.parametrize(
    ("persona", "organization"),
    [
        ("rahma", "charity_a"),
        ("staff_a", "charity_a"),
        ("reviewer", "mosa"),
        ("najat", "mosa"),
        ("auditor", "charity_a"),
        ("ministry_admin", "partner"),
    ],
)
def test_plan_create_is_refused_to_whoever_does_not_keep_that_plan(world, persona, organization):
    with pytest.raises(NotAllowed):
        _draft_plan(world, actor=getattr(world, persona), organization=getattr(world, organization))
    assert not Plan.objects.exists()


def test_plan_create_field_errors(world):
    _draft_plan(world)
    cases = [
        ({"code": "draft-plan"}, "code"),
        ({"code": "bad code!"}, "code"),
        ({"code": ""}, "code"),
        ({"name_en": "", "name_ar": "  "}, "name_ar"),
        ({"period_start": None}, "period_start"),
        ({"period_end": None}, "period_end"),
        ({"period_end": dt.date(2025, 1, 1)}, "period_end"),
    ]
    for overrides, field in cases:
        data = {
            "code": "other",
            "name_en": "Other",
            "period_start": dt.date(2026, 1, 1),
            "period_end": dt.date(2027, 1, 1),
            **overrides,
        }
        with pytest.raises(DomainError) as caught:
            services.plan_create(actor=world.najat, organization=world.charity_a, **data)
        assert field in caught.value.fields, overrides
    assert Plan.objects.count() == 1


def test_new_draft_copies_the_version_in_force_and_publishing_supersedes_it(world, plans):
    old = selectors.version_in_force(plans.ministry_plan)
    old_titles = list(old.objectives.values_list("code", "title_en", "parent__code"))
    draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan, note="2027 review")
    assert draft.number == 2 and draft.status == "draft" and draft.based_on == old
    copies = {o.code: o for o in draft.objectives.all()}
    assert set(copies) == {"P1", "P1.1"}
    assert copies["P1.1"].origin == plans.p11 and copies["P1.1"].parent == copies["P1"]
    (indicator,) = Indicator.objects.filter(objective__version=draft)
    assert indicator.origin == plans.m_water and indicator.code == "M-WATER"
    assert list(indicator.targets.values_list("value_milli", flat=True)) == [1_000_000]
    with pytest.raises(Conflict):
        services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)

    services.objective_update(actor=world.ministry_admin, objective=copies["P1.1"], title_en="Safe water")
    services.target_set(actor=world.ministry_admin, indicator=indicator, value="1500", **Y2027)
    services.version_publish(actor=world.ministry_admin, version=draft)

    old.refresh_from_db()
    draft.refresh_from_db()
    assert old.status == "superseded" and old.superseded_at is not None
    assert draft.status == "published" and selectors.version_in_force(plans.ministry_plan) == draft
    # The superseded version is as it was.
    assert list(old.objectives.values_list("code", "title_en", "parent__code")) == old_titles
    assert IndicatorTarget.objects.get(indicator=plans.m_water).value_milli == 1_000_000
    # What pointed at it from outside the plan follows the copies.
    plans.a1.refresh_from_db()
    plans.a_water.refresh_from_db()
    assert plans.a1.maps_to == copies["P1.1"]
    assert plans.a_water.feeds == indicator
    assert _events("strategy.version_publish").filter(subject_id=str(draft.pk)).get().changes["superseded"] == [
        None,
        1,
    ]


def test_a_published_version_is_never_edited(world, plans):
    version = selectors.version_in_force(plans.ministry_plan)
    admin = world.ministry_admin
    attempts = [
        lambda: services.version_update(actor=admin, version=version, note="x"),
        lambda: services.objective_create(actor=admin, version=version, code="P9", title_en="New"),
        lambda: services.objective_update(actor=admin, objective=plans.p11, title_en="Changed"),
        lambda: services.objective_delete(actor=admin, objective=plans.p1),
        lambda: services.indicator_create(actor=admin, objective=plans.p11, code="X", name_en="X", unit="people"),
        lambda: services.indicator_update(actor=admin, indicator=plans.m_water, name_en="Changed"),
        lambda: services.target_set(actor=admin, indicator=plans.m_water, value="5", **Y2027),
        lambda: services.version_publish(actor=admin, version=version),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code == "version_not_draft"
    plans.p11.refresh_from_db()
    assert plans.p11.title_en == "Clean water"
    assert Objective.objects.filter(version=version).count() == 2


def test_only_the_plans_keeper_changes_it(world, plans):
    _plan, version = _draft_plan(world)
    for persona in ("rahma", "staff_a", "reviewer", "auditor", "ministry_admin"):
        with pytest.raises(NotAllowed):
            services.objective_create(actor=getattr(world, persona), version=version, code="X", title_en="X")
    with pytest.raises(NotAllowed):
        services.version_new_draft(actor=world.reviewer, plan=plans.ministry_plan)


# --- objectives --------------------------------------------------------------------------------------------------


def test_objective_field_errors(world, plans):
    _plan, version = _draft_plan(world)
    first = services.objective_create(actor=world.najat, version=version, code="O1", title_ar="هدف")
    other_plan, other_version = _draft_plan(world, code="second")
    foreign_parent = services.objective_create(actor=world.najat, version=other_version, code="Z", title_en="Z")
    cases = [
        ({"code": "O1", "title_en": "Again"}, "code"),
        ({"code": "", "title_en": "No code"}, "code"),
        ({"code": "O2"}, "title_ar"),
        ({"code": "O2", "title_en": "x", "sdg_goal": 18}, "sdg_goal"),
        ({"code": "O2", "title_en": "x", "kind": "mission"}, "kind"),
        ({"code": "O2", "title_en": "x", "parent": foreign_parent}, "parent"),
        ({"code": "O2", "title_en": "x", "maps_to": first}, "maps_to"),  # same plan
        ({"code": "O2", "title_en": "x", "maps_to": plans.a1}, "maps_to"),  # another charity's objective
    ]
    for fields, field in cases:
        with pytest.raises(DomainError) as caught:
            services.objective_create(actor=world.najat, version=version, **fields)
        assert field in caught.value.fields, fields
    assert version.objectives.count() == 1
    del other_plan


def test_circular_parents_are_refused(world):
    _plan, version = _draft_plan(world)
    a = services.objective_create(actor=world.najat, version=version, code="A", title_en="A")
    b = services.objective_create(actor=world.najat, version=version, code="B", title_en="B", parent=a)
    c = services.objective_create(actor=world.najat, version=version, code="C", title_en="C", parent=b)
    for parent in (a, c):
        with pytest.raises(DomainError) as caught:
            services.objective_update(actor=world.najat, objective=a, parent=parent)
        assert "parent" in caught.value.fields
    a.refresh_from_db()
    assert a.parent is None


def test_circular_objective_mappings_are_refused(world, plans):
    """Two ministry plans: the second's objective serves the first's; a new version of the first cannot make its
    copy serve the second's objective back (through the copy's origin, that is a circle)."""
    plan2, version2 = _draft_plan(world, actor=world.ministry_admin, organization=world.mosa, code="mosa-second")
    q1 = services.objective_create(
        actor=world.ministry_admin, version=version2, code="Q1", title_en="Q1", maps_to=plans.p11
    )
    services.version_publish(actor=world.ministry_admin, version=version2)
    draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)
    copy = draft.objectives.get(code="P1.1")
    with pytest.raises(DomainError) as caught, translation.override("en"):
        services.objective_update(actor=world.ministry_admin, objective=copy, maps_to=q1)
    assert "circle" in caught.value.fields["maps_to"][0]
    with pytest.raises(DomainError):
        services.objective_update(actor=world.ministry_admin, objective=copy, maps_to=copy)
    copy.refresh_from_db()
    assert copy.maps_to is None
    del plan2


def test_maps_to_must_be_in_a_ministry_plan_in_force(world, plans):
    ministry_draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)
    draft_objective = ministry_draft.objectives.get(code="P1.1")
    _plan, version = _draft_plan(world)
    with pytest.raises(DomainError) as caught:
        services.objective_create(actor=world.najat, version=version, code="O", title_en="O", maps_to=draft_objective)
    assert "maps_to" in caught.value.fields
    objective = services.objective_create(actor=world.najat, version=version, code="O", title_en="O", maps_to=plans.p11)
    assert objective.maps_to == plans.p11


def test_objective_delete(world):
    _plan, version = _draft_plan(world)
    parent = services.objective_create(actor=world.najat, version=version, code="A", title_en="A")
    services.objective_create(actor=world.najat, version=version, code="B", title_en="B", parent=parent)
    with pytest.raises(Conflict):
        services.objective_delete(actor=world.najat, objective=parent)
    lone = services.objective_create(actor=world.najat, version=version, code="C", title_en="C")
    services.objective_delete(actor=world.najat, objective=lone)
    assert not Objective.objects.filter(pk=lone.pk).exists()
    assert _events("strategy.objective_delete").count() == 1


# --- indicators and targets --------------------------------------------------------------------------------------


def test_values_in_the_wrong_unit_are_refused(world, plans):
    with pytest.raises(DomainError) as caught, translation.override("en"):
        services.indicator_create(
            actor=world.najat, project=world.project_a, code="PCT", name_en="Share", unit="percent", feeds=plans.a_water
        )
    assert "wrong unit" in caught.value.fields["feeds"][0]
    assert not Indicator.objects.filter(code="PCT").exists()
    with pytest.raises(DomainError) as caught:
        services.indicator_update(actor=world.najat, indicator=plans.reached_a, unit="households")
    assert "feeds" in caught.value.fields or "unit" in caught.value.fields
    plans.reached_a.refresh_from_db()
    assert plans.reached_a.unit == "people"


def test_an_indicator_linked_twice_is_refused(world, plans):
    with pytest.raises(DomainError) as caught, translation.override("en"):
        services.indicator_create(
            actor=world.najat,
            project=world.project_a,
            code="AGAIN",
            name_en="Again",
            unit="people",
            feeds=plans.a_water,
        )
    assert "Linked twice" in caught.value.fields["feeds"][0]
    assert Indicator.objects.filter(project=world.project_a).count() == 1


def test_feeding_circles_and_wrong_targets_are_refused(world, plans):
    with pytest.raises(DomainError) as caught:
        services.indicator_update(actor=world.najat, indicator=plans.reached_a, feeds=plans.reached_a)
    assert "feeds" in caught.value.fields
    # A project's indicator cannot be fed; a project cannot feed another charity's indicator.
    with pytest.raises(DomainError):
        services.indicator_create(
            actor=world.najat, project=world.project_a, code="X", name_en="X", unit="people", feeds=plans.reached_b
        )
    with pytest.raises(DomainError):
        services.indicator_create(
            actor=world.najat, project=world.project_a, code="X", name_en="X", unit="people", feeds=plans.b_water
        )
    # Through copies: a new draft of the ministry's plan cannot feed charity A's indicator, which feeds it.
    draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)
    copy = Indicator.objects.get(objective__version=draft)
    with pytest.raises(DomainError):
        services.indicator_update(actor=world.ministry_admin, indicator=copy, feeds=plans.a_water)


def test_indicator_field_errors(world, plans):
    cases = [
        ({"code": "", "name_en": "x", "unit": "people"}, "code"),
        ({"code": "REACHED", "name_en": "x", "unit": "people"}, "code"),
        ({"code": "N", "unit": "people"}, "name_ar"),
        ({"code": "N", "name_en": "x", "unit": "litres"}, "unit"),
        ({"code": "N", "name_en": "x", "unit": "people", "aggregation": "median"}, "aggregation"),
        ({"code": "N", "name_en": "x", "unit": "people", "direction": "up"}, "direction"),
        ({"code": "N", "name_en": "x", "unit": "people", "baseline": "-3"}, "baseline"),
        ({"code": "N", "name_en": "x", "unit": "percent", "baseline": "120"}, "baseline"),
        ({"code": "N", "name_en": "x", "unit": "people", "baseline": "1.0001"}, "baseline"),
    ]
    for fields, field in cases:
        with pytest.raises(DomainError) as caught:
            services.indicator_create(actor=world.najat, project=world.project_a, **fields)
        assert field in caught.value.fields, fields
    assert Indicator.objects.filter(project=world.project_a).count() == 1
    with pytest.raises(DomainError):
        services.indicator_create(actor=world.najat, code="N", name_en="x", unit="people")
    indicator = services.indicator_create(
        actor=world.najat, project=world.project_a, code="N", name_en="x", unit="people", baseline="١٢٫٥"
    )
    assert indicator.baseline_milli == 12500


def test_project_indicators_are_kept_by_the_charity_only(world, plans):
    for persona in ("rahma", "staff_b", "reviewer", "auditor", "partner_reporter", "donor"):
        with pytest.raises(NotAllowed):
            services.indicator_create(
                actor=getattr(world, persona), project=world.project_a, code="N", name_en="x", unit="people"
            )
    assert services.indicator_create(actor=world.staff_a, project=world.project_a, code="N", name_en="x", unit="people")


def test_targets_need_a_period_and_a_valid_value(world, plans):
    cases = [
        ({"period_start": None, "period_end": dt.date(2027, 12, 31), "value": "5"}, "period_start"),
        ({"period_start": dt.date(2027, 1, 1), "period_end": None, "value": "5"}, "period_end"),
        ({"period_start": dt.date(2027, 12, 31), "period_end": dt.date(2027, 1, 1), "value": "5"}, "period_end"),
        ({**Y2027, "value": ""}, "value"),
        ({**Y2027, "value": "lots"}, "value"),
        ({**Y2027, "value": "-5"}, "value"),
    ]
    for fields, field in cases:
        with pytest.raises(DomainError) as caught:
            services.target_set(actor=world.najat, indicator=plans.reached_a, **fields)
        assert field in caught.value.fields, fields
    assert not plans.reached_a.targets.exists()
    target = services.target_set(actor=world.najat, indicator=plans.reached_a, value="100", **Y2027)
    again = services.target_set(actor=world.najat, indicator=plans.reached_a, value="120.5", **Y2027)
    assert again.pk == target.pk and again.value_milli == 120500
    with pytest.raises(DomainError) as caught:  # overlapping another target's period
        services.target_set(
            actor=world.najat,
            indicator=plans.reached_a,
            period_start=dt.date(2027, 6, 1),
            period_end=dt.date(2028, 5, 31),
            value="5",
        )
    assert "period_start" in caught.value.fields
    assert _events("strategy.target_set").filter(subject_id=str(target.pk)).count() == 2
    services.target_delete(actor=world.najat, target=again)
    assert not plans.reached_a.targets.exists()


def test_indicator_delete(world, plans):
    with pytest.raises(Conflict):
        services.indicator_delete(actor=world.najat, indicator=plans.a_water)  # a version in force
    services.indicator_delete(actor=world.najat, indicator=plans.reached_a)
    assert not Indicator.objects.filter(pk=plans.reached_a.pk).exists()


# --- project links -----------------------------------------------------------------------------------------------


def test_project_objectives_set(world, plans):
    links = services.project_objectives_set(
        actor=world.najat, project=world.project_a, objectives=[plans.a1, plans.p11]
    )
    assert {link.objective_id for link in links} == {plans.a1.pk, plans.p11.pk}
    event = _events("strategy.project_objectives_set").filter(subject_id=str(world.project_a.pk)).order_by("seq").last()
    assert event.changes["objectives"][1] == sorted([plans.a1.pk, plans.p11.pk])
    services.project_objectives_set(actor=world.najat, project=world.project_a, objectives=[plans.p11])
    assert list(ProjectObjective.objects.filter(project=world.project_a).values_list("objective_id", flat=True)) == [
        plans.p11.pk
    ]


def test_a_charity_cannot_link_another_charitys_objective(world, plans):
    with pytest.raises(DomainError) as caught:
        services.project_objectives_set(actor=world.najat, project=world.project_a, objectives=[plans.b1])
    assert "objectives" in caught.value.fields
    with pytest.raises(NotAllowed):
        services.project_objectives_set(actor=world.rahma, project=world.project_a, objectives=[plans.b1])
    draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)
    with pytest.raises(DomainError):
        services.project_objectives_set(
            actor=world.najat, project=world.project_a, objectives=[draft.objectives.get(code="P1.1")]
        )
    assert list(ProjectObjective.objects.filter(project=world.project_a).values_list("objective_id", flat=True)) == [
        plans.a1.pk
    ]


def test_links_are_set_only_while_the_charity_may_edit_the_project(world, plans):
    from shafaf.projects.models import Project

    Project.objects.filter(pk=world.project_a.pk).update(status="submitted")
    world.project_a.refresh_from_db()
    with pytest.raises(NotAllowed):
        services.project_objectives_set(actor=world.najat, project=world.project_a, objectives=[])
    assert ProjectObjective.objects.filter(project=world.project_a).count() == 1


# --- indicator values of progress reports ------------------------------------------------------------------------


@pytest.fixture
def running(world, plans):
    return licensed(world.project_a)


def test_reports_carry_indicator_values_as_rows(world, plans, running):
    report = progress_report(world.najat, running, {"REACHED": "١٢٠"})
    (row,) = IndicatorValue.objects.filter(report=report)
    assert row.indicator == plans.reached_a and row.value_milli == 120_000
    assert (row.period_start, row.period_end) == (report.period_start, report.period_end)
    assert _events("strategy.indicator_values_set").filter(subject_id=str(report.pk)).count() == 1
    report_services.report_update(actor=world.najat, report=report, indicator_values={"REACHED": "130.5"})
    row.refresh_from_db()
    assert row.value_milli == 130_500
    assert selectors.report_values_text(report) == {"REACHED": "130.5"}
    update = AuditEvent.objects.filter(action="report.update", subject_id=str(report.pk)).get()
    assert update.changes["indicator_values"] == [{"REACHED": "120"}, {"REACHED": "130.5"}]
    report_services.report_update(actor=world.najat, report=report, indicator_values={})
    assert not IndicatorValue.objects.filter(report=report).exists()


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"UNKNOWN": "5"}, "UNKNOWN"),
        ({"REACHED": "many"}, "REACHED"),
        ({"REACHED": "-4"}, "REACHED"),
        ({"REACHED": "1.23456"}, "REACHED"),
        ({"REACHED": {"x": 1}}, "REACHED"),
    ],
)
def test_bad_indicator_values_refuse_the_whole_report(world, plans, running, values, names):
    with pytest.raises(DomainError) as caught:
        report_services.report_create(actor=world.najat, project=running, narrative_en="x", indicator_values=values)
    assert any(names in message for message in caught.value.fields["indicator_values"])
    assert not ProgressReport.objects.exists() and not IndicatorValue.objects.exists()


def test_another_projects_indicator_code_is_unknown(world, plans, running):
    services.indicator_create(actor=world.rahma, project=world.project_b, code="ONLY_B", name_en="B", unit="people")
    with pytest.raises(DomainError):
        progress_report(world.najat, running, {"ONLY_B": "3"})


def test_percent_values_above_100_are_refused(world, plans, running):
    services.indicator_create(actor=world.najat, project=running, code="SHARE", name_en="Share", unit="percent")
    report = progress_report(world.najat, running, {"SHARE": "80"})
    with pytest.raises(DomainError) as caught:
        report_services.report_update(actor=world.najat, report=report, indicator_values={"SHARE": "101"})
    assert "SHARE" in caught.value.fields["indicator_values"][0]
    assert IndicatorValue.objects.get(report=report).value_milli == 80_000


def test_indicator_evidence_must_be_the_projects_documents(world, plans, running):
    from shafaf.projects import services as project_services

    own = project_services.document_add(
        actor=world.najat, project=running, file=pdf_upload(), kind="progress_evidence", title="Well"
    )
    other = project_services.document_add(
        actor=world.rahma, project=world.project_b, file=pdf_upload(), kind="progress_evidence", title="Other"
    )
    report = report_services.report_create(
        actor=world.najat,
        project=running,
        narrative_en="x",
        indicator_values={"REACHED": "5"},
        indicator_evidence={"REACHED": [own.pk]},
    )
    assert list(IndicatorValue.objects.get(report=report).evidence.all()) == [own]
    with pytest.raises(DomainError):
        report_services.report_update(
            actor=world.najat,
            report=report,
            indicator_values={"REACHED": "6"},
            indicator_evidence={"REACHED": [other.pk]},
        )
    assert IndicatorValue.objects.get(report=report).value_milli == 5000


def test_values_of_a_submitted_report_cannot_change(world, plans, running):
    report = progress_report(world.najat, running, {"REACHED": "5"}, submit=True)
    with pytest.raises(NotAllowed):
        services.report_indicator_values_set(actor=world.najat, report=report, values={"REACHED": "9"})
    assert IndicatorValue.objects.get(report=report).value_milli == 5000


def test_every_write_is_audited(world):
    before = AuditEvent.objects.count()
    plans = strategy_plans(world)
    actions = set(AuditEvent.objects.filter(seq__gt=before).values_list("action", flat=True))
    assert {
        "strategy.plan_create",
        "strategy.objective_create",
        "strategy.indicator_create",
        "strategy.target_set",
        "strategy.version_publish",
        "strategy.project_objectives_set",
    } <= actions
    assert PlanVersion.objects.filter(status="published").count() == 3
    del plans


def test_make_project_for_other_tests_is_unlinked(world, plans):
    project = make_project(world.najat, world.charity_a)
    assert not selectors.project_objectives(project).exists()
    assert list(selectors.project_objectives(world.project_a)) == [plans.a1]
