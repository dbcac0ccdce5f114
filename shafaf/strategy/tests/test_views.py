"""The strategy pages: who sees which page, who may change what (404 for what one may not see, 403 for what one
may see but not change), every form's bad input answered with a field error and nothing stored, the project's
section and the progress report's indicator values, and query counts that do not grow with the projects."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from shafaf.projects import services as project_services
from shafaf.projects.models import Project
from shafaf.reports import services as report_services
from shafaf.strategy import selectors, services
from shafaf.strategy.models import Indicator, IndicatorTarget, IndicatorValue, Objective, Plan, ProjectObjective
from tests.factories import budget, make_project, verified_login

pytestmark = pytest.mark.django_db

YEAR = (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
LICENSED_ON = dt.date(2027, 1, 1)


# --- the scenario ------------------------------------------------------------------------------------------------


def licensed(project, on: dt.date = LICENSED_ON) -> Project:
    """The project as if licensed on `on`, in execution, with its quarterly report schedule."""
    at = timezone.make_aware(dt.datetime.combine(on, dt.time(9)))
    Project.objects.filter(pk=project.pk).update(
        status="in_execution", licence_number=f"MOSA-S-{project.pk}", licence_date=on, status_changed_at=at
    )
    project.refresh_from_db()
    report_services.schedule_for_approval(project)
    return project


def ministry_plan(world, *, publish: bool = True):
    admin = world.ministry_admin
    plan = services.plan_create(
        actor=admin,
        organization=world.mosa,
        code="vision-2035",
        name_ar="الخطة الاستراتيجية للعمل الخيري",
        name_en="Strategic plan for charitable work",
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2030, 12, 31),
    )
    version = selectors.version_draft(plan)
    pillar = services.objective_create(
        actor=admin, version=version, kind="pillar", code="P1", title_ar="الماء والصحة", title_en="Water and health"
    )
    objective = services.objective_create(
        actor=admin,
        version=version,
        parent=pillar,
        kind="objective",
        code="M1",
        title_ar="توفير المياه الصالحة للشرب",
        title_en="Safe drinking water",
        description_ar="آبار في المناطق المحتاجة.",
        description_en="Wells where they are needed.",
        sdg_goal=6,
    )
    services.objective_create(
        actor=admin, version=version, kind="objective", code="M2", title_ar="التعليم", title_en="Education"
    )
    indicator = services.indicator_create(
        actor=admin,
        objective=objective,
        code="WELLS",
        name_ar="عدد الآبار",
        name_en="Wells dug",
        unit="facilities",
        aggregation="sum",
    )
    services.target_set(actor=admin, indicator=indicator, period_start=YEAR[0], period_end=YEAR[1], value="10")
    if publish:
        services.version_publish(actor=admin, version=version)
    return SimpleNamespace(plan=plan, version=version, pillar=pillar, objective=objective, indicator=indicator)


def charity_plan(world, ministry):
    plan = services.plan_create(
        actor=world.najat,
        organization=world.charity_a,
        code="noor-2027",
        name_ar="خطة النور",
        name_en="Al-Noor plan",
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2029, 12, 31),
    )
    version = selectors.version_draft(plan)
    objective = services.objective_create(
        actor=world.najat,
        version=version,
        code="C1",
        title_ar="آبار في أفريقيا",
        title_en="Wells in Africa",
        maps_to=ministry.objective,
    )
    services.version_publish(actor=world.najat, version=version)
    return SimpleNamespace(plan=plan, version=version, objective=objective)


def build(world, *, with_values: bool = True):
    """The ministry's plan, charity A's plan mapped to it, charity A's project linked to the charity objective with
    a budget, an indicator feeding the ministry's, and (with_values) an accepted report carrying 4 wells."""
    ministry = ministry_plan(world)
    charity = charity_plan(world, ministry)
    project = world.project_a
    budget(world, project)
    services.project_objectives_set(actor=world.najat, project=project, objectives=[charity.objective])
    project_indicator = services.indicator_create(
        actor=world.najat,
        project=project,
        code="W",
        name_ar="الآبار المحفورة",
        name_en="Wells drilled",
        unit="facilities",
        aggregation="sum",
        feeds=ministry.indicator,
    )
    project = licensed(project)
    report = None
    if with_values:
        report = report_services.report_create(
            actor=world.najat, project=project, narrative_en="Four wells.", indicator_values={"W": "4"}
        )
        report = report_services.report_submit(actor=world.najat, report=report)
        report = report_services.report_accept(actor=world.reviewer, report=report)
    return SimpleNamespace(
        ministry=ministry, charity=charity, project=project, indicator=project_indicator, report=report
    )


@pytest.fixture
def scene(world):
    return build(world)


@pytest.fixture
def as_user(client):
    def _as(user, language: str = "en"):
        type(user).objects.filter(pk=user.pk).update(language=language)
        client.logout()
        verified_login(client, user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return _as


def _form_errors(response) -> dict:
    errors = {}
    for name in ("form", "target_form", "objectives_form"):
        form = response.context.get(name) if response.context else None
        if form is not None and form.errors:
            errors.update(form.errors)
    return errors


# --- who sees what -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["reviewer", "ministry_admin", "auditor", "najat", "staff_a", "rahma"])
def test_the_plan_list_shows_the_ministry_plan_to_staff(world, scene, as_user, persona):
    client = as_user(getattr(world, persona))
    response = client.get(reverse("strategy:plan_list"))
    assert response.status_code == 200
    plans = {row["plan"].pk for row in response.context["rows"]}
    assert scene.ministry.plan.pk in plans
    # Charity A's plan: its own members, the ministry and auditors; never charity B.
    assert (scene.charity.plan.pk in plans) == (persona != "rahma")
    assert b'data-testid="nav-strategy"' in response.content


def test_the_new_plan_form_only_for_those_who_may_create(world, scene, as_user):
    assert as_user(world.ministry_admin).get(reverse("strategy:plan_list")).context["form"] is not None
    assert as_user(world.najat).get(reverse("strategy:plan_list")).context["form"] is not None
    assert as_user(world.reviewer).get(reverse("strategy:plan_list")).context["form"] is None
    assert as_user(world.staff_a).get(reverse("strategy:plan_list")).context["form"] is None
    assert as_user(world.staff_a).post(reverse("strategy:plan_create"), {}).status_code == 403


@pytest.mark.parametrize("persona", ["reviewer", "auditor", "najat", "staff_a"])
def test_plan_objective_and_indicator_pages_render(world, scene, as_user, persona):
    client = as_user(getattr(world, persona))
    for url in (
        reverse("strategy:plan_detail", args=[scene.ministry.plan.pk]),
        reverse("strategy:plan_detail", args=[scene.charity.plan.pk]),
        reverse("strategy:objective_detail", args=[scene.ministry.objective.pk]),
        reverse("strategy:objective_detail", args=[scene.charity.objective.pk]),
        reverse("strategy:indicator_detail", args=[scene.ministry.indicator.pk]),
        reverse("strategy:indicator_detail", args=[scene.indicator.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_a_foreign_charity_plan_objective_and_indicator_answer_404(world, scene, as_user):
    client = as_user(world.rahma)
    for url in (
        reverse("strategy:plan_detail", args=[scene.charity.plan.pk]),
        reverse("strategy:objective_detail", args=[scene.charity.objective.pk]),
        reverse("strategy:objective_edit", args=[scene.charity.objective.pk]),
        reverse("strategy:indicator_detail", args=[scene.indicator.pk]),
        reverse("strategy:version_edit", args=[scene.charity.version.pk]),
        reverse("strategy:plan_detail", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("strategy:version_new", args=[scene.charity.plan.pk])).status_code == 404
    assert client.post(reverse("strategy:project_objectives", args=[scene.project.pk]), {}).status_code == 404


def test_the_ministry_objective_shows_projects_money_and_values_behind_it(world, scene, as_user):
    client = as_user(world.reviewer)
    response = client.get(reverse("strategy:objective_detail", args=[scene.ministry.objective.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Safe drinking water" in content
    assert [p.pk for p in response.context["page"]] == [scene.project.pk]
    assert scene.project.reference in content
    money = response.context["money"]
    assert [(row["currency"], row["budget_minor"]) for row in money] == [("KWD", 10_500_000)]
    assert "10,500.000 KWD" in content
    # The charity's objective maps to it.
    assert [o.pk for o in response.context["mapped_from"]] == [scene.charity.objective.pk]
    (block,) = response.context["indicator_blocks"]
    (row,) = block["rows"]
    assert (row["target"], row["actual"], row["percent"]) == ("10", "4", "40.00%")
    assert 'data-chart-source="indicator-chart-data-' in content
    assert "chart.umd.min.js" in content


def test_the_objective_page_in_arabic_puts_the_chart_right_to_left(world, scene, as_user):
    client = as_user(world.reviewer, "ar")
    response = client.get(reverse("strategy:objective_detail", args=[scene.ministry.objective.pk]))
    content = response.content.decode()
    assert 'dir="rtl"' in content
    assert "توفير المياه الصالحة للشرب" in content
    assert response.context["indicator_blocks"][0]["chart"]["rtl"] is True
    english = as_user(world.reviewer, "en").get(
        reverse("strategy:objective_detail", args=[scene.ministry.objective.pk])
    )
    assert english.context["indicator_blocks"][0]["chart"]["rtl"] is False


def test_the_objective_page_shows_a_charity_only_its_own_projects(world, scene, as_user):
    other = make_project(world.rahma, world.charity_b)
    ProjectObjective.objects.create(project=other, objective=scene.ministry.objective, linked_by=world.rahma)
    reviewer = as_user(world.reviewer).get(reverse("strategy:objective_detail", args=[scene.ministry.objective.pk]))
    assert {p.pk for p in reviewer.context["page"]} == {scene.project.pk, other.pk}
    rahma = as_user(world.rahma).get(reverse("strategy:objective_detail", args=[scene.ministry.objective.pk]))
    assert [p.pk for p in rahma.context["page"]] == [other.pk]
    assert scene.project.reference not in rahma.content.decode()
    assert rahma.context["mapped_from"].count() == 0  # charity A's objective is not charity B's to see


def test_objective_page_queries_do_not_grow_with_the_projects(world, scene, as_user):
    client = as_user(world.reviewer)
    url = reverse("strategy:objective_detail", args=[scene.ministry.objective.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(6):
        project = make_project(world.najat, world.charity_a)
        budget(world, project)
        ProjectObjective.objects.create(project=project, objective=scene.charity.objective, linked_by=world.najat)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["page"].paginator.count == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_indicator_page_states_the_rule_and_lists_contributors(world, scene, as_user):
    client = as_user(world.reviewer)
    response = client.get(reverse("strategy:indicator_detail", args=[scene.ministry.indicator.pk]))
    content = response.content.decode()
    assert "added up" in response.context["rule_text"]
    (contributor,) = response.context["contributors"]
    assert contributor["indicator"].pk == scene.indicator.pk
    (value,) = contributor["values"]
    assert value.report_id == scene.report.pk
    assert reverse("reports:report_detail", args=[scene.project.pk, scene.report.pk]) in content
    # Charity B does not see charity A's contributing indicator.
    rahma = as_user(world.rahma).get(reverse("strategy:indicator_detail", args=[scene.ministry.indicator.pk]))
    assert rahma.context["contributors"] == []


def test_objectives_without_projects(world, scene, as_user):
    response = as_user(world.reviewer).get(reverse("strategy:without_projects"))
    assert response.status_code == 200
    codes = {objective.code for objective in response.context["page"]}
    assert "M2" in codes and "M1" not in codes and "P1" not in codes
    assert as_user(world.najat).get(reverse("strategy:without_projects")).status_code == 403


# --- changing plans ----------------------------------------------------------------------------------------------


def test_a_viewer_who_cannot_edit_gets_403(world, scene, as_user):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan, note="2028")
    objective = draft.objectives.get(code="M1")
    indicator = objective.indicators.get()
    for user in (world.reviewer, world.auditor):  # they see the ministry's draft but may not change it
        client = as_user(user)
        assert client.get(reverse("strategy:objective_create", args=[draft.pk])).status_code == 403
        assert client.post(reverse("strategy:objective_create", args=[draft.pk]), {"code": "X"}).status_code == 403
        assert client.get(reverse("strategy:objective_edit", args=[objective.pk])).status_code == 403
        assert client.post(reverse("strategy:objective_delete", args=[objective.pk])).status_code == 403
        assert client.post(reverse("strategy:version_publish", args=[draft.pk])).status_code == 403
        assert client.get(reverse("strategy:indicator_create", args=[objective.pk])).status_code == 403
        assert client.post(reverse("strategy:target_set", args=[indicator.pk]), {}).status_code == 403
    # A charity does not see the ministry's draft at all.
    assert as_user(world.najat).get(reverse("strategy:objective_edit", args=[objective.pk])).status_code == 404
    client = as_user(world.staff_a)
    assert client.post(reverse("strategy:version_new", args=[scene.charity.plan.pk])).status_code == 403
    assert Objective.objects.filter(version=draft).count() == 3


def test_a_plan_is_created_then_a_version_edited_and_published(world, as_user):
    client = as_user(world.najat)
    response = client.post(
        reverse("strategy:plan_create"),
        {
            "organization": world.charity_a.pk,
            "code": "noor",
            "name_ar": "خطة",
            "name_en": "",
            "period_start": "2027-01-01",
            "period_end": "2028-12-31",
        },
    )
    plan = Plan.objects.get(code="noor")
    assert response.status_code == 302
    draft = selectors.version_draft(plan)
    response = client.post(
        reverse("strategy:objective_create", args=[draft.pk]),
        {"kind": "goal", "code": "G1", "title_ar": "هدف", "position": "0"},
    )
    assert response.status_code == 302
    goal = Objective.objects.get(version=draft, code="G1")
    response = client.post(
        reverse("strategy:indicator_create", args=[goal.pk]),
        {"code": "I1", "name_en": "Families", "unit": "households", "direction": "increase", "aggregation": "sum"},
    )
    assert response.status_code == 302, _form_errors(response)
    indicator = goal.indicators.get()
    response = client.post(
        reverse("strategy:target_set", args=[indicator.pk]),
        {"period_start": "2027-01-01", "period_end": "2027-12-31", "value": "٢٥٠"},
    )
    assert response.status_code == 302
    assert IndicatorTarget.objects.get(indicator=indicator).value_milli == 250_000
    response = client.post(reverse("strategy:version_publish", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    page = client.get(reverse("strategy:plan_detail", args=[plan.pk]))
    assert page.context["new_version_form"] is not None
    response = client.post(reverse("strategy:version_new", args=[plan.pk]), {"note": "Next year"})
    assert response.status_code == 302
    assert plan.versions.count() == 2


def test_bad_plan_input_gives_field_errors_and_stores_nothing(world, as_user):
    client = as_user(world.najat)
    cases = [
        ({"code": "", "name_ar": "خطة"}, "code"),
        ({"code": "bad code!", "name_ar": "خطة"}, "code"),
        ({"code": "x", "name_ar": "", "name_en": ""}, "name_ar"),
        ({"code": "x", "name_ar": "خطة", "period_end": "2026-01-01"}, "period_end"),
        ({"code": "x", "name_ar": "خطة", "period_start": "not a date"}, "period_start"),
        ({"code": "x", "name_ar": "خطة", "organization": world.charity_b.pk}, "organization"),
    ]
    for overrides, field in cases:
        data = {
            "organization": world.charity_a.pk,
            "period_start": "2027-01-01",
            "period_end": "2028-12-31",
            **overrides,
        }
        response = client.post(reverse("strategy:plan_create"), data)
        assert response.status_code == 400, overrides
        assert field in _form_errors(response), (overrides, _form_errors(response))
    assert Plan.objects.count() == 0


def test_a_duplicate_plan_code_is_a_field_error_from_the_service(world, scene, as_user):
    client = as_user(world.najat)
    response = client.post(
        reverse("strategy:plan_create"),
        {
            "organization": world.charity_a.pk,
            "code": "noor-2027",
            "name_en": "Again",
            "period_start": "2027-01-01",
            "period_end": "2028-12-31",
        },
    )
    assert response.status_code in (400, 409)
    assert _form_errors(response)
    assert Plan.objects.filter(code="noor-2027").count() == 1


def test_bad_objective_input_gives_field_errors_and_stores_nothing(world, scene, as_user):
    draft = services.version_new_draft(actor=world.najat, plan=scene.charity.plan)
    own = draft.objectives.get(code="C1")
    client = as_user(world.najat)
    before = Objective.objects.count()
    url = reverse("strategy:objective_create", args=[draft.pk])
    cases = [
        ({"code": "", "title_ar": "هدف"}, "code"),
        ({"code": "C9", "title_ar": "", "title_en": ""}, "title_ar"),
        ({"code": "C9", "title_ar": "هدف", "sdg_goal": "18"}, "sdg_goal"),
        ({"code": "C9", "title_ar": "هدف", "kind": "dream"}, "kind"),
        ({"code": "C9", "title_ar": "هدف", "parent": scene.ministry.objective.pk}, "parent"),
        ({"code": "C9", "title_ar": "هدف", "maps_to": own.pk}, "maps_to"),
        ({"code": "C1", "title_ar": "هدف"}, "code"),
    ]
    for overrides, field in cases:
        data = {"kind": "objective", "position": "0", **overrides}
        response = client.post(url, data)
        assert response.status_code in (400, 409), overrides
        assert field in _form_errors(response), (overrides, _form_errors(response))
    assert Objective.objects.count() == before


def test_a_circular_parent_is_refused_on_the_edit_form(world, scene, as_user):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan)
    pillar = draft.objectives.get(code="P1")
    child = draft.objectives.get(code="M1")
    client = as_user(world.ministry_admin)
    response = client.post(
        reverse("strategy:objective_edit", args=[pillar.pk]),
        {"kind": "pillar", "code": "P1", "title_ar": "الماء والصحة", "position": "0", "parent": child.pk},
    )
    assert response.status_code in (400, 409)
    assert _form_errors(response)
    pillar.refresh_from_db()
    assert pillar.parent_id is None


def test_a_version_in_force_is_not_edited(world, scene, as_user):
    client = as_user(world.ministry_admin)
    response = client.post(
        reverse("strategy:objective_edit", args=[scene.ministry.objective.pk]),
        {"kind": "objective", "code": "M1", "title_en": "Changed", "position": "0"},
    )
    assert response.status_code in (400, 409)
    scene.ministry.objective.refresh_from_db()
    assert scene.ministry.objective.title_en == "Safe drinking water"


def test_bad_indicator_and_target_input_gives_field_errors_and_stores_nothing(world, scene, as_user):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan)
    objective = draft.objectives.get(code="M2")
    indicator = draft.objectives.get(code="M1").indicators.get()
    client = as_user(world.ministry_admin)
    indicators_before = Indicator.objects.count()
    base = {"code": "E1", "name_en": "Pupils", "unit": "people", "direction": "increase", "aggregation": "sum"}
    cases = [
        ({"code": ""}, "code"),
        ({"name_en": "", "name_ar": ""}, "name_ar"),
        ({"unit": "litres"}, "unit"),
        ({"aggregation": "median"}, "aggregation"),
        ({"baseline": "12,5x"}, "baseline"),
        ({"baseline": "-3"}, "baseline"),
        ({"baseline": "1.2345"}, "baseline"),
        ({"baseline_date": "2027-01-01"}, "baseline"),
    ]
    for overrides, field in cases:
        response = client.post(reverse("strategy:indicator_create", args=[objective.pk]), {**base, **overrides})
        assert response.status_code == 400, overrides
        assert field in _form_errors(response), (overrides, _form_errors(response))
    assert Indicator.objects.count() == indicators_before
    targets_before = IndicatorTarget.objects.count()
    target_cases = [
        ({"period_start": "", "period_end": "2028-12-31", "value": "5"}, "period_start"),
        ({"period_start": "2028-01-01", "period_end": "", "value": "5"}, "period_end"),
        ({"period_start": "2028-12-31", "period_end": "2028-01-01", "value": "5"}, "period_end"),
        ({"period_start": "2028-01-01", "period_end": "2028-12-31", "value": "five"}, "value"),
        ({"period_start": "2028-01-01", "period_end": "2028-12-31", "value": "-1"}, "value"),
        ({"period_start": "2028-01-01", "period_end": "2028-12-31", "value": "nan"}, "value"),
    ]
    for data, field in target_cases:
        response = client.post(reverse("strategy:target_set", args=[indicator.pk]), data)
        assert response.status_code == 400, data
        assert field in _form_errors(response), (data, _form_errors(response))
    assert IndicatorTarget.objects.count() == targets_before


# --- the project's side ------------------------------------------------------------------------------------------


def test_the_project_page_shows_its_objectives_and_indicators(world, scene, as_user):
    response = as_user(world.reviewer).get(reverse("projects:project_detail", args=[scene.project.pk]))
    content = response.content.decode()
    assert 'data-testid="project-strategy"' in content
    assert "Wells in Africa" in content
    assert 'data-code="W"' in content
    assert 'data-testid="project-objectives-form"' not in content  # the ministry does not link a charity's project


def test_a_charity_admin_links_its_draft_project(world, as_user):
    ministry = ministry_plan(world)
    charity = charity_plan(world, ministry)
    project = world.project_a
    client = as_user(world.najat)
    page = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="project-objectives-form"' in page
    url = reverse("strategy:project_objectives", args=[project.pk])
    response = client.post(url, {"objectives": [ministry.objective.pk, charity.objective.pk]})
    assert response.status_code == 302
    assert set(selectors.project_objectives(project).values_list("pk", flat=True)) == {
        ministry.objective.pk,
        charity.objective.pk,
    }
    # An objective of another charity's plan, or of a draft, is not a choice.
    draft = services.version_new_draft(actor=world.ministry_admin, plan=ministry.plan)
    response = client.post(url, {"objectives": [draft.objectives.get(code="M1").pk]})
    assert response.status_code == 400
    assert "objectives" in _form_errors(response)
    assert selectors.project_objectives(project).count() == 2
    # Charity B's staff cannot see the project; the ministry may see it but not link it.
    assert as_user(world.rahma).post(url, {"objectives": []}).status_code == 404
    assert as_user(world.reviewer).post(url, {"objectives": []}).status_code == 403


def test_a_project_indicator_is_added_with_what_it_feeds(world, as_user):
    ministry = ministry_plan(world)
    project = world.project_a
    services.project_objectives_set(actor=world.najat, project=project, objectives=[ministry.objective])
    client = as_user(world.staff_a)
    url = reverse("strategy:project_indicator_create", args=[project.pk])
    form = client.get(url).context["form"]
    assert list(form.fields["feeds"].queryset) == [ministry.indicator]
    bad = client.post(
        url,
        {
            "code": "W",
            "name_en": "Litres",
            "unit": "m3",
            "direction": "increase",
            "aggregation": "sum",
            "feeds": ministry.indicator.pk,
        },
    )
    assert bad.status_code in (400, 409)
    assert "feeds" in _form_errors(bad)
    assert not Indicator.objects.filter(project=project).exists()
    good = client.post(
        url,
        {
            "code": "W",
            "name_en": "Wells",
            "unit": "facilities",
            "direction": "increase",
            "aggregation": "sum",
            "feeds": ministry.indicator.pk,
            "baseline": "0",
        },
    )
    assert good.status_code == 302
    assert Indicator.objects.get(project=project).feeds_id == ministry.indicator.pk
    assert as_user(world.reviewer).get(url).status_code == 403


# --- progress reports --------------------------------------------------------------------------------------------


def test_the_report_form_takes_indicator_values_with_field_errors(world, as_user):
    built = build(world, with_values=False)
    project = built.project
    client = as_user(world.najat)
    url = reverse("reports:report_create", args=[project.pk])
    page = client.get(url)
    assert 'data-code="W"' in page.content.decode()
    period = page.context["form"].fields["period_start"].choices[0][0]
    field = f"indicator_{built.indicator.pk}"
    for bad in ("many", "-2", "1.2345"):
        response = client.post(url, {"period_start": period, "narrative_en": "x", field: bad})
        assert response.status_code == 400, bad
        errors = response.context["form"].errors
        assert field in errors and "W" in errors[field][0], errors
    assert not IndicatorValue.objects.exists()
    assert not project.progress_reports.exists()
    response = client.post(url, {"period_start": period, "narrative_en": "x", field: "٣"})
    assert response.status_code == 302
    report = project.progress_reports.get()
    assert IndicatorValue.objects.get(report=report).value_milli == 3000
    detail = client.get(reverse("reports:report_detail", args=[project.pk, report.pk]))
    assert 'data-testid="report-indicator-value"' in detail.content.decode()
    edit = client.get(reverse("reports:report_edit", args=[project.pk, report.pk]))
    assert edit.context["form"][field].value() == "3"


def test_a_service_refusal_of_a_value_lands_on_the_indicator_field(world, as_user):
    built = build(world, with_values=False)
    project = built.project
    client = as_user(world.najat)
    url = reverse("reports:report_create", args=[project.pk])
    period = client.get(url).context["form"].fields["period_start"].choices[0][0]
    field = f"indicator_{built.indicator.pk}"
    from shafaf.core.exceptions import DomainError

    refusal = DomainError("W: no", code="invalid", fields={"indicator_values": ["W (Facilities): no"]})
    with mock.patch.object(services, "report_indicator_values_set", side_effect=refusal):
        response = client.post(url, {"period_start": period, field: "2"})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == ["W (Facilities): no"]
    assert not project.progress_reports.exists()


def test_pages_render_in_arabic(world, scene, as_user):
    client = as_user(world.reviewer, "ar")
    with translation.override("ar"):
        for url in (
            reverse("strategy:plan_list"),
            reverse("strategy:plan_detail", args=[scene.ministry.plan.pk]),
            reverse("strategy:indicator_detail", args=[scene.ministry.indicator.pk]),
            reverse("strategy:without_projects"),
        ):
            response = client.get(url)
            assert response.status_code == 200
            assert 'dir="rtl"' in response.content.decode()


def test_project_transition_is_not_needed_for_the_section(world, as_user):
    """A project without objectives or indicators shows the empty section, not an error."""
    with mock.patch.object(project_services, "_run_rulebook", return_value=[]):
        response = as_user(world.najat).get(reverse("projects:project_detail", args=[world.project_a.pk]))
    assert response.status_code == 200
    assert 'data-testid="project-strategy"' in response.content.decode()


# --- htmx and the remaining forms --------------------------------------------------------------------------------


def test_htmx_target_form_answers_a_partial_or_a_redirect(world, scene, as_user):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan)
    indicator = draft.objectives.get(code="M1").indicators.get()
    client = as_user(world.ministry_admin)
    url = reverse("strategy:target_set", args=[indicator.pk])
    bad = client.post(url, {"period_start": "2028-01-01", "value": "5"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200
    assert bad["X-Shafaf-Status"] == "400"
    assert "<html" not in bad.content.decode()
    assert 'data-field-error="period_end"' in bad.content.decode()
    good = client.post(
        url, {"period_start": "2028-01-01", "period_end": "2028-12-31", "value": "12"}, HTTP_HX_REQUEST="true"
    )
    assert good.status_code == 204
    assert good["HX-Redirect"] == reverse("strategy:indicator_detail", args=[indicator.pk])
    assert indicator.targets.filter(period_start=dt.date(2028, 1, 1), value_milli=12_000).exists()


def test_htmx_pages_the_objective_projects(world, scene, as_user):
    client = as_user(world.reviewer)
    url = reverse("strategy:objective_detail", args=[scene.ministry.objective.pk])
    response = client.get(url, {"page": "1"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and 'data-testid="objective-projects"' in content


def test_the_objective_form_offers_only_ministry_objectives_in_force(world, scene, as_user):
    draft = services.version_new_draft(actor=world.najat, plan=scene.charity.plan)
    services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan)
    response = as_user(world.najat).get(reverse("strategy:objective_create", args=[draft.pk]))
    choices = set(response.context["form"].fields["maps_to"].queryset.values_list("pk", flat=True))
    assert choices == set(scene.ministry.version.objectives.values_list("pk", flat=True))
    parents = set(response.context["form"].fields["parent"].queryset.values_list("pk", flat=True))
    assert parents == set(draft.objectives.values_list("pk", flat=True))


def test_bad_version_input_gives_field_errors(world, scene, as_user):
    draft = services.version_new_draft(actor=world.najat, plan=scene.charity.plan)
    client = as_user(world.najat)
    url = reverse("strategy:version_edit", args=[draft.pk])
    response = client.post(url, {"period_start": "2029-01-01", "period_end": "2028-01-01", "note": "x"})
    assert response.status_code == 400
    assert "period_end" in _form_errors(response)
    draft.refresh_from_db()
    assert draft.period_start == dt.date(2027, 1, 1) and draft.note == ""
    response = client.post(url, {"period_start": "2027-01-01", "period_end": "2030-12-31", "note": "Longer"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.note == "Longer"
    # The version in force refuses the same edit.
    response = client.post(
        reverse("strategy:version_edit", args=[scene.charity.version.pk]),
        {"period_start": "2027-01-01", "period_end": "2030-12-31", "note": "x"},
    )
    assert response.status_code in (400, 409)
    scene.charity.version.refresh_from_db()
    assert scene.charity.version.note != "x"


def test_the_report_detail_shows_the_indicator_values(world, scene, as_user):
    response = as_user(world.reviewer).get(reverse("reports:report_detail", args=[scene.project.pk, scene.report.pk]))
    (item,) = response.context["indicator_values"]
    assert item["row"].indicator.code == "W" and item["text"] == "4"
    assert 'data-testid="report-indicator-value"' in response.content.decode()


def test_the_project_indicator_page_lists_its_values(world, scene, as_user):
    response = as_user(world.staff_a).get(reverse("strategy:indicator_detail", args=[scene.indicator.pk]))
    (value,) = response.context["own_values"]
    assert value.text == "4" and value.report_id == scene.report.pk


def test_an_objective_is_edited_and_deleted_in_a_draft(world, scene, as_user):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan)
    education = draft.objectives.get(code="M2")
    client = as_user(world.ministry_admin)
    response = client.post(
        reverse("strategy:objective_edit", args=[education.pk]),
        {"kind": "objective", "code": "M2", "title_ar": "التعليم", "title_en": "Schooling", "position": "3"},
    )
    assert response.status_code == 302
    education.refresh_from_db()
    assert education.title_en == "Schooling" and education.position == 3
    assert client.post(reverse("strategy:objective_delete", args=[education.pk])).status_code == 302
    assert not Objective.objects.filter(pk=education.pk).exists()
    # The objective in force is not deleted.
    response = client.post(reverse("strategy:objective_delete", args=[scene.ministry.objective.pk]))
    assert response.status_code == 302
    assert Objective.objects.filter(pk=scene.ministry.objective.pk).exists()


def test_an_indicator_is_edited_in_a_draft(world, scene, as_user):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=scene.ministry.plan)
    indicator = draft.objectives.get(code="M1").indicators.get()
    client = as_user(world.ministry_admin)
    url = reverse("strategy:indicator_edit", args=[indicator.pk])
    assert client.get(url).context["form"].initial["code"] == "WELLS"
    data = {
        "code": "WELLS",
        "name_en": "Wells dug",
        "name_ar": "عدد الآبار",
        "unit": "facilities",
        "direction": "increase",
        "aggregation": "average",
        "baseline": "2",
        "baseline_date": "2026-12-31",
    }
    assert client.post(url, data).status_code == 302
    indicator.refresh_from_db()
    assert (indicator.aggregation, indicator.baseline_milli) == ("average", 2000)
    assert client.post(url, {**data, "baseline": "2.0001"}).status_code == 400
    indicator.refresh_from_db()
    assert indicator.baseline_milli == 2000


def test_htmx_links_objectives_and_answers_the_section(world, as_user):
    ministry = ministry_plan(world)
    client = as_user(world.najat)
    url = reverse("strategy:project_objectives", args=[world.project_a.pk])
    response = client.post(url, {"objectives": [ministry.objective.pk]}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert 'data-testid="project-strategy"' in content and "Safe drinking water" in content
    bad = client.post(url, {"objectives": ["nope"]}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and bad["X-Shafaf-Status"] == "400"
    assert 'data-field-error="objectives"' in bad.content.decode()
    assert selectors.project_objectives(world.project_a).count() == 1
