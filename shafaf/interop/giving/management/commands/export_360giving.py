"""`manage.py export_360giving --charity SLUG --output FILE [--base-url URL]`

Writes the charity's grants to its implementing partners (one per contract of each published project) as a
360Giving 1.4.3 JSON data package, validated against the official schema first (nothing is written when it does
not validate). Progress goes to stderr; the summary to stdout.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation


class Command(BaseCommand):
    help = "Export a charity's grants to its implementing partners as a validated 360Giving JSON package."

    def add_arguments(self, parser):
        parser.add_argument("--charity", required=True, help="the charity's slug")
        parser.add_argument("--output", required=True, help="the JSON file to write ('-' for stdout)")
        parser.add_argument("--base-url", default=None, help="the platform's address in the file's links")

    def handle(self, *args, **options):
        # The command line speaks English, whatever the default language of the pages.
        with translation.override("en"):
            return self._handle(*args, **options)

    def _handle(self, *args, charity, output, base_url, **options):
        from django.http import Http404

        from shafaf.interop.giving.export import GivingExportError, build_package, package_json
        from shafaf.interop.selectors import publishing_charity_get

        try:
            organization = publishing_charity_get(charity)
        except Http404:
            raise CommandError(f"No active charity {charity}.") from None
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"[{time.monotonic() - started:6.1f} s] grants: {done:,}/{total:,}")

        try:
            package = build_package(
                charity=organization, base_url=base_url or settings.SHAFAF_BASE_URL, progress=progress
            )
        except GivingExportError as error:
            if not error.problems:
                raise CommandError(str(error)) from None
            raise CommandError("The package does not validate:\n" + "\n".join(error.problems[:50])) from None
        text = package_json(package)
        if output == "-":
            self.stdout.write(text)
        else:
            Path(output).write_text(text + "\n", encoding="utf-8")
            self.stdout.write(
                f"{len(package['grants']):,} grants written to {output} (valid 360Giving {package['version']}) "
                f"in {time.monotonic() - started:.1f} s"
            )
