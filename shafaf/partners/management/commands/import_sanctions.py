"""manage.py import_sanctions un PATH | ofac PATH: loads a sanctions list file as a new current version."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from shafaf.core.exceptions import DomainError
from shafaf.partners.choices import SanctionsSource
from shafaf.partners.sanctions import sanctions_import


class Command(BaseCommand):
    help = (
        "Load a sanctions list: 'un PATH' (the UN Security Council Consolidated List XML) or 'ofac PATH' (the "
        "OFAC SDN CSV, with alt.csv and add.csv beside it). A malformed file or a file already loaded is refused "
        "(exit status 1) and the version in use stays in use."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", choices=SanctionsSource.values)
        parser.add_argument("path")
        parser.add_argument("--user", help="The username recorded as having loaded the list (default: none).")
        parser.add_argument(
            "--no-rescreen", action="store_true", help="Do not enqueue the re-screening of every partner."
        )
        parser.add_argument(
            "--rescreen-now",
            action="store_true",
            help="Re-screen every partner now, in the foreground, with progress (instead of the background worker).",
        )

    def handle(self, *args, source, path, user=None, no_rescreen=False, rescreen_now=False, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"There is no user {user!r}.")
        shown: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            tenth = done * 10 // total if total else 10
            if shown.get(stage, -1) < tenth:
                shown[stage] = tenth
                what = "parsed" if stage == "parse" else "stored"
                self.stderr.write(f"{what}: {done}/{total} entries ({tenth * 10}%)")

        try:
            version = sanctions_import(
                actor=actor,
                source=source,
                path_or_file=path,
                progress=progress,
                rescreen=not (no_rescreen or rescreen_now),
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(
            f"Loaded version {version.pk} of the {source.upper()} list from {version.file_name}: "
            f"{version.entry_count} entries, {version.name_count} names, SHA-256 {version.sha256}"
            + (f", published {version.published}" if version.published else "")
            + "."
        )
        if rescreen_now:
            from shafaf.partners.screening import screen_all_partners

            def screened(done: int, total: int) -> None:
                self.stderr.write(f"screened: {done}/{total} partners")

            summary = screen_all_partners(actor=actor, progress=screened)
            self.stdout.write(
                f"Re-screened {summary['partners']} partners in {summary['seconds']} s: "
                f"{summary['new_hits']} new hits, {len(summary['projects_alerted'])} projects alerted."
            )
        elif not no_rescreen:
            self.stdout.write("Every partner will be re-screened by the background worker.")
