"""Donations through the services: the rules, the ledger, refunds and corrections, allocation, idempotency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db.models import Sum
from django.utils import timezone, translation

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money
from shafaf.donations import selectors, services
from shafaf.donations.models import Allocation, Channel, Donation, EntryKind, Purpose
from shafaf.finance import ledger
from shafaf.finance.tests.helpers import finance_officer, license_project
from shafaf.projects.models import Project
from tests.concurrency import run_and_wait, run_in_thread, threaded_database
from tests.factories import World, approved_bank_account, donor_account, donor_of, make_project

KW = services.KUWAIT


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=KW)


def recent() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=1)


def give(world, account, donor, *, amount="10.000", purpose=Purpose.GENERAL, project=None, actor=None, **extra):
    return services.donation_record(
        actor=actor or world.najat,
        charity=world.charity_a,
        donor=donor,
        amount=amount,
        currency=extra.pop("currency", "KWD"),
        received_at=extra.pop("received_at", recent()),
        channel=extra.pop("channel", Channel.KNET),
        bank_account=account,
        purpose=purpose,
        project=project,
        **extra,
    )


def balance(acct) -> int:
    return ledger.balance(acct).minor


def test_a_restricted_donation_posts_to_the_project_fund_and_is_allocated_at_once(setup):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="25.125", purpose=Purpose.PROJECT, project=project)
    assert donation.amount == Money(25125, "KWD") and donation.kind == EntryKind.DONATION
    assert donation.receipt_number.startswith(f"R-{donation.received_at.astimezone(KW).year}-")
    assert len(donation.receipt_number.split("-")[-1]) == 10
    assert [(a.project_id, a.amount_minor) for a in selectors.allocations_of(donation)] == [(project.pk, 25125)]
    assert balance(ledger.charity_bank(world.charity_a, "KWD")) == 25125
    assert balance(ledger.project_fund(project, "KWD")) == -25125
    assert AuditEvent.objects.filter(action="donation.record", subject_id=str(donation.pk)).count() == 1
    assert donation.replayed is False


def test_receipt_numbers_are_unique_and_unguessable(setup):
    world, _project, account, donor = setup
    numbers = {give(world, account, donor).receipt_number for _ in range(5)}
    assert len(numbers) == 5


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("0", "KWD", "amount"),
        ("-5.000", "KWD", "amount"),
        ("1.0005", "KWD", "amount"),
        ("abc", "KWD", "amount"),
        (1.5, "KWD", "amount"),
        ("10", "XXQ", "currency"),
        ("10.00", "USD", "currency"),  # the bank account receives KWD
    ],
)
def test_bad_amounts_and_currencies_are_refused_with_a_field_error(setup, amount, currency, field):
    world, _project, account, donor = setup
    with pytest.raises(DomainError) as refused:
        give(world, account, donor, amount=amount, currency=currency)
    assert field in refused.value.fields
    assert not Donation.objects.exists()


def test_unknown_channel_future_date_and_wrong_targets_are_refused(setup):
    world, project, account, donor = setup
    with pytest.raises(DomainError) as refused:
        give(world, account, donor, channel="pigeon")
    assert "channel" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        give(world, account, donor, received_at=timezone.now() + dt.timedelta(days=1))
    assert "received_at" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        give(world, account, donor, purpose=Purpose.PROJECT)
    assert "project" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        give(world, account, donor, purpose=Purpose.GENERAL, project=project)
    assert "project" in refused.value.fields
    assert not Donation.objects.exists()


def test_a_project_must_be_licensed_and_of_the_same_charity(setup):
    world, _project, account, donor = setup
    draft = make_project(world.najat, world.charity_a)
    with translation.override("en"), pytest.raises(DomainError) as refused:
        give(world, account, donor, purpose=Purpose.PROJECT, project=draft)
    assert refused.value.fields["project"] and "licensed" in str(refused.value.fields["project"])
    with pytest.raises(DomainError) as refused:
        give(world, account, donor, purpose=Purpose.PROJECT, project=world.project_b)
    assert "project" in refused.value.fields


def test_the_bank_account_must_be_the_charitys_and_approved(setup):
    world, _project, _account, donor = setup
    pending = services.bank_account_register(
        actor=world.najat, charity=world.charity_a, bank_name="KFH", iban="KW09NBOK0000000000000000000002"
    )
    with pytest.raises(DomainError) as refused:
        give(world, pending, donor)
    assert "bank_account" in refused.value.fields
    other = approved_bank_account(world, world.charity_b)
    with pytest.raises(DomainError) as refused:
        give(world, other, donor)
    assert "bank_account" in refused.value.fields


def test_the_donor_must_be_the_charitys(setup):
    world, _project, account, _donor = setup
    theirs = donor_of(world, world.charity_b, user=False)
    with pytest.raises(DomainError) as refused:
        give(world, account, theirs)
    assert "donor" in refused.value.fields


def test_only_the_charitys_members_record_and_only_the_ministry_approves_accounts(setup):
    world, _project, account, donor = setup
    for outsider in (world.rahma, world.donor, world.reviewer, world.partner_reporter, world.auditor):
        with pytest.raises(NotAllowed):
            give(world, account, donor, actor=outsider)
    assert give(world, account, donor, actor=world.staff_a).pk
    pending = services.bank_account_register(
        actor=world.najat, charity=world.charity_a, bank_name="KFH", iban="KW09NBOK0000000000000000000002"
    )
    with pytest.raises(NotAllowed):
        services.bank_account_approve(actor=world.najat, account=pending)
    with pytest.raises(NotAllowed):
        services.bank_account_register(
            actor=world.staff_a, charity=world.charity_a, bank_name="X", iban="KW36NBOK0000000000000000000001"
        )
    with pytest.raises(DomainError) as refused:
        services.bank_account_register(actor=world.najat, charity=world.charity_a, bank_name="X", iban="KW00BAD")
    assert "iban" in refused.value.fields


def test_late_entry_skips_the_kuwaiti_weekend():
    thursday = at("2026-01-01")  # a Thursday: the next business day is Sunday
    assert services.next_business_day(thursday.date()) == dt.date(2026, 1, 4)
    assert not services.is_late_entry(thursday, at("2026-01-04", 23))
    assert services.is_late_entry(thursday, at("2026-01-05", 8))
    monday = at("2026-01-05")
    assert not services.is_late_entry(monday, at("2026-01-06", 20))
    assert services.is_late_entry(monday, at("2026-01-07", 9))
    # Late in Kuwait's day even when UTC is still on the day before.
    late_utc = dt.datetime(2026, 1, 6, 22, 30, tzinfo=dt.UTC)  # 01:30 on the 7th in Kuwait
    assert services.is_late_entry(monday, late_utc)


def test_a_donation_entered_days_later_is_flagged(setup):
    world, _project, account, donor = setup
    assert give(world, account, donor, received_at=timezone.now() - dt.timedelta(days=5)).entered_late
    assert not give(world, account, donor, received_at=timezone.now() - dt.timedelta(minutes=1)).entered_late


# --- idempotency -----------------------------------------------------------------------------------------------------


def test_the_same_key_and_request_returns_the_first_donation(setup):
    world, _project, account, donor = setup
    received = recent()
    first = give(world, account, donor, received_at=received, idempotency_key="k-1")
    again = give(world, account, donor, received_at=received, idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed is True
    assert Donation.objects.count() == 1
    assert AuditEvent.objects.filter(action="donation.record").count() == 1
    assert balance(ledger.charity_bank(world.charity_a, "KWD")) == 10000


def test_the_same_key_with_another_request_is_refused(setup):
    world, _project, account, donor = setup
    received = recent()
    give(world, account, donor, received_at=received, idempotency_key="k-1")
    with pytest.raises(services.IdempotencyMismatch) as refused:
        give(world, account, donor, amount="11.000", received_at=received, idempotency_key="k-1")
    assert refused.value.status == 422 and refused.value.code == "idempotency_key_reused"
    with pytest.raises(services.IdempotencyMismatch):
        give(world, account, donor, received_at=received, idempotency_key="k-1", request_hash="other")
    assert Donation.objects.count() == 1


def test_keys_belong_to_a_charity(setup):
    world, _project, account, donor = setup
    give(world, account, donor, idempotency_key="shared")
    other_account = approved_bank_account(world, world.charity_b)
    other_donor = donor_of(world, world.charity_b, user=False)
    theirs = services.donation_record(
        actor=world.rahma,
        charity=world.charity_b,
        donor=other_donor,
        amount="1",
        currency="KWD",
        received_at=recent(),
        channel=Channel.CARD,
        bank_account=other_account,
        purpose=Purpose.GENERAL,
        idempotency_key="shared",
    )
    assert theirs.charity_id == world.charity_b.pk and Donation.objects.count() == 2


def test_a_channel_reference_is_recorded_once(setup):
    world, _project, account, donor = setup
    give(world, account, donor, channel_ref="KNET-1")
    with pytest.raises(Conflict) as refused:
        give(world, account, donor, channel_ref="KNET-1")
    assert refused.value.code == "duplicate_channel_ref"
    assert give(world, account, donor, channel=Channel.CARD, channel_ref="KNET-1").pk  # another channel
    assert Donation.objects.count() == 2


def test_two_concurrent_requests_with_one_key_make_one_donation(transactional_db, tmp_path):
    with translation.override("en"):
        world = World()
        account = approved_bank_account(world)
        donor = donor_of(world)
    db_settings = threaded_database(tmp_path)
    barrier = threading.Barrier(2)
    received = recent()

    def attempt():
        barrier.wait(timeout=10)
        donation = give(world, account, donor, received_at=received, idempotency_key="race", request_hash="h")
        return donation.pk, donation.replayed

    running = [run_in_thread(attempt, db_settings=db_settings) for _ in range(2)]
    for thread, _outcome in running:
        thread.join(timeout=60)
    outcomes = [outcome for _thread, outcome in running]
    assert all("value" in outcome for outcome in outcomes), outcomes
    pks = {outcome["value"][0] for outcome in outcomes}
    assert len(pks) == 1
    assert sorted(outcome["value"][1] for outcome in outcomes) == [False, True]

    def check():
        return (
            Donation.objects.filter(idempotency_key="race").count(),
            AuditEvent.objects.filter(action="donation.record").count(),
            ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor,
        )

    assert run_and_wait(check, db_settings=db_settings) == (1, 1, 10000)


# --- refunds and corrections ---------------------------------------------------------------------------------------


def test_a_refund_is_a_new_negative_entry_and_takes_back_the_allocation(setup):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="30.000", purpose=Purpose.PROJECT, project=project)
    refund = services.donation_refund(actor=world.najat, donation=donation, amount="10.000", reason="Double charge")
    assert refund.kind == EntryKind.REFUND and refund.amount_minor == -10000 and refund.corrects_id == donation.pk
    assert refund.receipt_number != donation.receipt_number
    donation.refresh_from_db()
    assert donation.amount_minor == 30000  # never edited
    assert services.allocated(donation).minor == 20000
    assert balance(ledger.project_fund(project, "KWD")) == -20000
    assert balance(ledger.charity_bank(world.charity_a, "KWD")) == 20000
    with pytest.raises(DomainError) as refused:
        services.donation_refund(actor=world.najat, donation=donation, amount="20.001", reason="Too much")
    assert refused.value.code == "refund_too_large"
    with pytest.raises(DomainError):
        services.donation_refund(actor=world.najat, donation=donation, amount="1.000", reason="")
    with pytest.raises(NotAllowed):
        services.donation_refund(actor=world.staff_a, donation=donation, amount="1.000", reason="Staff")
    with pytest.raises(DomainError) as refused:
        services.donation_refund(actor=world.najat, donation=refund, amount="1.000", reason="Of a refund")
    assert refused.value.code == "not_a_donation"


def test_a_general_refund_takes_back_from_the_projects_what_the_fund_cannot_cover(setup):
    world, project, account, donor = setup
    second = license_project(world, make_project(world.najat, world.charity_a, implementing_partner=world.partner))
    donation = give(world, account, donor, amount="100.000")
    services.allocate(actor=world.najat, donation=donation, parts=[(project, "30.000"), (second, "60.000")])
    services.donation_refund(actor=world.najat, donation=donation, amount="40.000", reason="Returned")
    # 10.000 came from the unallocated remainder, 30.000 from the projects in proportion 30:60.
    totals = {row["project_id"]: row["total"] for row in selectors.allocation_totals_of(donation)}
    assert totals == {project.pk: 20000, second.pk: 40000}
    assert services.unallocated(donation).minor == 0
    general = services.general_fund(world.charity_a, "KWD")
    assert balance(general) == 0
    assert balance(ledger.project_fund(project, "KWD")) == -20000
    assert balance(ledger.project_fund(second, "KWD")) == -40000
    assert balance(ledger.charity_bank(world.charity_a, "KWD")) == 60000


def test_a_correction_is_a_new_entry_of_either_sign(setup):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="5.000", purpose=Purpose.PROJECT, project=project)
    up = services.donation_correct(actor=world.najat, donation=donation, amount="0.500", reason="Typo")
    down = services.donation_correct(actor=world.najat, donation=donation, amount="-1.000", reason="Typo")
    assert (up.kind, up.amount_minor, down.amount_minor) == (EntryKind.CORRECTION, 500, -1000)
    assert services.net_amount(donation).minor == 4500 == services.allocated(donation).minor
    with pytest.raises(DomainError) as refused:
        services.donation_correct(actor=world.najat, donation=donation, amount="-4.501", reason="Too far")
    assert refused.value.code == "correction_too_large"
    with pytest.raises(DomainError):
        services.donation_correct(actor=world.najat, donation=donation, amount="0", reason="Nothing")


# --- allocation ----------------------------------------------------------------------------------------------------


def test_allocation_by_shares_sums_to_the_fils_and_posts(setup):
    world, project, account, donor = setup
    second = license_project(world, make_project(world.najat, world.charity_a, implementing_partner=world.partner))
    third = license_project(world, make_project(world.najat, world.charity_a, implementing_partner=world.partner))
    donation = give(world, account, donor, amount="10.000")
    made = services.allocate(actor=world.najat, donation=donation, shares=[(project, 1), (second, 1), (third, 1)])
    assert sorted(a.amount_minor for a in made) == [3333, 3333, 3334]
    assert sum(a.amount_minor for a in made) == 10000
    assert balance(services.general_fund(world.charity_a, "KWD")) == 0
    assert sum(balance(ledger.project_fund(p, "KWD")) for p in (project, second, third)) == -10000
    with pytest.raises(Conflict):
        services.allocate(actor=world.najat, donation=donation, shares=[(project, 1)])


def test_allocation_by_amounts_may_leave_a_remainder_but_never_exceed(setup):
    world, project, account, donor = setup
    donation = give(world, account, donor, amount="10.000")
    services.allocate(actor=world.najat, donation=donation, parts=[(project, "4.000")])
    with pytest.raises(DomainError) as refused:
        services.allocate(actor=world.najat, donation=donation, parts=[(project, "6.001")])
    assert refused.value.code == "allocation_too_much"
    with pytest.raises(DomainError):
        services.allocate(actor=world.najat, donation=donation, parts=[(project, "-1.000")])
    with pytest.raises(DomainError):
        services.allocate(actor=world.najat, donation=donation, parts=[(project, "1.0001")])
    made = services.allocate(actor=world.najat, donation=donation, shares=[(project, 1)])
    assert made[0].amount_minor == 6000
    assert Allocation.objects.filter(donation=donation).aggregate(total=Sum("amount_minor"))["total"] == 10000


def test_allocation_refuses_restricted_donations_unlicensed_or_foreign_projects_and_outsiders(setup):
    world, project, account, donor = setup
    restricted = give(world, account, donor, purpose=Purpose.PROJECT, project=project)
    with pytest.raises(DomainError) as refused:
        services.allocate(actor=world.najat, donation=restricted, shares=[(project, 1)])
    assert refused.value.code == "restricted_donation"
    general = give(world, account, donor)
    draft = make_project(world.najat, world.charity_a)
    for target in (draft, Project.objects.get(pk=world.project_b.pk)):
        with pytest.raises(DomainError):
            services.allocate(actor=world.najat, donation=general, shares=[(target, 1)])
    with pytest.raises(NotAllowed):
        services.allocate(actor=world.rahma, donation=general, shares=[(project, 1)])
    with pytest.raises(NotAllowed):
        services.allocate(actor=world.staff_a, donation=general, shares=[(project, 1)])
    assert services.allocate(actor=finance_officer(world), donation=general, shares=[(project, 1)])
    with pytest.raises(DomainError):
        services.allocate(actor=world.najat, donation=general, shares=[(project, 1)], parts=[(project, "1")])


def test_a_campaign_donation_goes_to_the_campaign_fund_until_allocated(setup):
    world, project, account, donor = setup
    campaign = services.campaign_create(
        actor=world.najat,
        charity=world.charity_a,
        name_ar="حملة الشتاء",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 3, 31),
    )
    donation = give(world, account, donor, purpose=Purpose.CAMPAIGN, campaign=campaign)
    fund = services.campaign_fund(campaign, "KWD")
    assert balance(fund) == -10000
    services.allocate(actor=world.najat, donation=donation, shares=[(project, 1)])
    assert balance(fund) == 0 and balance(ledger.project_fund(project, "KWD")) == -10000
    with pytest.raises(DomainError):
        services.campaign_create(
            actor=world.najat,
            charity=world.charity_a,
            name_ar="x",
            starts_on=dt.date(2026, 3, 1),
            ends_on=dt.date(2026, 1, 1),
        )


# --- who sees what -------------------------------------------------------------------------------------------------


def test_visibility_charity_ministry_auditor_and_the_donor_account_only(setup):
    world, project, account, donor = setup
    mine = give(world, account, donor, purpose=Purpose.PROJECT, project=project)
    other_donor = donor_of(world, user=donor_account(world, "donor2"), name_en="Other")
    theirs = give(world, account, other_donor)
    for user in (world.najat, world.staff_a, world.reviewer, world.ministry_admin, world.auditor):
        assert set(selectors.donations_visible_to(user)) == {mine, theirs}, user
    assert list(selectors.donations_visible_to(world.donor)) == [mine]
    assert list(selectors.donor_accounts_donations(world.donor)) == [mine]
    assert list(selectors.donors_visible_to(world.donor)) == [donor]
    for user in (world.rahma, world.staff_b, world.partner_reporter, world.accreditation_officer):
        assert not selectors.donations_visible_to(user).exists(), user
        assert not selectors.donors_visible_to(user).exists(), user
        assert not selectors.allocations_visible_to(user).exists(), user
    assert not selectors.bank_accounts_visible_to(world.donor).exists()
    assert selectors.allocations_visible_to(world.donor).count() == 1


def test_donor_create_and_update(setup):
    world, _project, _account, donor = setup
    with pytest.raises(DomainError) as refused:
        services.donor_create(actor=world.najat, charity=world.charity_a)
    assert "name_ar" in refused.value.fields
    services.donor_create(actor=world.najat, charity=world.charity_a, name_en="Numbered", external_ref="D-1")
    with pytest.raises(DomainError):
        services.donor_create(actor=world.najat, charity=world.charity_a, name_en="Again", external_ref="D-1")
    with pytest.raises(NotAllowed):
        services.donor_create(actor=world.rahma, charity=world.charity_a, name_en="Intruder")
    updated = services.donor_update(actor=world.staff_a, donor=donor, email="d@example.com", consent_to_contact=True)
    assert updated.email == "d@example.com" and updated.consent_to_contact
    assert AuditEvent.objects.filter(action="donor.update", subject_id=str(donor.pk)).exists()
    with pytest.raises(NotAllowed):
        services.donor_update(actor=world.rahma, donor=donor, email="x@example.com")
