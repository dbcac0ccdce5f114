"""PostgreSQL: the ledger's balance check at commit, once per database transaction instead of once per entry.

Migration 0003 checks each inserted entry with a DEFERRABLE INITIALLY DEFERRED row trigger: at commit, every entry
re-sums its whole ledger transaction (a bulk import of 200,000 expenditures fired it tens of thousands of times).
PostgreSQL allows constraint triggers only FOR EACH ROW, so the check now works in two steps:

* a statement-level AFTER INSERT trigger on finance_ledgerentry (COPY included) notes the ledger transactions the
  statement's entries belong to (finance_ledger_unchecked, keyed by the database transaction id) and, the first
  time in the database transaction, inserts one marker row (finance_ledger_check);
* a DEFERRABLE INITIALLY DEFERRED constraint trigger on the marker fires once, at commit (or at SET CONSTRAINTS …
  IMMEDIATE), and checks every noted ledger transaction in two set-based queries: each entry in its account's
  currency, each transaction summing to zero in each currency. It then removes its notes.

The guarantees are those of 0003 (same error codes: check_violation, an IntegrityError at commit); rows rolled back
to a savepoint take their notes and the marker with them. The append-only triggers are unchanged. Both tables hold
rows only inside an uncommitted database transaction (UNLOGGED: nothing in them survives a commit)."""

from django.db import migrations

INSTALL = [
    "CREATE UNLOGGED TABLE IF NOT EXISTS finance_ledger_unchecked (xid bigint NOT NULL, transaction_id bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS finance_ledger_unchecked_xid ON finance_ledger_unchecked (xid)",
    "CREATE UNLOGGED TABLE IF NOT EXISTS finance_ledger_check (xid bigint PRIMARY KEY)",
    """
    CREATE OR REPLACE FUNCTION ledger_entry_note() RETURNS trigger AS $$
    DECLARE
        me bigint := txid_current();
    BEGIN
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
        SELECT e.id, e.currency, e.account_id, a.currency AS account_currency INTO bad
            FROM (SELECT DISTINCT transaction_id FROM finance_ledger_unchecked WHERE xid = me) AS u
            JOIN finance_ledgerentry e ON e.transaction_id = u.transaction_id
            JOIN finance_ledgeraccount a ON a.id = e.account_id
            WHERE a.currency IS DISTINCT FROM e.currency
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger entry % is in %, its account % is in %',
                bad.id, bad.currency, bad.account_id, bad.account_currency
                USING ERRCODE = 'check_violation';
        END IF;
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
    "DROP TRIGGER IF EXISTS ledger_entry_balanced ON finance_ledgerentry",
    "DROP TRIGGER IF EXISTS ledger_entry_note ON finance_ledgerentry",
    "CREATE TRIGGER ledger_entry_note AFTER INSERT ON finance_ledgerentry REFERENCING NEW TABLE AS inserted "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_note()",
    "DROP TRIGGER IF EXISTS ledger_transactions_balanced ON finance_ledger_check",
    "CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON finance_ledger_check "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transactions_check()",
]

REMOVE = [
    "DROP TRIGGER IF EXISTS ledger_entry_note ON finance_ledgerentry",
    "DROP TABLE IF EXISTS finance_ledger_check",
    "DROP TABLE IF EXISTS finance_ledger_unchecked",
    "DROP FUNCTION IF EXISTS ledger_entry_note()",
    "DROP FUNCTION IF EXISTS ledger_transactions_check()",
    # Back to 0003's check per entry (its function ledger_entry_check is still installed).
    "DROP TRIGGER IF EXISTS ledger_entry_balanced ON finance_ledgerentry",
    "CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON finance_ledgerentry "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_check()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("finance", "0003_ledger_triggers")]

    operations = [migrations.RunPython(_run(INSTALL), _run(REMOVE))]
