"""Money for the demo: on each running demo project (approved or in execution) a contract with its partner, two
planned tranches, the first paid, and expenditures with their invoices; one project's programme line is spent
beyond the ministry's threshold, so the demo shows a deviation that the charity has justified and the ministry
has still to decide. Everything goes through the services the pages use (gate, conversion, ledger, roll-ups,
deviations, audit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money
from shafaf.projects.choices import ACTIVE_STATUSES

from . import budgets, deviations, expenditures, services
from .models import Deviation, DeviationStatus
from .rollup import current_version

INVOICE = b"%PDF-1.4\n% Shafaf demo invoice\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JUSTIFICATION = (
    "ارتفعت أسعار مواد البناء بعد الفيضانات بنحو الخمس، فتجاوز بند التنفيذ المبلغ المقدر له. "
    "Building material prices rose by about a fifth after the floods."
)


def _invoice(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, INVOICE, content_type="application/pdf")


def _spending_day(project) -> dt.date:
    today = timezone.localdate()
    return min(max(project.planned_start, today - dt.timedelta(days=3)), project.planned_end, today)


def seed_money(*, projects, admin_of: Callable, say: Callable[[str], None]) -> dict:
    """Contracts, tranches, a disbursement and expenditures on the running `projects` (admin_of(project) gives the
    charity administrator who acts); the first project with a partner is pushed beyond its line threshold."""
    summary = {"contracts": 0, "disbursements": 0, "expenditures": 0, "deviations": 0}
    over_done = False
    for project in projects:
        if project.status not in ACTIVE_STATUSES or not project.implementing_partner_id:
            continue
        admin = admin_of(project)
        version = current_version(project)
        if version is None:
            continue
        lines = {row.line.category: row for row in version.line_amounts.select_related("line")}
        programme = lines.get("programme")
        if programme is None:
            continue
        day = _spending_day(project)
        total = Money(version.total_minor, project.currency)
        try:
            contract = services.contract_register(
                actor=admin,
                project=project,
                number=f"{project.reference}-C1",
                signed_on=day,
                amount=total,
                file=_invoice("contract.pdf"),
            )
            half = total.divide(2, rounding="ROUND_DOWN")
            first = budgets.tranche_plan(actor=admin, contract=contract, number=1, planned_on=day, amount=half)
            budgets.tranche_plan(
                actor=admin, contract=contract, number=2, planned_on=project.planned_end, amount=total - half
            )
            services.disbursement_record(
                actor=admin,
                contract=contract,
                amount=half,
                paid_on=day,
                reference=f"{project.reference}-TR1",
                tranche=first,
            )
        except DomainError as error:
            say(f"  {project.reference}: no contract ({error.message})")
            continue
        summary["contracts"] += 1
        summary["disbursements"] += 1
        # 60 % of the programme line, or 120 % of it on the project that shows a deviation.
        share = 60 if over_done else 120
        spend = Money(programme.amount_minor, project.currency).multiply(share, rounding="ROUND_DOWN")
        spend = spend.divide(100, rounding="ROUND_DOWN")
        for index, part in enumerate((spend.divide(2, rounding="ROUND_DOWN"), None), start=1):
            amount = part if part is not None else spend - spend.divide(2, rounding="ROUND_DOWN")
            expenditures.expenditure_record(
                actor=admin,
                project=project,
                line=programme.line,
                amount=amount,
                currency=project.currency,
                spent_on=day,
                evidence_kind="invoice",
                file=_invoice(f"invoice-{index}.pdf"),
                reference=f"{project.reference}-INV{index}",
                place=project.get_country_display() if hasattr(project, "get_country_display") else project.country,
            )
            summary["expenditures"] += 1
        if not over_done:
            over_done = True
            for deviation in Deviation.objects.filter(project=project, status=DeviationStatus.OPEN):
                deviations.deviation_justify(actor=admin, deviation=deviation, text=JUSTIFICATION)
                summary["deviations"] += 1
    return summary
