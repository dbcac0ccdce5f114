"""Two-factor sign-in (TOTP) for the ministry, charities, accreditation officers and auditors."""

from __future__ import annotations

import base64
import inspect
import re
import time

import pytest
from django import forms as django_forms
from django.forms import modelform_factory
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from shafaf.accounts import forms as account_forms
from shafaf.accounts.models import User
from shafaf.audit.models import AuditEvent
from shafaf.projects import forms as project_forms
from tests.factories import PASSWORD

TWO_FACTOR = "/accounts/two-factor/"
PAGES = ["/", "/projects/", "/organizations/", "/accounts/profile/", "/audit/"]


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    right = {code_for(device, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def password_login(client, user) -> None:
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content


@pytest.fixture
def no_otp_throttle(settings):
    # django-otp makes a device wait after a wrong code (1 s, doubling); the tests do not wait.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_these_roles_are_sent_to_the_two_factor_page_from_every_page(world, client):
    for persona in ("najat", "staff_a", "reviewer", "ministry_admin", "auditor", "accreditation_officer"):
        client.logout()
        password_login(client, world.personas()[persona])
        for page in PAGES:
            response = client.get(page)
            assert response.status_code == 302, (persona, page)
            assert response["Location"] == f"{TWO_FACTOR}?next={page}"
        # The API does not accept the half-finished session either.
        response = client.get("/api/v1/projects/")
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "أكّد رمز التحقق الثنائي أولاً."


def test_donors_and_partner_reporters_need_no_second_factor(world, client):
    for persona in ("donor", "partner"):
        client.logout()
        password_login(client, world.personas()[persona])
        for page in ["/", "/projects/", "/accounts/profile/"]:
            assert client.get(page).status_code == 200, (persona, page)
        assert client.get("/api/v1/projects/").status_code == 200


def test_enrolment_then_a_second_login_asking_only_for_the_code(world, client, no_otp_throttle):
    user = world.najat
    password_login(client, user)

    page = client.get(TWO_FACTOR, {"next": "/projects/"})
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode("ascii")
    assert f'data-testid="totp-secret">{secret}<' in page.text
    assert "<svg" in page.text

    # A wrong code is refused, and nothing is recorded.
    response = client.post(TWO_FACTOR, {"token": wrong_code_for(device), "next": "/projects/"})
    assert response.status_code == 400
    assert "الرمز غير صحيح أو انتهت صلاحيته" in response.text
    assert client.get("/").status_code == 302
    device.refresh_from_db()
    assert not device.confirmed
    assert not AuditEvent.objects.filter(action="user.two_factor_enrol").exists()

    # The right code confirms the device, lets the user in and is audited.
    used = code_for(device)
    response = client.post(TWO_FACTOR, {"token": used, "next": "/projects/"})
    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    for page_url in PAGES:
        assert client.get(page_url).status_code == 200, page_url
    device.refresh_from_db()
    assert device.confirmed
    event = AuditEvent.objects.get(action="user.two_factor_enrol")
    assert (event.actor_id, event.subject_id, event.changes) == (user.pk, str(user.pk), {"two_factor": [False, True]})

    # The next login asks only for a code: no new secret, no QR code, no second enrolment.
    client.post("/accounts/logout/")
    password_login(client, user)
    assert client.get("/").status_code == 302
    page = client.get(TWO_FACTOR)
    assert page.status_code == 200
    assert 'data-testid="totp-secret"' not in page.text
    assert "<svg" not in page.text
    assert secret not in page.text
    assert TOTPDevice.objects.filter(user=user).count() == 1
    # The code just used cannot be used again; the next one can.
    device.refresh_from_db()
    assert client.post(TWO_FACTOR, {"token": used}).status_code == 400
    assert client.post(TWO_FACTOR, {"token": code_for(device, steps_ahead=1)}).status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="user.two_factor_enrol").count() == 1


def test_a_code_with_letters_or_spaces_is_handled(world, client, no_otp_throttle):
    password_login(client, world.reviewer)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=world.reviewer)
    assert client.post(TWO_FACTOR, {"token": "12a456"}).status_code == 400
    code = code_for(device)
    assert client.post(TWO_FACTOR, {"token": f"{code[:3]} {code[3:]}"}).status_code == 302


def test_the_two_factor_page_needs_a_password_login_first(db, client):
    response = client.get(TWO_FACTOR)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- demo accounts ----------------------------------------------------------------------------------------


def _make_demo(user: User) -> User:
    user.is_demo = True
    user.save(update_fields=["is_demo"])
    return user


def test_a_demo_account_skips_two_factor_while_demo_mode_is_on(world, client, settings):
    settings.SHAFAF_DEMO_MODE = True
    password_login(client, _make_demo(world.najat))
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/projects/").status_code == 200


def test_a_demo_account_needs_two_factor_when_demo_mode_is_off(world, client, settings):
    settings.SHAFAF_DEMO_MODE = False
    password_login(client, _make_demo(world.najat))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(TWO_FACTOR)
    assert client.get("/api/v1/projects/").status_code == 403


def test_demo_mode_alone_does_not_exempt_a_real_account(world, client, settings):
    settings.SHAFAF_DEMO_MODE = True
    password_login(client, world.najat)
    assert client.get("/").status_code == 302


def test_is_demo_cannot_be_set_through_any_form():
    assert User._meta.get_field("is_demo").editable is False
    assert "is_demo" not in modelform_factory(User, fields="__all__").base_fields
    form_classes = [
        cls
        for module in (account_forms, project_forms)
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, django_forms.BaseForm) and cls.__module__ == module.__name__
    ]
    assert form_classes
    for cls in form_classes:
        assert "is_demo" not in cls.base_fields, cls


def test_is_demo_cannot_be_set_through_a_request_or_the_api(world, login):
    client = login(world.najat)
    client.post("/accounts/profile/", {"name": "a token", "is_demo": "on"})
    client.post("/i18n/language/", {"language": "en", "is_demo": "on"})
    client.post(
        f"/organizations/{world.charity_a.pk}/edit/",
        {"name_ar": "جمعية النور", "name_en": "Al-Noor", "is_demo": "on"},
    )
    client.patch(
        f"/api/v1/projects/{world.project_a.pk}/",
        {"title_en": "x", "is_demo": True},
        content_type="application/json",
    )
    world.najat.refresh_from_db()
    assert world.najat.is_demo is False
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "is_demo" not in schema.content.decode()
    assert not re.search(r"/api/v1/users?/", schema.content.decode())
