"""PostgreSQL: an entry's currency is checked against its account's when the entry is inserted, not at commit.

Since 0004 the check at commit re-read every noted entry with its account to compare their currencies — the
costliest part of a donation's database work (about a third of a millisecond for two entries). An entry's
currency and its account's never change (both tables are append-only or fixed), so the statement-level trigger
now compares them on the statement's own new rows (its transition table) and refuses the statement at once, with
the same error (check_violation); the deferred check at commit keeps only what needs the whole transaction, that
each ledger transaction sums to zero in each currency."""

from importlib import import_module

from django.db import migrations

INSTALL = [
    """
    CREATE OR REPLACE FUNCTION ledger_entry_note() RETURNS trigger AS $$
    DECLARE
        me bigint := txid_current();
        bad record;
    BEGIN
        SELECT i.id, i.currency, i.account_id, a.currency AS account_currency INTO bad
            FROM inserted i JOIN finance_ledgeraccount a ON a.id = i.account_id
            WHERE a.currency IS DISTINCT FROM i.currency
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger entry % is in %, its account % is in %',
                bad.id, bad.currency, bad.account_id, bad.account_currency
                USING ERRCODE = 'check_violation';
        END IF;
        INSERT INTO finance_ledger_unchecked (xid, transaction_id) SELECT DISTINCT me, transaction_id FROM inserted;
        IF FOUND THEN
            INSERT INTO finance_ledger_check (xid) VALUES (me) ON CONFLICT (xid) DO NOTHING;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_transactions_check() RETURNS trigger AS $$
    DECLARE
        me bigint := NEW.xid;
        bad record;
    BEGIN
        SELECT e.transaction_id, e.currency, SUM(e.amount_minor) AS total INTO bad
            FROM (SELECT DISTINCT transaction_id FROM finance_ledger_unchecked WHERE xid = me) AS u
            JOIN finance_ledgerentry e ON e.transaction_id = u.transaction_id
            GROUP BY e.transaction_id, e.currency
            HAVING SUM(e.amount_minor) <> 0
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger transaction % does not balance: % %',
                bad.transaction_id, bad.total, bad.currency
                USING ERRCODE = 'check_violation';
        END IF;
        DELETE FROM finance_ledger_unchecked WHERE xid = me;
        DELETE FROM finance_ledger_check WHERE xid = me;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
]


# 0004's runner of PostgreSQL statements, and its functions to go back to.
_0004 = import_module("shafaf.finance.migrations.0004_ledger_balance_check_per_transaction")
_run = _0004._run
BACK = [statement for statement in _0004.INSTALL if "CREATE OR REPLACE FUNCTION" in statement]


class Migration(migrations.Migration):
    dependencies = [("finance", "0004_ledger_balance_check_per_transaction")]

    operations = [migrations.RunPython(_run(INSTALL), _run(BACK))]
