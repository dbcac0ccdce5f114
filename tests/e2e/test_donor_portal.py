"""End-to-end: a donation recorded through the API (with an Idempotency-Key) shows in the donor's portal with its
allocation; its receipt verifies in the browser and a tampered code does not; another donor and another charity
see nothing of it; the public project page names no donor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from shafaf.accounts import services as account_services
from shafaf.finance.tests.helpers import license_project
from tests.e2e.test_browser import assert_no_problems, sign_in
from tests.factories import PASSWORD, World, approved_bank_account, budget, donor_account, donor_of

pytestmark = pytest.mark.e2e


def password_sign_in(page, user) -> None:
    """A donor signs in with a password (donors are not asked for a second factor)."""
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click('[data-testid="login-submit"]')
    expect(page.locator('[data-testid="profile-link"]')).to_have_text(user.username)


def test_a_donation_through_the_api_reaches_the_donors_portal(open_page):
    world = World()
    with translation.override("en"):
        budget(world, world.project_a)
        project = license_project(world)
        account = approved_bank_account(world)
        donor = donor_of(world, name_ar="سعاد", name_en="Suad Alpha", email="suad@example.org")
        other = donor_account(world, "other_donor")
        donor_of(world, user=other, name_ar="آخر", name_en="Other Donor")
    _token, key = account_services.api_token_create(actor=world.najat, user=world.najat, name="e2e")

    page = open_page(locale="en-US")
    body = {
        "donor": donor.pk,
        "amount": "15.250",
        "currency": "KWD",
        "received_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
        "channel": "knet",
        "bank_account": account.pk,
        "purpose": "project",
        "project": project.pk,
    }
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "e2e-portal-1"}
    first = page.request.post("/api/v1/donations/", data=body, headers=headers)
    assert first.status == 201, first.text()
    again = page.request.post("/api/v1/donations/", data=body, headers=headers)  # a retry: the same donation
    assert again.json()["id"] == first.json()["id"]
    donation_id = first.json()["id"]
    receipt_number = first.json()["receipt_number"]

    # The donor finds it in the portal, with its allocation to the project.
    password_sign_in(page, world.donor)
    page.locator('[data-testid="nav-my-donations"]').click()
    row = page.locator(f'[data-testid="donation-row"][data-receipt="{receipt_number}"]')
    expect(row).to_be_visible()
    row.locator("a").first.click()
    expect(page.locator('[data-testid="donation-amount"]')).to_have_text("15.250 KWD")
    expect(page.locator('[data-testid="allocation-row"]')).to_have_count(1)
    expect(page.locator('[data-testid="allocation-amount"]')).to_have_text("15.250 KWD")
    code = page.locator('[data-testid="receipt-code"]').inner_text().strip()
    assert_no_problems(page)

    # The receipt verifies; a tampered code does not.
    page.locator('[data-testid="receipt-verify"]').click()
    expect(page.locator('[data-testid="verification-status"]')).to_have_attribute("data-status", "valid")
    expect(page.locator('[data-testid="verification-amount"]')).to_contain_text("15.250")
    assert "Suad" not in page.content()  # the donor did not allow the name to be shown
    position = len(code) // 3
    tampered = code[:position] + ("A" if code[position] != "A" else "B") + code[position + 1 :]
    page.goto(f"/verify/{tampered}/")
    expect(page.locator('[data-testid="verification-status"]')).not_to_have_attribute("data-status", "valid")

    # The funded project's page in the portal; the public page shows totals and no donor.
    page.goto(f"/donor/projects/{project.pk}/")
    expect(page.locator('[data-testid="my-allocated"]')).to_have_text("15.250 KWD")
    public = open_page(locale="en-US")
    public.goto(f"/p/{project.reference}/")
    expect(public.locator('[data-testid="public-total"]')).to_have_text("15.250 KWD")
    expect(public.locator('[data-testid="public-donor-count"]')).to_have_text("1")
    assert "Suad" not in public.content() and receipt_number not in public.content()
    assert_no_problems(public)

    # Another donor: nothing.
    stranger = open_page(locale="en-US")
    password_sign_in(stranger, other)
    assert stranger.goto(f"/donor/donations/{donation_id}/").status == 404
    assert stranger.goto(f"/donor/projects/{project.pk}/").status == 404
    stranger.goto("/donor/")
    assert receipt_number not in stranger.content()

    # Another charity: nothing either.
    charity_b = open_page(locale="en-US")
    sign_in(charity_b, world.rahma)
    assert charity_b.goto(f"/donor/donations/{donation_id}/").status in (403, 404)
    assert charity_b.goto(f"/donations/{donation_id}/receipt.pdf").status == 404
    assert receipt_number not in charity_b.content()


def test_a_donor_signs_in_with_a_one_time_link(open_page):
    import re

    from django.core import mail

    world = World()
    world.donor.email = "donor.link@example.org"
    world.donor.save(update_fields=["email"])
    page = open_page(locale="en-US")
    page.goto("/donor/login/")
    page.fill("#id_email", "donor.link@example.org")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.locator('[data-testid="login-link-sent"]')).to_be_visible()
    assert_no_problems(page)
    match = re.search(r"https?://\S+?(/donor/login/\S+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    page.goto(match.group(1))
    page.locator('[data-testid="login-link-use"]').click()
    expect(page).to_have_url(re.compile(r"/donor/$"))
    expect(page.locator('[data-testid="profile-link"]')).to_have_text(world.donor.username)

    # The link works once: opened again (in another browser), it is refused with its reason.
    again = open_page(locale="en-US")
    again.goto(match.group(1))
    expect(again.locator('[data-testid="login-link-refused"]')).to_contain_text("already been used")
