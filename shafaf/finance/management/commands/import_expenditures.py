"""manage.py import_expenditures PROJECT_REF FILE --user USERNAME: imports a spreadsheet of expenditures."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shafaf.core.exceptions import DomainError
from shafaf.finance.expenditures import expenditures_import
from shafaf.finance.models import FinanceImport
from shafaf.projects.models import Project


class Command(BaseCommand):
    help = (
        "Import a project's expenditures from a CSV (UTF-8, comma or semicolon) or .xlsx file whose first row names "
        "the columns (line code, amount, currency, date, reference, place, description, evidence kind; English or "
        "Arabic). Good rows are kept, each bad row is reported; exit status 1 when the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="The project's reference.")
        parser.add_argument("path", help="The .csv or .xlsx file.")
        parser.add_argument("--user", required=True, help="The username recorded as having imported the rows.")
        parser.add_argument("--errors", type=int, default=20, help="How many row errors to print (default 20).")

    def handle(self, *args, project, path, user, errors=20, **options):
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            raise CommandError(f"There is no user {user!r}.")
        found = Project.objects.select_related("charity").filter(reference=project).first()
        if found is None:
            raise CommandError(f"There is no project {project!r}.")

        def progress(batch: FinanceImport) -> None:
            total = max(batch.rows_total, batch.rows_done)
            self.stderr.write(
                f"rows: {batch.rows_done}/{total} read, {batch.rows_ok} kept, {batch.rows_failed} refused"
            )

        try:
            with open(path, "rb") as handle:
                batch = expenditures_import(actor=actor, project=found, file=_Named(handle, path), progress=progress)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        for row in batch.errors[:errors]:
            where = f"row {row['row']}" if row.get("row") else "file"
            column = f", {row['column']}" if row.get("column") else ""
            self.stdout.write(f"{where}{column}: {row['message']}")
        if len(batch.errors) > errors:
            self.stdout.write(f"… {len(batch.errors) - errors} more errors (see import {batch.pk}).")
        if batch.status == FinanceImport.Status.FAILED:
            raise CommandError(f"Import {batch.pk} failed: {batch.errors[-1]['message'] if batch.errors else ''}")
        self.stdout.write(
            f"Import {batch.pk}: {batch.rows_total} rows, {batch.rows_ok} kept, {batch.rows_failed} refused."
        )


class _Named:
    """A file opened from disk, with the name and size the upload checks read."""

    def __init__(self, handle, path: str):
        import os

        self._handle = handle
        self.name = os.path.basename(path)
        self.size = os.fstat(handle.fileno()).st_size

    def __getattr__(self, name):
        return getattr(self._handle, name)
