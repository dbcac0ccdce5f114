"""manage.py import_donations CHARITY CHANNEL FILE --bank-account IBAN --user USERNAME: a settlement file."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.donations.imports import import_start
from shafaf.donations.models import BankAccount, Channel, DonationImport


class Command(BaseCommand):
    help = (
        "Import a channel's settlement file (CSV, UTF-8, comma or semicolon; columns channel_ref, received_at, "
        "amount and optionally currency, donor_ref, project, campaign, anonymous — see shafaf/donations/imports.py). "
        "Good rows are kept, rows already recorded are skipped, each bad row is reported; exit status 1 when the "
        "file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("charity", help="The charity's slug.")
        parser.add_argument("channel", choices=Channel.values, help="The channel the file comes from.")
        parser.add_argument("path", help="The CSV file.")
        parser.add_argument("--bank-account", required=True, help="The IBAN of the approved account credited.")
        parser.add_argument("--user", required=True, help="The username recorded as having imported the rows.")
        parser.add_argument("--errors", type=int, default=20, help="How many row errors to print (default 20).")

    def handle(self, *args, charity, channel, path, bank_account, user, errors=20, **options):
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"There is no user {user!r}.")
        found = Organization.objects.filter(slug=charity, kind="charity").first()
        if found is None:
            raise CommandError(f"There is no charity {charity!r}.")
        account = BankAccount.objects.filter(charity=found, iban="".join(bank_account.split()).upper()).first()
        if account is None:
            raise CommandError(f"The charity has no bank account {bank_account!r}.")
        started = time.monotonic()

        def progress(counts) -> None:
            self.stderr.write(
                f"rows: {counts['done']}/{max(counts['total'], counts['done'])} read, {counts['ok']} kept, "
                f"{counts['duplicate']} already recorded, {counts['failed']} refused"
            )

        try:
            with open(path, "rb") as handle:
                batch = import_start(
                    actor=actor,
                    charity=found,
                    channel=channel,
                    bank_account=account,
                    file=handle,
                    file_name=path,
                    progress=progress,
                )
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        elapsed = time.monotonic() - started
        for row in batch.errors[:errors]:
            where = f"row {row['row']}" if row.get("row") else "file"
            column = f", {row['column']}" if row.get("column") else ""
            self.stdout.write(f"{where}{column}: {row['message']}")
        if len(batch.errors) > errors:
            self.stdout.write(f"… {len(batch.errors) - errors} more errors (see import {batch.pk}).")
        if batch.status == DonationImport.Status.FAILED:
            raise CommandError(f"Import {batch.pk} failed: {batch.errors[0]['message'] if batch.errors else ''}")
        rate = batch.rows_done / elapsed if elapsed > 0 else 0
        self.stdout.write(
            f"Import {batch.pk}: {batch.rows_done} rows, {batch.rows_ok} kept, {batch.rows_duplicate} already "
            f"recorded, {batch.rows_failed} refused in {elapsed:.1f}s ({rate:,.0f} rows/s)."
        )
