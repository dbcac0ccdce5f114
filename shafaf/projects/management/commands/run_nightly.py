"""`manage.py run_nightly [--at HH:MM]`: the platform's nightly work, in order:

1. lapsed accreditations expire, and the alerts of the projects of the partners affected are raised
   (shafaf.partners.services.expire_and_raise_alerts);
2. the coordination scan of every compared project, the new cross-charity overlaps flagged
   (shafaf.coordination.tasks; before the rulebook, whose nightly stage reads the undecided flags);
3. the rulebook's nightly stage over the projects in progress (shafaf.projects.rulebook);
4. the budget deviations of every project with a budget, re-evaluated against the ministry's current thresholds
   (shafaf.finance.deviations.detect_all);
5. every alert rule over the active projects (shafaf.projects.oversight).

Without --at it runs once and exits (for cron). With --at it stays up and runs every day at that local time;
`scripts/serve.sh` starts it so beside the web server and the worker. Each job is idempotent: a second run the
same night changes nothing it should not (alerts already raised stand, expired accreditations stay expired).
"""

from __future__ import annotations

import datetime as dt
import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def next_run(now: dt.datetime, at: dt.time) -> dt.datetime:
    """The next local time `at` strictly after `now`."""
    candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


def _detect_deviations() -> dict:
    from shafaf.finance.deviations import detect_all

    return detect_all()


def _coordination_scan() -> dict:
    from shafaf.coordination.tasks import coordination_scan_nightly_now

    return coordination_scan_nightly_now()


class Command(BaseCommand):
    help = "Runs the nightly jobs: expire accreditations, the rulebook's nightly checks, the alerts."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="Stay up and run every day at this local time (HH:MM).")

    def handle(self, *args, at=None, **options):
        if not at:
            self.run_once()
            return
        try:
            when = dt.datetime.strptime(at, "%H:%M").time()
        except ValueError:
            raise CommandError(f"--at takes a local time as HH:MM, not {at!r}.")
        while True:
            now = timezone.localtime()
            wake = next_run(now, when)
            self.stdout.write(f"next nightly run at {wake:%Y-%m-%d %H:%M}")
            self.stdout.flush()
            time.sleep(max(1.0, (wake - now).total_seconds()))
            try:
                self.run_once()
            except Exception as error:  # a failed night is reported; the next one still runs
                self.stderr.write(f"the nightly run failed: {error!r}")

    def run_once(self) -> None:
        from shafaf.partners.services import expire_and_raise_alerts
        from shafaf.projects.oversight.services import alerts_raise
        from shafaf.projects.rulebook.models import Stage
        from shafaf.projects.rulebook.services import NIGHTLY_STATUSES, rulebook_run_batch

        started = time.monotonic()
        jobs = (
            ("accreditations", expire_and_raise_alerts),
            ("coordination", _coordination_scan),
            ("rulebook", lambda: rulebook_run_batch(stage=Stage.NIGHTLY, statuses=NIGHTLY_STATUSES).as_dict()),
            ("deviations", _detect_deviations),
            ("alerts", lambda: alerts_raise().as_dict()),
        )
        for name, job in jobs:
            summary = job()
            self.stdout.write(f"{name}: {json.dumps(summary, default=str, ensure_ascii=False)}")
        self.stdout.write(f"nightly run done in {time.monotonic() - started:.1f} s")
