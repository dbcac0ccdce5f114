"""Personal API tokens: made by command or on the profile page, sent as `Authorization: Bearer`,
stored only as a SHA-256, revoked by their owner only."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command

from shafaf.accounts import services
from shafaf.accounts.models import ApiToken
from shafaf.audit.models import AuditEvent

PROJECTS = "/api/v1/projects/"
KEY = re.compile(r"shf_[A-Za-z0-9_-]{20,}")


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def assert_401(response) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "request_id"}
    assert error["code"] == "authentication_failed"
    assert error["request_id"] == response["X-Request-ID"]


def test_create_api_token_prints_a_key_that_authenticates(world, client):
    out = io.StringIO()
    call_command("create_api_token", "najat", "--name", "finance system", stdout=out)
    key = out.getvalue().strip()
    assert KEY.fullmatch(key)

    response = client.get(PROJECTS, **bearer(key))
    assert response.status_code == 200
    references = [row["reference"] for row in response.json()["results"]]
    assert references == [world.project_a.reference]  # the token acts with najat's roles, no more

    token = ApiToken.objects.get(user=world.najat)
    assert token.name == "finance system"
    assert token.last_used_at is not None
    assert AuditEvent.objects.filter(action="api_token.create", subject_id=str(token.pk)).count() == 1


def test_create_api_token_refuses_an_unknown_or_disabled_user(world):
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())
    world.donor.is_active = False
    world.donor.save()
    with pytest.raises(CommandError):
        call_command("create_api_token", "donor", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_the_token_scheme_word_token_also_works(world, client):
    _token, key = services.api_token_create(actor=world.reviewer, user=world.reviewer, name="ministry")
    response = client.get(PROJECTS, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_a_revoked_token_gets_401_in_the_error_format(world, client):
    token, key = services.api_token_create(actor=world.najat, user=world.najat, name="old")
    assert client.get(PROJECTS, **bearer(key)).status_code == 200
    services.api_token_revoke(actor=world.najat, token=token)
    assert_401(client.get(PROJECTS, **bearer(key)))


@pytest.mark.parametrize("key", ["shf_not-a-real-key-at-all-0000000000", "garbage"])
def test_an_unknown_token_gets_401(world, client, key):
    assert_401(client.get(PROJECTS, **bearer(key)))


def test_a_disabled_users_token_gets_401(world, client):
    _token, key = services.api_token_create(actor=world.najat, user=world.najat, name="x")
    world.najat.is_active = False
    world.najat.save()
    assert_401(client.get(PROJECTS, **bearer(key)))


def test_no_credentials_get_401(world, client):
    response = client.get(PROJECTS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_only_the_sha256_of_the_key_is_stored(world):
    token, key = services.api_token_create(actor=world.najat, user=world.najat, name="ledger")
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(key in value for value in stored)
    events = "".join(str(e.changes) + e.reason + e.subject_repr for e in AuditEvent.objects.all())
    assert key not in events


def test_users_create_and_revoke_tokens_on_their_profile(world, login):
    client = login(world.najat)
    response = client.post("/accounts/profile/", {"name": "finance system"})
    assert response.status_code == 200
    match = re.search(r'data-testid="new-token">(shf_[^<]+)<', response.text)
    assert match
    key = match.group(1)
    token = ApiToken.objects.get(user=world.najat)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()

    page = client.get("/accounts/profile/")
    assert "finance system" in page.text
    assert key not in page.text  # shown once, never again
    assert token.prefix in page.text

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", subject_id=str(token.pk)).count() == 1
    assert_401(_anon(key))
    # A revoked key is refused even alongside a signed-in session.
    assert_401(client.get(PROJECTS, **bearer(key)))


def _anon(key):
    from django.test import Client

    return Client().get(PROJECTS, **bearer(key))


def test_a_token_needs_a_name_on_the_profile_page(world, login):
    response = login(world.najat).post("/accounts/profile/", {"name": "   "})
    assert response.status_code == 200
    assert 'data-testid="new-token"' not in response.text
    assert not ApiToken.objects.exists()


def test_a_user_cannot_revoke_anothers_token(world, login):
    token, key = services.api_token_create(actor=world.rahma, user=world.rahma, name="rahma's")
    client = login(world.najat)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert _anon(key).status_code == 200
    with pytest.raises(services.NotAllowed):
        services.api_token_revoke(actor=world.najat, token=token)


def test_revoking_needs_a_post(world, login):
    token, _key = services.api_token_create(actor=world.najat, user=world.najat, name="x")
    assert login(world.najat).get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_skips_the_session_two_factor_check(world, client):
    """Tokens are made only by users who passed two-factor (or by an operator's command)."""
    _token, key = services.api_token_create(actor=world.auditor, user=world.auditor, name="x")
    assert client.get("/api/v1/audit-events/", **bearer(key)).status_code == 200
