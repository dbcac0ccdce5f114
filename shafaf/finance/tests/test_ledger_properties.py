"""The ledger cannot lose money: property-based tests (hypothesis, including a stateful machine) of the service's
checks, and tests of the database's own guarantees (shafaf/finance/triggers.py).

Each hypothesis example runs in its own atomic block rolled back at its end, inside the test's transaction
(pytest-django's `db`), so examples never see each other's postings."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from shafaf.core.allocation import split_by_weights
from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money, convert
from shafaf.finance import ledger, triggers
from shafaf.finance.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction

CURRENCIES = ("KWD", "USD", "EUR", "JPY")  # 3, 2, 2 and 0 minor digits
PER_CURRENCY = 3
DAY = dt.date(2025, 3, 1)
HUGE = 10**17  # twenty such entries still sum within a BIGINT

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def make_accounts() -> dict[str, list[LedgerAccount]]:
    return {
        currency: [
            ledger.account(
                code=f"test:{currency}:{n}", kind=AccountKind.ASSET, name=f"{currency} {n}", currency=currency
            )
            for n in range(PER_CURRENCY)
        ]
        for currency in CURRENCIES
    }


@pytest.fixture
def accounts(db):
    return make_accounts()


class rollback:
    """An atomic block that is always rolled back (one hypothesis example)."""

    def __enter__(self):
        self.block = transaction.atomic()
        self.block.__enter__()
        return self

    def __exit__(self, *exc):
        transaction.set_rollback(True)
        self.block.__exit__(*exc)
        return False


amounts = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=-HUGE, max_value=HUGE),
).filter(bool)

# One currency's legs: (account index, amount) pairs; balanced by a last leg when they do not sum to zero.
legs = st.lists(st.tuples(st.integers(0, PER_CURRENCY - 1), amounts), min_size=1, max_size=5)
balanced_sets = st.dictionaries(st.sampled_from(CURRENCIES), legs, min_size=1, max_size=len(CURRENCIES))


def balanced_entries(accounts, spec, closing_index: int = 0) -> list[tuple[LedgerAccount, Money]]:
    entries = []
    for currency, currency_legs in sorted(spec.items()):
        for index, minor in currency_legs:
            entries.append((accounts[currency][index], Money(minor, currency)))
        total = sum(minor for _index, minor in currency_legs)
        if total:
            entries.append((accounts[currency][closing_index], Money(-total, currency)))
    return entries


def postable(entries) -> bool:
    return len(entries) >= 2


def database_balances() -> dict[str, int]:
    rows = LedgerEntry.objects.values("account__code").annotate(total=Sum("amount_minor")).order_by()
    return {row["account__code"]: int(row["total"]) for row in rows if row["total"]}


# --- (a) balanced postings are accepted, and the books add up ------------------------------------------------------


@PROPERTY
@given(postings=st.lists(balanced_sets, min_size=1, max_size=6), closing=st.integers(0, PER_CURRENCY - 1))
def test_balanced_postings_are_accepted_and_the_trial_balance_stays_zero(accounts, postings, closing):
    with rollback():
        expected: dict[str, int] = defaultdict(int)
        written = 0
        for spec in postings:
            entries = balanced_entries(accounts, spec, closing)
            if not postable(entries):
                continue
            txn = ledger.post(kind="test", occurred_on=DAY, entries=entries)
            assert txn.pk is not None
            written += 1
            for acct, money in entries:
                expected[acct.code] += money.minor
        assert LedgerTransaction.objects.count() == written
        assert all(total == 0 for total in ledger.trial_balance().values())
        assert ledger.unbalanced_transactions() == []
        for currency_accounts in accounts.values():
            for acct in currency_accounts:
                assert ledger.balance(acct) == Money(expected[acct.code], acct.currency)


@PROPERTY
@given(postings=st.lists(balanced_sets, min_size=1, max_size=4))
def test_post_many_writes_every_posting_at_once(accounts, postings):
    with rollback():
        batch = [ledger.Posting("test", DAY, entries) for entries in (balanced_entries(accounts, s) for s in postings)]
        batch = [p for p in batch if postable(p.entries)]
        created = ledger.post_many(batch)
        assert len(created) == len(batch)
        assert LedgerEntry.objects.count() == sum(len(p.entries) for p in batch)
        assert all(total == 0 for total in ledger.trial_balance().values())


# --- (b) an unbalanced set is refused and nothing is written -------------------------------------------------------


@PROPERTY
@given(
    before=st.lists(balanced_sets, max_size=2),
    spec=balanced_sets,
    delta=amounts,
    where=st.integers(min_value=0),
)
def test_an_unbalanced_set_is_refused_and_nothing_is_written(accounts, before, spec, delta, where):
    with rollback():
        for earlier in before:
            entries = balanced_entries(accounts, earlier)
            if postable(entries):
                ledger.post(kind="test", occurred_on=DAY, entries=entries)
        counts = (LedgerTransaction.objects.count(), LedgerEntry.objects.count())
        balances = database_balances()
        entries = balanced_entries(accounts, spec)
        index = where % len(entries)
        acct, money = entries[index]
        if money.minor + delta == 0:  # a zero entry is refused too, but for another reason: keep the test sharp
            delta = -delta if money.minor - delta != 0 else delta + 1
        entries[index] = (acct, Money(money.minor + delta, money.currency))
        with pytest.raises(ledger.Unbalanced):
            ledger.post(kind="test", occurred_on=DAY, entries=entries)
        # Also as one of several postings: the good ones are not written either.
        good = balanced_entries(accounts, spec)
        if postable(good):
            with pytest.raises(ledger.Unbalanced):
                ledger.post_many([ledger.Posting("test", DAY, good), ledger.Posting("test", DAY, entries)])
        assert (LedgerTransaction.objects.count(), LedgerEntry.objects.count()) == counts
        assert database_balances() == balances


@pytest.mark.django_db
def test_the_service_refuses_what_is_not_a_proper_transaction(accounts):
    kwd, usd = accounts["KWD"], accounts["USD"]
    with transaction.atomic():
        for entries in (
            [],
            [(kwd[0], Money(5, "KWD"))],
            [(kwd[0], Money(0, "KWD")), (kwd[1], Money(0, "KWD"))],
            [(kwd[0], Money(5, "USD")), (kwd[1], Money(-5, "USD"))],  # entries in another currency than the account's
            [(kwd[0], Money(5, "KWD")), (usd[0], Money(-5, "USD"))],  # balanced in no currency
        ):
            with pytest.raises(DomainError):
                ledger.post(kind="test", occurred_on=DAY, entries=entries)
    assert LedgerEntry.objects.count() == 0


# --- (c) a stateful sequence of the platform's money movements -----------------------------------------------------

PROJECTS = 3
RATE = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("5000"), places=6, allow_nan=False).filter(
    lambda r: r > 0
)
POSITIVE = st.integers(min_value=1, max_value=10**12)


class LedgerMachine(RuleBasedStateMachine):
    """Expenditures, disbursements, currency exchanges, allocations across projects and refused postings, in any
    order; the model (a dict of expected balances) must always equal the database."""

    def __init__(self):
        super().__init__()
        self._block = transaction.atomic()
        self._block.__enter__()
        self.expected: dict[str, int] = defaultdict(int)
        self.entries_written = 0
        self.accounts: dict[str, LedgerAccount] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._block.__exit__(None, None, None)

    def acct(self, code: str, kind: str, currency: str) -> LedgerAccount:
        if code not in self.accounts:
            self.accounts[code] = ledger.account(code=code, kind=kind, name=code, currency=currency)
        return self.accounts[code]

    def bank(self, currency):
        return self.acct(f"bank:{currency}", AccountKind.ASSET, currency)

    def advance(self, project, currency):
        return self.acct(f"p{project}:advance:{currency}", AccountKind.ASSET, currency)

    def line(self, project, line, currency):
        return self.acct(f"p{project}:line{line}:{currency}", AccountKind.EXPENSE, currency)

    def fund(self, project, currency):
        return self.acct(f"p{project}:fund:{currency}", AccountKind.LIABILITY, currency)

    def write(self, kind, entries):
        ledger.post(kind=kind, occurred_on=DAY, entries=entries)
        for acct, money in entries:
            self.expected[acct.code] += money.minor
        self.entries_written += len(entries)

    @initialize()
    def start(self):
        assert LedgerEntry.objects.count() == 0

    @rule(project=st.integers(0, PROJECTS - 1), currency=st.sampled_from(CURRENCIES), minor=POSITIVE)
    def disbursement(self, project, currency, minor):
        money = Money(minor, currency)
        self.write("disbursement", [(self.advance(project, currency), money), (self.bank(currency), -money)])

    @rule(
        project=st.integers(0, PROJECTS - 1),
        line=st.integers(0, 2),
        currency=st.sampled_from(CURRENCIES),
        minor=POSITIVE,
    )
    def expenditure(self, project, line, currency, minor):
        money = Money(minor, currency)
        self.write(
            "expenditure", [(self.line(project, line, currency), money), (self.advance(project, currency), -money)]
        )

    @rule(
        pay_currency=st.sampled_from(CURRENCIES),
        receive_currency=st.sampled_from(CURRENCIES),
        minor=POSITIVE,
        rate=RATE,
    )
    def exchange(self, pay_currency, receive_currency, minor, rate):
        if pay_currency == receive_currency:
            return
        pay = Money(minor, pay_currency)
        receive = convert(pay, receive_currency, rate, rounding=decimal.ROUND_HALF_EVEN)
        if receive.is_zero() or abs(receive.minor) > 10**15:
            return
        ledger.post_exchange(
            occurred_on=DAY,
            pay_from=self.bank(pay_currency),
            pay=pay,
            receive_to=self.bank(receive_currency),
            receive=receive,
        )
        self.expected[self.bank(pay_currency).code] -= pay.minor
        self.expected[ledger.fx_account(pay_currency).code] += pay.minor
        self.expected[ledger.fx_account(receive_currency).code] -= receive.minor
        self.expected[self.bank(receive_currency).code] += receive.minor
        self.accounts.setdefault(f"fx:{pay_currency}", ledger.fx_account(pay_currency))
        self.accounts.setdefault(f"fx:{receive_currency}", ledger.fx_account(receive_currency))
        self.entries_written += 4

    @rule(
        currency=st.sampled_from(CURRENCIES),
        minor=st.integers(min_value=1, max_value=10**14),
        weights=st.lists(st.integers(0, 1000), min_size=PROJECTS, max_size=PROJECTS).filter(any),
    )
    def allocation(self, currency, minor, weights):
        """A donation received in the bank and allocated to the projects' restricted funds by largest remainder."""
        total = Money(minor, currency)
        parts = split_by_weights(total, weights)
        assert sum(part.minor for part in parts) == minor
        entries = [(self.bank(currency), total)]
        entries += [(self.fund(project, currency), -part) for project, part in enumerate(parts) if part.minor]
        self.write("allocation", entries)

    @rule(currency=st.sampled_from(CURRENCIES), minor=POSITIVE, error=st.sampled_from([-1, 1, 7]))
    def refused_unbalanced(self, currency, minor, error):
        counts = (LedgerTransaction.objects.count(), LedgerEntry.objects.count())
        money = Money(minor, currency)
        off = Money(minor + error, currency)
        with pytest.raises(ledger.Unbalanced):
            ledger.post(
                kind="bad", occurred_on=DAY, entries=[(self.advance(0, currency), money), (self.bank(currency), -off)]
            )
        assert (LedgerTransaction.objects.count(), LedgerEntry.objects.count()) == counts

    @invariant()
    def trial_balance_is_zero_in_every_currency(self):
        assert all(total == 0 for total in ledger.trial_balance().values())

    @invariant()
    def the_model_equals_the_database(self):
        expected = {code: total for code, total in self.expected.items() if total}
        assert database_balances() == expected
        per_currency: dict[str, int] = defaultdict(int)
        for code, total in expected.items():
            per_currency[self.accounts[code].currency] += total
        assert all(total == 0 for total in per_currency.values())  # no minor unit created or lost

    @precondition(lambda self: self.accounts)
    @invariant()
    def every_entry_is_accounted_for(self):
        assert LedgerEntry.objects.count() == self.entries_written
        assert ledger.unbalanced_transactions() == []


@pytest.mark.django_db
def test_no_sequence_of_operations_creates_or_loses_a_minor_unit():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- the database's own guarantees ---------------------------------------------------------------------------------


@pytest.fixture
def posted(accounts):
    """One balanced transaction, with the database triggers installed (the suite removes them on SQLite, whose
    flush deletes rows; they come back with this test's transaction and go with its rollback)."""
    if connection.vendor == "sqlite":  # on PostgreSQL they stay installed (migrations 0003 and 0004)
        triggers.install(connection)
    kwd = accounts["KWD"]
    with transaction.atomic():
        txn = ledger.post(
            kind="test", occurred_on=DAY, entries=[(kwd[0], Money(1_500, "KWD")), (kwd[1], Money(-1_500, "KWD"))]
        )
    return txn


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE finance_ledgerentry SET amount_minor = amount_minor + 1",
        "DELETE FROM finance_ledgerentry",
        "UPDATE finance_ledgertransaction SET memo = 'edited'",
        "DELETE FROM finance_ledgertransaction",
    ],
)
def test_the_database_refuses_to_change_the_ledger(posted, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert LedgerEntry.objects.filter(transaction=posted).count() == 2
    assert ledger.trial_balance() == {"KWD": 0}
    assert LedgerTransaction.objects.get(pk=posted.pk).memo == ""


def test_the_orm_cannot_edit_an_entry_either(posted):
    entry = LedgerEntry.objects.filter(transaction=posted).first()
    entry.amount_minor = 1
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert sorted(LedgerEntry.objects.filter(transaction=posted).values_list("amount_minor", flat=True)) == [
        -1500,
        1500,
    ]


def test_the_database_refuses_an_entry_in_another_currency_than_its_account(posted, accounts):
    """Refused by the INSERT itself (on PostgreSQL too, where only the balance waits for the commit)."""
    usd_account = accounts["USD"][0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO finance_ledgerentry (transaction_id, account_id, currency, amount_minor) "
            "VALUES (%s, %s, 'KWD', 10), (%s, %s, 'KWD', -10)",
            [posted.pk, usd_account.pk, posted.pk, accounts["KWD"][0].pk],
        )
    assert LedgerEntry.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no deferred triggers")
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_an_unbalanced_transaction_at_commit():
    kwd = make_accounts()["KWD"]
    with transaction.atomic():
        txn = ledger.post(
            kind="test", occurred_on=DAY, entries=[(kwd[0], Money(700, "KWD")), (kwd[1], Money(-700, "KWD"))]
        )
    # Balanced across two INSERT statements of one database transaction: accepted at commit.
    with transaction.atomic():
        other = LedgerTransaction.objects.create(kind="test", occurred_on=DAY)
        LedgerEntry.objects.create(transaction=other, account=kwd[0], currency="KWD", amount_minor=5)
        LedgerEntry.objects.create(transaction=other, account=kwd[2], currency="KWD", amount_minor=-5)
    # One leg missing: the statement runs, the commit is refused, nothing stays.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO finance_ledgerentry (transaction_id, account_id, currency, amount_minor) "
            "VALUES (%s, %s, 'KWD', 1)",
            [txn.pk, kwd[2].pk],
        )
    assert ledger.trial_balance() == {"KWD": 0}
    assert LedgerEntry.objects.count() == 4


def test_unbalanced_transactions_finds_what_went_around_the_service(accounts):
    """What the deferred check refuses at commit on PostgreSQL, the consistency query finds on any database (the
    savepoint is rolled back, so that PostgreSQL's check at the test's end finds nothing)."""
    kwd = accounts["KWD"]
    with transaction.atomic():
        good = ledger.post(
            kind="test", occurred_on=DAY, entries=[(kwd[0], Money(9, "KWD")), (kwd[1], Money(-9, "KWD"))]
        )
        bad = LedgerTransaction.objects.create(kind="test", occurred_on=DAY)
        LedgerEntry.objects.create(transaction=bad, account=kwd[0], currency="KWD", amount_minor=4)
        assert ledger.unbalanced_transactions() == [bad.pk]
        assert good.pk not in ledger.unbalanced_transactions()
        assert ledger.trial_balance() == {"KWD": 4}
        transaction.set_rollback(True)
    assert ledger.unbalanced_transactions() == [] and ledger.trial_balance() == {}
