"""manage.py import_rates [PATH]: loads a CSV table of exchange rates (default: the table shipped with the
project, shafaf/finance/data/rates.csv), with progress on stderr and a report of refused rows."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shafaf.core.exceptions import DomainError
from shafaf.finance.rates_import import SHIPPED_TABLE, rates_import


class Command(BaseCommand):
    help = (
        "Load exchange rates (KWD per unit) from a CSV file with the columns currency,date,rate[,source]; without "
        "PATH, the demo/test table shipped with the project. Good rows are kept, refused rows are listed; an "
        "existing rate is replaced only when it differs. Exit status 1 when the file cannot be read as a table."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(SHIPPED_TABLE))
        parser.add_argument(
            "--user",
            help="The ministry administrator recorded as having imported the rates (default: the system, no user).",
        )
        parser.add_argument("--source", default="", help="The source recorded for rows that give none.")

    def handle(self, *args, path, user=None, source="", **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"There is no user {user!r}.")
        shown = [-1]

        def progress(done: int, total: int) -> None:
            tenth = done * 10 // total if total else 10
            if tenth > shown[0]:
                shown[0] = tenth
                self.stderr.write(f"rates: {done}/{total} rows ({tenth * 10}%)")

        try:
            batch = rates_import(actor=actor, path=path, source=source, progress=progress)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        for error in batch.errors[:50]:
            self.stderr.write(f"row {error['row']} {error['column']}: {error['message']}")
        if len(batch.errors) > 50:
            self.stderr.write(f"… and {len(batch.errors) - 50} more errors")
        self.stdout.write(
            f"{batch.file_name}: {batch.rows_total} rows, {batch.rows_ok} kept ({batch.created_count} new, "
            f"{batch.replaced_count} replaced), {batch.rows_failed} refused."
        )
