"""Budgets, spending, tranches and deviations written as direct rows (then rollup.refresh), for the tests of
earned value, the portfolio and the statements: the services that write them are tested on their own."""

from __future__ import annotations

import datetime as dt

from shafaf.finance import rollup
from shafaf.finance.models import (
    BudgetLine,
    BudgetVersion,
    BudgetVersionLine,
    Contract,
    Deviation,
    Disbursement,
    EvidenceKind,
    Expenditure,
    Tranche,
)
from shafaf.projects.models import ProjectPhase


def budget(project, actor, lines: dict[str, int], *, number=1, reason="", status="committed") -> BudgetVersion:
    """A budget version with one line per code (amounts in minor units), lines created when missing."""
    version = BudgetVersion.objects.create(
        project=project,
        number=number,
        kind="original" if number == 1 else "revision",
        status=status,
        reason=reason,
        currency=project.currency,
        total_minor=sum(lines.values()),
        created_by=actor,
    )
    for position, (code, amount) in enumerate(lines.items()):
        line, _created = BudgetLine.objects.get_or_create(
            project=project,
            code=code,
            defaults={
                "category": "administration" if code.startswith("ADM") else "programme",
                "name_ar": f"بند {position + 1}",
                "name_en": f"Line {position + 1}",
            },
        )
        BudgetVersionLine.objects.create(version=version, line=line, amount_minor=amount)
    rollup.refresh(project)
    return version


def line(project, code: str) -> BudgetLine:
    return BudgetLine.objects.get(project=project, code=code)


def spend(
    project,
    actor,
    code: str,
    amount_minor: int,
    *,
    currency: str | None = None,
    project_amount_minor: int | None = None,
    rate: str = "",
    on: dt.date = dt.date(2027, 2, 1),
    refresh: bool = True,
) -> Expenditure:
    expenditure = Expenditure.objects.create(
        project=project,
        line=line(project, code),
        amount_minor=amount_minor,
        currency=currency or project.currency,
        project_amount_minor=amount_minor if project_amount_minor is None else project_amount_minor,
        rate=rate,
        rate_date=on if rate else None,
        spent_on=on,
        place="Khartoum",
        reference=f"INV-{amount_minor}",
        evidence_kind=EvidenceKind.INVOICE,
        recorded_by=actor,
    )
    if refresh:
        rollup.refresh(project)
    return expenditure


def contract_with_tranche(project, partner, actor, *, amount_minor=400_000, planned_on=dt.date(2027, 1, 15)):
    contract = Contract.objects.create(
        project=project,
        partner=partner,
        number="C-77",
        signed_on=dt.date(2027, 1, 2),
        amount_minor=amount_minor,
        currency=project.currency,
        registered_by=actor,
    )
    tranche = Tranche.objects.create(
        project=project,
        contract=contract,
        number=1,
        planned_on=planned_on,
        amount_minor=amount_minor,
        currency=project.currency,
    )
    return contract, tranche


def disburse(project, contract, tranche, actor, *, amount_minor, reference, paid_on=dt.date(2027, 1, 20)):
    disbursement = Disbursement.objects.create(
        project=project,
        contract=contract,
        partner=contract.partner,
        amount_minor=amount_minor,
        currency=contract.currency,
        paid_on=paid_on,
        reference=reference,
        tranche=tranche,
        recorded_by=actor,
    )
    rollup.refresh(project)
    return disbursement


def deviation(project, version, *, code=None, status="open", justification="", decision_note="", **extra):
    row = Deviation.objects.create(
        project=project,
        scope="line" if code else "total",
        line=line(project, code) if code else None,
        status=status,
        currency=project.currency,
        budget_minor=extra.pop("budget_minor", 100_000),
        spent_minor=extra.pop("spent_minor", 130_000),
        ratio_bp=extra.pop("ratio_bp", 13_000),
        threshold_bp=extra.pop("threshold_bp", 1_000),
        budget_version=version,
        justification=justification,
        decision_note=decision_note,
        **extra,
    )
    rollup.refresh(project)
    return row


def phase(project, *, position, weight, start, end, percent=0, milestone=False, name="مرحلة") -> ProjectPhase:
    status = "planned" if percent == 0 else "done" if percent == 100 else "in_progress"
    return ProjectPhase.objects.create(
        project=project,
        position=position,
        name_ar=f"{name} {position}",
        name_en=f"Phase {position}",
        planned_start=start,
        planned_end=end,
        weight=weight,
        is_milestone=milestone,
        percent_complete=percent,
        status=status,
    )
