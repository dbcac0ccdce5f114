"""/api/v1/plans/, /api/v1/objectives/, /api/v1/indicators/ and the reports' indicator values: who reads what,
404 for what a user may not see, field errors for bad input, 409 for a version in force, bounded queries."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shafaf.strategy.models import Indicator, Objective, Plan, ProjectObjective
from tests.factories import licensed, make_project, strategy_plans, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(world):
    return strategy_plans(world)


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    verified_login(client, user)
    return client


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_plans_are_listed_to_who_may_see_them(world, plans):
    everyone = ("reviewer", "najat", "staff_a", "rahma", "donor", "partner_reporter", "auditor")
    for persona in everyone:
        shown = _ids(api(getattr(world, persona)).get("/api/v1/plans/"))
        assert plans.ministry_plan.pk in shown, persona
        assert (plans.plan_a.pk in shown) == (persona in ("reviewer", "najat", "staff_a", "auditor")), persona
    body = api(world.najat).get(f"/api/v1/plans/{plans.plan_a.pk}/").json()
    assert body["version_in_force"] == body["versions"][0]["id"] and body["versions"][0]["status"] == "published"
    assert body["is_ministry_plan"] is False and body["organization"] == world.charity_a.pk


def test_a_foreign_charity_gets_404_for_a_charity_plan(world, plans):
    rahma = api(world.rahma)
    for url in (
        f"/api/v1/plans/{plans.plan_a.pk}/",
        f"/api/v1/objectives/{plans.a1.pk}/",
        f"/api/v1/indicators/{plans.a_water.pk}/",
        f"/api/v1/indicators/{plans.reached_a.pk}/",
    ):
        response = rahma.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert plans.a1.pk not in _ids(rahma.get("/api/v1/objectives/", {"page_size": 100}))
    assert plans.reached_a.pk not in _ids(rahma.get("/api/v1/indicators/", {"page_size": 100}))


def test_an_objective_lists_the_projects_the_user_sees_with_their_money(world, plans):
    from shafaf.finance.models import ProjectFinance

    for project in (world.project_a, world.project_b):
        ProjectFinance.objects.create(project=project, charity=project.charity, currency="KWD", budget_minor=5_000_000)
    body = api(world.reviewer).get(f"/api/v1/objectives/{plans.p11.pk}/").json()
    assert {p["id"] for p in body["projects"]} == {world.project_a.pk, world.project_b.pk}
    assert body["money"] == [
        {"currency": "KWD", "budget_minor": 10_000_000, "disbursed_minor": 0, "spent_minor": 0, "projects": 2}
    ]
    assert body["indicators"][0]["code"] == "M-WATER" and body["kind"] == "objective" and body["sdg_goal"] == 6
    body = api(world.najat).get(f"/api/v1/objectives/{plans.p11.pk}/").json()
    (project,) = body["projects"]
    assert project == {
        "id": world.project_a.pk,
        "reference": world.project_a.reference,
        "title": world.project_a.title("ar"),
        "charity": world.charity_a.pk,
        "charity_name": "جمعية النور الخيرية",  # najat works in Arabic (her language preference)
    }
    assert body["money"][0]["budget_minor"] == 5_000_000
    assert api(world.donor).get(f"/api/v1/objectives/{plans.p11.pk}/").json()["projects"] == []
    listed = api(world.najat).get("/api/v1/objectives/", {"in_force": "true", "page_size": 50}).json()["results"]
    by_code = {item["code"]: item for item in listed}
    assert [p["id"] for p in by_code["P1"]["projects"]] == [world.project_a.pk]


def test_an_indicator_shows_its_definition_targets_and_rollup(world, plans):
    licensed(world.project_a)
    from tests.factories import progress_report

    progress_report(world.najat, world.project_a, {"REACHED": "120.5"}, review=(world.reviewer, "accept"))
    body = api(world.auditor).get(f"/api/v1/indicators/{plans.m_water.pk}/").json()
    assert (body["unit"], body["aggregation"], body["direction"]) == ("people", "sum", "increase")
    assert body["targets"] == [
        {"id": body["targets"][0]["id"], "period_start": "2027-01-01", "period_end": "2027-12-31", "value": "1000"}
    ]
    assert body["rollup"] == [
        {
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "target": "1000",
            "actual": "120.5",
            "pending": None,
            "contributors": 1,
            "percent_bp": 1205,
        }
    ]


def test_plans_are_created_through_the_service_with_field_errors(world, plans):
    admin = api(world.ministry_admin)
    data = {
        "organization": world.mosa.pk,
        "code": "mosa-2031",
        "name_en": "Next plan",
        "period_start": "2031-01-01",
        "period_end": "2035-12-31",
    }
    response = admin.post("/api/v1/plans/", data, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["versions"][0]["status"] == "draft"
    again = admin.post("/api/v1/plans/", data, format="json")
    assert again.status_code == 400 and "code" in again.json()["error"]["fields"]
    bad = admin.post("/api/v1/plans/", {**data, "code": "x", "period_end": "2030-01-01"}, format="json")
    assert bad.status_code == 400 and "period_end" in bad.json()["error"]["fields"]
    assert api(world.najat).post("/api/v1/plans/", {**data, "code": "y"}, format="json").status_code == 403
    assert api(world.auditor).post("/api/v1/plans/", {**data, "code": "z"}, format="json").status_code == 403
    unknown = admin.post("/api/v1/plans/", {**data, "code": "w", "organization": 999999}, format="json")
    assert unknown.status_code == 400 and "organization" in unknown.json()["error"]["fields"]
    assert Plan.objects.filter(code__in=["x", "y", "z", "w"]).count() == 0


def test_objectives_are_written_only_in_a_draft(world, plans):
    admin = api(world.ministry_admin)
    version_in_force = plans.p11.version_id
    response = admin.post("/api/v1/objectives/", {"version": version_in_force, "code": "P9", "title_en": "New"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_not_draft"
    draft = admin.post(f"/api/v1/plans/{plans.ministry_plan.pk}/new-draft/", {"note": "review"}, format="json")
    assert draft.status_code == 201, draft.content
    draft_id = draft.json()["id"]
    created = admin.post(
        "/api/v1/objectives/",
        {"version": draft_id, "code": "P9", "title_en": "New", "sdg_goal": 11, "kind": "goal"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    bad = admin.patch(f"/api/v1/objectives/{pk}/", {"parent": pk}, format="json")
    assert bad.status_code == 400 and "parent" in bad.json()["error"]["fields"]
    assert admin.patch(f"/api/v1/objectives/{pk}/", {"title_ar": "جديد"}, format="json").status_code == 200
    published = admin.post(f"/api/v1/plans/{plans.ministry_plan.pk}/publish/", {"version": draft_id}, format="json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert admin.delete(f"/api/v1/objectives/{pk}/").status_code == 409
    assert Objective.objects.filter(pk=pk).exists()


def test_a_charity_cannot_map_to_or_link_what_is_not_its_own(world, plans):
    rahma = api(world.rahma)
    draft = rahma.post(f"/api/v1/plans/{plans.plan_b.pk}/new-draft/", {}, format="json").json()["id"]
    response = rahma.post(
        "/api/v1/objectives/", {"version": draft, "code": "B9", "title_en": "x", "maps_to": plans.a1.pk}, format="json"
    )
    assert response.status_code == 400 and "maps_to" in response.json()["error"]["fields"]
    assert rahma.post(f"/api/v1/plans/{plans.plan_a.pk}/new-draft/", {}, format="json").status_code == 404

    najat = api(world.najat)
    link = {"project": world.project_a.pk, "objectives": [plans.b1.pk]}
    response = najat.post("/api/v1/objectives/link-project/", link, format="json")
    assert response.status_code == 400 and "objectives" in response.json()["error"]["fields"]
    response = rahma.post(
        "/api/v1/objectives/link-project/", {"project": world.project_a.pk, "objectives": []}, format="json"
    )
    assert response.status_code == 400 and "project" in response.json()["error"]["fields"]
    response = najat.post(
        "/api/v1/objectives/link-project/",
        {"project": world.project_a.pk, "objectives": [plans.a1.pk, plans.p11.pk]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"project": world.project_a.pk, "objectives": sorted([plans.a1.pk, plans.p11.pk])}
    assert ProjectObjective.objects.filter(project=world.project_a).count() == 2


def test_indicators_and_targets_with_field_errors(world, plans):
    najat = api(world.najat)
    base = {"project": world.project_a.pk, "code": "PCT", "name_en": "Share", "unit": "percent"}
    wrong_unit = najat.post("/api/v1/indicators/", {**base, "feeds": plans.a_water.pk}, format="json")
    assert wrong_unit.status_code == 400 and "feeds" in wrong_unit.json()["error"]["fields"]
    twice = najat.post(
        "/api/v1/indicators/", {**base, "code": "AGAIN", "unit": "people", "feeds": plans.a_water.pk}, format="json"
    )
    assert twice.status_code == 400 and "feeds" in twice.json()["error"]["fields"]
    assert not Indicator.objects.filter(project=world.project_a, code__in=["PCT", "AGAIN"]).exists()
    both = najat.post("/api/v1/indicators/", {**base, "objective": plans.a1.pk}, format="json")
    assert both.status_code == 400
    created = najat.post("/api/v1/indicators/", {**base, "baseline": "12.5"}, format="json")
    assert created.status_code == 201 and created.json()["baseline"] == "12.5"
    pk = created.json()["id"]
    no_period = najat.post(f"/api/v1/indicators/{pk}/targets/", {"value": "50"}, format="json")
    assert no_period.status_code == 400 and "period_start" in no_period.json()["error"]["fields"]
    target = {"period_start": "2027-01-01", "period_end": "2027-12-31"}
    too_much = najat.post(f"/api/v1/indicators/{pk}/targets/", {**target, "value": "150"}, format="json")
    assert too_much.status_code == 400 and "value" in too_much.json()["error"]["fields"]
    ok = najat.post(f"/api/v1/indicators/{pk}/targets/", {**target, "value": "٧٥"}, format="json")
    assert ok.status_code == 200 and ok.json()["value"] == "75"
    assert api(world.rahma).post(f"/api/v1/indicators/{pk}/targets/", {**target, "value": "5"}).status_code == 404
    assert api(world.reviewer).post(f"/api/v1/indicators/{pk}/targets/", {**target, "value": "5"}).status_code == 403
    assert najat.patch(f"/api/v1/indicators/{pk}/", {"name_ar": "نسبة"}, format="json").status_code == 200
    assert najat.delete(f"/api/v1/indicators/{pk}/").status_code == 204


def test_reports_api_takes_values_by_code_and_lists_the_rows(world, plans):
    licensed(world.project_a)
    najat = api(world.najat)
    response = najat.post(
        "/api/v1/reports/",
        {"project": world.project_a.pk, "narrative_en": "Wells.", "indicator_values": {"REACHED": "1,200"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["indicator_values"] == [{"code": "REACHED", "value": "1200", "unit": "people", "note": ""}]
    bad = najat.patch(f"/api/v1/reports/{body['id']}/", {"indicator_values": {"NOPE": "1"}}, format="json")
    assert bad.status_code == 400 and "NOPE" in bad.json()["error"]["fields"]["indicator_values"][0]
    bad = najat.patch(f"/api/v1/reports/{body['id']}/", {"indicator_values": ["x"]}, format="json")
    assert bad.status_code == 400
    assert najat.get(f"/api/v1/reports/{body['id']}/").json()["indicator_values"][0]["value"] == "1200"


def test_lists_do_not_grow_a_query_per_row(world, plans, django_assert_max_num_queries):
    for index in range(12):
        project = make_project(world.najat, world.charity_a, title_en=f"Crowd {index}")
        from shafaf.strategy import services

        services.project_objectives_set(actor=world.najat, project=project, objectives=[plans.a1])
    client = api(world.reviewer)
    for url in ("/api/v1/plans/", "/api/v1/objectives/", "/api/v1/indicators/"):
        client.get(url)
        with django_assert_max_num_queries(14):
            response = client.get(url)
        assert response.status_code == 200


def test_every_endpoint_is_in_the_schema(world):
    response = api(world.reviewer).get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    for path in (
        "/api/v1/plans/",
        "/api/v1/plans/{id}/",
        "/api/v1/plans/{id}/new-draft/",
        "/api/v1/plans/{id}/publish/",
        "/api/v1/objectives/",
        "/api/v1/objectives/{id}/",
        "/api/v1/objectives/link-project/",
        "/api/v1/indicators/",
        "/api/v1/indicators/{id}/",
        "/api/v1/indicators/{id}/targets/",
    ):
        assert path in paths, path
