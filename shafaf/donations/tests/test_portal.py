"""The donor portal and the public project pages: what a donor sees of its own donations and the projects they
fund, that nobody else sees any of it (404), where each fils went, and that public pages name no donor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from shafaf.core.money import Money
from shafaf.donations import portal, services
from shafaf.donations.models import Allocation, Channel, Notification, Purpose
from shafaf.finance.models import BudgetLine, Contract, Disbursement
from shafaf.finance.tests.helpers import license_project, register
from shafaf.projects.choices import ProjectStatus
from tests.factories import approved_bank_account, budget, donor_account, donor_of, make_project, verified_login

pytestmark = pytest.mark.django_db


def recent() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=1)


@pytest.fixture
def setup(world):
    with translation.override("en"):
        budget(world, world.project_a)
        project = license_project(world)
        account = approved_bank_account(world)
        donor = donor_of(world, name_ar="سعاد المتبرعة", name_en="Suad Donor", email="suad@example.org")
    return world, project, account, donor


def give(world, account, donor, *, amount="10.000", purpose=Purpose.GENERAL, project=None, **extra):
    with translation.override("en"):
        return services.donation_record(
            actor=world.najat,
            charity=world.charity_a,
            donor=donor,
            amount=amount,
            currency="KWD",
            received_at=recent(),
            channel=Channel.KNET,
            bank_account=account,
            purpose=purpose,
            project=project,
            **extra,
        )


def client_for(client, user):
    if user.requires_two_factor():
        verified_login(client, user)
    else:
        client.force_login(user)
    return client


# --- what the donor sees --------------------------------------------------------------------------------------


def test_donor_sees_own_donation_with_its_allocation(setup, client):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="25.500", purpose=Purpose.PROJECT, project=project)
    client.force_login(world.donor)

    home = client.get(reverse("donations:portal_home"))
    assert home.status_code == 200
    text = home.content.decode()
    assert donation.receipt_number in text
    assert "25.500 KWD" in text
    assert project.reference in text

    detail = client.get(reverse("donations:portal_donation", args=[donation.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert body.count('data-testid="allocation-row"') == 1
    assert "25.500 KWD" in body

    page = client.get(reverse("donations:portal_project", args=[project.pk]))
    assert page.status_code == 200
    assert 'data-testid="my-allocated">25.500 KWD' in page.content.decode()


def test_general_donation_allocated_by_shares_shows_every_part(setup, client):
    world, project, account, donor = setup
    with translation.override("en"):
        other = make_project(world.najat, world.charity_a, title_en="School roof", implementing_partner=world.partner)
        budget(world, other)
        other = license_project(world, other)
    donation = give(world, account, donor, amount="10.000")
    with translation.override("en"):
        services.allocate(actor=world.najat, donation=donation, shares=[(project, 1), (other, 2)])
    parts = sorted(Allocation.objects.filter(donation=donation).values_list("amount_minor", flat=True))
    assert parts == [3333, 6667]  # largest remainder: to the last fils
    client.force_login(world.donor)
    body = client.get(reverse("donations:portal_donation", args=[donation.pk])).content.decode()
    assert "3.333 KWD" in body and "6.667 KWD" in body
    projects = set(portal.my_projects(world.donor).values_list("pk", flat=True))
    assert projects == {project.pk, other.pk}


# --- isolation: other donors, other charities, everyone else -------------------------------------------------


def test_nobody_else_sees_a_donors_donation_or_project(setup, client):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="7.000", purpose=Purpose.PROJECT, project=project)
    stranger = donor_account(world, "other_donor")
    with translation.override("en"):
        donor_of(world, user=stranger, name_ar="متبرع آخر", name_en="Another donor")
    urls = [
        reverse("donations:portal_donation", args=[donation.pk]),
        reverse("donations:portal_project", args=[project.pk]),
    ]
    # Another donor account: 404 for the donation and the project it does not fund; its own list is empty of them.
    client_for(client, stranger)
    for url in urls:
        assert client.get(url).status_code == 404, url
    home = client.get(reverse("donations:portal_home")).content.decode()
    assert donation.receipt_number not in home and project.reference not in home
    client.logout()
    # Another charity, and every non-donor persona: the portal is not theirs (403 on lists, 404/403 on objects).
    for user in (world.rahma, world.staff_b, world.najat, world.reviewer, world.partner_reporter, world.auditor):
        client_for(client, user)
        assert client.get(reverse("donations:portal_home")).status_code == 403, user
        for url in urls:
            assert client.get(url).status_code in (403, 404), (user, url)
            assert donation.receipt_number not in client.get(url).content.decode()
        client.logout()
    # The selectors give nothing to anyone but the donor.
    for user in (stranger, world.rahma, world.najat, world.reviewer):
        assert not portal.my_donations(user).exists()
        assert not portal.my_projects(user).exists()
    # Anonymous: the login page.
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


def test_unknown_and_malformed_ids_are_not_found(setup, client):
    world, *_ = setup
    client.force_login(world.donor)
    assert client.get("/donor/donations/999999/").status_code == 404
    assert client.get("/donor/projects/999999/").status_code == 404
    assert client.post("/donor/notifications/999999/read/").status_code == 404


def test_another_donors_notification_cannot_be_read_or_marked(setup, client):
    world, project, *_ = setup
    stranger = donor_account(world, "other_donor")
    theirs = Notification.objects.create(
        user=stranger, project=project, kind="report", event_key="x", title_ar="ت", title_en="t"
    )
    client.force_login(world.donor)
    assert client.post(reverse("donations:portal_notification_read", args=[theirs.pk])).status_code == 404
    client.post(reverse("donations:portal_notifications_read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "t" not in [n.title_en for n in portal.my_notifications(world.donor)]


def test_notifications_page_and_mark_as_read(setup, client):
    world, project, *_ = setup
    mine = Notification.objects.create(
        user=world.donor,
        project=project,
        kind="report",
        event_key="k1",
        title_ar="تقرير جديد",
        title_en="New report",
        url=reverse("donations:portal_project", args=[project.pk]),
    )
    client.force_login(world.donor)
    page = client.get(reverse("donations:portal_notifications"))
    assert 'data-read="0"' in page.content.decode()
    assert client.get(reverse("donations:portal_notification_read", args=[mine.pk])).status_code == 405
    response = client.post(reverse("donations:portal_notification_read", args=[mine.pk]), {"follow": "1"})
    assert response.status_code == 302 and response["Location"] == mine.url
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert portal.unread_count(world.donor) == 0


# --- where each fils went -------------------------------------------------------------------------------------


def _outflows(world, project, *, disbursed_minor: int, spent: dict[str, int]):
    with translation.override("en"):
        contract = register(world, project, amount="100000.000")
    Disbursement.objects.create(
        project=project,
        contract=contract,
        partner=world.partner,
        amount_minor=disbursed_minor,
        currency="KWD",
        paid_on=dt.date(2027, 2, 1),
        reference="T-1",
        project_amount_minor=disbursed_minor,
        recorded_by=world.najat,
    )
    for code, minor in spent.items():
        BudgetLine.objects.filter(project=project, code=code).update(spent_minor=minor)
    assert Contract.objects.filter(project=project).exists()


def test_attribution_is_proportional_and_exact(setup):
    world, project, account, donor = setup
    mine = give(world, account, donor, amount="1.000", purpose=Purpose.PROJECT, project=project)
    with translation.override("en"):
        others = donor_of(world, user=False, name_ar="غيره", name_en="Someone else")
    give(world, account, others, amount="2.000", purpose=Purpose.PROJECT, project=project)
    codes = list(BudgetLine.objects.filter(project=project).order_by("code").values_list("code", flat=True))
    _outflows(world, project, disbursed_minor=1000, spent={codes[0]: 1001, codes[1]: 500})

    result = portal.my_project_attribution(world.donor, project)
    row = result["rows"][0]
    assert row["donation"] == mine
    attribution = row["attribution"]
    # One third of 1.000 disbursed: 0.333 or 0.334, never more than exact + 1 fils.
    assert attribution.disbursed_total.minor in (333, 334)
    # One third of 1.501 spent, split over the two lines: the parts add up to the donor's share exactly.
    share = attribution.spent_total.minor
    assert share in (500, 501)
    assert sum(item.part.minor for item in attribution.spent) == share
    assert attribution.not_spent == Money(1000 - share, "KWD")
    # Nothing created or lost: all allocations' shares of each view sum to the project's figures.
    amounts = [Money(1000, "KWD"), Money(2000, "KWD")]
    both = portal.attribute(project, amounts)
    assert sum(a.disbursed_total.minor for a in both) == 1000
    assert sum(a.spent_total.minor for a in both) == 1501


def test_attribution_never_exceeds_the_allocation(setup):
    """A project that spent more than its donations (other sources): no allocation is attributed beyond itself."""
    world, project, account, donor = setup
    give(world, account, donor, amount="1.000", purpose=Purpose.PROJECT, project=project)
    code = BudgetLine.objects.filter(project=project).order_by("code").values_list("code", flat=True).first()
    _outflows(world, project, disbursed_minor=5_000_000, spent={code: 9_000_000})
    attribution = portal.my_project_attribution(world.donor, project)["rows"][0]["attribution"]
    assert attribution.disbursed_total == Money(1000, "KWD")
    assert attribution.spent_total == Money(1000, "KWD")
    assert attribution.not_spent.minor == 0


def test_attribution_shown_on_the_pages(setup, client):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="3.000", purpose=Purpose.PROJECT, project=project)
    code = BudgetLine.objects.filter(project=project).order_by("code").values_list("code", flat=True).first()
    _outflows(world, project, disbursed_minor=1500, spent={code: 600})
    client.force_login(world.donor)
    body = client.get(reverse("donations:portal_donation", args=[donation.pk])).content.decode()
    assert 'data-testid="disbursed-part">1.500 KWD' in body
    assert 'data-testid="spent-part">0.600 KWD' in body
    assert 'data-testid="not-spent">2.400 KWD' in body
    page = client.get(reverse("donations:portal_project", args=[project.pk])).content.decode()
    assert 'data-testid="my-disbursed">1.500 KWD' in page
    assert 'data-testid="money-spent">0.600 KWD' in page


# --- published reports and their evidence ---------------------------------------------------------------------


def _published_report(world, project, *, accept=True):
    from shafaf.projects import services as project_services
    from shafaf.reports import services as report_services
    from shafaf.reports.models import ProgressReport
    from tests.factories import pdf_upload

    with translation.override("en"):
        document = project_services.document_add(
            actor=world.najat,
            project=project,
            file=pdf_upload("photo.pdf"),
            kind="progress_evidence",
            title="Well photo",
        )
        report = report_services.report_create(
            actor=world.najat, project=project, narrative_en="The well is dug.", evidence=[document]
        )
        report = report_services.report_submit(actor=world.najat, report=report)
        if accept:
            report = report_services.report_accept(actor=world.reviewer, report=report)
    assert isinstance(report, ProgressReport)
    return report, document


def test_published_reports_and_evidence_reach_the_donor_only(setup, client):
    world, project, account, donor = setup
    give(world, account, donor, amount="5.000", purpose=Purpose.PROJECT, project=project)
    _report, document = _published_report(world, project)
    client.force_login(world.donor)
    page = client.get(reverse("donations:portal_project", args=[project.pk])).content.decode()
    assert "The well is dug." in page
    evidence_url = reverse("donations:portal_evidence", args=[project.pk, document.pk])
    assert evidence_url in page
    response = client.get(evidence_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.logout()
    stranger = donor_account(world, "other_donor")
    client.force_login(stranger)
    assert client.get(evidence_url).status_code == 404


def test_unpublished_report_and_its_evidence_stay_hidden(setup, client):
    world, project, account, donor = setup
    give(world, account, donor, amount="5.000", purpose=Purpose.PROJECT, project=project)
    _report, document = _published_report(world, project, accept=False)
    client.force_login(world.donor)
    page = client.get(reverse("donations:portal_project", args=[project.pk])).content.decode()
    assert "The well is dug." not in page
    assert client.get(reverse("donations:portal_evidence", args=[project.pk, document.pk])).status_code == 404


def test_portal_in_arabic_and_english(setup, client):
    world, project, account, donor = setup
    give(world, account, donor, amount="5.000", purpose=Purpose.PROJECT, project=project)
    world.donor.language = "ar"
    world.donor.save(update_fields=["language"])
    client.force_login(world.donor)
    arabic = client.get(reverse("donations:portal_project", args=[project.pk])).content.decode()
    assert 'dir="rtl"' in arabic and project.title_ar in arabic
    world.donor.language = "en"
    world.donor.save(update_fields=["language"])
    english = client.get(reverse("donations:portal_project", args=[project.pk])).content.decode()
    assert 'dir="ltr"' in english and project.title_en in english


# --- public project pages -------------------------------------------------------------------------------------


def test_public_page_shows_aggregates_without_donor_identity(setup, client):
    world, project, account, donor = setup
    donor.show_name_publicly = True  # even a donor who allows it is not named on the project page
    donor.save(update_fields=["show_name_publicly"])
    donation = give(world, account, donor, amount="12.345", purpose=Purpose.PROJECT, project=project)
    with translation.override("en"):
        second = donor_of(world, user=False, name_ar="فاعل خير", name_en="Well Wisher", email="ww@example.org")
    give(world, account, second, amount="1.000", purpose=Purpose.PROJECT, project=project)
    _published_report(world, project)
    response = client.get(reverse("donations:public_project", args=[project.reference]))
    assert response.status_code == 200
    text = response.content.decode()
    assert project.reference in text
    assert 'data-testid="public-total">13.345 KWD' in text
    assert 'data-testid="public-donor-count">2' in text
    assert "The well is dug." in text
    for secret in (
        donor.name_ar,
        donor.name_en,
        donor.email,
        second.name_en,
        second.name_ar,
        second.email,
        donation.receipt_number,
        "12.345",
        world.donor.email,
    ):
        assert secret not in text, secret
    assert "portal_evidence" not in text and "/donor/" not in text


def test_public_page_only_for_licensed_projects(world, client):
    assert world.project_a.status == ProjectStatus.DRAFT
    assert client.get(reverse("donations:public_project", args=[world.project_a.reference])).status_code == 404
    assert client.get("/p/no-such-reference/").status_code == 404
    assert client.post(reverse("donations:public_project", args=[world.project_a.reference])).status_code == 405
