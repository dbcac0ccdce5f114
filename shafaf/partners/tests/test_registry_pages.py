"""The partner pages (Arabic and English) and the API: who sees and does what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shafaf.partners import services
from shafaf.partners.choices import AccreditationStatus
from shafaf.partners.models import Accreditation, Officer, PartnerProfile
from tests.factories import pdf_upload, verified_login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


@pytest.fixture
def other(world):
    partner = services.partner_register(
        actor=world.ministry_admin,
        name_ar="مؤسسة الأمل لرعاية الأيتام",
        name_en="Al-Amal Orphan Care Foundation",
        country="JO",
        registration_agency="JO-MSD",
        registration_number="2019-0382",
        aliases=["Amal Foundation"],
        officers=[{"role": "head", "name_en": "Khaled Al-Omari", "date_of_birth": dt.date(1971, 6, 30)}],
    )
    return partner


def api(user):
    client = APIClient()
    verified_login(client, user)
    return client


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_pages_render_in_both_languages(world, login, other, language):
    world.ministry_admin.language = language
    world.ministry_admin.save()
    client = login(world.ministry_admin)
    listing = client.get("/partners/")
    assert listing.status_code == 200
    text = listing.content.decode()
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in text
    assert "Al-Amal Orphan Care Foundation" in text and 'data-testid="partner-counts"' in text
    detail = client.get(f"/partners/{other.pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert 'data-testid="partner-gate" data-allowed="no"' in text
    expected = "the Ministry of Foreign Affairs" if language == "en" else "وزارة الخارجية"
    assert expected in text  # the gate names the missing accreditation
    assert "1971-06-30" in text
    assert client.get(f"/partners/{other.pk}/edit/").status_code == 200
    assert client.get("/partners/new/").status_code == 200


def test_list_filters(world, login, other):
    client = login(world.reviewer)
    text = client.get("/partners/", {"accredited": "yes"}).content.decode()
    assert "Hope Organisation" in text and "Al-Amal" not in text
    text = client.get("/partners/", {"accredited": "no"}).content.decode()
    assert "Hope Organisation" not in text and "Al-Amal" in text
    text = client.get("/partners/", {"q": "Amal Foundation"}).content.decode()  # an alias
    assert "Al-Amal" in text and "Hope Organisation" not in text
    text = client.get("/partners/", {"q": "الأمل لرعاية"}).content.decode()
    assert "Al-Amal" in text
    text = client.get("/partners/", {"country": "sd"}).content.decode()
    assert "Hope Organisation" in text and "Al-Amal" not in text
    text = client.get("/partners/", {"screening": "not_screened"}).content.decode()
    assert "Hope Organisation" in text
    assert client.get("/partners/", {"screening": "bogus"}).status_code == 400


def test_a_charity_reads_partners_but_not_dates_of_birth(world, login, other):
    client = login(world.najat)
    text = client.get(f"/partners/{other.pk}/").content.decode()
    assert "Khaled Al-Omari" in text and "1971-06-30" not in text
    assert 'data-testid="edit-partner"' not in text
    assert client.get(f"/partners/{other.pk}/edit/").status_code == 403
    assert client.post(f"/partners/{other.pk}/officers/new/", {"officer-role": "head"}).status_code == 403
    body = api(world.najat).get("/api/v1/officers/", {"partner": other.pk}).json()
    assert body["count"] == 1 and body["results"][0]["date_of_birth"] is None
    body = api(world.reviewer).get("/api/v1/officers/", {"partner": other.pk}).json()
    assert body["results"][0]["date_of_birth"] == "1971-06-30"


def test_a_partner_reporter_sees_only_its_own_partner(world, login, other):
    client = login(world.partner_reporter)
    text = client.get("/partners/").content.decode()
    assert "Hope Organisation" in text and "Al-Amal" not in text
    assert client.get(f"/partners/{world.partner.pk}/").status_code == 200
    assert client.get(f"/partners/{other.pk}/").status_code == 404
    assert api(world.partner_reporter).get(f"/api/v1/partners/{other.pk}/").status_code == 404
    assert api(world.partner_reporter).get("/api/v1/partners/").json()["count"] == 1
    other_accreditation = services.accreditation_record(
        actor=world.accreditation_officer,
        partner=other,
        authority="MOFA",
        number="N-1",
        valid_from=TODAY,
        valid_until=TODAY,
    )
    assert api(world.partner_reporter).get(f"/api/v1/accreditations/{other_accreditation.pk}/").status_code == 404


def test_a_donor_sees_no_partner(world, login):
    assert login(world.donor).get("/partners/").status_code == 403
    assert login(world.donor).get(f"/partners/{world.partner.pk}/").status_code == 404
    assert api(world.donor).get("/api/v1/partners/").json()["count"] == 0


def test_register_and_edit_through_the_pages(world, login):
    client = login(world.accreditation_officer)
    response = client.post(
        "/partners/new/",
        {
            "name_ar": "شبكة اليمن",
            "name_en": "Yemen Network",
            "country": "YE",
            "registration_agency": "YE-MSAL",
            "registration_number": "SA-1187",
        },
    )
    assert response.status_code == 302
    partner = PartnerProfile.objects.get(registration_number="SA-1187").organization
    response = client.post(
        "/partners/new/",
        {
            "name_ar": "x",
            "name_en": "y",
            "country": "YE",
            "registration_agency": "YE-MSAL",
            "registration_number": "SA-1187",
        },
    )
    assert response.status_code == 409 and "already registered" in response.content.decode()
    assert (
        client.post(
            f"/partners/{partner.pk}/officers/new/", {"officer-role": "director", "officer-name_en": "Abdullah Saleh"}
        ).status_code
        == 302
    )
    assert Officer.objects.filter(partner=partner, name_en="Abdullah Saleh").exists()
    response = client.post(f"/partners/{partner.pk}/officers/new/", {"officer-role": "director"})
    assert response.status_code == 400 and 'data-field-error="name_en"' in response.content.decode()
    assert (
        client.post(f"/partners/{partner.pk}/names/new/", {"alias-kind": "acronym", "alias-name": "YRN"}).status_code
        == 302
    )
    assert (
        client.post(
            f"/partners/{partner.pk}/addresses/new/", {"address-line": "Hadda St", "address-country": "YE"}
        ).status_code
        == 302
    )
    assert client.get(f"/partners/{partner.pk}/names/new/").status_code == 405


def test_accreditation_actions_through_the_pages(world, login, other):
    client = login(world.accreditation_officer)
    response = client.post(
        f"/partners/{other.pk}/accreditations/new/",
        {
            "accreditation-authority": "MOFA",
            "accreditation-number": "MOFA-77",
            "accreditation-valid_from": "2026-01-01",
            "accreditation-valid_until": "2030-12-31",
            "accreditation-countries": ["JO"],
            "accreditation-document": pdf_upload(),
            "accreditation-document_title": "Decision",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    accreditation = Accreditation.objects.get(number="MOFA-77")
    assert accreditation.documents.count() == 1
    document = accreditation.documents.get()
    download = login(world.najat).get(
        f"/partners/{other.pk}/accreditations/{accreditation.pk}/documents/{document.pk}/download/"
    )
    assert download.status_code == 200
    client = login(world.accreditation_officer)
    base = f"/partners/{other.pk}/accreditations/{accreditation.pk}"
    response = client.post(f"{base}/suspend/", {f"suspend-{accreditation.pk}-reason": ""})
    assert response.status_code == 400
    response = client.post(f"{base}/suspend/", {f"suspend-{accreditation.pk}-reason": "Inquiry"})
    assert response.status_code == 302
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.SUSPENDED
    # an officer of MOSA may not touch MoFA's accreditation
    assert (
        login(world.mosa_officer).post(f"{base}/revoke/", {f"revoke-{accreditation.pk}-reason": "x"}).status_code == 403
    )
    response = login(world.ministry_admin).post(
        f"{base}/settlement/", {f"settlement-{accreditation.pk}-settlement_deadline": "2031-01-01"}
    )
    assert response.status_code == 302
    client = login(world.accreditation_officer)
    assert client.post(f"{base}/reinstate/", {f"reinstate-{accreditation.pk}-reason": "Closed"}).status_code == 302
    assert client.post(f"{base}/revoke/", {f"revoke-{accreditation.pk}-reason": "Fraud"}).status_code == 302
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.REVOKED
    assert client.post(f"{base}/revoke/", {f"revoke-{accreditation.pk}-reason": "again"}).status_code == 409


def test_api_partners(world, other):
    client = api(world.ministry_admin)
    body = client.get("/api/v1/partners/").json()
    assert body["count"] == 2
    hope = next(item for item in body["results"] if item["id"] == world.partner.pk)
    assert hope["accredited"] is True
    response = client.post(
        "/api/v1/partners/",
        {
            "name_ar": "هيئة الإغاثة",
            "name_en": "Somali Relief Agency",
            "country": "SO",
            "aliases": [{"kind": "acronym", "name": "SRA"}],
            "officers": [{"role": "head", "name_en": "Mohamed Abdi"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["aliases"][0]["name"] == "SRA" and created["accredited"] is False
    response = client.patch(f"/api/v1/partners/{created['id']}/", {"website": "https://sra.example.org"}, format="json")
    assert response.status_code == 200 and response.json()["website"] == "https://sra.example.org"
    response = client.post("/api/v1/partners/", {"name_ar": "x", "name_en": "y", "country": "XX"}, format="json")
    assert response.status_code == 400 and "country" in response.json()["error"]["fields"]
    assert api(world.najat).post("/api/v1/partners/", {"name_ar": "x"}, format="json").status_code == 403
    assert api(world.najat).patch(f"/api/v1/partners/{other.pk}/", {"name_en": "x"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/partners/{other.pk}/").status_code == 405
    response = api(world.accreditation_officer).post(
        "/api/v1/officers/", {"partner": other.pk, "role": "director", "name_ar": "سلمى"}, format="json"
    )
    assert response.status_code == 201
    officer_id = response.json()["id"]
    response = api(world.accreditation_officer).post(f"/api/v1/officers/{officer_id}/deactivate/", {}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False


def test_api_accreditations(world, other):
    officer = api(world.accreditation_officer)
    payload = {
        "partner": other.pk,
        "authority": "MOFA",
        "number": "MOFA-9",
        "valid_from": "2026-01-01",
        "valid_until": "2029-12-31",
        "countries": ["JO"],
        "project_models": ["sponsorship_external"],
    }
    response = officer.post("/api/v1/accreditations/", payload, format="json")
    assert response.status_code == 201, response.json()
    accreditation = response.json()
    assert accreditation["status"] == "active" and accreditation["recorded_by"] == "mofa_officer"
    assert (
        api(world.mosa_officer).post("/api/v1/accreditations/", {**payload, "number": "x"}, format="json").status_code
        == 403
    )
    assert api(world.najat).post("/api/v1/accreditations/", payload, format="json").status_code == 403
    response = officer.post("/api/v1/accreditations/", payload, format="json")
    assert response.status_code == 400 and "number" in response.json()["error"]["fields"]
    pk = accreditation["id"]
    assert (
        api(world.mosa_officer)
        .post(f"/api/v1/accreditations/{pk}/suspend/", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    response = officer.post(f"/api/v1/accreditations/{pk}/suspend/", {}, format="json")
    assert response.status_code == 400
    response = officer.post(f"/api/v1/accreditations/{pk}/suspend/", {"reason": "Inquiry"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    response = api(world.ministry_admin).post(
        f"/api/v1/accreditations/{pk}/settlement-deadline/", {"settlement_deadline": "2030-01-01"}, format="json"
    )
    assert response.status_code == 200 and response.json()["settlement_deadline"] == "2030-01-01"
    response = officer.post(f"/api/v1/accreditations/{pk}/reinstate/", {"reason": "Closed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"
    response = officer.post(f"/api/v1/accreditations/{pk}/revoke/", {"reason": "Fraud"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    response = officer.post(f"/api/v1/accreditations/{pk}/revoke/", {"reason": "Again"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_revoked"
    response = officer.post(
        f"/api/v1/accreditations/{pk}/documents/", {"title": "Decision", "file": pdf_upload()}, format="multipart"
    )
    assert response.status_code == 201 and len(response.json()["sha256"]) == 64
    listing = api(world.staff_b).get("/api/v1/accreditations/", {"partner": other.pk, "status": "revoked"}).json()
    assert [item["id"] for item in listing["results"]] == [pk]
    assert api(world.donor).get(f"/api/v1/accreditations/{pk}/").status_code == 404


def test_the_navigation_shows_partners_to_those_who_see_them(world, login):
    assert 'data-testid="nav-partners"' in login(world.staff_a).get("/").content.decode()
    assert 'data-testid="nav-partners"' not in login(world.donor).get("/").content.decode()
