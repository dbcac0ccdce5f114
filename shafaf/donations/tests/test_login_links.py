"""One-time sign-in links for donor accounts: single use, expiring, signed, no account enumeration, rate-limited,
audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail, signing
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from shafaf.audit.models import AuditEvent
from shafaf.donations import login_links
from shafaf.donations.models import LoginLink, LoginLinkRequest

pytestmark = pytest.mark.django_db

URL = re.compile(r"https?://\S+/donor/login/(\S+)/")


@pytest.fixture
def client():
    """The pages' English messages are read here; both languages are checked in the last test."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def donor(world):
    world.donor.email = "Donor@Example.com"
    world.donor.save(update_fields=["email"])
    return world.donor


def ask(client, email, **extra):
    return client.post(reverse("donations:login_link_request"), {"email": email}, **extra)


def token_from_mail() -> str:
    match = URL.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_donor_gets_a_link_that_signs_in_once(client, donor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, " donor@example.COM ")
    assert response.status_code == 200 and b"login-link-sent" in response.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Donor@Example.com"]
    token = token_from_mail()
    use = reverse("donations:login_link_use", kwargs={"token": token})
    # Opening the link (as a mail scanner would) does not use it up.
    assert client.get(use).status_code == 200
    assert client.get(use).status_code == 200
    response = client.post(use)
    assert response.status_code == 302 and response["Location"] == reverse("donations:portal_home")
    assert client.get(reverse("donations:portal_home")).status_code == 200
    link = LoginLink.objects.get()
    assert link.used_at is not None and link.user == donor
    # Used: refused with its reason, even by the same browser.
    client.logout()
    refused = client.post(use)
    assert refused.status_code == 410
    assert "already been used" in refused.content.decode()
    assert client.get(reverse("donations:portal_home")).status_code == 302  # not signed in
    actions = list(AuditEvent.objects.filter(action__startswith="donor.login_link").values_list("action", flat=True))
    assert sorted(actions) == ["donor.login_link.request", "donor.login_link.send", "donor.login_link.use"]


def test_an_expired_link_is_refused(client, donor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "donor@example.com")
    token = token_from_mail()
    LoginLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.post(reverse("donations:login_link_use", kwargs={"token": token}))
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert LoginLink.objects.get().used_at is None
    assert client.get(reverse("donations:portal_home")).status_code == 302


@pytest.mark.parametrize("mangle", ["tamper", "unsigned", "wrong_secret"])
def test_a_forged_link_is_refused(client, donor, mangle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "donor@example.com")
    token = token_from_mail()
    link = LoginLink.objects.get()
    forged = {
        "tamper": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "unsigned": "x" * 40,
        "wrong_secret": signing.dumps([link.pk, "guess"], salt=login_links.SALT),
    }[mangle]
    response = client.post(reverse("donations:login_link_use", kwargs={"token": forged}))
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert LoginLink.objects.get().used_at is None


def test_the_same_answer_whether_or_not_the_address_has_an_account(client, world, donor):
    known = ask(client, "donor@example.com")
    unknown = ask(client, "nobody@example.com")
    staff = ask(client, world.najat.email or "najat@example.com")  # not a donor account: no link either
    assert known.status_code == unknown.status_code == staff.status_code == 200

    def body(response):
        return re.sub(r"[A-Za-z0-9]{64}", "", response.content.decode())  # CSRF tokens differ per response

    assert body(known) == body(unknown) == body(staff)
    assert LoginLink.objects.count() == 1 and LoginLinkRequest.objects.count() == 3
    assert not LoginLinkRequest.objects.filter(email_hash__contains="@").exists()


def test_requests_are_rate_limited_per_address_and_per_ip(client, donor):
    for _ in range(login_links.MAX_PER_EMAIL):
        assert ask(client, "donor@example.com").status_code == 200
    limited = ask(client, "donor@example.com")
    assert limited.status_code == 429 and b"login-link-limited" in limited.content
    assert LoginLink.objects.count() == login_links.MAX_PER_EMAIL
    # An address that has no account is limited the same way (no enumeration through the limit).
    for _ in range(login_links.MAX_PER_EMAIL):
        ask(client, "nobody@example.com")
    assert ask(client, "nobody@example.com").status_code == 429
    with override_settings(SHAFAF_LOGIN_LINKS_PER_IP=2):
        assert ask(client, "third@example.com", REMOTE_ADDR="10.0.0.9").status_code == 200
        assert ask(client, "fourth@example.com", REMOTE_ADDR="10.0.0.9").status_code == 200
        assert ask(client, "fifth@example.com", REMOTE_ADDR="10.0.0.9").status_code == 429
        assert ask(client, "fifth@example.com", REMOTE_ADDR="10.0.0.10").status_code == 200


def test_a_link_works_once_even_when_claimed_twice(client, donor, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "donor@example.com")
    token = token_from_mail()
    link = LoginLink.objects.get()
    # Another request claims the link between this one's check and its conditional UPDATE.
    real_check = login_links.login_link_check
    calls = []

    def check_then_someone_else_uses_it(token, *, now=None):
        checked = real_check(token, now=now)
        if not calls:
            LoginLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
        calls.append(checked.status)
        return checked

    monkeypatch.setattr(login_links, "login_link_check", check_then_someone_else_uses_it)
    assert login_links.login_link_use(token=token, ip_address=None).status == login_links.Status.USED
    assert not AuditEvent.objects.filter(action="donor.login_link.use").exists()


def test_bad_addresses_get_field_errors(client):
    response = client.post(reverse("donations:login_link_request"), {"email": "not an address"})
    assert response.status_code == 400 and 'data-field-error="email"' in response.content.decode()
    assert LoginLinkRequest.objects.count() == 0


def test_the_pages_in_english_and_arabic(client):
    for language in ("en", "ar"):
        response = client.get(reverse("donations:login_link_request"), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
