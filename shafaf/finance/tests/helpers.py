"""What the finance tests share: a licensed project, a finance officer, gate states written directly."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from django.utils import translation

from shafaf.accounts.choices import Authority, Role
from shafaf.finance import services
from shafaf.partners.choices import AccreditationStatus
from shafaf.partners.models import (
    Accreditation,
)
from shafaf.projects import services as project_services
from tests import factories
from tests.factories import member, pdf_upload

SIGNED = dt.date(2026, 1, 10)


def english():
    return translation.override("en")


def license_project(world, project=None):
    """Charity A's project (implemented by the world's partner), approved through the workflow (the rulebook
    stands aside: its checks are tested in projects)."""
    project = project or world.project_a
    with mock.patch.object(project_services, "_run_rulebook", return_value=[]), english():
        project = project_services.project_transition(actor=world.najat, project=project, action="submit")
        project = project_services.project_transition(actor=world.reviewer, project=project, action="start-review")
        project = project_services.project_transition(actor=world.reviewer, project=project, action="approve")
    return project


def finance_officer(world, username: str = "finance_a"):
    return member(Role.CHARITY_FINANCE, world.charity_a, username)


def register(world, project, *, actor=None, number="C-1", signed_on=SIGNED, amount="1000.000", file=None, **extra):
    with english():
        return services.contract_register(
            actor=actor or world.najat,
            project=project,
            number=number,
            signed_on=signed_on,
            amount=amount,
            file=file,
            **extra,
        )


def with_document(world, project, **kwargs):
    return register(world, project, file=pdf_upload("contract.pdf"), **kwargs)


def accreditation(world, authority: str) -> Accreditation:
    return Accreditation.objects.get(partner=world.partner, authority=authority)


def suspend(world, *, on: dt.date, deadline: dt.date | None, authority: str = Authority.MOSA) -> Accreditation:
    row = accreditation(world, authority)
    row.status = AccreditationStatus.SUSPENDED
    row.suspended_on = on
    row.settlement_deadline = deadline
    row.status_reason = ""
    row.save()
    return row


def lapse(world, *, on: dt.date, authority: str = Authority.MOSA) -> Accreditation:
    row = accreditation(world, authority)
    row.valid_until = on
    row.save()
    return row


def revoke(world, authority: str = Authority.MOFA) -> Accreditation:
    row = accreditation(world, authority)
    row.status = AccreditationStatus.REVOKED
    row.save()
    return row


def screening_hit(world, *, status: str = "open", officer=None):
    """An open (or confirmed) hit of the partner on the UN list, written directly (tests.factories)."""
    return factories.screening_hit(world, status=status, officer=officer)
