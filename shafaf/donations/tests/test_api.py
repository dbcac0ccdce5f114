"""/api/v1/donations/ and friends: the Idempotency-Key rules, errors as field errors, who sees what."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.utils import translation

from shafaf.donations.models import Allocation, Donation, Purpose
from shafaf.donations.tests.helpers import bearer, body, post
from shafaf.finance.tests.helpers import license_project
from tests.concurrency import run_and_wait, run_in_thread, threaded_database
from tests.factories import World, approved_bank_account, donor_account, donor_of, make_project


def test_a_donation_is_recorded_with_its_receipt_number(setup):
    world, project, account, donor = setup
    response = post(bearer(world.najat), body(account, donor, purpose="project", project=project.pk), "k1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["amount"] == "12.500" and data["charity"] == world.charity_a.pk and data["project"] == project.pk
    assert data["receipt_number"].startswith("R-")
    assert "Idempotent-Replayed" not in response
    assert Allocation.objects.get(donation_id=data["id"]).amount_minor == 12500


def test_the_same_key_and_body_returns_the_first_result(setup):
    world, _project, account, donor = setup
    client = bearer(world.najat)
    data = body(account, donor)
    first = post(client, data, "same")
    again = post(client, data, "same")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Donation.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(setup):
    world, _project, account, donor = setup
    client = bearer(world.najat)
    post(client, body(account, donor), "k")
    response = post(client, body(account, donor, amount="12.501"), "k")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Donation.objects.count() == 1


def test_without_a_key_each_post_is_a_new_donation(setup):
    world, _project, account, donor = setup
    client = bearer(world.najat)
    post(client, body(account, donor))
    post(client, body(account, donor))
    assert Donation.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.0001"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"currency": "ZZZ"}, "currency"),
        ({"channel": "pigeon"}, "channel"),
        ({"received_at": "2999-01-01T00:00:00Z"}, "received_at"),
        ({"purpose": "project"}, "project"),
        ({"donor": 10**12}, "donor"),
        ({"bank_account": 10**12}, "bank_account"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_recorded(setup, overrides, field):
    world, _project, account, donor = setup
    response = post(bearer(world.najat), body(account, donor, **overrides), str(uuid.uuid4()))
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not Donation.objects.exists()


def test_a_project_not_licensed_is_refused(setup):
    world, _project, account, donor = setup
    draft = make_project(world.najat, world.charity_a)
    response = post(bearer(world.najat), body(account, donor, purpose="project", project=draft.pk))
    assert response.status_code == 400
    assert "licensed" in response.json()["error"]["fields"]["project"][0]


def test_another_charitys_objects_are_not_found_and_outsiders_are_refused(setup):
    world, _project, account, donor = setup
    # Charity B's admin cannot use charity A's donor or account: charity B is theirs, so A's objects are unknown.
    response = post(bearer(world.rahma), body(account, donor))
    assert response.status_code == 400 and "donor" in response.json()["error"]["fields"]
    response = post(bearer(world.rahma), body(account, donor, charity=world.charity_a.pk))
    assert response.status_code == 403
    for outsider in (world.donor, world.reviewer, world.partner_reporter):
        assert post(bearer(outsider), body(account, donor)).status_code in (400, 403)
    assert not Donation.objects.exists()


def test_who_sees_the_donations(setup):
    world, _project, account, donor = setup
    post(bearer(world.najat), body(account, donor))
    other = donor_of(world, user=donor_account(world, "donor2"), name_en="Other")
    post(bearer(world.najat), body(account, other))
    counts = {}
    for name, user in world.personas().items():
        response = bearer(user).get("/api/v1/donations/")
        assert response.status_code == 200
        counts[name] = response.json()["count"]
    assert counts == {
        "reviewer": 2,
        "ministry_admin": 2,
        "accreditation_officer": 0,
        "najat": 2,
        "staff_a": 2,
        "rahma": 0,
        "staff_b": 0,
        "donor": 1,
        "partner": 0,
        "auditor": 2,
    }
    mine = Donation.objects.get(donor=donor)
    assert bearer(world.rahma).get(f"/api/v1/donations/{mine.pk}/").status_code == 404
    theirs = Donation.objects.get(donor=other)
    assert bearer(world.donor).get(f"/api/v1/donations/{theirs.pk}/").status_code == 404
    assert bearer(world.donor).get(f"/api/v1/donors/{other.pk}/").status_code == 404


def test_allocate_refund_and_correct_through_the_api(setup):
    world, project, account, donor = setup
    client = bearer(world.najat)
    donation = post(client, body(account, donor, amount="10.000")).json()
    second = license_project(world, make_project(world.najat, world.charity_a, implementing_partner=world.partner))
    response = client.post(
        f"/api/v1/donations/{donation['id']}/allocate/",
        {"parts": [{"project": project.pk, "share": 1}, {"project": second.pk, "share": 2}]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert [part["amount"] for part in response.json()] == ["3.333", "6.667"]
    listed = client.get(f"/api/v1/donations/{donation['id']}/allocations/").json()
    assert len(listed) == 2
    mixed = client.post(
        f"/api/v1/donations/{donation['id']}/allocate/",
        {"parts": [{"project": project.pk, "share": 1}, {"project": second.pk, "amount": "1"}]},
        content_type="application/json",
    )
    assert mixed.status_code == 400
    refund = client.post(
        f"/api/v1/donations/{donation['id']}/refund/",
        {"amount": "3.000", "reason": "Returned"},
        content_type="application/json",
    )
    assert refund.status_code == 201 and refund.json()["amount"] == "-3.000" and refund.json()["kind"] == "refund"
    correct = client.post(
        f"/api/v1/donations/{donation['id']}/correct/",
        {"amount": "-8.000", "reason": "Too far"},
        content_type="application/json",
    )
    assert correct.status_code == 400
    assert (
        bearer(world.staff_a)
        .post(
            f"/api/v1/donations/{donation['id']}/refund/",
            {"amount": "1", "reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )


def test_donors_bank_accounts_and_campaigns(setup):
    world, _project, _account, _donor = setup
    client = bearer(world.najat)
    response = client.post("/api/v1/donors/", {"name_en": "New donor"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["charity"] == world.charity_a.pk
    assert client.post("/api/v1/donors/", {}, content_type="application/json").status_code == 400
    response = client.post(
        "/api/v1/bank-accounts/",
        {"bank_name": "KFH", "iban": "KW09NBOK0000000000000000000002"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["is_approved"] is False
    pk = response.json()["id"]
    assert client.post(f"/api/v1/bank-accounts/{pk}/approve/").status_code == 403
    approved = bearer(world.ministry_admin).post(f"/api/v1/bank-accounts/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["is_approved"] is True
    assert bearer(world.donor).get("/api/v1/bank-accounts/").json()["count"] == 0
    response = client.post(
        "/api/v1/campaigns/",
        {"name_ar": "حملة", "starts_on": "2026-01-01", "ends_on": "2026-02-01"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert bearer(world.rahma).get("/api/v1/campaigns/").json()["count"] == 0


def test_two_concurrent_requests_with_one_key_make_one_donation(transactional_db, tmp_path):
    with translation.override("en"):
        world = World()
        account = approved_bank_account(world)
        donor = donor_of(world)
        clients = [bearer(world.najat), bearer(world.najat)]
    data = body(account, donor)
    db_settings = threaded_database(tmp_path)
    barrier = threading.Barrier(2)

    def attempt(client):
        def run():
            barrier.wait(timeout=10)
            response = post(client, data, "race-key")
            return response.status_code, response.json(), response.get("Idempotent-Replayed")

        return run

    running = [run_in_thread(attempt(client), db_settings=db_settings) for client in clients]
    for thread, _outcome in running:
        thread.join(timeout=60)
    outcomes = [outcome["value"] for _thread, outcome in running if "value" in outcome]
    assert len(outcomes) == 2, running
    assert [status for status, _data, _replayed in outcomes] == [201, 201]
    assert outcomes[0][1] == outcomes[1][1]
    assert sorted(str(replayed) for _s, _d, replayed in outcomes) == ["None", "true"]
    assert (
        run_and_wait(lambda: Donation.objects.filter(idempotency_key="race-key").count(), db_settings=db_settings) == 1
    )


def test_purpose_values_are_documented():
    assert set(Purpose.values) == {"project", "campaign", "general"}
