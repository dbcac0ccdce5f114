"""shafaf.core.prepared: statements prepared once per connection, through Django's cursor wrappers."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from shafaf.audit.models import AuditChainHead
from shafaf.core.prepared import prepared_cursor

pytestmark = pytest.mark.django_db

HEAD = 'SELECT "seq", "hash" FROM "audit_auditchainhead" WHERE "id" = %s'


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_it_reads_as_a_cursor_does_and_is_logged():
    AuditChainHead.objects.get_or_create(pk=1)
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute(HEAD, [1])
        first = cursor.fetchone()
        cursor.execute(HEAD, [2])
        second = cursor.fetchone()
    head = AuditChainHead.objects.get(pk=1)
    assert first == (head.seq, head.hash)
    assert second is None
    assert len(queries) == 2 and "audit_auditchainhead" in queries[0]["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only")
def test_postgresql_prepares_the_statement_once_and_django_queries_not_at_all():
    AuditChainHead.objects.get_or_create(pk=1)
    before = set(_prepared_statements())
    for _ in range(7):  # more than psycopg's default threshold for preparing a statement by itself
        AuditChainHead.objects.filter(pk=1).first()
    assert set(_prepared_statements()) == before
    for pk in (1, 1, 2):
        with prepared_cursor() as cursor:
            cursor.execute(HEAD, [pk])
            cursor.fetchall()
    assert set(_prepared_statements()) - before == {'SELECT "seq", "hash" FROM "audit_auditchainhead" WHERE "id" = $1'}
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"


def test_database_errors_are_django_errors():
    AuditChainHead.objects.get_or_create(pk=1)
    with pytest.raises(IntegrityError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute('INSERT INTO "audit_auditchainhead" ("id", "seq", "hash") VALUES (%s, %s, %s)', [1, 0, "x"])
    assert AuditChainHead.objects.count() == 1
