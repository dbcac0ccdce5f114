"""The pages and the API of contracts and disbursements: who sees and does what (404 for another tenant, 403
for a role that may not act), the gate's refusal in an alert (pages) or a 409 naming it (API), amounts as
exact strings, and the project page's link."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from shafaf.finance.models import Contract, Disbursement
from tests.factories import pdf_upload, verified_login

from .helpers import finance_officer, lapse, license_project, register, revoke, screening_hit, suspend, with_document

API = "/api/v1/"


@pytest.fixture
def project(world):
    return license_project(world)


def api(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


def speaks(user, language: str):
    """The user's saved language (it wins over the browser's) set to `language`; returns the user."""
    user.language = language
    user.save(update_fields=["language"])
    return user


def contract_form(**overrides) -> dict:
    data = {
        "contract-number": "C-77",
        "contract-signed_on": "2026-01-10",
        "contract-amount": "1250.500",
        "contract-currency": "KWD",
    }
    data.update(overrides)
    return data


# --- pages -----------------------------------------------------------------------------------------------------


def test_the_project_page_links_to_its_contracts(world, project, login):
    page = login(world.najat).get(f"/projects/{project.pk}/")
    assert f"/projects/{project.pk}/contracts/" in page.text


def test_contract_list_with_totals(world, project, login):
    contract = register(world, project, amount="1250.500")
    Disbursement.objects.create(
        project=project,
        contract=contract,
        partner=world.partner,
        amount_minor=250500,
        currency="KWD",
        paid_on=dt.date(2026, 2, 1),
        reference="TR-1",
        recorded_by=world.najat,
    )
    page = login(speaks(world.najat, "en")).get(f"/projects/{project.pk}/contracts/")
    assert page.status_code == 200
    assert "1,250.500 KWD" in page.text and "250.500 KWD" in page.text and "1,000.000 KWD" in page.text
    assert 'data-testid="new-contract"' in page.text


@pytest.mark.parametrize(
    ("persona", "list_status", "detail_status", "form_status"),
    [
        ("najat", 200, 200, 200),
        ("staff_a", 200, 200, 403),
        ("reviewer", 200, 200, 403),
        ("auditor", 200, 200, 403),
        ("partner", 200, 200, 403),
        ("rahma", 404, 404, 404),
        ("staff_b", 404, 404, 404),
        ("donor", 404, 404, 404),
        ("accreditation_officer", 404, 404, 404),
    ],
)
def test_who_sees_and_acts_on_the_pages(world, project, client, persona, list_status, detail_status, form_status):
    contract = register(world, project)
    verified_login(client, world.personas()[persona])
    base = f"/projects/{project.pk}/contracts/"
    assert client.get(base).status_code == list_status
    assert client.get(f"{base}{contract.pk}/").status_code == detail_status
    assert client.get(f"{base}new/").status_code == form_status
    assert client.get(f"{base}{contract.pk}/disbursements/new/").status_code == form_status
    posted = client.post(f"{base}{contract.pk}/disbursements/new/", {"disbursement-amount": "1"})
    assert posted.status_code == (400 if form_status == 200 else form_status)
    assert not Disbursement.objects.exists()


def test_a_finance_officer_registers_through_the_page(world, project, login):
    officer = finance_officer(world)
    response = login(officer).post(
        f"/projects/{project.pk}/contracts/new/", contract_form(**{"contract-file": pdf_upload("signed.pdf")})
    )
    assert response.status_code == 302
    contract = Contract.objects.get()
    assert contract.number == "C-77" and contract.amount_minor == 1250500 and contract.has_document
    assert response["Location"] == f"/projects/{project.pk}/contracts/{contract.pk}/"
    download = login(world.reviewer).get(f"/projects/{project.pk}/contracts/{contract.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_a_bad_amount_is_shown_on_its_field(world, project, login):
    response = login(world.najat).post(
        f"/projects/{project.pk}/contracts/new/", contract_form(**{"contract-amount": "12.3456"})
    )
    assert response.status_code == 400
    assert 'data-field-error="amount"' in response.text
    assert not Contract.objects.exists()


def test_the_gate_refusal_is_an_alert_and_the_form_keeps_the_input(world, project, login):
    revoke(world)
    response = login(speaks(world.najat, "en")).post(f"/projects/{project.pk}/contracts/new/", contract_form())
    assert response.status_code == 409
    assert 'data-testid="finance-refusal"' in response.text
    assert "Ministry of Foreign Affairs" in response.text and "is revoked" in response.text
    assert 'value="C-77"' in response.text and 'value="1250.500"' in response.text
    assert not Contract.objects.exists()


def test_the_gate_refusal_in_arabic_on_the_page(world, project, login):
    screening_hit(world)
    response = login(speaks(world.najat, "ar")).post(f"/projects/{project.pk}/contracts/new/", contract_form())
    assert response.status_code == 409
    assert "تطابق في قوائم العقوبات" in response.text


def test_record_a_disbursement_and_upload_the_contract_through_the_pages(world, project, login):
    contract = register(world, project)
    client = login(speaks(world.najat, "en"))
    base = f"/projects/{project.pk}/contracts/{contract.pk}/"
    upload = client.post(f"{base}document/", {"document-file": pdf_upload()})
    assert upload.status_code == 302
    again = client.post(f"{base}document/", {"document-file": pdf_upload()})
    assert again.status_code == 409
    paid = client.post(
        f"{base}disbursements/new/",
        {"disbursement-amount": "300", "disbursement-paid_on": "2026-03-01", "disbursement-reference": "TR-9"},
    )
    assert paid.status_code == 302
    detail = client.get(base)
    assert "TR-9" in detail.text and "300.000 KWD" in detail.text and "700.000 KWD" in detail.text


def test_a_refused_settlement_on_the_page(world, project, login):
    contract = register(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    response = login(speaks(world.najat, "en")).post(
        f"/projects/{project.pk}/contracts/{contract.pk}/disbursements/new/",
        {"disbursement-amount": "300", "disbursement-paid_on": "2026-07-01", "disbursement-reference": "TR-9"},
    )
    assert response.status_code == 409
    assert "Upload the signed contract first" in response.text and 'value="TR-9"' in response.text


def test_the_ceiling_on_the_page(world, project, login):
    contract = register(world, project, amount="100")
    response = login(speaks(world.najat, "en")).post(
        f"/projects/{project.pk}/contracts/{contract.pk}/disbursements/new/",
        {"disbursement-amount": "100.001", "disbursement-paid_on": "2026-03-01", "disbursement-reference": "TR-1"},
    )
    assert response.status_code == 400
    assert 'data-field-error="amount"' in response.text and "100.001 KWD" in response.text


def test_a_draft_project_offers_no_contract_form(world, login):
    response = login(world.najat).get(f"/projects/{world.project_a.pk}/contracts/new/")
    assert response.status_code == 409


def test_another_charitys_contract_under_ones_own_project_is_not_found(world, project, login):
    contract = register(world, project)
    other = world.project_b
    response = login(world.rahma).get(f"/projects/{other.pk}/contracts/{contract.pk}/")
    assert response.status_code == 404


# --- API -------------------------------------------------------------------------------------------------------


def test_api_register_and_read_a_contract(world, project):
    client = api(finance_officer(world))
    response = client.post(
        f"{API}contracts/",
        {"project": project.pk, "number": "C-1", "signed_on": "2026-01-10", "amount": "1250.500"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "1250.500" and body["currency"] == "KWD"
    assert body["disbursed"] == "0.000" and body["remaining"] == "1250.500"
    assert body["partner"] == world.partner.pk and body["has_document"] is False and body["document_url"] is None
    listed = api(world.reviewer).get(f"{API}contracts/", {"project": project.pk}).json()
    assert [row["number"] for row in listed["results"]] == ["C-1"]
    assert api(world.rahma).get(f"{API}contracts/").json()["results"] == []
    assert api(world.rahma).get(f"{API}contracts/{body['id']}/").status_code == 404
    assert api(world.partner_reporter).get(f"{API}contracts/{body['id']}/").status_code == 200


def test_api_upload_the_signed_contract(world, project):
    contract = register(world, project)
    response = api(world.najat).post(
        f"{API}contracts/{contract.pk}/document/", {"file": pdf_upload()}, format="multipart"
    )
    assert response.status_code == 200 and response.json()["has_document"] is True
    assert response.json()["document_url"].endswith(f"/contracts/{contract.pk}/download/")
    assert (
        api(world.staff_a)
        .post(f"{API}contracts/{contract.pk}/document/", {"file": pdf_upload()}, format="multipart")
        .status_code
        == 403
    )


def test_api_refusals(world, project):
    staff = api(world.staff_a).post(
        f"{API}contracts/",
        {"project": project.pk, "number": "C-1", "signed_on": "2026-01-10", "amount": "1"},
        format="json",
    )
    assert staff.status_code == 403
    foreign = api(world.rahma).post(
        f"{API}contracts/",
        {"project": project.pk, "number": "C-1", "signed_on": "2026-01-10", "amount": "1"},
        format="json",
    )
    assert foreign.status_code == 400 and "project" in foreign.json()["error"]["fields"]
    lapse(world, on=dt.date(2025, 12, 31))
    refused = api(speaks(world.najat, "en")).post(
        f"{API}contracts/",
        {"project": project.pk, "number": "C-1", "signed_on": "2026-01-10", "amount": "1"},
        format="json",
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "partner_not_accredited"
    assert any("lapsed on 2025-12-31" in reason for reason in error["fields"]["partner"])
    assert not Contract.objects.exists()


def test_api_record_disbursements(world, project):
    contract = with_document(world, project, amount="1000")
    client = api(world.najat)
    created = client.post(
        f"{API}disbursements/",
        {"contract": contract.pk, "amount": "999.999", "paid_on": "2026-03-01", "reference": "TR-1"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["amount"] == "999.999" and body["currency"] == "KWD" and body["is_settlement"] is False
    too_much = client.post(
        f"{API}disbursements/",
        {"contract": contract.pk, "amount": "0.002", "paid_on": "2026-03-01", "reference": "TR-2"},
        format="json",
    )
    assert too_much.status_code == 400 and "amount" in too_much.json()["error"]["fields"]
    listed = api(world.auditor).get(f"{API}disbursements/", {"project": project.pk}).json()["results"]
    assert [row["reference"] for row in listed] == ["TR-1"]
    assert api(world.rahma).get(f"{API}disbursements/{body['id']}/").status_code == 404
    assert api(world.donor).get(f"{API}disbursements/").json()["results"] == []
    assert (
        api(world.partner_reporter)
        .post(
            f"{API}disbursements/",
            {"contract": contract.pk, "amount": "0.001", "paid_on": "2026-03-01", "reference": "TR-3"},
            format="json",
        )
        .status_code
        == 403
    )


def test_api_settlement_and_its_refusal(world, project):
    contract = with_document(world, project, amount="1000")
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 8, 31))
    client = api(speaks(world.najat, "en"))
    late = client.post(
        f"{API}disbursements/",
        {"contract": contract.pk, "amount": "10", "paid_on": "2026-09-01", "reference": "TR-1"},
        format="json",
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "settlement_refused"
    assert any("(2026-08-31) has passed" in r for r in late.json()["error"]["fields"]["partner"])
    settled = client.post(
        f"{API}disbursements/",
        {"contract": contract.pk, "amount": "10", "paid_on": "2026-08-31", "reference": "TR-2"},
        format="json",
    )
    assert settled.status_code == 201 and settled.json()["is_settlement"] is True


def test_api_bad_bodies_are_field_errors(world, project):
    client = api(world.najat)
    assert client.post(f"{API}contracts/", [1, 2], format="json").status_code == 400
    assert client.post(f"{API}disbursements/", {"contract": "x"}, format="json").status_code == 400
    response = client.post(
        f"{API}contracts/",
        {"project": project.pk, "number": "C-1", "signed_on": "2026-01-10", "amount": "1.5e3"},
        format="json",
    )
    assert response.status_code == 400 and "amount" in response.json()["error"]["fields"]
