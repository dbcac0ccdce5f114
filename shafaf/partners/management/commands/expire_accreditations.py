"""`manage.py expire_accreditations`: what the nightly task does, in the foreground — lapsed accreditations
become expired, then the alerts of the projects whose implementing partner was affected are raised."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from shafaf.partners.models import Accreditation
from shafaf.partners.services import expire_and_raise_alerts


class Command(BaseCommand):
    help = "Marks lapsed accreditations as expired and raises the alerts of the partners' projects."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="as of this date (YYYY-MM-DD; default: today)")

    def handle(self, *args, today, **options):
        try:
            day = dt.date.fromisoformat(today) if today else None
        except ValueError:
            raise CommandError(f"Not a date: {today!r} (use YYYY-MM-DD).") from None
        result = expire_and_raise_alerts(today=day)
        self.stdout.write(
            f"expire_accreditations: {len(result['expired']):,} expired, {len(result['partners']):,} partners, "
            f"{len(result['projects']):,} projects checked for alerts."
        )
        for accreditation in Accreditation.objects.filter(pk__in=result["expired"]).select_related("partner"):
            self.stdout.write(
                f"  {accreditation.authority} {accreditation.number} ({accreditation.partner.name_en}): "
                f"lapsed on {accreditation.valid_until.isoformat()}"
            )
        if result["alerts"]:
            alerts = result["alerts"]
            self.stdout.write(f"  alerts: {alerts['raised']:,} raised, {alerts['resolved']:,} resolved")
