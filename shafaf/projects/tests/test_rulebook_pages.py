"""The rulebook's pages (/rulebook/, a project's checks panel, "run the checks now") and its API
(/api/v1/rule-settings/, /api/v1/rulebook-runs/): who may do what, bad input, tenant isolation."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from rest_framework.test import APIClient

from shafaf.audit.models import AuditEvent
from shafaf.projects.rulebook import checks, selectors, services
from shafaf.projects.rulebook.models import RulebookRun, RuleSetting
from tests.factories import attach_required_documents, budget, make_project, verified_login

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


def form_data(code: str, **values) -> dict:
    data = {f"{code}-{key}": value for key, value in values.items()}
    return data


# --- /rulebook/ -----------------------------------------------------------------------------------------


def test_the_ministry_admin_sees_every_check_with_a_form(world, login):
    response = login(world.ministry_admin).get("/rulebook/")
    assert response.status_code == 200
    text = response.text
    for code in checks.REGISTRY:
        assert f'id="rule-{code}"' in text
        assert f'action="/rulebook/{code}/edit/"' in text
    assert 'name="dates_coherent-max_duration_months"' in text
    assert "shafaf.partners.selectors.partner_accreditation_status" in text


@pytest.mark.parametrize("persona", ["reviewer", "auditor"])
def test_readers_see_the_rulebook_without_forms(world, login, persona):
    response = login(getattr(world, persona)).get("/rulebook/")
    assert response.status_code == 200
    assert 'id="rule-required_fields"' in response.text
    assert '<form method="post" action="/rulebook/' not in response.text
    assert login(getattr(world, persona)).get("/rulebook/dates_coherent/edit/").status_code == 403
    assert login(getattr(world, persona)).post("/rulebook/dates_coherent/edit/", {}).status_code == 403


@pytest.mark.parametrize("persona", ["najat", "staff_b", "donor", "partner_reporter", "accreditation_officer"])
def test_others_may_not_see_the_rulebook(world, login, persona):
    assert login(getattr(world, persona)).get("/rulebook/").status_code == 403


def test_the_page_shows_the_ministrys_settings(world, login):
    services.rule_setting_update(
        actor=world.ministry_admin, code="dates_coherent", severity="warning", thresholds={"max_duration_months": 48}
    )
    with translation.override("en"):
        text = login(world.reviewer).get("/rulebook/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'data-testid="threshold-max_duration_months"><span class="ltr">48</span>' in text


def test_a_setting_is_saved_from_its_form(world, login):
    client = login(world.ministry_admin)
    data = form_data(
        "dates_coherent",
        enabled="on",
        severity="warning",
        start_grace_days="7",
        max_duration_months="48",
        reason="Circular 12/2026",
    )
    response = client.post("/rulebook/dates_coherent/edit/", data)
    assert response.status_code == 302
    assert response["Location"] == "/rulebook/#rule-dates_coherent"
    setting = selectors.effective_setting("dates_coherent")
    assert (setting.enabled, setting.severity) == (True, "warning")
    assert setting.thresholds == {"start_grace_days": 7, "max_duration_months": 48}
    event = AuditEvent.objects.get(action="rulebook.setting_update")
    assert event.reason == "Circular 12/2026"
    assert event.changes["thresholds.start_grace_days"] == [0, 7]


def test_a_boolean_threshold_and_disabling_from_the_form(world, login):
    client = login(world.ministry_admin)
    data = form_data("required_fields", severity="blocking", min_locations="1", require_title_en="on")
    assert client.post("/rulebook/required_fields/edit/", data).status_code == 302
    setting = selectors.effective_setting("required_fields")
    assert setting.enabled is False and setting.thresholds["require_title_en"] is True


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"max_duration_months": "0"}, "max_duration_months"),
        ({"max_duration_months": "many"}, "max_duration_months"),
        ({"max_duration_months": ""}, "max_duration_months"),
        ({"start_grace_days": "-3"}, "start_grace_days"),
        ({"severity": "fatal"}, "severity"),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_nothing_saved(world, login, values, field):
    data = {"enabled": "on", "severity": "warning", "start_grace_days": "0", "max_duration_months": "60", **values}
    response = login(world.ministry_admin).post("/rulebook/dates_coherent/edit/", form_data("dates_coherent", **data))
    assert response.status_code == 400
    assert f'data-field-error="{field}"' in response.text
    assert not RuleSetting.objects.exists()
    assert not AuditEvent.objects.filter(action="rulebook.setting_update").exists()


def test_a_cross_field_rule_shows_on_its_field(world, login):
    check = checks.REGISTRY["beneficiaries_plausible"]
    data = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in check.default_thresholds().items()
    }
    data.update(enabled="on", severity="warning", min_count="100", max_orphans="50")
    response = login(world.ministry_admin).post(
        "/rulebook/beneficiaries_plausible/edit/", form_data("beneficiaries_plausible", **data)
    )
    assert response.status_code == 400
    assert 'data-field-error="max_orphans"' in response.text
    assert not RuleSetting.objects.exists()


def test_an_unknown_check_is_not_found(world, login):
    assert login(world.ministry_admin).get("/rulebook/no_such_check/edit/").status_code == 404
    assert login(world.ministry_admin).get("/rulebook/dates_coherent/edit/").status_code == 200


# --- a project's checks ---------------------------------------------------------------------------------


def test_the_panel_before_any_run(world, login):
    response = login(world.najat).get(f"/projects/{world.project_a.pk}/checks/")
    assert response.status_code == 200
    assert 'data-testid="rulebook-checks"' in response.text
    assert 'data-testid="run-checks"' not in response.text  # a charity does not run the checks itself


def test_the_panel_shows_the_latest_run_in_the_active_language(world, login):
    services.rulebook_run(actor=world.rahma, project=world.project_b, stage="submission")
    client = login(world.rahma)
    arabic = client.get(f"/projects/{world.project_b.pk}/checks/").text
    assert 'data-testid="check-required_fields" data-state="blocking"' in arabic
    assert 'data-testid="check-dates_coherent" data-state="passed"' in arabic
    assert 'data-testid="check-budget_present" data-state="blocking"' in arabic  # no budget yet
    assert "بيانات مطلوبة لنموذج" in arabic
    assert "implementing_partner" in arabic  # the facts table
    client.post("/i18n/language/", {"language": "en", "next": "/"})
    english = client.get(f"/projects/{world.project_b.pk}/checks/").text
    assert "needs information that is missing: the implementing partner" in english


def test_the_panel_renders_from_the_context_variable(world, monkeypatch):
    from shafaf.projects.rulebook import checks

    real = checks.load_interface  # one interface missing, as when its app is not installed
    monkeypatch.setattr(
        checks, "load_interface", lambda path, app="": None if path.endswith("undecided_overlaps") else real(path, app)
    )
    budget(world, world.project_a)
    services.rulebook_run(actor=None, project=world.project_a, stage="nightly")
    with translation.override("en"):
        html = render_to_string(
            "projects/_checks.html", {"project": world.project_a, "rulebook_run": selectors.latest_run(world.project_a)}
        )
    assert "No blocking failure" in html and "text-bg-success" in html and "Not available yet" in html
    assert render_to_string("projects/_checks.html", {"project": world.project_a, "rulebook_run": None})


def test_the_ministry_runs_the_checks_now(world, login):
    client = login(world.reviewer)
    assert 'data-testid="run-checks"' in client.get(f"/projects/{world.project_a.pk}/checks/").text
    response = client.post(f"/projects/{world.project_a.pk}/checks/run/")
    assert response.status_code == 302 and response["Location"] == f"/projects/{world.project_a.pk}/checks/"
    run = RulebookRun.objects.get()
    assert (run.project, run.stage, run.actor) == (world.project_a, "nightly", world.reviewer)
    partial = client.post(f"/projects/{world.project_a.pk}/checks/run/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert partial.text.startswith('<section class="card mb-4" id="rulebook-checks"')
    assert RulebookRun.objects.count() == 2
    assert client.get(f"/projects/{world.project_a.pk}/checks/run/").status_code == 405


def test_others_may_not_run_the_checks(world, login):
    assert login(world.najat).post(f"/projects/{world.project_a.pk}/checks/run/").status_code == 403
    assert login(world.auditor).post(f"/projects/{world.project_a.pk}/checks/run/").status_code == 403
    assert login(world.rahma).post(f"/projects/{world.project_a.pk}/checks/run/").status_code == 404
    assert login(world.rahma).get(f"/projects/{world.project_a.pk}/checks/").status_code == 404
    assert not RulebookRun.objects.exists()


# --- API: rule settings ---------------------------------------------------------------------------------


def test_the_api_lists_every_check(world):
    response = api(world.reviewer).get("/api/v1/rule-settings/")
    assert response.status_code == 200
    body = response.json()
    assert [item["code"] for item in body] == list(checks.REGISTRY)
    partners = next(item for item in body if item["code"] == "external_partner_known")
    assert partners["available"] is True and partners["interface"].endswith("partner_accreditation_status")
    dates = api(world.auditor).get("/api/v1/rule-settings/dates_coherent/").json()
    assert dates["thresholds"] == {"start_grace_days": 0, "max_duration_months": 60}
    assert dates["stages"] == ["submission", "approval", "nightly"]
    assert {f["key"] for f in dates["threshold_fields"]} == {"start_grace_days", "max_duration_months"}
    assert api(world.reviewer).get("/api/v1/rule-settings/no_such_check/").status_code == 404


@pytest.mark.parametrize("persona", ["najat", "rahma", "donor", "partner_reporter"])
def test_the_api_refuses_the_settings_to_others(world, persona):
    client = api(getattr(world, persona))
    assert client.get("/api/v1/rule-settings/").status_code == 403
    response = client.patch("/api/v1/rule-settings/dates_coherent/", {"severity": "warning"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"]


def test_the_ministry_admin_patches_a_setting(world):
    client = api(world.ministry_admin)
    response = client.patch(
        "/api/v1/rule-settings/dates_coherent/",
        {"severity": "warning", "thresholds": {"start_grace_days": 3}, "reason": "test"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["severity"] == "warning" and response.json()["customised"] is True
    assert response.json()["thresholds"] == {"start_grace_days": 3, "max_duration_months": 60}
    assert AuditEvent.objects.get(action="rulebook.setting_update").changes == {
        "severity": ["blocking", "warning"],
        "thresholds.start_grace_days": [0, 3],
    }
    reviewer = api(world.reviewer).patch(
        "/api/v1/rule-settings/dates_coherent/", {"severity": "blocking"}, format="json"
    )
    assert reviewer.status_code == 403
    assert api(world.auditor).patch("/api/v1/rule-settings/dates_coherent/", {}, format="json").status_code == 403
    assert client.put("/api/v1/rule-settings/dates_coherent/", {}, format="json").status_code == 405
    assert client.delete("/api/v1/rule-settings/dates_coherent/").status_code == 405


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thresholds": {"max_duration_months": -1}}, "thresholds.max_duration_months"),
        ({"thresholds": {"max_duration_months": "x"}}, "thresholds.max_duration_months"),
        ({"thresholds": {"unknown": 1}}, "thresholds.unknown"),
        ({"thresholds": "nope"}, "thresholds"),
        ({"severity": "fatal"}, "severity"),
        ({"enabled": "perhaps"}, "enabled"),
    ],
)
def test_the_api_refuses_bad_settings(world, body, field):
    response = api(world.ministry_admin).patch("/api/v1/rule-settings/dates_coherent/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not RuleSetting.objects.exists()


# --- API: runs ------------------------------------------------------------------------------------------


def test_runs_are_listed_per_project_with_their_results(world):
    attach_required_documents(world.project_a, world.najat)
    budget(world, world.project_a)
    services.rulebook_run(actor=world.najat, project=world.project_a, stage="submission")
    services.rulebook_run(actor=world.rahma, project=world.project_b, stage="submission")
    response = api(world.najat).get("/api/v1/rulebook-runs/", {"project": world.project_a.pk})
    assert response.status_code == 200
    (run,) = response.json()["results"]
    assert run["project"] == world.project_a.pk and run["stage"] == "submission" and run["passed"] is True
    codes = [r["code"] for r in run["results"]]
    assert codes[0] == "required_fields"
    check = next(r for r in run["results"] if r["code"] == "budget_present")
    assert check["passed"] is True and check["blocking"] is False and check["facts"]["lines"] == 2
    assert check["message"] == check["message_ar"]  # Arabic by default
    english = api(world.najat).get("/api/v1/rulebook-runs/", {"project": world.project_a.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["results"][0]["results"][0]["message"]


def test_rahma_cannot_see_najats_runs(world):
    run_a = services.rulebook_run(actor=world.najat, project=world.project_a, stage="submission").run
    run_b = services.rulebook_run(actor=world.rahma, project=world.project_b, stage="submission").run
    rahma = api(world.rahma)
    assert [r["id"] for r in rahma.get("/api/v1/rulebook-runs/").json()["results"]] == [run_b.pk]
    assert rahma.get("/api/v1/rulebook-runs/", {"project": world.project_a.pk}).json()["count"] == 0
    assert rahma.get(f"/api/v1/rulebook-runs/{run_a.pk}/").status_code == 404
    assert api(world.najat).get(f"/api/v1/rulebook-runs/{run_b.pk}/").status_code == 404
    assert api(world.donor).get("/api/v1/rulebook-runs/").json()["count"] == 0
    assert {r["id"] for r in api(world.reviewer).get("/api/v1/rulebook-runs/").json()["results"]} == {
        run_a.pk,
        run_b.pk,
    }
    assert api(world.auditor).get(f"/api/v1/rulebook-runs/{run_b.pk}/").status_code == 200
    # The partner reporter sees the runs of the projects it implements once they leave the draft.
    assert api(world.partner_reporter).get("/api/v1/rulebook-runs/").json()["count"] == 0


def test_the_runs_list_does_not_grow_a_query_per_run(world, django_assert_max_num_queries):
    for index in range(12):
        project = make_project(world.najat, world.charity_a, title_en=f"Crowd {index}")
        services.rulebook_run(actor=world.najat, project=project, stage="submission")
    client = api(world.reviewer)
    client.get("/api/v1/rulebook-runs/")  # warm the session and the user
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/rulebook-runs/")
    assert response.json()["count"] == 12


def test_the_runs_filter_refuses_bad_values(world):
    response = api(world.reviewer).get("/api/v1/rulebook-runs/", {"project": "abc"})
    assert response.status_code == 400 and "project" in response.json()["error"]["fields"]
    assert api(world.reviewer).get("/api/v1/rulebook-runs/abc/").status_code == 404
