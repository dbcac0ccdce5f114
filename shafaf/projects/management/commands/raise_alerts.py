"""`manage.py raise_alerts`: runs the alert rules over the active projects now (as the nightly task does),
raising new alerts and resolving those whose condition has cleared, and prints a summary."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from shafaf.projects.oversight import rules
from shafaf.projects.oversight.services import alerts_raise


class Command(BaseCommand):
    help = "Raises alerts about active projects and resolves those whose condition has cleared; prints a summary."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="evaluate as of this date (YYYY-MM-DD; default: today)")
        parser.add_argument("--project", type=int, action="append", metavar="ID", help="only this project")

    def handle(self, *args, today, project, **options):
        try:
            day = dt.date.fromisoformat(today) if today else None
        except ValueError:
            raise CommandError(f"Not a date: {today!r} (use YYYY-MM-DD).") from None
        summary = alerts_raise(today=day, project_ids=project)
        self.stdout.write(
            f"raise_alerts: {summary.projects:,} projects, {summary.raised:,} raised, {summary.resolved:,} resolved."
        )
        for code in rules.RULES:
            if code in summary.unavailable:
                self.stdout.write(f"  {code}: not available (needs {rules.RULES[code].interface})")
                continue
            counts = summary.per_rule.get(code, {})
            self.stdout.write(
                f"  {code}: {counts.get('raised', 0)} raised, {counts.get('resolved', 0)} resolved, "
                f"{counts.get('standing', 0)} still standing"
            )
