"""The strategy's reads: who sees which plan, the objective tree, the projects and money behind an objective
(tenant isolation), objectives with no project, and bounded query counts with many projects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q
from django.http import Http404

from shafaf.finance.models import ProjectFinance
from shafaf.strategy import selectors, services
from tests.factories import make_project, strategy_plans

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(world):
    return strategy_plans(world)


EVERYONE = (
    "reviewer",
    "ministry_admin",
    "accreditation_officer",
    "najat",
    "staff_a",
    "rahma",
    "staff_b",
    "donor",
    "partner_reporter",
    "auditor",
)


def test_the_ministrys_plans_are_read_by_every_member_and_donors(world, plans):
    for persona in EVERYONE:
        user = getattr(world, persona)
        assert plans.ministry_plan in selectors.plans_visible_to(user), persona
        assert selectors.plan_get(user, plans.ministry_plan.pk) == plans.ministry_plan
        assert selectors.objective_get(user, plans.p11.pk) == plans.p11
        assert selectors.indicator_get(user, plans.m_water.pk) == plans.m_water


def test_a_charitys_plan_is_read_by_its_members_the_ministry_and_auditors_only(world, plans):
    readers = {"reviewer", "ministry_admin", "najat", "staff_a", "auditor"}
    for persona in EVERYONE:
        user = getattr(world, persona)
        visible = plans.plan_a in selectors.plans_visible_to(user)
        assert visible == (persona in readers), persona
        if persona not in readers:
            for getter, pk in (
                (selectors.plan_get, plans.plan_a.pk),
                (selectors.objective_get, plans.a1.pk),
                (selectors.indicator_get, plans.a_water.pk),
                (selectors.indicator_get, plans.reached_a.pk),
            ):
                with pytest.raises(Http404):
                    getter(user, pk)


def test_anonymous_and_unknown_ids_see_nothing(world, plans):
    from django.contrib.auth.models import AnonymousUser

    assert not selectors.plans_visible_to(AnonymousUser()).exists()
    assert not selectors.indicators_visible_to(AnonymousUser()).exists()
    for bad in ("abc", None, 0, -1, 2**70):
        with pytest.raises(Http404):
            selectors.plan_get(world.reviewer, bad)


def test_drafts_are_read_by_their_organisation_and_oversight_only(world, plans):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)
    assert selectors.version_get(world.reviewer, draft.pk) == draft
    assert selectors.version_get(world.auditor, draft.pk) == draft
    for persona in ("najat", "rahma", "donor"):
        with pytest.raises(Http404):
            selectors.version_get(getattr(world, persona), draft.pk)
    charity_draft = services.version_new_draft(actor=world.najat, plan=plans.plan_a)
    assert selectors.version_get(world.staff_a, charity_draft.pk) == charity_draft
    with pytest.raises(Http404):
        selectors.version_get(world.rahma, charity_draft.pk)


def test_objective_tree_orders_parents_before_children(world, plans):
    version = selectors.version_in_force(plans.ministry_plan)
    assert [(o.code, depth) for o, depth in selectors.objective_tree(version)] == [("P1", 0), ("P1.1", 1)]


def test_objective_projects_follow_mappings_children_and_tenants(world, plans):
    both = {world.project_a, world.project_b}
    assert set(selectors.objective_projects(world.reviewer, plans.p11)) == both
    assert set(selectors.objective_projects(world.auditor, plans.p1)) == both  # through the child P1.1
    assert set(selectors.objective_projects(world.najat, plans.p11)) == {world.project_a}
    assert set(selectors.objective_projects(world.rahma, plans.p11)) == {world.project_b}
    assert not selectors.objective_projects(world.donor, plans.p11).exists()
    assert set(selectors.objective_projects(world.reviewer, plans.a1)) == {world.project_a}


def test_a_ministry_plan_counts_the_projects_of_the_charity_objectives_serving_it(world, plans):
    """Projects link to their charity's objectives; the ministry's plan is served by them through the mappings."""
    ministry = plans.ministry_plan.versions.get()
    assert set(selectors.version_projects(world.reviewer, ministry)) == {world.project_a, world.project_b}
    assert set(selectors.version_projects(world.najat, ministry)) == {world.project_a}
    assert set(selectors.version_projects(world.reviewer, plans.plan_a.versions.get())) == {world.project_a}


def test_objective_projects_survive_a_new_version(world, plans):
    draft = services.version_new_draft(actor=world.ministry_admin, plan=plans.ministry_plan)
    services.version_publish(actor=world.ministry_admin, version=draft)
    copy = draft.objectives.get(code="P1.1")
    assert set(selectors.objective_projects(world.reviewer, copy)) == {world.project_a, world.project_b}


def _finance(project, currency, budget, disbursed=0, spent=0):
    ProjectFinance.objects.update_or_create(
        project=project,
        defaults={
            "charity": project.charity,
            "currency": currency,
            "budget_minor": budget,
            "disbursed_minor": disbursed,
            "spent_minor": spent,
        },
    )


def test_objective_money_is_per_currency_and_per_tenant(world, plans):
    extra = make_project(world.najat, world.charity_a, currency="USD")
    services.project_objectives_set(actor=world.najat, project=extra, objectives=[plans.a1])
    _finance(world.project_a, "KWD", 50_000_000, 10_000_000, 4_000_000)
    _finance(world.project_b, "KWD", 20_000_000, 5_000_000, 1_000_000)
    _finance(extra, "USD", 70_000, 0, 0)
    assert selectors.objective_money(world.reviewer, plans.p11) == [
        {
            "currency": "KWD",
            "budget_minor": 70_000_000,
            "disbursed_minor": 15_000_000,
            "spent_minor": 5_000_000,
            "projects": 2,
        },
        {"currency": "USD", "budget_minor": 70_000, "disbursed_minor": 0, "spent_minor": 0, "projects": 1},
    ]
    assert selectors.objective_money(world.rahma, plans.p11) == [
        {
            "currency": "KWD",
            "budget_minor": 20_000_000,
            "disbursed_minor": 5_000_000,
            "spent_minor": 1_000_000,
            "projects": 1,
        }
    ]
    # A project linked to two objectives serving the same ministry objective counts once.
    services.project_objectives_set(actor=world.najat, project=world.project_a, objectives=[plans.a1, plans.p11])
    money = selectors.objective_money(world.najat, plans.p11)
    assert money[0]["budget_minor"] == 50_000_000 and money[0]["projects"] == 1
    rows = {row["objective"].code: row for row in selectors.objective_progress(world.najat)}
    assert rows["P1.1"]["projects"] == 2
    assert rows["P1.1"]["money"][0] == money[0]


def test_objectives_without_projects(world):
    plans = strategy_plans(world, link=False)
    codes = {o.code for o in selectors.objectives_without_projects(world.reviewer)}
    assert {"P1", "P1.1", "A1", "B1"} <= codes
    services.project_objectives_set(actor=world.najat, project=world.project_a, objectives=[plans.a1])
    codes = {o.code for o in selectors.objectives_without_projects(world.reviewer)}
    assert "A1" not in codes and "P1.1" not in codes and "P1" not in codes and "B1" in codes
    # charity B sees no project behind P1.1 (A's is not visible to it)
    assert "P1.1" in {o.code for o in selectors.objectives_without_projects(world.rahma)}


def test_objective_progress_rows(world, plans):
    rows = selectors.objective_progress(world.reviewer)
    assert [(row["objective"].code, row["depth"]) for row in rows] == [("P1", 0), ("P1.1", 1)]
    assert rows[1]["projects"] == 2 and rows[1]["indicators"] == 1
    with_charity = selectors.objective_progress(world.najat, charity=world.charity_a)
    assert [row["objective"].code for row in with_charity] == ["P1", "P1.1", "A1"]
    filtered = selectors.objective_progress(world.reviewer, filters=Q(charity=world.charity_b))
    assert filtered[1]["projects"] == 1
    # Another charity's plan is not shown to a charity that asks for it.
    assert [row["objective"].code for row in selectors.objective_progress(world.rahma, charity=world.charity_a)] == [
        "P1",
        "P1.1",
    ]


def _crowd(world, plans, count):
    for index in range(count):
        charity, admin, objective = (
            (world.charity_a, world.najat, plans.a1) if index % 2 else (world.charity_b, world.rahma, plans.b1)
        )
        project = make_project(admin, charity, title_en=f"Crowd {index}")
        services.project_objectives_set(actor=admin, project=project, objectives=[objective])
        _finance(project, "KWD" if index % 3 else "USD", 1000 * index)


@pytest.mark.parametrize("count", [3, 24])
def test_query_counts_do_not_grow_with_the_projects(world, plans, count, django_assert_max_num_queries):
    _crowd(world, plans, count)
    reviewer = world.reviewer
    reviewer.roles()  # the memberships, loaded once per request
    with django_assert_max_num_queries(10):
        rows = selectors.objective_progress(reviewer, charity=world.charity_a, today=dt.date(2027, 6, 1))
    assert rows[1]["projects"] == count + 2
    with django_assert_max_num_queries(3):
        projects = list(selectors.objective_projects(reviewer, plans.p11))
        for project in projects:
            str(project.charity)
    assert len(projects) == count + 2
    with django_assert_max_num_queries(3):
        selectors.objective_money(reviewer, plans.p11)
    with django_assert_max_num_queries(6):
        summary = selectors.objectives_summary(reviewer, [plans.p1, plans.p11, plans.a1])
    assert len(summary[plans.p11.pk]["projects"]) == count + 2


def test_objective_progress_with_no_project_to_count(world, plans):
    """Anonymous users and filters that match nothing count no project and no money, without an error."""
    from django.contrib.auth.models import AnonymousUser

    assert all(row["projects"] == 0 for row in selectors.objective_progress(world.reviewer, filters=Q(pk__in=[])))
    anonymous = selectors.objective_progress(AnonymousUser())
    assert all(row["projects"] == 0 and row["money"] == [] for row in anonymous)
