"""`manage.py import_partners FILE --as USERNAME`: imports foreign partners from a CSV file (the columns are
listed in shafaf/partners/importers.py; a sample is shafaf/partners/data/partners_sample.csv), printing the
progress and the report. Exit status 1 when any row failed."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shafaf.core.exceptions import DomainError
from shafaf.partners.importers import import_partners


class Command(BaseCommand):
    help = "Imports foreign partners (with their aliases, addresses and officers) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8)")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="the user the import is recorded as (a ministry admin or an accreditation officer)",
        )

    def handle(self, *args, file, username, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            actor = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No such user: {username}") from None
        step = {"last": -1}

        def progress(done: int, total: int) -> None:
            percent = done * 100 // total if total else 100
            if percent // 10 != step["last"] // 10 or done == total:
                step["last"] = percent
                self.stdout.write(f"  {done:,}/{total:,} rows ({percent}%)")

        try:
            report = import_partners(actor=actor, data=path.read_bytes(), progress=progress)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        for message in report.file_errors:
            self.stderr.write(f"error: {message}")
        for message in report.warnings:
            self.stdout.write(f"warning: {message}")
        self.stdout.write(
            f"import_partners: {report.rows_read:,} rows read, {report.rows_imported:,} imported, "
            f"{len(report.partners_created):,} partners created, {report.officers_added:,} officers added, "
            f"{len(report.duplicates):,} duplicates, {len(report.failed_rows):,} rows with errors."
        )
        for item in report.duplicates:
            self.stdout.write(f"  duplicate: {item}")
        for item in report.errors:
            self.stderr.write(f"  {item}")
        if report.failed:
            raise SystemExit(1)
