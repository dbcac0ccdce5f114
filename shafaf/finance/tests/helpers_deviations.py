"""What the deviation tests share: a budget and spending written straight to the models (the budget and
expenditure services are tested in their own modules), then the roll-up and the detection, as the services do."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from shafaf.finance import deviations, rollup
from shafaf.finance.models import (
    BudgetKind,
    BudgetLine,
    BudgetPeriod,
    BudgetVersion,
    BudgetVersionLine,
    EvidenceKind,
    Expenditure,
)

SPENT_ON = dt.date(2027, 3, 1)


def set_budget(world, project, lines: dict[str, int], *, periods=(), reason: str = "") -> BudgetVersion:
    """A new budget version of `project` with {code: amount in minor units} (a revision when one exists), then the
    roll-up and the detection, as budgets.budget_version_create does."""
    with transaction.atomic():
        number = BudgetVersion.objects.filter(project=project).count() + 1
        version = BudgetVersion.objects.create(
            project=project,
            number=number,
            kind=BudgetKind.ORIGINAL if number == 1 else BudgetKind.REVISION,
            reason=reason or ("" if number == 1 else "Revision of the budget"),
            currency=project.currency,
            total_minor=sum(lines.values()),
            created_by=world.najat,
        )
        for code, amount in lines.items():
            line, _ = BudgetLine.objects.get_or_create(
                project=project, code=code, defaults={"category": "programme", "name_en": f"Line {code}"}
            )
            BudgetVersionLine.objects.create(version=version, line=line, amount_minor=amount)
        for start, end, amount in periods:
            BudgetPeriod.objects.create(version=version, start=start, end=end, amount_minor=amount)
        rollup.refresh(project)
        deviations.deviations_detect(project, actor=world.najat)
    return version


def spend(world, project, code: str, minor: int, *, on: dt.date = SPENT_ON) -> Expenditure:
    """An expenditure of `minor` (project currency) on line `code`, then the roll-up and the detection."""
    with transaction.atomic():
        line = BudgetLine.objects.get(project=project, code=code)
        expenditure = Expenditure.objects.create(
            project=project,
            line=line,
            amount_minor=minor,
            currency=project.currency,
            project_amount_minor=minor,
            spent_on=on,
            evidence_kind=EvidenceKind.RECEIPT,
            reference=f"R-{code}-{minor}",
            recorded_by=world.najat,
        )
        rollup.add_spending(line, minor)
        deviations.deviations_detect(project, actor=world.najat)
    return expenditure


def line(project, code: str) -> BudgetLine:
    return BudgetLine.objects.get(project=project, code=code)
