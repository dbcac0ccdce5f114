"""The ledger's guarantees, checked by the database itself (installed by migration 0003_ledger_triggers).

Both databases refuse any UPDATE or DELETE of a ledger entry or transaction (the ledger is append-only: a mistake
is corrected by a reversing transaction). PostgreSQL also checks, when the database transaction commits, that each
ledger transaction an inserted entry belongs to sums to zero in each currency, and that the entry is in its
account's currency (a DEFERRABLE INITIALLY DEFERRED constraint trigger: the entries of one ledger transaction may
arrive in several INSERT statements). SQLite has no deferred triggers: there the service's check
(shafaf.finance.ledger.check_balanced) stands alone, with a BEFORE INSERT trigger for the account's currency.

PostgreSQL's TRUNCATE fires no row trigger, so Django's flush between transactional tests still works there; on
SQLite the flush deletes rows, so the test suite removes these triggers for the session (conftest.py) and the
tests of the triggers install them again inside their own test (install/remove below).
"""

from shafaf.core.sql import run_for_vendor

SQLITE_INSTALL = [
    "CREATE TRIGGER IF NOT EXISTS ledger_entry_no_update BEFORE UPDATE ON finance_ledgerentry "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS ledger_entry_no_delete BEFORE DELETE ON finance_ledgerentry "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS ledger_transaction_no_update BEFORE UPDATE ON finance_ledgertransaction "
    "BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS ledger_transaction_no_delete BEFORE DELETE ON finance_ledgertransaction "
    "BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS ledger_entry_account_currency BEFORE INSERT ON finance_ledgerentry "
    "WHEN NEW.currency IS NOT (SELECT currency FROM finance_ledgeraccount WHERE id = NEW.account_id) "
    "BEGIN SELECT RAISE(ABORT, 'a ledger entry must be in its account''s currency'); END;",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS ledger_entry_no_update;",
    "DROP TRIGGER IF EXISTS ledger_entry_no_delete;",
    "DROP TRIGGER IF EXISTS ledger_transaction_no_update;",
    "DROP TRIGGER IF EXISTS ledger_transaction_no_delete;",
    "DROP TRIGGER IF EXISTS ledger_entry_account_currency;",
]

POSTGRES_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_entry_check() RETURNS trigger AS $$
    DECLARE
        account_currency varchar;
        unbalanced record;
    BEGIN
        SELECT currency INTO account_currency FROM finance_ledgeraccount WHERE id = NEW.account_id;
        IF account_currency IS DISTINCT FROM NEW.currency THEN
            RAISE EXCEPTION 'ledger entry % is in %, its account % is in %',
                NEW.id, NEW.currency, NEW.account_id, account_currency
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT currency, SUM(amount_minor) AS total INTO unbalanced
            FROM finance_ledgerentry WHERE transaction_id = NEW.transaction_id
            GROUP BY currency HAVING SUM(amount_minor) <> 0 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger transaction % does not balance: % %',
                NEW.transaction_id, unbalanced.total, unbalanced.currency
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS ledger_entry_append_only ON finance_ledgerentry;",
    "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON finance_ledgerentry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_append_only();",
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only ON finance_ledgertransaction;",
    "CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON finance_ledgertransaction "
    "FOR EACH ROW EXECUTE FUNCTION ledger_append_only();",
    "DROP TRIGGER IF EXISTS ledger_entry_balanced ON finance_ledgerentry;",
    "CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON finance_ledgerentry "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_check();",
]
POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS ledger_entry_append_only ON finance_ledgerentry;",
    "DROP TRIGGER IF EXISTS ledger_transaction_append_only ON finance_ledgertransaction;",
    "DROP TRIGGER IF EXISTS ledger_entry_balanced ON finance_ledgerentry;",
    "DROP FUNCTION IF EXISTS ledger_append_only();",
    "DROP FUNCTION IF EXISTS ledger_entry_check();",
]

_INSTALL = {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRES_INSTALL}
_REMOVE = {"sqlite": SQLITE_REMOVE, "postgresql": POSTGRES_REMOVE}


def install(connection) -> None:
    run_for_vendor(connection, _INSTALL)


def remove(connection) -> None:
    run_for_vendor(connection, _REMOVE)
