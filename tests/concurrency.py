"""Running code in several threads at once, each with its own database connection.

On PostgreSQL the threads share the test database. On SQLite the test database lives in memory with a
shared cache (table locks, no waiting), so `threaded_database` copies it into a file configured as in
production (WAL, BEGIN IMMEDIATE, busy timeout) and the threads connect to that copy.
"""

from __future__ import annotations

import copy
import sqlite3
import threading

from django.db import connection, connections


def threaded_database(tmp_path) -> dict | None:
    """The settings the threads connect with: None (the test database) or a file copy on SQLite."""
    if connection.vendor != "sqlite":
        return None
    path = tmp_path / "threads.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    db_settings = copy.deepcopy(connection.settings_dict)
    db_settings["NAME"] = str(path)
    return db_settings


def run_in_thread(target, *, db_settings=None):
    """Starts target() in a new thread with its own connection; returns the thread and a dict that gets
    "value" or "error" when it ends."""
    outcome = {}

    def run():
        from django.db.backends.sqlite3.base import DatabaseWrapper

        try:
            if db_settings is not None:
                connections["default"] = DatabaseWrapper(db_settings, "default")
            outcome["value"] = target()
        except Exception as error:
            outcome["error"] = error
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def run_and_wait(target, *, db_settings=None, timeout: float = 30):
    """Runs target() in its own thread and connection, and returns what it returned (or raises its error)."""
    thread, outcome = run_in_thread(target, db_settings=db_settings)
    thread.join(timeout=timeout)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
