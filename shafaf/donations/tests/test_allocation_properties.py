"""Allocation never gains or loses a fils: property-based tests through the services.

Each hypothesis example runs in its own atomic block rolled back at its end (inside the test's transaction), so
examples never see each other's donations or postings."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shafaf.core.money import Money
from shafaf.donations import services
from shafaf.donations.models import Allocation, Channel, Purpose
from shafaf.finance import ledger
from shafaf.finance.models import LedgerEntry
from shafaf.finance.tests.helpers import license_project
from tests.factories import World, approved_bank_account, donor_of, make_project

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def stage(django_db_setup, django_db_blocker):
    """One world with four licensed projects for the module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic(), translation.override("en"):
        world = World()
        projects = [license_project(world)]
        for _ in range(3):
            projects.append(
                license_project(world, make_project(world.najat, world.charity_a, implementing_partner=world.partner))
            )
        account = approved_bank_account(world)
        donor = donor_of(world)
        yield world, projects, account, donor
        transaction.set_rollback(True)


def _balanced() -> bool:
    per_transaction = defaultdict(int)
    for txn, currency, amount in LedgerEntry.objects.values_list("transaction_id", "currency", "amount_minor"):
        per_transaction[(txn, currency)] += amount
    return not any(per_transaction.values())


def _in_example(run):
    try:
        with transaction.atomic():
            run()
            raise _Rollback
    except _Rollback:
        pass


@PROPERTY
@given(
    minor=st.integers(min_value=1, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=4).filter(any),
)
def test_shares_sum_exactly_and_each_part_is_within_a_fils(stage, db, minor, weights):
    world, projects, account, donor = stage

    def run():
        donation = services.donation_record(
            actor=world.najat,
            charity=world.charity_a,
            donor=donor,
            amount=Money(minor, "KWD"),
            currency="KWD",
            received_at=timezone.now(),
            channel=Channel.KNET,
            bank_account=account,
            purpose=Purpose.GENERAL,
        )
        chosen = projects[: len(weights)]
        made = services.allocate(actor=world.najat, donation=donation, shares=list(zip(chosen, weights, strict=True)))
        assert sum(a.amount_minor for a in made) == minor
        by_project = {a.project_id: a.amount_minor for a in made}
        total_weight = sum(weights)
        for project, weight in zip(chosen, weights, strict=True):
            exact = Fraction(minor * weight, total_weight)
            part = by_project.get(project.pk, 0)
            assert abs(part - exact) < 1
            assert weight or part == 0
        assert services.unallocated(donation).minor == 0
        assert ledger.balance(services.general_fund(world.charity_a, "KWD")).minor == 0
        assert _balanced()

    _in_example(run)


@PROPERTY
@given(
    minor=st.integers(min_value=2, max_value=10**9),
    cuts=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=4),
    refund_ratio=st.fractions(min_value=0, max_value=1),
)
def test_amounts_then_a_refund_never_leave_more_allocated_than_given(stage, db, minor, cuts, refund_ratio):
    world, projects, account, donor = stage

    def run():
        donation = services.donation_record(
            actor=world.najat,
            charity=world.charity_a,
            donor=donor,
            amount=Money(minor, "KWD"),
            currency="KWD",
            received_at=timezone.now(),
            channel=Channel.CARD,
            bank_account=account,
            purpose=Purpose.GENERAL,
        )
        # Parts by amount, scaled to fit within the donation.
        scale = sum(cuts)
        parts = [(minor * cut) // scale for cut in cuts]
        rows = [(p, Money(x, "KWD")) for p, x in zip(projects, parts, strict=False) if x > 0]
        if rows:
            services.allocate(actor=world.najat, donation=donation, parts=rows)
        refund = int(minor * refund_ratio)
        if refund > 0:
            services.donation_refund(
                actor=world.najat, donation=donation, amount=Money(refund, "KWD"), reason="Returned"
            )
        net = minor - refund
        allocated = Allocation.objects.filter(donation=donation).aggregate(total=Sum("amount_minor"))["total"] or 0
        assert 0 <= allocated <= net
        assert services.unallocated(donation).minor == net - allocated
        # The money is where the allocations say: the bank holds the net, the funds owe it.
        funds = ledger.balance(services.general_fund(world.charity_a, "KWD")).minor + sum(
            ledger.balance(ledger.project_fund(p, "KWD")).minor for p in projects
        )
        assert ledger.balance(ledger.charity_bank(world.charity_a, "KWD")).minor == net == -funds
        assert _balanced()

    _in_example(run)
