"""The charity's donation pages: record, allocate, refund, import; refusals shown on their fields."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shafaf.donations.models import Allocation, Donation, DonationImport
from tests.factories import verified_login


def signed_in(client, user):
    verified_login(client, user)
    return client


def form(account, donor, **overrides):
    data = {
        "donor": donor.pk,
        "amount": "7.500",
        "currency": "KWD",
        "received_at": (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "channel": "card",
        "bank_account": account.pk,
        "purpose": "general",
    }
    data.update(overrides)
    return data


def test_record_allocate_and_refund_through_the_pages(setup, client):
    world, project, account, donor = setup
    client = signed_in(client, world.najat)
    response = client.post("/donations/new/", form(account, donor))
    assert response.status_code == 302, response.content.decode()[:2000]
    donation = Donation.objects.get()
    assert response["Location"] == f"/donations/{donation.pk}/"
    page = client.get(f"/donations/{donation.pk}/")
    assert page.status_code == 200 and 'data-testid="allocate-form"' in page.content.decode()
    response = client.post(f"/donations/{donation.pk}/allocate/", {"mode": "shares", f"p{project.pk}": "1"})
    assert response.status_code == 302
    assert Allocation.objects.get(donation=donation).amount_minor == 7500
    response = client.post(f"/donations/{donation.pk}/refund/", {"amount": "9", "reason": "Too much"})
    assert response.status_code == 400 and 'data-field-error="amount"' in response.content.decode()
    response = client.post(f"/donations/{donation.pk}/refund/", {"amount": "2.500", "reason": "Returned"})
    assert response.status_code == 302
    assert Donation.objects.filter(corrects=donation, amount_minor=-2500).exists()
    listing = client.get("/donations/")
    assert listing.status_code == 200 and donation.receipt_number in listing.content.decode()


def test_bad_input_is_shown_on_its_field(setup, client):
    world, _project, account, donor = setup
    client = signed_in(client, world.staff_a)
    response = client.post("/donations/new/", form(account, donor, amount="1.0001"))
    assert response.status_code == 400 and 'data-field-error="amount"' in response.content.decode()
    response = client.post("/donations/new/", form(account, donor, purpose="project"))
    assert response.status_code == 400 and 'data-field-error="project"' in response.content.decode()
    assert not Donation.objects.exists()


def test_import_through_the_page(setup, client):
    world, _project, account, _donor = setup
    client = signed_in(client, world.najat)
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    upload = SimpleUploadedFile("knet.csv", f"channel_ref,received_at,amount\nK1,{day},1\nK2,{day},-1\n".encode())
    response = client.post("/donations/imports/", {"channel": "knet", "bank_account": account.pk, "file": upload})
    batch = DonationImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/donations/imports/{batch.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="rows-ok">1<' in page and 'data-testid="rows-failed">1<' in page


def test_charity_b_sees_nothing_of_charity_a(setup, client):
    world, _project, account, donor = setup
    signed_in(client, world.najat).post("/donations/new/", form(account, donor))
    donation = Donation.objects.get()
    client = signed_in(client, world.rahma)
    assert client.get(f"/donations/{donation.pk}/").status_code == 404
    listing = client.get("/donations/").content.decode()
    assert (
        donation.receipt_number not in listing and str(donor) not in client.get("/donations/donors/").content.decode()
    )
