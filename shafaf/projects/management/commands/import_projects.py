"""`manage.py import_projects FILE --charity SLUG --as USERNAME [--errors ERRORS.csv]`: imports a charity's projects as
drafts from a CSV file or an Excel workbook (the columns are listed in shafaf/projects/imports.py), with progress on
stderr and the report on stdout; the errors can be written as a CSV in the platform's row-error format. Exit status
1 when any row (or the file) failed. Importing the same file again changes nothing."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.projects.imports import COLUMN_NAMES, projects_import


class Command(BaseCommand):
    help = "Imports a charity's projects as drafts from a CSV file or an Excel workbook. Columns: " + ", ".join(
        COLUMN_NAMES
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8 or UTF-16) or Excel workbook (.xlsx)")
        parser.add_argument("--charity", required=True, help="the charity's slug")
        parser.add_argument(
            "--as", dest="username", required=True, help="the user the import is recorded as (the charity's staff)"
        )
        parser.add_argument("--errors", help="write the rows' errors to this CSV file")

    def handle(self, *args, **options):
        # The command line speaks English, whatever the default language of the pages.
        with translation.override("en"):
            return self._handle(*args, **options)

    def _handle(self, *args, file, charity, username, errors=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        organization = Organization.objects.filter(slug=charity).first()
        if organization is None:
            raise CommandError(f"No such charity: {charity}")
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"No such user: {username}")
        step = {"last": -1}

        def progress(done: int, total: int) -> None:
            percent = done * 100 // total if total else 100
            if percent // 10 != step["last"] // 10 or done == total:
                step["last"] = percent
                self.stderr.write(f"  {done:,}/{total:,} rows ({percent}%)")

        try:
            report = projects_import(
                actor=actor, charity=organization, data=path.read_bytes(), filename=path.name, progress=progress
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        for line in report.summary_lines():
            self.stdout.write(line)
        if errors:
            Path(errors).write_bytes(report.errors_csv())
            self.stdout.write(f"errors written to {errors}")
        if report.failed:
            raise SystemExit(1)
