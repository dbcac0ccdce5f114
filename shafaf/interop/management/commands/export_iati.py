"""`manage.py export_iati --charity SLUG --output FILE [--organisation FILE] [--no-check]`: writes the charity's
published projects (licensed by the ministry: approved onward) as one IATI 2.03 activity file, and with
`--organisation` its IATI organisation file. Each file is written beside its target and moved into place only
once complete and checked against the official XSD and codelists (unless `--no-check`), so a failed export never
leaves a half-written file. Progress goes to stderr, the summary to stdout.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation


class Command(BaseCommand):
    help = "Export a charity's published projects as an IATI 2.03 activity file (and its organisation file)."

    def add_arguments(self, parser):
        parser.add_argument("--charity", required=True, help="the charity's short name (slug)")
        parser.add_argument("--output", required=True, help="the activity file to write")
        parser.add_argument("--organisation", help="also write the organisation file here")
        parser.add_argument(
            "--no-check", action="store_true", help="skip checking the files against the XSD and the codelists"
        )

    def handle(self, *args, **options):
        # The command line speaks English, whatever the default language of the pages.
        with translation.override("en"):
            return self._handle(*args, **options)

    def _handle(self, *args, charity, output, organisation=None, no_check=False, **options):
        from shafaf.accounts.choices import OrganizationKind
        from shafaf.accounts.models import Organization
        from shafaf.interop.iati import codelists, schema, writer

        try:
            org = Organization.objects.get(slug=charity, kind=OrganizationKind.CHARITY)
        except Organization.DoesNotExist:
            raise CommandError(f"No charity with the short name “{charity}”.") from None
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < 1.0 and done != total:
                return
            last[0] = now
            share = f" ({done * 100 // total}%)" if total else ""
            self.stderr.write(f"[{now - started:7.1f} s] activities written: {done:,}/{total:,}{share}")

        def checked(path: Path, *, record: str) -> list[str]:
            if no_check:
                return []
            self.stderr.write(f"[{time.monotonic() - started:7.1f} s] checking {path.name} (XSD, codelists)")
            validate = schema.validate_activities if record == "iati-activity" else schema.validate_organisations
            return validate(path) + codelists.check_codes_file(path, record=record)

        left_out: list[str] = []
        count = _write_then_move(
            Path(output),
            lambda handle: writer.write_activities(charity=org, out=handle, progress=progress, problems=left_out),
            lambda path: checked(path, record="iati-activity"),
        )
        self.stdout.write(f"{count:,} activities of {org.slug} written to {output}")
        if left_out:
            self.stdout.write(f"{len(left_out):,} activities left out: they do not validate against the XSD")
            for line in left_out[:50]:
                self.stderr.write(f"  left out: {line}")
        if count == 0:
            self.stdout.write("The charity has no published project: the file holds no activity (not valid IATI).")
        if organisation:
            try:
                _write_then_move(
                    Path(organisation),
                    lambda handle: writer.write_organisation(charity=org, out=handle),
                    lambda path: checked(path, record="iati-organisation"),
                )
            except writer.ExportInvalid as error:
                raise CommandError(f"The organisation file does not validate: {error}") from None
            self.stdout.write(f"organisation file of {org.slug} written to {organisation}")
        self.stdout.write(f"done in {time.monotonic() - started:.1f} s")


def _write_then_move(target: Path, write, check):
    directory = target.resolve().parent
    if not directory.is_dir():
        raise CommandError(f"The folder {directory} does not exist.")
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            result = write(handle)
        problems = check(Path(temporary))
        if problems and result != 0:
            shown = "\n".join(problems[:20])
            raise CommandError(f"The export of {target.name} does not validate ({len(problems)} problems):\n{shown}")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
