"""The audit trail through the API (/api/v1/audit-events/) and its pages (/audit/...)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from shafaf.accounts import services as account_services
from shafaf.audit import services as audit
from shafaf.audit.models import AuditEvent

from . import tampering

API = "/api/v1/audit-events/"


@pytest.fixture
def trail(world):
    """The world's two project events plus a few more, one of them dated in the future."""
    account_services.user_set_language(actor=world.donor, language="en")
    account_services.organization_update(actor=world.rahma, organization=world.charity_b, name_en="Al-Rahma Society")
    account_services.organization_update(actor=world.najat, organization=world.charity_a, name_en="Al-Noor Society")
    later = timezone.now() + dt.timedelta(days=30)
    with mock.patch("shafaf.audit.services.timezone.now", return_value=later), transaction.atomic():
        audit.record(
            actor=world.reviewer, action="project.review", subject=world.project_a, organization=world.charity_a
        )
    world.later = later
    return world


def seqs(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["seq"] for row in response.json()["results"]]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "request_id"}
    assert error["request_id"] == response["X-Request-ID"]
    if code is not None:
        assert error["code"] == code
    return error


# --- reading ---------------------------------------------------------------------------------------------


def test_an_auditor_lists_every_event_newest_first(trail, login):
    response = login(trail.auditor).get(API)
    assert seqs(response) == [6, 5, 4, 3, 2, 1]
    body = response.json()
    assert body["count"] == 6
    first = body["results"][-1]
    stored = AuditEvent.objects.get(seq=1)
    assert first["action"] == "project.create"
    assert first["actor_username"] == "najat"
    assert first["actor_role"] == "charity_admin"
    assert first["organization"] == trail.charity_a.pk
    assert first["subject_type"] == "projects.project"
    assert first["subject_id"] == str(trail.project_a.pk)
    assert first["changes"]["reference"] == [None, trail.project_a.reference]
    assert (first["hash"], first["prev_hash"]) == (stored.hash, stored.prev_hash)


FILTERS = [
    ({"action": "project"}, [6, 2, 1]),
    ({"action": "organization.update"}, [5, 4]),
    ({"actor": "najat"}, [5, 1]),
    ({"actor": "donor"}, [3]),
    ({"subject_type": "accounts.organization"}, [5, 4]),
    ({"subject_type": "accounts.user"}, [3]),
    ({"action": "project", "actor": "rahma"}, [2]),
    ({"actor": "nobody"}, []),
]


def test_the_list_filters(trail, login):
    client = login(trail.auditor)
    for query, expected in FILTERS:
        assert seqs(client.get(API, query)) == expected, query


def test_the_list_filters_by_time(trail, login):
    client = login(trail.auditor)
    cutoff = (trail.later - dt.timedelta(days=1)).isoformat()
    assert seqs(client.get(API, {"occurred_after": cutoff})) == [6]
    assert seqs(client.get(API, {"occurred_before": cutoff})) == [5, 4, 3, 2, 1]
    assert_error(client.get(API, {"occurred_after": "not a date"}), 400, "validation_error")


def test_one_event_by_its_sequence_number(trail, login):
    client = login(trail.auditor)
    response = client.get(f"{API}4/")
    assert response.status_code == 200
    assert response.json()["changes"] == {"name_en": ["Al-Rahma Charity", "Al-Rahma Society"]}
    assert_error(client.get(f"{API}99/"), 404, "not_found")


def test_the_list_pages(trail, login):
    response = login(trail.auditor).get(API, {"page_size": 4})
    assert seqs(response) == [6, 5, 4, 3]
    assert response.json()["next"]
    assert seqs(login(trail.auditor).get(API, {"page_size": 4, "page": 2})) == [2, 1]


def test_the_list_costs_a_fixed_number_of_queries(trail, login, django_assert_max_num_queries):
    client = login(trail.auditor)
    for _ in range(20):
        account_services.user_set_language(actor=trail.donor, language="ar")
        account_services.user_set_language(actor=trail.donor, language="en")
    with django_assert_max_num_queries(8):
        assert len(seqs(client.get(API))) == 46


def test_the_ministry_reads_the_whole_trail(trail, login):
    assert seqs(login(trail.reviewer).get(API)) == [6, 5, 4, 3, 2, 1]


def test_a_charity_admin_sees_only_its_own_charitys_events(trail, login):
    client = login(trail.najat)
    assert seqs(client.get(API)) == [6, 5, 1]
    assert seqs(login(trail.rahma).get(API)) == [4, 2]
    # Another charity's event does not exist for najat.
    assert_error(login(trail.najat).get(f"{API}2/"), 404, "not_found")
    assert_error(login(trail.najat).get(f"{API}3/"), 404, "not_found")


def test_others_are_refused_with_403(trail, login):
    for persona in ("donor", "partner", "staff_a", "accreditation_officer"):
        client = login(trail.personas()[persona])
        assert_error(client.get(API), 403)
        assert_error(client.get(f"{API}1/"), 403)
        assert_error(client.get(f"{API}verify/"), 403)


def test_anonymous_callers_get_401(trail, client):
    response = client.get(API)
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_auditor_with_a_personal_token(trail, client):
    _token, key = account_services.api_token_create(actor=trail.auditor, user=trail.auditor, name="audit office")
    assert seqs(client.get(API, HTTP_AUTHORIZATION=f"Bearer {key}"))[-1] == 1


# --- nothing can be written through the API -------------------------------------------------------------


def test_writes_are_refused(trail, login):
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "reason"))
    body = {"action": "forged", "subject_type": "x", "subject_id": "1", "reason": "forged"}
    for persona in ("auditor", "reviewer", "najat"):
        client = login(trail.personas()[persona])
        assert_error(client.post(API, body, content_type="application/json"), 405)
        for method in (client.put, client.patch):
            assert_error(method(f"{API}1/", body, content_type="application/json"), 405)
        assert_error(client.delete(f"{API}1/"), 405)
        assert_error(client.post(f"{API}verify/"), 405)
    after = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "reason"))
    assert after == before


# --- verification -------------------------------------------------------------------------------------------


def test_verify_reports_a_whole_chain(trail, login):
    response = login(trail.auditor).get(f"{API}verify/")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "count": 6,
        "head_hash": AuditEvent.objects.get(seq=6).hash,
        "problem": None,
    }


def test_verify_reports_the_problem_after_tampering(trail, login):
    tampering.install_triggers()
    tampering.drop_triggers()
    tampering.edit_reason(3, "quietly changed")
    for user in (trail.auditor, trail.najat):
        body = login(user).get(f"{API}verify/").json()
        assert body["ok"] is False
        assert body["count"] == 2
        assert body["head_hash"] == AuditEvent.objects.get(seq=2).hash
        assert body["problem"].startswith("event #3:")


def test_verify_reports_a_deleted_event(trail, login):
    tampering.install_triggers()
    tampering.drop_triggers()
    tampering.delete_events(2)
    body = login(trail.auditor).get(f"{API}verify/").json()
    assert body["ok"] is False
    assert body["problem"].startswith("event #2:")


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_audit_pages_for_an_auditor(trail, login):
    client = login(trail.auditor)
    response = client.get("/audit/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(seq=4)
    for seq in range(1, 7):
        assert f'href="/audit/{seq}/"' in response.text
    response = client.get("/audit/", {"actor": "donor"})
    assert response.status_code == 200
    assert "user.set_language" in response.text
    assert "project.create" not in response.text

    response = client.get("/audit/4/")
    assert response.status_code == 200
    assert event.hash in response.text
    assert event.prev_hash in response.text
    assert "Al-Rahma Society" in response.text
    assert client.get("/audit/99/").status_code == 404

    response = client.get("/audit/verify/")
    assert response.status_code == 200
    assert 'data-testid="chain-ok"' in response.text
    assert AuditEvent.objects.get(seq=6).hash in response.text


def test_the_audit_list_page_answers_htmx_with_the_table_only(trail, login):
    response = login(trail.auditor).get("/audit/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "project.review" in response.text


def test_the_verify_page_shows_the_break(trail, login):
    tampering.install_triggers()
    tampering.drop_triggers()
    tampering.edit_changes(5, {"name_en": ["Al-Noor Charity", "Something else"]})
    response = login(trail.auditor).get("/audit/verify/")
    assert response.status_code == 200
    assert 'data-testid="chain-broken"' in response.text
    assert "event #5:" in response.text


def test_the_audit_pages_for_a_charity_admin_show_only_its_charity(trail, login):
    client = login(trail.najat)
    response = client.get("/audit/")
    assert response.status_code == 200
    for seq in (6, 5, 1):
        assert f'href="/audit/{seq}/"' in response.text
    for seq in (4, 3, 2):
        assert f'href="/audit/{seq}/"' not in response.text
    assert client.get("/audit/1/").status_code == 200
    assert client.get("/audit/2/").status_code == 404
    assert client.get("/audit/3/").status_code == 404


def test_the_audit_pages_refuse_others(trail, login):
    for persona in ("donor", "partner", "staff_a"):
        client = login(trail.personas()[persona])
        for url in ("/audit/", "/audit/1/", "/audit/verify/"):
            assert client.get(url).status_code == 403, (persona, url)


def test_the_audit_pages_need_a_login(trail, client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
