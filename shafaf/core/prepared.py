"""Prepared statements for the few hand-written statements of a hot path (the donations API).

Django sends every query to PostgreSQL as text with its values quoted in (client-side binding), so PostgreSQL
parses and plans each one again. ``prepared_cursor()`` gives a cursor on the same connection (and so in the same
transaction) whose statements are bound server-side and prepared once per connection: later executions send only
the values. It goes through Django's cursor wrappers, so query logging, ``connection.execute_wrapper`` and the
database error translation (IntegrityError, ...) behave as for ``connection.cursor()``.

Only for statements whose text is fixed (values as %s, never formatted in): each distinct text is kept prepared
by the connection (psycopg keeps the last 100). On another database it is ``connection.cursor()``."""

from __future__ import annotations

import functools

from django.db import connection


@functools.cache
def _classes_for_postgresql() -> tuple:
    """The cursor class and its logging wrapper (made on first use: the PostgreSQL backend imports psycopg)."""
    from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor
    from django.db.backends.utils import CursorWrapper

    class PreparingCursor(ServerBindingCursor):
        """Binds values server-side and prepares the statement on its first execution."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)

    class PreparedDebugWrapper(CursorDebugWrapper):
        """Logs a prepared statement as written (its values travel apart from it)."""

        def execute(self, sql, params=None):
            with self.debug_sql(sql, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparingCursor, PreparedDebugWrapper


def prepared_cursor(using=None):
    """A cursor (use it in ``with``) whose statements PostgreSQL prepares once per connection."""
    db = connection if using is None else using
    if db.vendor != "postgresql":
        return db.cursor()
    cursor_class, debug_wrapper = _classes_for_postgresql()
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        raw = cursor_class(db.connection)
    return debug_wrapper(raw, db) if db.queries_logged else db.make_cursor(raw)
