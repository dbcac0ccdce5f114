"""Imports an IATI activities file (projects with their budgets and transactions) for one charity.

    manage.py import_iati PATH --charity SLUG [--create-charity] [--actor USERNAME] [--limit N]

Each activity becomes a project of the charity (submitted, or in execution when the publisher reports it under
way or finished), with its budgets and its disbursements and expenditures converted at the ministry's rates
(load them first: manage.py import_rates). Re-running on the same file skips what was imported. Progress goes to
stderr, the summary to stdout; the exit status is 1 when an activity could not be imported (each is listed with
its reason, such as a missing exchange rate), the others being kept. See shafaf.finance.iati_import.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from shafaf.accounts import services as accounts
from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.accounts.models import Membership, Organization, User
from shafaf.core.exceptions import DomainError


class Command(BaseCommand):
    help = "Import an IATI activities file (projects, budgets, disbursements and expenditures) for a charity."

    def add_arguments(self, parser):
        parser.add_argument("path", help="an IATI 2.0x activities XML file")
        parser.add_argument("--charity", required=True, help="the slug of the charity that owns the projects")
        parser.add_argument(
            "--create-charity", action="store_true", help="register the charity (and an importing user) if missing"
        )
        parser.add_argument("--actor", help="the username recorded as importing (default: the charity's first admin)")
        parser.add_argument("--limit", type=int, help="import at most this many activities (the first of the file)")

    def handle(self, *args, path, charity, create_charity, actor, limit, **options):
        from shafaf.finance.iati_import import iati_import

        with translation.override("en"):
            organization = self._charity(charity, create=create_charity)
            user = self._actor(organization, actor, create=create_charity)
            try:
                report = iati_import(
                    actor=user,
                    charity=organization,
                    path=path,
                    limit=limit,
                    say=lambda line: self.stderr.write(line),
                )
            except DomainError as error:
                raise CommandError(str(error.message)) from error
            for identifier, reason in report.errors:
                self.stderr.write(f"error: {identifier}: {reason}")
            for line in report.summary_lines():
                self.stdout.write(line)
            if report.errors:
                raise CommandError(f"{len(report.errors)} activities could not be imported (listed above).")

    def _charity(self, slug: str, *, create: bool) -> Organization:
        found = Organization.objects.filter(slug=slug).first()
        if found is not None:
            if found.kind != OrganizationKind.CHARITY:
                raise CommandError(f"{slug} is not a charity.")
            return found
        if not create:
            raise CommandError(f"No charity {slug}; give --create-charity to register it.")
        name = slug.replace("-", " ").title()
        return accounts.organization_create(
            actor=None, kind=OrganizationKind.CHARITY, slug=slug, name_ar=name, name_en=name
        )

    def _actor(self, charity: Organization, username: str | None, *, create: bool) -> User:
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username}.")
            return user
        membership = (
            Membership.objects.filter(
                organization=charity, role__in=[Role.CHARITY_ADMIN, Role.CHARITY_STAFF], is_active=True
            )
            .select_related("user")
            .order_by("role", "id")
            .first()
        )
        if membership is not None:
            return membership.user
        if not create:
            raise CommandError(f"{charity.slug} has no administrator to record the import; give --actor.")
        with transaction.atomic():
            user = accounts.user_create(actor=None, username=f"{charity.slug}-iati-import"[:150], password=None)
            accounts.membership_create(actor=None, user=user, organization=charity, role=Role.CHARITY_STAFF)
        return user
