"""`manage.py import_360giving PATH [PATH ...] --charity SLUG [--actor USERNAME] [--errors FILE] [--json]`

Imports 360Giving publications (a JSON data package, or its flattened form as CSV or Excel) into the charity's
imported grants. Valid grants are kept (a re-import updates changed grants and leaves the others alone); each
refused grant is reported with its row (its number in the file's "grants" list, or its spreadsheet row), field,
value and reason. Progress goes to stderr, the summary and the errors to stdout; `--errors FILE` writes the errors
as a CSV (row,column,value,code,message), `--json` prints each file's report as JSON instead. Exits with status 1
when a file could not be read at all.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from shafaf.accounts import selectors as accounts_selectors
from shafaf.accounts.choices import OrganizationKind
from shafaf.accounts.models import Organization, User


class Command(BaseCommand):
    help = "Import 360Giving grants (JSON, CSV or Excel) into a charity, reporting each refused grant."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="360Giving files (.json, .csv or .xlsx)")
        parser.add_argument("--charity", required=True, help="the importing charity's slug")
        parser.add_argument("--actor", help="the username recorded as importing (default: the charity's first admin)")
        parser.add_argument("--errors", help="write every refused grant's errors to this CSV file")
        parser.add_argument("--json", action="store_true", help="print each file's report as JSON")
        parser.add_argument("--max-errors", type=int, default=20, help="errors printed per file (default 20)")

    def handle(self, *args, **options):
        # The command line speaks English, whatever the default language of the pages.
        with translation.override("en"):
            return self._handle(*args, **options)

    def _handle(self, *args, paths, charity, actor, errors, json, max_errors, **options):
        from shafaf.interop.giving.importer import MAX_BYTES, grants_import

        organization = Organization.objects.filter(slug=charity, kind=OrganizationKind.CHARITY).first()
        if organization is None:
            raise CommandError(f"No charity {charity}.")
        user = self._actor(organization, actor)
        unreadable = False
        error_lines: list[bytes] = []
        for path in paths:
            file = Path(path)
            if not file.is_file():
                raise CommandError(f"No file {path}.")
            started = time.monotonic()
            if file.stat().st_size > MAX_BYTES:  # refused before reading it into memory
                size, limit = file.stat().st_size // 2**20, MAX_BYTES // 2**20
                self.stdout.write(f"{file.name}: {size:,} MB; the largest accepted is {limit} MB.")
                unreadable = True
                continue

            def progress(done: int, total: int, name=file.name, started=started) -> None:
                what = f"{done:,}/{total:,} written" if total else f"{done:,} read"
                self.stderr.write(f"[{time.monotonic() - started:6.1f} s] {name}: {what}")

            report = grants_import(
                actor=user, charity=organization, data=file.read_bytes(), filename=file.name, progress=progress
            )
            seconds = time.monotonic() - started
            unreadable = unreadable or bool(report.file_errors)
            if errors:
                body = report.errors_csv().decode("utf-8").removeprefix("\ufeff")
                lines = body.splitlines(keepends=True)
                error_lines.extend(line.encode("utf-8") for line in (lines if not error_lines else lines[1:]))
            if json:
                self.stdout.write(self._json(report.as_dict()))
                continue
            lines = report.summary_lines()
            shown = lines[: 1 + len(report.file_errors) + max_errors]
            for line in shown:
                self.stdout.write(line)
            if len(lines) > len(shown):
                self.stdout.write(f"... and {len(lines) - len(shown):,} more errors")
            self.stdout.write(f"{file.name}: {seconds:.1f} s ({report.read / seconds if seconds else 0:,.0f} grants/s)")
        if errors:
            Path(errors).write_bytes(b"\xef\xbb\xbf" + b"".join(error_lines))
        if unreadable:
            raise CommandError("A file could not be read; nothing was imported from it.")

    @staticmethod
    def _json(data: dict) -> str:
        return json.dumps(data, ensure_ascii=False)

    def _actor(self, charity: Organization, username: str | None) -> User | None:
        if username:
            user = accounts_selectors.user_named(username)
            if user is None:
                raise CommandError(f"No user {username}.")
            return user
        return accounts_selectors.charity_importer(charity)
