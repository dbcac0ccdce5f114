"""Contracts and disbursements through their services: the accreditation gate, the settlement rule of a
suspended partner, the contract's ceiling (also under a race), permissions and the audit trail."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import translation

from shafaf.accounts.choices import Authority
from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money
from shafaf.finance import selectors, services
from shafaf.finance.models import Contract, Disbursement
from shafaf.partners.gate import PartnerRefused
from tests.concurrency import run_and_wait, run_in_thread, threaded_database
from tests.factories import World, make_project, pdf_upload

from .helpers import (
    SIGNED,
    english,
    finance_officer,
    lapse,
    license_project,
    register,
    revoke,
    screening_hit,
    suspend,
    with_document,
)

PAID = dt.date(2026, 3, 1)


def pay(world, contract, *, amount="100.000", paid_on=PAID, reference="TR-1", actor=None, language="en"):
    with translation.override(language):
        return services.disbursement_record(
            actor=actor or world.najat, contract=contract, amount=amount, paid_on=paid_on, reference=reference
        )


@pytest.fixture
def project(world):
    return license_project(world)


# --- contracts ---------------------------------------------------------------------------------------------------


def test_register_a_contract_with_the_accredited_partner(world, project):
    officer = finance_officer(world)
    contract = with_document(world, project, actor=officer, amount="1250.500")
    contract.refresh_from_db()
    assert (contract.partner, contract.amount, contract.signed_on) == (world.partner, Money(1250500, "KWD"), SIGNED)
    assert contract.has_document and len(contract.sha256) == 64
    event = AuditEvent.objects.get(action="contract.register")
    assert event.subject_id == str(contract.pk) and event.actor == officer
    assert event.changes["amount"] == [None, {"amount": "1250.500", "currency": "KWD"}]
    assert event.changes["sha256"] == [None, contract.sha256]


def test_currency_defaults_to_the_projects_and_may_be_another(world, project):
    assert register(world, project).currency == "KWD"
    usd = register(world, project, number="C-2", amount="10.25", currency="usd")
    assert usd.amount == Money(1025, "USD")


@pytest.mark.parametrize(
    ("amount", "fragment"),
    [("1250.5001", "decimals"), ("abc", "not an amount"), ("0", "more than zero"), ("-5", "more than zero")],
)
def test_a_bad_amount_is_a_field_error(world, project, amount, fragment):
    with pytest.raises(DomainError) as caught:
        register(world, project, amount=amount)
    assert fragment in " ".join(caught.value.fields["amount"])
    assert not Contract.objects.exists()


def test_arabic_indic_digits_are_read_exactly(world, project):
    assert register(world, project, amount="١٢٥٠٫٥").amount == Money(1250500, "KWD")


def test_a_duplicate_number_is_a_field_error(world, project):
    register(world, project)
    with pytest.raises(DomainError) as caught:
        register(world, project, number=" C-1 ")
    assert "number" in caught.value.fields
    assert Contract.objects.count() == 1


def test_a_contract_signed_in_the_future_is_refused(world, project):
    with pytest.raises(DomainError) as caught:
        register(world, project, signed_on=dt.date.today() + dt.timedelta(days=2))
    assert "signed_on" in caught.value.fields


def test_the_partner_must_be_accredited_on_the_signing_date(world, project):
    """The accreditations start in 2020: a contract signed in 2019 is refused, naming both ministries."""
    with pytest.raises(PartnerRefused) as caught:
        register(world, project, signed_on=dt.date(2019, 6, 1))
    error = caught.value
    assert error.status == 409 and error.code == "partner_not_accredited"
    assert "2019-06-01" in str(error.message)
    reasons = " ".join(error.fields["partner"])
    assert "Ministry of Foreign Affairs" in reasons and "Ministry of Social Affairs" in reasons
    assert "not valid before 2020-01-01" in reasons
    assert not Contract.objects.exists() and not AuditEvent.objects.filter(action="contract.register").exists()


def test_the_partner_must_also_be_accredited_today(world, project):
    lapse(world, on=dt.date(2026, 2, 1))
    with pytest.raises(PartnerRefused) as caught:
        register(world, project, signed_on=SIGNED)  # accredited then, lapsed since
    assert "lapsed on 2026-02-01" in " ".join(caught.value.fields["partner"])


def test_an_open_screening_hit_blocks_a_contract(world, project):
    screening_hit(world)
    with pytest.raises(PartnerRefused) as caught:
        register(world, project)
    assert caught.value.code == "partner_screening_hit"
    assert "QDe.999" in " ".join(caught.value.fields["partner"])


def test_the_refusal_speaks_arabic(world, project):
    revoke(world)
    with translation.override("ar"), pytest.raises(PartnerRefused) as caught:
        services.contract_register(actor=world.najat, project=project, number="C-1", signed_on=SIGNED, amount="1")
    reasons = " ".join(caught.value.fields["partner"])
    assert "وزارة الخارجية" in reasons and "ملغى" in reasons


def test_only_admins_and_finance_officers_register(world, project):
    for actor in (world.staff_a, world.rahma, world.reviewer, world.auditor, world.partner_reporter, world.donor):
        with pytest.raises(NotAllowed):
            register(world, project, actor=actor)
    assert not Contract.objects.exists()


def test_a_project_not_licensed_takes_no_contract(world):
    with pytest.raises(Conflict) as caught:
        register(world, world.project_a)  # a draft
    assert caught.value.code == "project_not_licensed"


def test_a_project_without_a_partner_takes_no_contract(world):
    project = license_project(world, make_project(world.najat, world.charity_a, implementing_partner=None))
    with pytest.raises(Conflict) as caught:
        register(world, project)
    assert caught.value.code == "no_partner"


def test_the_signed_contract_is_uploaded_later_once_and_only_as_pdf_or_image(world, project):
    contract = register(world, project)
    assert not contract.has_document
    with pytest.raises(DomainError) as caught:
        services.contract_attach_document(actor=world.najat, contract=contract, file=pdf_upload("c.pdf", b"MZ\x90"))
    assert "file" in caught.value.fields
    with pytest.raises(NotAllowed):
        services.contract_attach_document(actor=world.staff_a, contract=contract, file=pdf_upload())
    services.contract_attach_document(actor=world.najat, contract=contract, file=pdf_upload())
    contract.refresh_from_db()
    assert contract.has_document
    assert AuditEvent.objects.get(action="contract.attach_document").changes["sha256"] == [None, contract.sha256]
    with pytest.raises(Conflict):
        services.contract_attach_document(actor=world.najat, contract=contract, file=pdf_upload())


# --- disbursements -----------------------------------------------------------------------------------------------


def test_record_a_disbursement(world, project):
    contract = register(world, project)
    disbursement = pay(world, contract, amount="250.125", actor=finance_officer(world))
    disbursement.refresh_from_db()
    assert disbursement.amount == Money(250125, "KWD") and not disbursement.is_settlement
    assert (disbursement.project, disbursement.partner) == (project, world.partner)
    event = AuditEvent.objects.get(action="disbursement.record")
    assert event.changes["amount"] == [None, {"amount": "250.125", "currency": "KWD"}]
    assert event.changes["is_settlement"] == [None, False]
    totals = selectors.contract_totals(Contract.objects.get(pk=contract.pk))
    assert (totals.disbursed, totals.remaining) == (Money(250125, "KWD"), Money(749875, "KWD"))


def test_the_contract_amount_is_a_ceiling(world, project):
    contract = register(world, project, amount="1000.000")
    pay(world, contract, amount="600.000", reference="TR-1")
    with pytest.raises(DomainError) as caught:
        pay(world, contract, amount="500.000", reference="TR-2")
    message = " ".join(caught.value.fields["amount"])
    assert "1,100.000 KWD" in message and "1,000.000 KWD" in message and "400.000 KWD" in message
    pay(world, contract, amount="400.000", reference="TR-3")
    assert selectors.contract_totals(contract).remaining == Money(0, "KWD")
    assert Disbursement.objects.count() == 2


def test_the_amount_is_in_the_contracts_currency(world, project):
    contract = register(world, project)
    with pytest.raises(DomainError) as caught:
        pay(world, contract, amount=Money(100, "USD"))
    assert "amount" in caught.value.fields
    with pytest.raises(DomainError) as caught:
        pay(world, contract, amount="100 USD")
    assert "amount" in caught.value.fields


@pytest.mark.parametrize(
    ("paid_on", "field"),
    [(dt.date.today() + dt.timedelta(days=1), "paid_on"), (dt.date(2025, 12, 31), "paid_on")],
)
def test_bad_dates_are_field_errors(world, project, paid_on, field):
    contract = register(world, project)
    with pytest.raises(DomainError) as caught:
        pay(world, contract, paid_on=paid_on)
    assert field in caught.value.fields


def test_a_duplicate_reference_is_a_field_error(world, project):
    contract = register(world, project)
    pay(world, contract)
    with pytest.raises(DomainError) as caught:
        pay(world, contract)
    assert "reference" in caught.value.fields


def test_an_accreditation_lapsed_since_approval_blocks_disbursements(world, project):
    contract = register(world, project)
    lapse(world, on=dt.date(2026, 6, 30))
    pay(world, contract, paid_on=dt.date(2026, 6, 30), reference="TR-1")  # the last valid day
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 15), reference="TR-2")
    assert caught.value.code == "partner_not_accredited"
    assert "lapsed on 2026-06-30" in " ".join(caught.value.fields["partner"])
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 15), reference="TR-2", language="ar")
    assert "انتهى اعتماد وزارة الشؤون الاجتماعية" in " ".join(caught.value.fields["partner"])
    assert Disbursement.objects.count() == 1


def test_a_revoked_accreditation_blocks_disbursements(world, project):
    contract = with_document(world, project)
    revoke(world, Authority.MOFA)
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract)
    assert "is revoked" in " ".join(caught.value.fields["partner"])
    assert not Disbursement.objects.exists()


@pytest.mark.parametrize("status", ["open", "confirmed"])
def test_a_screening_hit_blocks_disbursements(world, project, status):
    contract = with_document(world, project)
    screening_hit(world, status=status)
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract)
    assert caught.value.code == "partner_screening_hit"
    assert "Sanctions screening hit" in " ".join(caught.value.fields["partner"])


def test_a_cleared_hit_does_not_block(world, project):
    contract = register(world, project)
    hit = screening_hit(world)
    hit.status, hit.decision_reason = "cleared", "Another organisation."
    hit.save()
    assert pay(world, contract).pk


def test_a_screening_hit_blocks_even_a_settlement(world, project):
    contract = with_document(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    screening_hit(world)
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 1))  # would be a valid settlement without the hit
    assert caught.value.code == "partner_not_accredited"  # refused by the gate, not as a settlement
    assert "Sanctions screening hit" in " ".join(caught.value.fields["partner"])
    assert not Disbursement.objects.exists()


# --- the settlement rule of a suspended partner -------------------------------------------------------------------


def test_settlement_allowed(world, project):
    contract = with_document(world, project, signed_on=SIGNED)
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    disbursement = pay(world, contract, paid_on=dt.date(2026, 11, 1))
    assert disbursement.is_settlement
    assert AuditEvent.objects.get(action="disbursement.record").changes["is_settlement"] == [None, True]


def test_settlement_refused_for_a_contract_signed_after_the_suspension(world, project):
    contract = with_document(world, project, signed_on=dt.date(2026, 6, 15))
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 1))
    assert caught.value.code == "settlement_refused"
    reasons = caught.value.fields["partner"]
    assert any("signed on 2026-06-15" in r and "suspension on 2026-06-01" in r for r in reasons)
    assert any("is suspended" in r for r in reasons)  # the gate's own reason comes too


def test_settlement_refused_without_the_signed_contract(world, project):
    contract = register(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 1))
    assert any("Upload the signed contract first" in r for r in caught.value.fields["partner"])
    services.contract_attach_document(actor=world.najat, contract=contract, file=pdf_upload())
    assert pay(world, contract, paid_on=dt.date(2026, 7, 1)).is_settlement


def test_settlement_refused_after_the_deadline(world, project):
    contract = with_document(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 8, 31))
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 9, 1))
    assert any("deadline (2026-08-31) has passed" in r for r in caught.value.fields["partner"])


def test_settlement_refused_without_a_deadline(world, project):
    contract = with_document(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=None)
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 1))
    assert any("set no settlement deadline" in r for r in caught.value.fields["partner"])
    assert not Disbursement.objects.exists()


def test_settlement_refusal_names_the_suspension_in_arabic(world, project):
    contract = register(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=None)
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 7, 1), language="ar")
    assert any("موقوف" in r for r in caught.value.fields["partner"])


def test_both_ministries_suspending_need_both_deadlines(world, project):
    contract = with_document(world, project)
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    suspend(world, on=dt.date(2026, 5, 1), deadline=dt.date(2026, 8, 1), authority=Authority.MOFA)
    with pytest.raises(PartnerRefused) as caught:
        pay(world, contract, paid_on=dt.date(2026, 9, 1))
    assert any("2026-08-01" in r for r in caught.value.fields["partner"])
    assert pay(world, contract, paid_on=dt.date(2026, 7, 1)).is_settlement


def test_a_suspended_partner_takes_no_new_contract(world, project):
    suspend(world, on=dt.date(2026, 6, 1), deadline=dt.date(2026, 11, 1))
    with pytest.raises(PartnerRefused):
        register(world, project, signed_on=dt.date(2026, 1, 1))


def test_only_admins_and_finance_officers_record(world, project):
    contract = register(world, project)
    for actor in (world.staff_a, world.rahma, world.reviewer, world.auditor, world.partner_reporter):
        with pytest.raises(NotAllowed):
            pay(world, contract, actor=actor)
    assert not Disbursement.objects.exists()


# --- selectors ---------------------------------------------------------------------------------------------------


def test_visibility(world, project):
    contract = register(world, project)
    pay(world, contract)
    for persona, sees in {
        "najat": True,
        "staff_a": True,
        "reviewer": True,
        "auditor": True,
        "partner": True,
        "rahma": False,
        "staff_b": False,
        "donor": False,
        "accreditation_officer": False,
    }.items():
        user = world.personas()[persona]
        assert selectors.contracts_visible_to(user).exists() is sees, persona
        assert selectors.disbursements_visible_to(user).exists() is sees, persona


def test_project_totals_and_disbursements_after(world, project):
    first = register(world, project, amount="1000.000")
    register(world, project, number="C-2", amount="500.500")
    register(world, project, number="C-3", amount="20.00", currency="USD")
    pay(world, first, amount="100.250", paid_on=dt.date(2026, 2, 1), reference="TR-1")
    pay(world, first, amount="0.750", paid_on=dt.date(2026, 4, 1), reference="TR-2")
    totals = {line.currency: line for line in selectors.project_totals(project)}
    assert totals["KWD"].contracted == Money(1500500, "KWD") and totals["KWD"].contracts == 2
    assert totals["KWD"].disbursed == Money(101000, "KWD")
    assert totals["KWD"].remaining == Money(1399500, "KWD")
    assert totals["USD"].disbursed == Money(0, "USD")
    assert [d.reference for d in selectors.disbursements_after(project, dt.date(2026, 3, 1))] == ["TR-2"]


def test_the_budget_interfaces_are_defined(world):
    """The rulebook and the oversight rules find them (shafaf.finance.tests.test_budgets tests their answers)."""
    for name in ("project_budget_summary", "administrative_share", "expenditures_after"):
        assert callable(getattr(selectors, name))
    assert selectors.project_budget_summary(world.project_a) is None
    assert selectors.administrative_share(world.project_a) is None
    assert not selectors.expenditures_after(world.project_a, dt.date(2020, 1, 1)).exists()


# --- the race ----------------------------------------------------------------------------------------------------


def test_two_disbursements_at_once_never_exceed_the_contract(transactional_db, tmp_path):
    """Two threads, each with its own connection, record 600 of a 1,000 contract at the same moment: one wins."""
    with english():
        world = World()
        project = license_project(world)
        contract = register(world, project, amount="1000.000")
    db_settings = threaded_database(tmp_path)
    barrier = threading.Barrier(2)

    def record(reference):
        def run():
            seen = Contract.objects.select_related("project__charity", "partner").get(pk=contract.pk)
            barrier.wait(timeout=10)
            with english():
                return services.disbursement_record(
                    actor=world.najat, contract=seen, amount="600.000", paid_on=PAID, reference=reference
                ).pk

        return run

    running = [run_in_thread(record(reference), db_settings=db_settings) for reference in ("TR-A", "TR-B")]
    for thread, _outcome in running:
        thread.join(timeout=60)
    outcomes = [outcome for _thread, outcome in running]
    winners = [o["value"] for o in outcomes if "value" in o]
    losers = [o["error"] for o in outcomes if "error" in o]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], DomainError) and losers[0].code == "contract_exceeded", repr(losers[0])

    def check():
        return (
            Disbursement.objects.filter(contract_id=contract.pk).count(),
            AuditEvent.objects.filter(action="disbursement.record").count(),
        )

    assert run_and_wait(check, db_settings=db_settings) == (1, 1)
