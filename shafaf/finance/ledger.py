"""The double-entry ledger beneath every money movement.

A transaction is a set of entries, debits positive and credits negative, that sums to zero in each currency; it
is written once and never changed (the database refuses updates and deletes, and on PostgreSQL checks the
balance itself when the transaction commits — see the migration that installs the triggers). Balances are sums
of entries; nothing is stored twice.

The accounts, each in one currency:

- ``charity:<id>:bank:<CUR>``            asset: the charity's bank money;
- ``project:<id>:advance:<CUR>``          asset: money advanced to the project's implementing partner, less what
  it has spent (a disbursement debits it, an expenditure credits it);
- ``project:<id>:line:<line id>:<CUR>``   expense: spending on a budget line, in the project's currency;
- ``project:<id>:fund:<CUR>``             liability: donations restricted to the project (the donations issue);
- ``fx:<CUR>``                            equity: the trading account a currency exchange passes through, so that
  each currency balances on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.signals import post_migrate
from django.utils.translation import gettext as _

from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money
from shafaf.core.prepared import prepared_cursor

from .models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction


class Unbalanced(DomainError):
    def __init__(self, message):
        super().__init__(message, code="ledger_unbalanced")


@dataclass(frozen=True)
class Posting:
    """A transaction to be written: what `post_many` takes."""

    kind: str
    occurred_on: dt.date
    entries: Sequence[tuple[LedgerAccount, Money]]
    memo: str = ""
    source: str = ""


# Accounts by code, per process. An account's id, kind and currency never change once it is committed, so any
# process may keep what it has seen committed; an account is remembered only after its transaction commits (and
# the cache is emptied when the database is flushed or migrated).
_accounts: dict[str, LedgerAccount] = {}


def _remember(found: LedgerAccount) -> None:
    def store():
        if not connection.in_atomic_block:  # really committed (not a test running callbacks inside its atomic)
            _accounts[found.code] = found

    transaction.on_commit(store)


def forget_accounts(**_kwargs) -> None:
    _accounts.clear()


post_migrate.connect(forget_accounts, dispatch_uid="shafaf.finance.ledger.forget_accounts")


def account(*, code: str, kind: str, name: str, currency: str, charity=None, project=None) -> LedgerAccount:
    """The account with this code, created on first use."""
    found = _accounts.get(code)
    if found is None:
        found = LedgerAccount.objects.filter(code=code).first()
        if found is None:
            with transaction.atomic():
                found, _created = LedgerAccount.objects.get_or_create(
                    code=code,
                    defaults={
                        "kind": kind,
                        "name": name[:200],
                        "currency": currency,
                        "charity": charity,
                        "project": project,
                    },
                )
        _remember(found)
    if found.currency != currency or found.kind != kind:
        raise DomainError(_("Ledger account %(code)s exists with another currency or kind.") % {"code": code})
    return found


def cached_account(code: str) -> LedgerAccount | None:
    """The account with this code if this process has seen it committed (no query), else None."""
    return _accounts.get(code)


def charity_bank(charity, currency: str) -> LedgerAccount:
    code = f"charity:{getattr(charity, 'pk', charity)}:bank:{currency}"
    cached = _accounts.get(code)
    if cached is not None and cached.currency == currency and cached.kind == AccountKind.ASSET:
        return cached
    return account(
        code=f"charity:{charity.pk}:bank:{currency}",
        kind=AccountKind.ASSET,
        name=f"{charity.slug} bank {currency}",
        currency=currency,
        charity=charity,
    )


def project_advance(project, currency: str) -> LedgerAccount:
    return account(
        code=f"project:{project.pk}:advance:{currency}",
        kind=AccountKind.ASSET,
        name=f"{project.reference} partner advance {currency}",
        currency=currency,
        charity=project.charity,
        project=project,
    )


def project_line(project, line, currency: str) -> LedgerAccount:
    return account(
        code=f"project:{project.pk}:line:{line.pk}:{currency}",
        kind=AccountKind.EXPENSE,
        name=f"{project.reference} line {line.code} {currency}",
        currency=currency,
        charity=project.charity,
        project=project,
    )


def project_fund(project, currency: str) -> LedgerAccount:
    code = f"project:{project.pk}:fund:{currency}"
    cached = _accounts.get(code)
    if cached is not None and cached.currency == currency and cached.kind == AccountKind.LIABILITY:
        return cached
    return account(
        code=f"project:{project.pk}:fund:{currency}",
        kind=AccountKind.LIABILITY,
        name=f"{project.reference} restricted fund {currency}",
        currency=currency,
        charity=project.charity,
        project=project,
    )


def fx_account(currency: str) -> LedgerAccount:
    return account(
        code=f"fx:{currency}", kind=AccountKind.EQUITY, name=f"currency exchange {currency}", currency=currency
    )


def check_balanced(entries: Iterable[tuple[LedgerAccount, Money]]) -> None:
    """Unbalanced unless there are two or more non-zero entries, each in its account's currency, summing to zero
    in each currency."""
    entries = list(entries)
    if len(entries) < 2:
        raise Unbalanced(_("A ledger transaction needs at least two entries."))
    sums: dict[str, int] = defaultdict(int)
    for acct, money in entries:
        if not isinstance(money, Money):
            raise TypeError("ledger entries are Money")
        if money.minor == 0:
            raise Unbalanced(_("A ledger entry cannot be zero."))
        if money.currency != acct.currency:
            raise Unbalanced(
                _("An entry in %(currency)s cannot be posted to %(account)s, an account in %(other)s.")
                % {"currency": money.currency, "account": acct.code, "other": acct.currency}
            )
        sums[money.currency] += money.minor
    unbalanced = {currency: total for currency, total in sums.items() if total}
    if unbalanced:
        raise Unbalanced(
            _("The entries do not balance: %(detail)s.")
            % {"detail": ", ".join(f"{currency} {total:+d}" for currency, total in sorted(unbalanced.items()))}
        )


def post(
    *, kind: str, occurred_on: dt.date, entries: Sequence[tuple[LedgerAccount, Money]], memo="", source="", actor=None
) -> LedgerTransaction:
    """Writes one balanced transaction. Runs inside the caller's atomic block (the write it records)."""
    return post_many([Posting(kind, occurred_on, list(entries), memo, source)], actor=actor)[0]


def post_many(postings: Sequence[Posting], *, actor=None) -> list[LedgerTransaction]:
    """Writes many balanced transactions with a few bulk inserts (imports). All or nothing."""
    if not connection.in_atomic_block:
        raise RuntimeError("the ledger is written inside the transaction of the change it records")
    for posting in postings:
        check_balanced(posting.entries)
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    if len(postings) == 1 and connection.vendor == "postgresql":
        return [_post_one(postings[0], user)]
    created = LedgerTransaction.objects.bulk_create(
        [
            LedgerTransaction(
                kind=p.kind, occurred_on=p.occurred_on, memo=p.memo[:500], source=p.source[:100], created_by=user
            )
            for p in postings
        ]
    )
    if any(t.pk is None for t in created):  # a backend that cannot return ids from a bulk insert
        raise RuntimeError("bulk_create did not return primary keys")
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(transaction=txn, account=acct, currency=money.currency, amount_minor=money.minor)
            for txn, posting in zip(created, postings, strict=True)
            for acct, money in posting.entries
        ],
        batch_size=2000,
    )
    return created


def _post_one(posting: Posting, user) -> LedgerTransaction:
    """One transaction and its entries in a single statement (PostgreSQL)."""
    txn = LedgerTransaction(
        kind=posting.kind,
        occurred_on=posting.occurred_on,
        memo=posting.memo[:500],
        source=posting.source[:100],
        created_by=user,
    )
    transactions = LedgerTransaction._meta.db_table
    entries = LedgerEntry._meta.db_table
    values = ", ".join(["(%s::bigint, %s::varchar, %s::bigint)"] * len(posting.entries))
    params = [txn.kind, txn.memo, txn.source, txn.occurred_on, user.pk if user else None, txn.created_at]
    for acct, money in posting.entries:
        params.extend([acct.pk, money.currency, money.minor])
    with prepared_cursor() as cursor:
        cursor.execute(
            f'WITH t AS (INSERT INTO "{transactions}" ("kind", "memo", "source", "occurred_on", "created_by_id", '  # noqa: S608
            f'"created_at") VALUES (%s, %s, %s, %s, %s, %s) RETURNING "id") '
            f'INSERT INTO "{entries}" ("transaction_id", "account_id", "currency", "amount_minor") '
            f"SELECT t.id, v.a, v.c, v.m FROM t, (VALUES {values}) AS v (a, c, m) "
            f'RETURNING "transaction_id"',
            params,
        )
        txn.pk = cursor.fetchone()[0]
    txn._state.adding = False
    txn._state.db = connection.alias
    return txn


def disbursement_posting(disbursement) -> Posting:
    """Charity bank → partner advance, in the disbursement's currency."""
    project = disbursement.project
    money = disbursement.amount
    return Posting(
        "disbursement",
        disbursement.paid_on,
        [(project_advance(project, money.currency), money), (charity_bank(project.charity, money.currency), -money)],
        memo=f"{project.reference} {disbursement.reference}",
        source=f"disbursement:{disbursement.pk}",
    )


def expenditure_posting(expenditure) -> Posting:
    """Partner advance → the budget line's expense, in the project's currency (the converted amount)."""
    project = expenditure.project
    money = Money(expenditure.project_amount_minor, project.currency)
    return Posting(
        "expenditure",
        expenditure.spent_on,
        [
            (project_line(project, expenditure.line, money.currency), money),
            (project_advance(project, money.currency), -money),
        ],
        memo=f"{project.reference} {expenditure.reference}"[:500],
        source=f"expenditure:{expenditure.pk}",
    )


def post_disbursement(disbursement, actor=None) -> LedgerTransaction:
    return post_many([disbursement_posting(disbursement)], actor=actor)[0]


def post_expenditure(expenditure, actor=None) -> LedgerTransaction:
    return post_many([expenditure_posting(expenditure)], actor=actor)[0]


def post_exchange(
    *, occurred_on: dt.date, pay_from: LedgerAccount, pay: Money, receive_to: LedgerAccount, receive: Money, **kw
) -> LedgerTransaction:
    """A currency exchange: `pay` leaves one account and `receive` arrives in another, each currency balanced
    through its trading account (fx:<CUR>)."""
    return post(
        kind="exchange",
        occurred_on=occurred_on,
        entries=[
            (pay_from, -pay),
            (fx_account(pay.currency), pay),
            (fx_account(receive.currency), -receive),
            (receive_to, receive),
        ],
        **kw,
    )


def balance(acct: LedgerAccount) -> Money:
    total = LedgerEntry.objects.filter(account=acct).aggregate(total=Sum("amount_minor"))["total"] or 0
    return Money(int(total), acct.currency)


def trial_balance() -> dict[str, int]:
    """The sum of every entry per currency: all zeros in a sound ledger."""
    rows = LedgerEntry.objects.values("currency").annotate(total=Sum("amount_minor")).order_by("currency")
    return {row["currency"]: int(row["total"] or 0) for row in rows}


def unbalanced_transactions() -> list[int]:
    """The ids of transactions whose entries do not sum to zero in some currency (none in a sound ledger)."""
    rows = (
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .values_list("transaction_id", flat=True)
    )
    return sorted(set(rows))
