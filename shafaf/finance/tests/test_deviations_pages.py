"""The pages, the API and the command of deviations: the project's variance page (the charity and the ministry
only, warnings highlighted), the justification and decision forms, the ministry's queue across charities (the
ministry only), the finance settings page, the API's filtering and actions, and `manage.py deviations --jsonl`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from shafaf.finance import deviations
from shafaf.finance.models import Deviation, FinanceSettings
from tests.factories import verified_login

from .helpers_deviations import set_budget, spend
from .test_deviations import JUSTIFICATION

API = "/api/v1/deviations/"


def api(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


@pytest.fixture
def project(world):
    set_budget(world, world.project_a, {"1": 1_000_000, "2": 9_000_000})
    return world.project_a


@pytest.fixture
def deviation(world, project):
    spend(world, project, "1", 1_200_000)
    return Deviation.objects.get(project=project)


@pytest.fixture
def other(world):
    """Charity B's project, beyond its budget on line 1 too."""
    set_budget(world, world.project_b, {"1": 500_000, "2": 1_500_000})
    spend(world, world.project_b, "1", 600_000)
    return world.project_b


# --- the project's page -------------------------------------------------------------------------------------------


def test_the_project_page_shows_variance_warnings_and_deviations(world, project, login):
    spend(world, project, "2", 9_000_000)  # line 2 fully spent: a warning
    spend(world, project, "1", 1_200_000)  # line 1 beyond
    client = login(world.najat)
    response = client.get(reverse("finance:deviations", args=[project.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="variance-line" data-code="1" class="table-danger"' in text
    assert 'data-testid="variance-line" data-code="2" class="table-warning"' in text
    assert 'data-level="at_budget"' in text and "120.00 %" in text
    assert 'data-testid="deviation-row"' in text
    assert response.context["total"]["ratio"] == "102.00 %"


def test_only_the_charity_and_the_ministry_see_a_projects_deviations(world, project, deviation, login):
    for user in (world.najat, world.staff_a, world.reviewer, world.ministry_admin, world.auditor):
        client = login(user)
        assert client.get(reverse("finance:deviations", args=[project.pk])).status_code == 200
        assert client.get(reverse("finance:deviation_detail", args=[project.pk, deviation.pk])).status_code == 200
    for user in (world.rahma, world.staff_b, world.donor):
        client = login(user)
        assert client.get(reverse("finance:deviations", args=[project.pk])).status_code == 404
        assert client.get(reverse("finance:deviation_detail", args=[project.pk, deviation.pk])).status_code == 404
        assert client.get(reverse("finance:deviation_justify", args=[project.pk, deviation.pk])).status_code == 404


def test_the_charity_justifies_and_the_ministry_decides_through_the_pages(world, project, deviation, login):
    detail = reverse("finance:deviation_detail", args=[project.pk, deviation.pk])
    justify = reverse("finance:deviation_justify", args=[project.pk, deviation.pk])
    decide = reverse("finance:deviation_decide", args=[project.pk, deviation.pk])
    client = login(world.najat)
    assert 'data-testid="justify-form"' in client.get(detail).content.decode()
    response = client.post(justify, {"text": "too short"})
    assert response.status_code == 400 and "text" in response.context["justify_form"].errors
    assert client.post(decide, {"decision": "approve"}).status_code == 403
    response = client.post(justify, {"text": JUSTIFICATION})
    assert response.status_code == 302 and response["Location"] == detail
    assert client.post(justify, {"text": JUSTIFICATION}).status_code == 409

    client = login(world.staff_a)
    assert client.post(justify, {"text": JUSTIFICATION}).status_code == 403

    client = login(world.reviewer)
    page = client.get(detail).content.decode()
    assert 'data-testid="decide-form"' in page and escape(JUSTIFICATION) in page
    response = client.post(decide, {"decision": "reject", "note": ""})
    assert response.status_code == 400 and "note" in response.context["decide_form"].errors
    response = client.post(decide, {"decision": "reject", "note": "No tender was held."})
    assert response.status_code == 302
    deviation.refresh_from_db()
    assert deviation.status == "rejected"
    page = client.get(detail).content.decode()
    assert 'data-testid="spending-blocked"' in page
    assert [e for e in ("deviation.open", "deviation.justify", "deviation.reject") if f'data-action="{e}"' in page] == [
        "deviation.open",
        "deviation.justify",
        "deviation.reject",
    ]


# --- the queue ------------------------------------------------------------------------------------------------------


def test_the_queue_lists_every_charity_for_the_ministry_only(world, project, deviation, other, login):
    with_b = Deviation.objects.get(project=other)
    deviations.deviation_justify(actor=world.rahma, deviation=with_b, text=JUSTIFICATION)
    url = reverse("finance:deviation_queue")
    for user in (world.reviewer, world.ministry_admin):
        response = login(user).get(url)
        assert response.status_code == 200
        rows = [d.pk for d in response.context["page"]]
        assert rows == [with_b.pk, deviation.pk]  # the justified one first
        assert 'data-testid="nav-deviation-queue"' in response.content.decode()
    for user in (world.najat, world.rahma, world.staff_a, world.donor, world.partner_reporter):
        assert login(user).get(url).status_code == 403
    assert login(world.najat).get(reverse("projects:project_list")).content.decode().count("nav-deviation-queue") == 0
    response = login(world.reviewer).get(url, {"status": ["justified"]})
    assert [d.pk for d in response.context["page"]] == [with_b.pk]
    assert login(world.reviewer).get(url, {"scope": "nonsense"}).status_code == 400


# --- settings ---------------------------------------------------------------------------------------------------------


def test_the_settings_page(world, login):
    url = reverse("finance:settings")
    for user in (world.najat, world.auditor, world.donor):
        assert login(user).get(url).status_code == 403
    reviewer = login(world.reviewer)
    assert reviewer.get(url).status_code == 200
    assert reviewer.post(url, {"line_threshold_percent": "20"}).status_code == 403
    admin = login(world.ministry_admin)
    response = admin.get(url)
    assert response.context["form"].initial["line_threshold_percent"] == "10"
    data = {
        "line_threshold_percent": "abc",
        "total_threshold_percent": "5",
        "warning_percent": "101",
        "rate_max_age_days": "31",
    }
    response = admin.post(url, data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"line_threshold_percent", "warning_percent"}
    response = admin.post(url, {**data, "line_threshold_percent": "7.5", "warning_percent": "75"})
    assert response.status_code == 302
    row = FinanceSettings.objects.get()
    assert (row.line_threshold_bp, row.warning_percent, row.updated_by) == (750, 75, world.ministry_admin)


# --- the API ----------------------------------------------------------------------------------------------------------


def test_the_api_lists_per_user_and_acts_through_the_services(world, project, deviation, other):
    ids = lambda user: {row["id"] for row in api(user).get(API).json()["results"]}  # noqa: E731
    with_b = Deviation.objects.get(project=other)
    assert ids(world.reviewer) == ids(world.auditor) == {deviation.pk, with_b.pk}
    assert ids(world.najat) == {deviation.pk} and ids(world.rahma) == {with_b.pk}
    assert ids(world.partner_reporter) == ids(world.donor) == set()
    assert api(world.rahma).get(f"{API}{deviation.pk}/").status_code == 404
    row = api(world.najat).get(f"{API}{deviation.pk}/").json()
    assert (row["budget"], row["spent"], row["ratio"], row["line_code"], row["status"]) == (
        "1000.000",
        "1200.000",
        "1.2000",
        "1",
        "open",
    )
    assert api(world.rahma).post(f"{API}{deviation.pk}/justify/", {"text": JUSTIFICATION}).status_code == 404
    assert api(world.staff_a).post(f"{API}{deviation.pk}/justify/", {"text": JUSTIFICATION}).status_code == 403
    assert api(world.najat).post(f"{API}{deviation.pk}/justify/", {"text": "short"}).status_code == 400
    response = api(world.najat).post(f"{API}{deviation.pk}/justify/", {"text": JUSTIFICATION}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "justified"
    assert api(world.najat).post(f"{API}{deviation.pk}/decide/", {"decision": "approve"}).status_code == 403
    assert api(world.reviewer).post(f"{API}{deviation.pk}/decide/", {"decision": "reject"}).status_code == 400
    response = api(world.reviewer).post(f"{API}{deviation.pk}/decide/", {"decision": "approve"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approved_spent"]) == ("approved", "1200.000")
    assert api(world.reviewer).post(f"{API}{deviation.pk}/decide/", {"decision": "approve"}).status_code == 409
    assert {r["id"] for r in api(world.reviewer).get(API, {"status": "approved"}).json()["results"]} == {deviation.pk}


# --- the command --------------------------------------------------------------------------------------------------


def test_the_command_writes_one_object_per_project_beyond_a_threshold(world, project, other, tmp_path):
    spend(world, project, "1", 1_073_400)  # line 1 at 107.34 %: within its 10 % threshold
    out = io.StringIO()
    call_command("deviations", "--jsonl", stdout=out, stderr=io.StringIO())
    records = [json.loads(text) for text in out.getvalue().splitlines()]
    assert [r["project"] for r in records] == [other.pk]  # project A is within every threshold
    [record] = records
    assert record == {
        "project": other.pk,
        "ref": other.reference,
        "currency": "KWD",
        "budget": "2000.000",
        "spent": "600.000",
        "ratio": "0.3000",
        "lines": [{"code": "1", "category": "programme", "budget": "500.000", "spent": "600.000", "ratio": "1.2000"}],
    }
    spend(world, project, "2", 9_500_000)  # total 10,573,400 / 10,000,000: beyond 5 %, no line beyond 10 %
    project.iati_identifier = "XM-DAC-41114-PRJ-1"
    project.save(update_fields=["iati_identifier"])
    target = tmp_path / "out.jsonl"
    call_command("deviations", "--jsonl", str(target), stderr=io.StringIO())
    records = {r["project"]: r for r in map(json.loads, target.read_text().splitlines())}
    assert set(records) == {project.pk, other.pk}
    assert records[project.pk]["ref"] == "XM-DAC-41114-PRJ-1"
    assert (records[project.pk]["ratio"], records[project.pk]["lines"]) == ("1.0573", [])


def test_the_command_reads_a_bounded_number_of_queries(world, project, other, django_assert_max_num_queries):
    spend(world, project, "1", 1_200_000)
    from shafaf.finance.management.commands.deviations import records

    with django_assert_max_num_queries(4):
        found = list(records(line_threshold_bp=1000, total_threshold_bp=500))
    assert len(found) == 2
