"""The public open-data page and API: each active charity with what it publishes, the licence and the audit
chain's checkpoints; nothing a charity has not published."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from shafaf.audit import services as audit_services
from shafaf.finance.tests.helpers import license_project, register
from tests.factories import donor_of

API = "/api/v1/open-data/"


@pytest.fixture
def published(world):
    project = license_project(world)
    register(world, project, number="C-1", amount="1000.000", signed_on=dt.date(2026, 1, 10))
    return project


def _charity(body: dict, slug: str) -> dict:
    return next(item for item in body["charities"] if item["slug"] == slug)


def test_api_is_public_and_lists_what_each_charity_publishes(world, published):
    checkpoint = audit_services.checkpoint_create(actor=world.auditor)
    response = Client().get(API)
    assert response.status_code == 200
    body = response.json()
    assert body["licence"]["code"] == "CC-BY-4.0"
    assert body["licence"]["url"] == "https://creativecommons.org/licenses/by/4.0/"
    a = _charity(body, "charity-a")
    assert (a["published_projects"], a["published_grants"]) == (1, 1)
    assert a["iati_activities_url"] == "http://testserver/open-data/charity-a/iati-activities.xml"
    assert a["iati_organisation_url"] == "http://testserver/open-data/charity-a/iati-organisation.xml"
    assert a["giving_360_url"] == "http://testserver/open-data/charity-a/360giving.json"
    assert a["last_updated"]
    # Charity B has only a draft: listed, with nothing to download and no count of its drafts.
    b = _charity(body, "charity-b")
    assert (b["published_projects"], b["published_grants"]) == (0, 0)
    assert b["iati_activities_url"] is None and b["giving_360_url"] is None and b["last_updated"] is None
    # Only charities: no authority, partner, donor organisation or audit office.
    assert {item["slug"] for item in body["charities"]} == {"charity-a", "charity-b"}
    assert body["checkpoints"][0] == {
        "count": checkpoint.count,
        "head_hash": checkpoint.head_hash,
        "created_at": body["checkpoints"][0]["created_at"],
    }
    assert body["checkpoint_download_url"] is None and body["how_to_verify"]
    # Every published file answers (the 360Giving one is ours; the IATI ones are served by their own views).
    assert Client().get(a["giving_360_url"]).status_code == 200


def test_api_and_page_reveal_no_donor_and_no_inactive_charity(world, published):
    donor = donor_of(world, name_ar="فاعل خير مجهول", name_en="Secret Benefactor Zeta")
    world.charity_b.is_active = False
    world.charity_b.save(update_fields=["is_active"])
    api = Client().get(API).content.decode()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("interop:open-data")).content.decode()
    for body in (api, page):
        assert "charity-b" not in body and "Al-Rahma" not in body
        assert donor.name_en not in body and donor.name_ar not in body


def test_api_is_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/open-data/"]["get"]
    assert operation["operationId"] == "open_data"
    assert operation.get("security") in (None, [], [{}])  # no authentication asked
    assert "security" not in schema  # nor inherited from a global requirement
    assert "200" in operation["responses"]


def test_page_in_english_and_arabic(world, published):
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("interop:open-data"))
    assert english.status_code == 200
    text = english.content.decode()
    assert '<html lang="en" dir="ltr">' in text
    assert "Open data" in text and "Al-Noor Charity" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text
    assert "/open-data/charity-a/360giving.json" in text
    assert "/open-data/charity-a/iati-activities.xml" in text
    assert 'data-testid="nav-open-data"' in text
    arabic = Client(HTTP_ACCEPT_LANGUAGE="ar").get(reverse("interop:open-data"))
    assert arabic.status_code == 200
    assert '<html lang="ar" dir="rtl">' in arabic.content.decode()
    assert "جمعية النور الخيرية" in arabic.content.decode()


def test_nav_link_for_signed_in_users(world, login):
    response = login(world.najat).get(reverse("interop:open-data"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="nav-open-data"') == 1


def test_page_and_api_refuse_writes():
    assert Client().post(reverse("interop:open-data")).status_code == 405
    assert Client().post(API).status_code in (403, 405)
