"""`manage.py run_rulebook`: runs the ministry's rulebook over projects now, with progress, and stores each
run (as the nightly task does). By default: the "nightly" stage over every project submitted, under review,
approved or in execution."""

import time

from django.core.management.base import BaseCommand, CommandError

from shafaf.projects.rulebook.models import Stage
from shafaf.projects.rulebook.services import NIGHTLY_STATUSES, projects_for_batch, rulebook_run_batch

PROGRESS_EVERY = 100


class Command(BaseCommand):
    help = (
        "Runs the rulebook's checks over projects and stores the results: by default the nightly stage over "
        "every project submitted, under review, approved or in execution."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stage", choices=Stage.values, default=Stage.NIGHTLY, help="the stage (default nightly)")
        parser.add_argument(
            "--project", type=int, action="append", metavar="ID", help="only this project (may be repeated)"
        )
        parser.add_argument(
            "--all", action="store_true", help="every project whatever its status (drafts and closed ones too)"
        )

    def handle(self, *args, stage, project, all, **options):
        verbose = options["verbosity"] >= 1
        statuses = None if all else NIGHTLY_STATUSES
        if project:
            found = set(projects_for_batch(project_ids=project).values_list("pk", flat=True))
            missing = sorted(set(project) - found)
            if missing:
                raise CommandError(f"No project with the id {', '.join(map(str, missing))}.")
        scope = "the projects given" if project else ("every project" if all else "projects in " + ", ".join(statuses))
        if verbose:
            self.stdout.write(f"run_rulebook: stage {stage}, {scope}.")
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if verbose and (done % PROGRESS_EVERY == 0 or done == total):
                elapsed = time.perf_counter() - started
                self.stdout.write(f"  {done:,}/{total:,} projects ({elapsed:.1f} s)")

        summary = rulebook_run_batch(stage=stage, project_ids=project, statuses=statuses, progress=progress)
        if verbose:
            self.stdout.write(
                f"Checked {summary.projects:,} projects in {summary.seconds:.2f} s "
                f"({summary.per_second:,.1f} projects/s): {summary.passed:,} passed, "
                f"{summary.with_blocking_failures:,} with blocking failures, "
                f"{summary.with_warnings:,} with warnings."
            )
