"""Imports an IATI activities file (projects with their budgets and transactions) for one charity.

    manage.py import_iati PATH --charity SLUG [--create-charity] [--actor USERNAME] [--limit N] [--validate]

Each activity becomes a project of the charity (submitted, or in execution when the publisher reports it under
way or finished), with its budgets and its disbursements and expenditures converted at the ministry's rates
(load them first: manage.py import_rates), and an IATI record (shafaf.interop.models.IatiActivity) with everything
the file says of it. The file is streamed in one transaction. Re-running on the same file skips the unchanged
activities and updates the changed ones, never duplicating. With --validate the file is first checked against the
IATI 2.03 schema and refused whole, with the schema's messages, when it fails. Progress goes to stderr, the
summary to stdout; each problem is listed on stderr as file:line: identifier: reason; the exit status is 1 when an
activity could not be imported (such as for a missing exchange rate), the others being kept. See
shafaf.interop.iati.importer and shafaf.finance.iati_import.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from shafaf.accounts import selectors as accounts_selectors
from shafaf.accounts import services as accounts
from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.accounts.models import Organization, User
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
        parser.add_argument(
            "--validate", action="store_true", help="refuse the file whole unless it is valid against the IATI XSD"
        )

    def handle(self, *args, path, charity, create_charity, actor, limit, validate=False, **options):
        from shafaf.interop.iati.importer import SchemaRefused, import_file

        with translation.override("en"):
            organization = self._charity(charity, create=create_charity)
            user = self._actor(organization, actor, create=create_charity)
            try:
                report = import_file(
                    actor=user,
                    charity=organization,
                    path=path,
                    validate=validate,
                    limit=limit,
                    progress=lambda line: self.stderr.write(line),
                )
            except SchemaRefused as error:
                for message in error.messages:
                    self.stderr.write(f"schema: {message}")
                raise CommandError(str(error.message)) from error
            except DomainError as error:
                raise CommandError(str(error.message)) from error
            errors = {identifier for identifier, _reason in report.detail.errors}
            for problem in report.problems:
                self.stderr.write(f"{'error' if problem.identifier in errors else 'note'}: {problem}")
            for line in report.summary_lines():
                self.stdout.write(line)
            if report.detail.errors:
                raise CommandError(f"{len(report.detail.errors)} activities could not be imported (listed above).")

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
            user = accounts_selectors.user_named(username)
            if user is None:
                raise CommandError(f"No user {username}.")
            return user
        user = accounts_selectors.charity_importer(charity)
        if user is not None:
            return user
        if not create:
            raise CommandError(f"{charity.slug} has no administrator to record the import; give --actor.")
        with transaction.atomic():
            user = accounts.user_create(actor=None, username=f"{charity.slug}-iati-import"[:150], password=None)
            accounts.membership_create(actor=None, user=user, organization=charity, role=Role.CHARITY_STAFF)
        return user
