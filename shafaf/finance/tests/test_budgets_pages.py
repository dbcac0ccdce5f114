"""The budget pages and API: the budget page in Arabic and English, the formset of lines (bad rows show their errors
and nothing is saved), revisions with their reason, the commit button, tranches on the contract page, the ministry's
page of licensed shares; another charity gets 404, a role that may not act 403."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shafaf.audit.models import AuditEvent
from shafaf.finance.models import AdminShareLicence, BudgetLine, BudgetVersion, Tranche
from tests.factories import budget, verified_login

from .helpers import license_project, register

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


def speaks(user, language: str):
    user.language = language
    user.save(update_fields=["language"])
    return user


def management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "200",
    }


def budget_post(rows: list[dict], periods: list[dict] = (), **version) -> dict:
    data = {**management("lines", len(rows)), **management("periods", len(periods))}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    for index, row in enumerate(periods):
        for name, value in row.items():
            data[f"periods-{index}-{name}"] = value
    data["version-status"] = version.get("status", "indicative")
    data["version-reason"] = version.get("reason", "")
    return data


ROWS = [
    {"category": "programme", "name_ar": "حفر البئر", "name_en": "Drilling", "amount": "9000.000"},
    {"category": "administration", "name_ar": "إدارة", "name_en": "Administration", "amount": "1000.000"},
    {},  # an empty extra row is ignored
]


def test_the_budget_page_without_a_budget(world, login):
    page = login(world.najat).get(f"/projects/{world.project_a.pk}/budget/")
    assert page.status_code == 200
    assert 'data-testid="budget-none"' in page.text and 'data-testid="budget-create"' in page.text
    assert 'data-testid="finance-nav"' in page.text


def test_the_project_page_links_to_the_budget(world, login):
    page = login(world.najat).get(f"/projects/{world.project_a.pk}/")
    assert f"/projects/{world.project_a.pk}/budget/" in page.text and 'data-testid="finance-nav"' in page.text


@pytest.mark.parametrize(("language", "words"), [("ar", ["الميزانية", "حفر البئر"]), ("en", ["Budget", "Drilling"])])
def test_the_budget_page_in_both_languages(world, login, language, words):
    budget(world, world.project_a, lines=[{**row} for row in ROWS[:2]])
    budget(
        world,
        world.project_a,
        lines=[{**ROWS[0], "code": "1", "amount": "9500.000"}, {**ROWS[1], "code": "2"}],
        reason="Deeper well",
    )
    page = login(speaks(world.najat, language)).get(f"/projects/{world.project_a.pk}/budget/")
    assert page.status_code == 200
    assert f'lang="{language}"' in page.text
    for word in words:
        assert word in page.text
    assert "10,500.000 KWD" in page.text  # total of the current version
    assert 'data-testid="admin-share-percent">9.52 %' in page.text
    assert 'data-testid="admin-share-licensed">12.50 %' in page.text
    assert page.text.count('data-testid="budget-version"') == 2
    assert "Deeper well" in page.text
    assert 'data-testid="budget-change" data-code="1" data-kind="changed"' in page.text
    assert 'data-testid="budget-commit"' in page.text


def test_another_charity_gets_404_and_staff_403(world, login):
    budget(world, world.project_a)
    pk = world.project_a.pk
    client = login(world.rahma)
    assert client.get(f"/projects/{pk}/budget/").status_code == 404
    assert client.get(f"/projects/{pk}/budget/new/").status_code == 404
    assert client.post(f"/projects/{pk}/budget/new/", budget_post(ROWS)).status_code == 404
    assert client.post(f"/projects/{pk}/budget/commit/").status_code == 404
    staff = login(world.staff_a)
    assert staff.get(f"/projects/{pk}/budget/").status_code == 200
    assert staff.get(f"/projects/{pk}/budget/new/").status_code == 403
    assert staff.post(f"/projects/{pk}/budget/commit/").status_code == 403
    assert BudgetVersion.objects.count() == 1


def test_the_original_budget_through_the_form(world, login):
    client = login(world.najat)
    form = client.get(f"/projects/{world.project_a.pk}/budget/new/")
    assert form.status_code == 200 and 'data-testid="budget-form"' in form.text
    response = client.post(f"/projects/{world.project_a.pk}/budget/new/", budget_post(ROWS))
    assert response.status_code == 302 and response["Location"] == f"/projects/{world.project_a.pk}/budget/"
    version = BudgetVersion.objects.get()
    assert version.total_minor == 10_000_000 and version.admin_minor == 1_000_000
    assert sorted(BudgetLine.objects.values_list("code", flat=True)) == ["1", "2"]


@pytest.mark.parametrize("amount", ["0.0001", "-5", "abc", "1e15", "5 XYZ", "10000000000000"])
def test_a_bad_row_shows_its_error_and_nothing_is_saved(world, login, amount):
    events = AuditEvent.objects.count()
    rows = [ROWS[0], {**ROWS[1], "amount": amount}]
    response = login(world.najat).post(f"/projects/{world.project_a.pk}/budget/new/", budget_post(rows))
    assert response.status_code == 400
    assert 'data-field-error="lines-1-amount"' in response.text
    assert 'data-field-error="lines-0-amount"' not in response.text
    assert 'value="9000.000"' in response.text  # what was typed is kept
    assert not BudgetVersion.objects.exists() and not BudgetLine.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_services_row_errors_land_on_their_rows(world, login):
    """Duplicate codes and a period outside the project are found by the service: the page puts them on the row."""
    rows = [{**ROWS[0], "code": "A"}, {}, {**ROWS[1], "code": "A"}]
    periods = [{"start": "2026-01-01", "end": "2027-01-31", "amount": "1.000"}]
    response = login(world.najat).post(f"/projects/{world.project_a.pk}/budget/new/", budget_post(rows, periods))
    assert response.status_code == 400
    assert 'data-field-error="lines-2-code"' in response.text
    assert 'data-field-error="periods-0-start"' in response.text
    assert not BudgetVersion.objects.exists()


def test_add_a_line_keeps_what_was_typed(world, login):
    data = budget_post(ROWS[:1])
    data["add_line"] = "1"
    response = login(world.najat).post(f"/projects/{world.project_a.pk}/budget/new/", data)
    assert response.status_code == 200
    assert 'name="lines-TOTAL_FORMS" value="2"' in response.text and 'value="9000.000"' in response.text
    assert not BudgetVersion.objects.exists()


def test_a_revision_needs_its_reason_and_keeps_the_history(world, login):
    budget(world, world.project_a, lines=[{**row} for row in ROWS[:2]])
    client = login(world.najat)
    form = client.get(f"/projects/{world.project_a.pk}/budget/new/")
    assert 'value="9000.000"' in form.text and 'name="lines-0-code"' in form.text
    rows = [{**ROWS[0], "code": "1", "amount": "9500.000"}, {**ROWS[1], "code": "2"}]
    refused = client.post(f"/projects/{world.project_a.pk}/budget/new/", budget_post(rows))
    assert refused.status_code == 400 and 'data-field-error="reason"' in refused.text
    assert BudgetVersion.objects.count() == 1
    saved = client.post(f"/projects/{world.project_a.pk}/budget/new/", budget_post(rows, reason="Deeper well"))
    assert saved.status_code == 302
    assert list(BudgetVersion.objects.order_by("number").values_list("number", "total_minor")) == [
        (1, 10_000_000),
        (2, 10_500_000),
    ]


def test_commit_button(world, login):
    budget(world, world.project_a)
    response = login(world.najat).post(f"/projects/{world.project_a.pk}/budget/commit/")
    assert response.status_code == 302
    assert BudgetVersion.objects.get().status == "committed"
    again = login(world.najat).post(f"/projects/{world.project_a.pk}/budget/commit/")
    assert again.status_code == 409


def test_the_form_is_locked_in_review(world, login):
    from shafaf.projects.models import Project

    Project.objects.filter(pk=world.project_a.pk).update(status="under_review")
    response = login(world.najat).get(f"/projects/{world.project_a.pk}/budget/new/")
    assert response.status_code == 409 and 'data-testid="budget-locked"' in response.text
    assert login(world.najat).post(f"/projects/{world.project_a.pk}/budget/new/", budget_post(ROWS)).status_code == 409
    assert not BudgetVersion.objects.exists()


# --- the ministry's page of licensed shares ---------------------------------------------------------------------


def test_admin_share_page(world, login):
    assert login(world.najat).get("/finance/admin-share/").status_code == 403
    assert login(world.reviewer).get("/finance/admin-share/").status_code == 403
    client = login(speaks(world.ministry_admin, "en"))
    assert client.get("/finance/admin-share/").status_code == 200
    bad = client.post("/finance/admin-share/", {"share-charity": world.charity_a.pk, "share-percent": "101"})
    assert bad.status_code == 400 and 'data-field-error="percent"' in bad.text
    assert not AdminShareLicence.objects.exists()
    good = client.post("/finance/admin-share/", {"share-charity": world.charity_a.pk, "share-percent": "12.5"})
    assert good.status_code == 302
    assert AdminShareLicence.objects.get(charity=world.charity_a).percent_bp == 1250
    assert "12.50 %" in client.get("/finance/admin-share/").text


# --- tranches on the contract page --------------------------------------------------------------------------------


def test_tranches_on_the_contract_page(world, login):
    budget(world, world.project_a)
    project = license_project(world)
    contract = register(world, project, amount="1000.000")
    base = f"/projects/{project.pk}/contracts/{contract.pk}/"
    client = login(speaks(world.najat, "en"))
    assert 'data-testid="new-tranche"' in client.get(base).text
    bad = client.post(
        base + "tranches/new/",
        {"tranche-number": "1", "tranche-planned_on": "2026-02-01", "tranche-amount": "1000.001"},
    )
    assert bad.status_code == 400 and 'data-field-error="amount"' in bad.text
    good = client.post(
        base + "tranches/new/",
        {"tranche-number": "1", "tranche-planned_on": "2026-02-01", "tranche-amount": "400.000"},
    )
    assert good.status_code == 302 and Tranche.objects.get().amount_minor == 400000
    assert 'data-testid="tranche-row" data-number="1"' in client.get(base).text
    assert login(world.rahma).get(base + "tranches/new/").status_code == 404
    assert login(world.staff_a).get(base + "tranches/new/").status_code == 403


# --- API ----------------------------------------------------------------------------------------------------------


def test_api_reads_versions_with_lines_and_periods(world):
    budget(world, world.project_a)
    budget(world, world.project_b)
    response = api(world.najat).get("/api/v1/budget-versions/", {"project": world.project_a.pk})
    assert response.status_code == 200
    (version,) = response.json()["results"]
    assert version["total"] == {"amount": "10500.000", "currency": "KWD"}
    assert version["admin"] == {"amount": "500.000", "currency": "KWD"}
    assert [line["amount"] for line in version["line_amounts"]] == [
        {"amount": "10000.000", "currency": "KWD"},
        {"amount": "500.000", "currency": "KWD"},
    ]
    assert version["period_amounts"] == [] and version["kind"] == "original"
    # Charity A never sees charity B's budget.
    assert api(world.najat).get("/api/v1/budget-versions/").json()["count"] == 1
    other = BudgetVersion.objects.get(project=world.project_b)
    assert api(world.najat).get(f"/api/v1/budget-versions/{other.pk}/").status_code == 404
    assert api(world.reviewer).get("/api/v1/budget-versions/").json()["count"] == 2


def test_api_creates_a_version_through_the_service(world):
    body = {
        "project": world.project_a.pk,
        "lines": [
            {"category": "programme", "name_en": "Well", "amount": "0.100"},
            {"category": "administration", "name_en": "Admin", "amount": "0.900"},
        ],
        "periods": [{"start": "2027-01-01", "end": "2027-12-31", "amount": "1.000"}],
    }
    response = api(world.najat).post("/api/v1/budget-versions/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total"] == {"amount": "1.000", "currency": "KWD"} and data["number"] == 1
    assert data["period_amounts"] == [
        {"start": "2027-01-01", "end": "2027-12-31", "amount": {"amount": "1.000", "currency": "KWD"}}
    ]
    revision = api(world.najat).post("/api/v1/budget-versions/", body, format="json")
    assert revision.status_code == 400 and "reason" in revision.json()["error"]["fields"]


def test_api_refuses_bad_amounts_and_other_tenants(world):
    body = {"project": world.project_a.pk, "lines": [{"category": "programme", "name_en": "W", "amount": "0.0001"}]}
    response = api(world.najat).post("/api/v1/budget-versions/", body, format="json")
    assert response.status_code == 400 and "lines-0-amount" in response.json()["error"]["fields"]
    assert api(world.rahma).post("/api/v1/budget-versions/", {**body, "lines": []}, format="json").status_code == 400
    assert api(world.staff_a).post("/api/v1/budget-versions/", body, format="json").status_code == 403
    assert not BudgetVersion.objects.exists()
