"""The donation API's fast path: the body checked without building the serializer (the same validated data or the
serializer's errors), the token, memberships and organisations loaded in one query, the key and the charity's
donor/bank account/project/campaign looked up in one query — and the behaviour unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shafaf.accounts.models import Membership
from shafaf.accounts.services import api_token_create
from shafaf.api.authentication import token_authenticate
from shafaf.donations.api import DonationSerializer, donation_input
from shafaf.donations.models import Donation
from shafaf.donations.tests.helpers import bearer, body, post

NOW = "2026-03-01T10:00:00+03:00"
BASE = {
    "donor": 5,
    "amount": "12.500",
    "currency": "KWD",
    "received_at": NOW,
    "channel": "knet",
    "bank_account": 7,
    "purpose": "general",
}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"purpose": "project", "project": 3},
        {"purpose": "campaign", "campaign": 9, "charity": 2},
        {"anonymous": True, "channel_ref": "KN-1"},
        {"project": None, "campaign": None, "charity": None, "channel_ref": ""},
        {"received_at": "2026-03-01T10:00:00Z", "id": 99, "receipt_number": "ignored", "unknown": 1},
        {"received_at": "2026-03-01 10:00"},
    ],
)
def test_the_fast_path_gives_what_the_serializer_gives(extra):
    data = {**BASE, **extra}
    serializer = DonationSerializer(data=data)
    assert serializer.is_valid(), serializer.errors
    fast = donation_input(data)
    assert fast is not None
    assert fast == dict(serializer.validated_data)
    assert fast["received_at"].tzinfo is not None


@pytest.mark.parametrize(
    "extra",
    [
        {"amount": " 12.500"},
        {"amount": 12.5},
        {"amount": ""},
        {"amount": "1\x00"},
        {"currency": "KWDX"},
        {"donor": "5"},
        {"donor": True},
        {"donor": 0},
        {"donor": 2**63},
        {"donor": None},
        {"channel": "cash"},
        {"purpose": 1},
        {"received_at": "yesterday"},
        {"received_at": None},
        {"anonymous": "yes"},
        {"channel_ref": "x" * 101},
        {"channel_ref": " padded "},
        {"project": "3"},
        {"campaign": -1},
    ],
)
def test_anything_not_plain_goes_to_the_serializer(extra):
    assert donation_input({**BASE, **extra}) is None


def test_a_form_body_goes_to_the_serializer():
    from django.http import QueryDict

    assert donation_input(QueryDict("donor=5&amount=1.000")) is None


def test_the_token_query_loads_the_active_memberships_and_their_organisations(setup):
    world, *_ = setup
    _token, key = api_token_create(actor=world.najat, user=world.najat, name="api")
    with CaptureQueriesContext(connection) as captured:
        token = token_authenticate(key)
    assert token is not None and token.user.pk == world.najat.pk
    user = token.user
    assert world.charity_a.pk in user._shafaf_organizations
    assert user._shafaf_organizations[world.charity_a.pk].slug == world.charity_a.slug
    assert isinstance(user.date_joined, dt.datetime) and user.date_joined.tzinfo is not None
    with CaptureQueriesContext(connection) as later:
        roles = user.roles()
    assert roles and len(later) == 0  # the memberships came with the token
    assert len(captured) <= 2  # the token (with memberships), and "last used" at most once a minute
    assert token_authenticate("shf_not-a-key") is None


def test_an_inactive_membership_no_longer_records_donations(setup):
    world, _project, account, donor = setup
    client = bearer(world.najat)
    Membership.objects.filter(user=world.najat, organization=world.charity_a).update(is_active=False)
    response = post(client, body(account, donor, charity=world.charity_a.pk), "inactive")
    assert response.status_code == 403, response.content
    assert not Donation.objects.filter(idempotency_key="inactive").exists()


def test_a_post_reads_in_two_queries(setup):
    world, project, account, donor = setup
    client = bearer(world.najat)
    assert post(client, body(account, donor), "warm").status_code == 201  # "last used" written once
    with CaptureQueriesContext(connection) as captured:
        response = post(client, body(account, donor, purpose="project", project=project.pk), "counted")
    assert response.status_code == 201, response.content
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and "finance_ledgeraccount" not in q["sql"]  # ledger accounts: cached once committed (not in a test)
        and "audit_" not in q["sql"]  # the audit chain's head
    ]
    # the token with the memberships and organisations; the key with the donor, bank account, project, campaign
    assert len(reads) == 2, reads


def test_another_charitys_donor_and_account_are_not_found(setup):
    world, _project, account, donor = setup
    client = bearer(world.staff_b)
    response = post(client, body(account, donor), "foreign")
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == {"donor"}  # the first of the charity's look-ups that fails
    outsider = post(client, body(account, donor, charity=world.charity_a.pk), "foreign-charity")
    assert outsider.status_code == 403, outsider.content
    assert not Donation.objects.filter(idempotency_key__startswith="foreign").exists()


def test_replay_mismatch_and_missing_donor(setup):
    world, _project, account, donor = setup
    client = bearer(world.najat)
    data = body(account, donor)
    first = post(client, data, "replay")
    assert first.status_code == 201
    again = post(client, data, "replay")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = post(client, {**data, "amount": "3.000"}, "replay")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    missing = post(client, {**body(account, donor), "donor": 10**12}, "missing-donor")
    assert missing.status_code == 400 and "donor" in missing.json()["error"]["fields"]
