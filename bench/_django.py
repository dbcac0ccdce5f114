"""Sets up Django on a throw-away database for a benchmark (a temporary SQLite file unless DATABASE_URL is set)."""

import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup() -> str:
    if "DATABASE_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="shafaf-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return f"{connection.vendor}, Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
