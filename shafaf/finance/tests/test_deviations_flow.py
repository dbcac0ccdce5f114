"""Deviations with the real budget and expenditure services: an expenditure beyond the threshold opens the
deviation in its own transaction; a rejection makes the expenditure service refuse spending on the line; a budget
revision that brings the line within its threshold resolves it and spending goes on."""

from __future__ import annotations

import datetime as dt

import pytest

from shafaf.core.exceptions import DomainError
from shafaf.finance import deviations, expenditures
from shafaf.finance.models import BudgetLine, Deviation, Expenditure
from tests.factories import budget, pdf_upload

from .helpers import english, license_project
from .test_deviations import JUSTIFICATION

LINES = [
    {"code": "1", "category": "programme", "name_ar": "حفر البئر", "name_en": "Drilling", "amount": "10000.000"},
    {"code": "2", "category": "administration", "name_ar": "إدارية", "name_en": "Administration", "amount": "500.000"},
]


def record(world, project, code: str, amount: str):
    with english():
        return expenditures.expenditure_record(
            actor=world.najat,
            project=project,
            line=BudgetLine.objects.get(project=project, code=code),
            amount=amount,
            currency="KWD",
            spent_on=dt.date(2026, 6, 1),
            evidence_kind="invoice",
            file=pdf_upload("invoice.pdf"),
            reference=f"INV-{amount}",
        )


@pytest.fixture
def project(world):
    """Charity A's project, running since January 2026 (an expenditure is never dated in the future)."""
    from shafaf.projects.models import Project

    Project.objects.filter(pk=world.project_a.pk).update(planned_start=dt.date(2026, 1, 1))
    world.project_a.refresh_from_db()
    budget(world, world.project_a, LINES)
    return license_project(world)


def test_rejection_blocks_the_expenditure_service_until_a_revision_resolves_it(world, project):
    record(world, project, "1", "11000.000")  # exactly 110 %: within
    assert not Deviation.objects.exists()
    record(world, project, "1", "0.001")
    deviation = Deviation.objects.get(project=project)
    assert (deviation.status, deviation.line.code, deviation.spent_minor) == ("open", "1", 11_000_001)
    with english():
        deviation = deviations.deviation_justify(actor=world.najat, deviation=deviation, text=JUSTIFICATION)
        deviations.deviation_decide(actor=world.reviewer, deviation=deviation, decision="reject", note="No tender.")
    count = Expenditure.objects.count()
    with pytest.raises(DomainError):
        record(world, project, "1", "1.000")
    assert Expenditure.objects.count() == count
    record(world, project, "2", "1.000")  # another line is not blocked

    revised = [dict(LINES[0], amount="10500.000"), LINES[1]]
    with english():
        budget(world, project, revised, reason="Cement prices rose after the floods")
    deviation.refresh_from_db()
    assert deviation.status == "resolved"
    record(world, project, "1", "1.000")
    assert Expenditure.objects.count() == count + 2


def test_the_nightly_alerts_raise_a_critical_budget_deviation_and_resolve_it_once_settled(world, project):
    from shafaf.projects.oversight.models import Alert
    from shafaf.projects.oversight.services import alerts_raise

    record(world, project, "1", "11000.001")
    summary = alerts_raise(project_ids=[project.pk])
    assert "budget_deviation" not in summary.unavailable
    alert = Alert.objects.get(project=project, rule="budget_deviation")
    assert alert.severity == "critical" and alert.facts["lines"] == ["1"]
    deviation = Deviation.objects.get(project=project)
    with english():
        deviation = deviations.deviation_justify(actor=world.najat, deviation=deviation, text=JUSTIFICATION)
        deviations.deviation_decide(actor=world.reviewer, deviation=deviation, decision="approve")
    alerts_raise(project_ids=[project.pk])
    alert.refresh_from_db()
    assert alert.status == "resolved"
