"""The expenditure pages and /api/v1/expenditures/: who sees and records what, the form's field errors, the
totals per line, the filters shared by page and API, the import page with its progress and per-row report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shafaf.finance.models import Expenditure, FinanceImport
from tests.factories import pdf_upload

from .helpers import english
from .helpers_expenditures import SPENT, TODAY, csv_upload, line, rate, running_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(world):
    project = running_project(world)
    rate("USD", SPENT, "0.305")
    return project


def form_data(project, **overrides):
    data = {
        "expenditure-line": line(project, "A").pk,
        "expenditure-amount": "12.500",
        "expenditure-currency": "KWD",
        "expenditure-spent_on": SPENT.isoformat(),
        "expenditure-evidence_kind": "invoice",
        "expenditure-reference": "INV-9",
        "expenditure-place": "Khartoum",
        "expenditure-description": "Pipes",
        "expenditure-file": pdf_upload("invoice.pdf"),
    }
    data.update(overrides)
    return data


def record(world, project, **overrides):
    from shafaf.finance.expenditures import expenditure_record

    values = {
        "line": line(project, "A"),
        "amount": "10.000",
        "currency": "KWD",
        "spent_on": SPENT,
        "evidence_kind": "receipt",
        "file": pdf_upload("r.pdf"),
        "reference": "R-1",
    }
    values.update(overrides)
    with english():
        return expenditure_record(actor=world.najat, project=project, **values)


def test_finance_officer_records_through_the_form(world, project, login):
    client = login(world.najat)
    url = reverse("finance:expenditure_create", args=[project.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, form_data(project))
    expenditure = Expenditure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:expenditure_detail", args=[project.pk, expenditure.pk])
    detail = client.get(response["Location"])
    assert b"12.500 KWD" in detail.content
    assert client.get(reverse("finance:expenditure_download", args=[project.pk, expenditure.pk])).status_code == 200


def test_form_shows_field_errors_and_writes_nothing(world, project, login):
    client = login(world.najat)
    url = reverse("finance:expenditure_create", args=[project.pk])
    response = client.post(
        url,
        form_data(
            project,
            **{"expenditure-amount": "0.0001", "expenditure-spent_on": (TODAY + dt.timedelta(days=1)).isoformat()},
        ),
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert 'data-field-error="amount"' in text and 'data-field-error="spent_on"' in text
    response = client.post(url, form_data(project, **{"expenditure-currency": "EUR", "expenditure-amount": "3.00"}))
    assert response.status_code == 400
    assert 'data-field-error="currency"' in response.content.decode()
    assert SPENT.isoformat() in response.content.decode()
    assert Expenditure.objects.count() == 0


def test_who_sees_and_records(world, project, login, client):
    record(world, project)
    list_url = reverse("finance:expenditure_list", args=[project.pk])
    create_url = reverse("finance:expenditure_create", args=[project.pk])
    for user in (world.najat, world.staff_a, world.partner_reporter, world.reviewer, world.auditor):
        login(user)
        assert client.get(list_url).status_code == 200, user
    for user in (world.rahma, world.staff_b, world.donor):
        login(user)
        assert client.get(list_url).status_code == 404, user
        assert client.get(create_url).status_code == 404, user
        assert client.post(create_url, form_data(project)).status_code == 404, user
    for user in (world.staff_a, world.reviewer, world.auditor):
        login(user)
        assert client.get(create_url).status_code == 403, user
        assert client.post(create_url, form_data(project)).status_code == 403, user
    login(world.partner_reporter)
    assert client.post(create_url, form_data(project, **{"expenditure-reference": "P-1"})).status_code == 302
    assert Expenditure.objects.filter(recorded_by=world.partner_reporter).count() == 1


def test_partner_reporter_cannot_record_for_another_partners_project(world, project, login):
    from shafaf.accounts.choices import Role
    from shafaf.accounts.models import Organization
    from tests.factories import member

    other = Organization.objects.create(kind="partner", slug="other-p", name_en="Other", name_ar="آخر")
    client = login(member(Role.PARTNER_REPORTER, other, "other_reporter"))
    assert client.get(reverse("finance:expenditure_create", args=[project.pk])).status_code == 404
    assert client.get(reverse("finance:expenditure_list", args=[project.pk])).status_code == 404


def test_a_draft_project_refuses_with_409(world, login):
    client = login(world.najat)
    response = client.get(reverse("finance:expenditure_create", args=[world.project_a.pk]))
    assert response.status_code == 409
    assert client.get(reverse("finance:expenditure_import", args=[world.project_a.pk])).status_code == 409


def test_list_totals_rate_and_filters(world, project, login):
    record(world, project)
    record(world, project, line=line(project, "B"), amount="100.00", currency="USD", reference="U-1")
    client = login(world.najat)
    url = reverse("finance:expenditure_list", args=[project.pk])
    text = client.get(url).content.decode()
    assert text.count('data-testid="expenditure-row"') == 2
    assert "30.500 KWD" in text and "0.305" in text and SPENT.isoformat() in text
    assert 'data-line="A"' in text and "10.000 KWD" in text
    only_usd = client.get(url, {"currency": "usd"}).content.decode()
    assert only_usd.count('data-testid="expenditure-row"') == 1 and "100.00 USD" in only_usd
    by_line = client.get(url, {"line": line(project, "A").pk}).content.decode()
    assert by_line.count('data-testid="expenditure-row"') == 1
    later = client.get(url, {"spent_after": (SPENT + dt.timedelta(days=1)).isoformat()}).content.decode()
    assert later.count('data-testid="expenditure-row"') == 0
    assert client.get(url, {"spent_after": "not-a-date"}).status_code == 400
    assert client.get(url, {"source": "nonsense"}).status_code == 400


def test_import_page_progress_and_report(world, project, login, django_capture_on_commit_callbacks):
    client = login(world.najat)
    url = reverse("finance:expenditure_import", args=[project.pk])
    assert client.get(url).status_code == 200
    text = (
        "line code,amount,currency,date,reference,place,description,evidence kind\n"
        f"A,1.000,KWD,{SPENT.isoformat()},R1,,,receipt\n"
        f"A,0.0001,KWD,{SPENT.isoformat()},R2,,,receipt\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"import-file": csv_upload(text)})
    batch = FinanceImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:import_detail", args=[project.pk, batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page, page[page.find("import-progress") - 20 :][:600]
    assert 'data-row="3"' in page
    partial = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<div id="import-progress"') and "<html" not in partial
    assert Expenditure.objects.filter(batch=batch).count() == 1


def test_import_page_refuses_a_wrong_file_on_the_form(world, project, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(world.najat)
    url = reverse("finance:expenditure_import", args=[project.pk])
    response = client.post(url, {"import-file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")})
    assert response.status_code == 400 and 'data-field-error="file"' in response.content.decode()
    assert FinanceImport.objects.count() == 0


def test_import_detail_of_another_project_is_404(world, project, login):
    from shafaf.finance.expenditures import expenditures_import

    with english():
        batch = expenditures_import(actor=world.najat, project=project, file=csv_upload("line code,amount\n"))
    client = login(world.rahma)
    assert client.get(reverse("finance:import_detail", args=[project.pk, batch.pk])).status_code == 404
    client = login(world.najat)
    assert client.get(reverse("finance:import_detail", args=[world.project_b.pk, batch.pk])).status_code == 404
    assert client.get(reverse("finance:import_detail", args=[project.pk, batch.pk])).status_code == 200


# ------------------------------------------------------------------------------------------------------------------
# API


def test_api_lists_with_the_same_filters_and_hides_other_charities(world, project, login):
    record(world, project)
    record(world, project, line=line(project, "B"), amount="100.00", currency="USD", reference="U-1")
    client = login(world.najat)
    body = client.get("/api/v1/expenditures/").json()
    assert body["count"] == 2
    usd = client.get("/api/v1/expenditures/", {"currency": "USD"}).json()["results"][0]
    assert usd["amount"] == "100.00" and usd["project_amount"] == "30.500" and usd["rate"] == "0.305"
    assert usd["rate_date"] == SPENT.isoformat() and usd["line_code"] == "B"
    assert client.get("/api/v1/expenditures/", {"line": line(project, "A").pk}).json()["count"] == 1
    assert client.get(f"/api/v1/expenditures/{usd['id']}/").status_code == 200
    other = login(world.rahma)
    assert other.get("/api/v1/expenditures/").json()["count"] == 0
    assert other.get(f"/api/v1/expenditures/{usd['id']}/").status_code == 404


def test_api_creates_with_multipart(world, project, login):
    client = login(world.partner_reporter)
    data = {
        "project": project.pk,
        "line": line(project, "A").pk,
        "amount": "5.25",
        "currency": "USD",
        "spent_on": SPENT.isoformat(),
        "evidence_kind": "receipt",
        "reference": "API-1",
        "file": pdf_upload("receipt.pdf"),
    }
    response = client.post("/api/v1/expenditures/", data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["project_amount"] == "1.601" and body["rate"] == "0.305" and body["document_url"]
    bad = client.post("/api/v1/expenditures/", {**data, "amount": "5.255", "file": pdf_upload("r.pdf")})
    assert bad.status_code == 400 and "amount" in bad.json()["error"]["fields"]
    assert Expenditure.objects.count() == 1


def test_api_create_refusals(world, project, login):
    data = {
        "project": project.pk,
        "line": line(project, "A").pk,
        "amount": "5.000",
        "currency": "KWD",
        "spent_on": SPENT.isoformat(),
        "evidence_kind": "receipt",
    }
    staff = login(world.staff_a)
    assert staff.post("/api/v1/expenditures/", {**data, "file": pdf_upload()}).status_code == 403
    foreign = login(world.rahma)
    response = foreign.post("/api/v1/expenditures/", {**data, "file": pdf_upload()})
    assert response.status_code == 400 and "project" in response.json()["error"]["fields"]
    officer = login(world.najat)
    other_line = {**data, "line": 999999, "file": pdf_upload()}
    response = officer.post("/api/v1/expenditures/", other_line)
    assert response.status_code == 400 and "line" in response.json()["error"]["fields"]
    assert Expenditure.objects.count() == 0
