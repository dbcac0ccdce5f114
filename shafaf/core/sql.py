"""Raw SQL that differs by database: triggers and the like, installed and removed by migrations."""

from __future__ import annotations


def run_for_vendor(connection, statements: dict[str, list[str]]) -> None:
    """Runs, in order, the statements written for `connection`'s database ("sqlite", "postgresql"); none for
    another database."""
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)
