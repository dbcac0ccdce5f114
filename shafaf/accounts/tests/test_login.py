"""Signing in: Argon2 password hashes, and throttling of failed attempts per username and per address."""

from __future__ import annotations

import datetime as dt
import importlib
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import authenticate as real_authenticate
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from shafaf.accounts.models import LoginFailure
from tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
LOCKED_AR = "محاولات فاشلة كثيرة. انتظر 15 دقيقة ثم حاول مرة أخرى."
LOCKED_EN = "Too many failed attempts. Wait 15 minutes and try again."


@pytest.fixture
def production_hashers(settings):
    """conftest.py swaps in MD5 for speed; these tests use the hashers config/settings.py configures."""
    project_settings = importlib.import_module("config.settings")
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    return project_settings.PASSWORD_HASHERS


@pytest.fixture
def user(db):
    return UserFactory(username="salem")


def sign_in(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- password hashing ------------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2_in_production(production_hashers, client, db):
    assert production_hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    user = UserFactory(username="argon")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert PASSWORD not in user.password
    response = sign_in(client, "argon", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_an_older_hash_is_upgraded_to_argon2_at_the_next_login(production_hashers, client, db):
    user = UserFactory(username="legacy")
    # An old PBKDF2 hash (few iterations, to keep the test fast): still accepted, then re-hashed.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "legacysalt", iterations=1000)
    user.save(update_fields=["password"])
    assert sign_in(client, "legacy", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


# --- signing in ----------------------------------------------------------------------------------------------


def test_a_right_password_signs_in_and_a_wrong_one_does_not(user, client):
    response = sign_in(client, "salem", "not the password")
    assert response.status_code == 400
    assert not signed_in(client)
    assert "اسم المستخدم أو كلمة المرور غير صحيحة" in response.text
    response = sign_in(client, "salem", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client)


def test_login_follows_a_local_next_but_never_another_site(user, client):
    response = client.post(LOGIN, {"username": "salem", "password": PASSWORD, "next": "/projects/"})
    assert response["Location"] == "/projects/"
    client.logout()
    response = client.post(LOGIN, {"username": "salem", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


# --- throttling ----------------------------------------------------------------------------------------------


def fail(client, username, times, **extra):
    for _ in range(times):
        assert sign_in(client, username, "wrong password", **extra).status_code == 400


def test_after_too_many_failures_even_the_right_password_is_refused_with_429(user, client, settings):
    fail(client, "salem", settings.SHAFAF_LOGIN_MAX_FAILURES)
    with mock.patch("django.contrib.auth.forms.authenticate", wraps=real_authenticate) as authenticate:
        response = sign_in(client, "salem", PASSWORD)
    assert response.status_code == 429
    authenticate.assert_not_called()  # refused before the password is looked at
    assert LOCKED_AR in response.text
    assert not signed_in(client)
    # A locked attempt is not a new failure.
    assert LoginFailure.objects.filter(username="salem").count() == settings.SHAFAF_LOGIN_MAX_FAILURES


def test_the_lock_message_is_translated(user, client, settings):
    fail(client, "salem", settings.SHAFAF_LOGIN_MAX_FAILURES)
    client.cookies["shafaf_language"] = "en"
    response = sign_in(client, "salem", PASSWORD)
    assert response.status_code == 429
    assert LOCKED_EN in response.text
    assert '<html lang="en"' in response.text


def test_one_failure_fewer_than_the_limit_still_lets_the_right_password_in(user, client, settings):
    fail(client, "salem", settings.SHAFAF_LOGIN_MAX_FAILURES - 1)
    assert sign_in(client, "salem", PASSWORD).status_code == 302


def test_success_clears_the_failures(user, client, settings):
    limit = settings.SHAFAF_LOGIN_MAX_FAILURES
    fail(client, "salem", limit - 1)
    assert sign_in(client, "salem", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username="salem").exists()
    client.logout()
    fail(client, "salem", limit - 1)
    assert sign_in(client, "salem", PASSWORD).status_code == 302


def test_the_lock_is_per_username_whatever_its_case(user, client, settings):
    other = UserFactory(username="other")
    fail(client, "SALEM", settings.SHAFAF_LOGIN_MAX_FAILURES)
    assert sign_in(client, "salem", PASSWORD).status_code == 429
    assert sign_in(client, other.username, PASSWORD).status_code == 302


def test_failures_older_than_the_window_no_longer_count(user, client, settings):
    fail(client, "salem", settings.SHAFAF_LOGIN_MAX_FAILURES)
    old = timezone.now() - dt.timedelta(seconds=settings.SHAFAF_LOGIN_WINDOW_SECONDS + 1)
    LoginFailure.objects.filter(username="salem").update(at=old)
    assert sign_in(client, "salem", PASSWORD).status_code == 302


def test_one_address_is_locked_after_too_many_failures_across_usernames(user, client, settings):
    settings.SHAFAF_LOGIN_MAX_FAILURES_PER_IP = 6
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for name in ("a1", "a2", "a3"):
        fail(client, name, 2, **attacker)  # never enough for one username
    response = sign_in(client, "salem", PASSWORD, **attacker)
    assert response.status_code == 429
    assert LOCKED_AR in response.text
    # The same user from another address is let in.
    assert sign_in(client, "salem", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert LoginFailure.objects.filter(ip_address="203.0.113.9").count() == 6


def test_a_locked_login_records_no_audit_event(user, client, settings):
    from shafaf.audit.models import AuditEvent

    fail(client, "salem", settings.SHAFAF_LOGIN_MAX_FAILURES)
    sign_in(client, "salem", PASSWORD)
    assert not AuditEvent.objects.filter(action="user.login").exists()


def test_a_charity_admin_sees_the_sign_ins_of_its_members_only(world, client, login):
    from shafaf.accounts.services import login_succeeded
    from shafaf.audit.selectors import events_visible_to

    login_succeeded(user=world.staff_a, ip_address="127.0.0.1")
    login_succeeded(user=world.staff_b, ip_address="127.0.0.1")
    seen_by_najat = events_visible_to(world.najat).filter(action="user.login")
    assert list(seen_by_najat.values_list("actor_username", flat=True)) == [world.staff_a.username]
