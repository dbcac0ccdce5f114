"""A project's money at a glance (ProjectFinance and BudgetLine.spent_minor), kept up to date by the services in
the same transaction as the change, so that the portfolio, the deviation scan and the statements read a few rows
instead of summing millions of expenditures. `refresh` recomputes one project from the database (a handful of
aggregate queries on indexed columns); bulk imports use the set-based refresh in rollup_bulk."""

from __future__ import annotations

from django.db.models import Sum
from django.utils import timezone

from . import variance
from .models import (
    UNSETTLED_DEVIATION_STATUSES,
    BudgetLine,
    BudgetVersion,
    BudgetVersionLine,
    Deviation,
    Disbursement,
    Expenditure,
    ProjectFinance,
)


def current_version(project) -> BudgetVersion | None:
    """The project's budget: its latest version."""
    return BudgetVersion.objects.filter(project=project).order_by("-number").first()


def ensure(project) -> ProjectFinance:
    found, _created = ProjectFinance.objects.get_or_create(
        project=project, defaults={"charity_id": project.charity_id, "currency": project.currency}
    )
    return found


def _settings():
    from .rates import settings

    return settings()


def refresh(project) -> ProjectFinance:
    """Recomputes the project's roll-ups from its budget, expenditures, disbursements and deviations."""
    finance = ensure(project)
    version = current_version(project)
    spent_by_line = dict(
        Expenditure.objects.filter(project=project)
        .values("line_id")
        .annotate(total=Sum("project_amount_minor"))
        .values_list("line_id", "total")
    )
    lines = list(BudgetLine.objects.filter(project=project).only("id", "spent_minor"))
    changed = []
    for line in lines:
        line_spent = int(spent_by_line.get(line.id) or 0)
        if line.spent_minor != line_spent:
            line.spent_minor = line_spent
            changed.append(line)
    if changed:
        BudgetLine.objects.bulk_update(changed, ["spent_minor"])

    disbursed = 0
    for row in (
        Disbursement.objects.filter(project=project)
        .values("currency")
        .annotate(total=Sum("amount_minor"), converted=Sum("project_amount_minor"))
    ):
        if row["currency"] == project.currency:
            disbursed += int(row["total"] or 0)
        else:
            disbursed += int(row["converted"] or 0)
    unsettled = Deviation.objects.filter(project=project, status__in=UNSETTLED_DEVIATION_STATUSES).count()

    finance.charity_id = project.charity_id
    finance.currency = project.currency
    finance.budget_version = version
    finance.budget_minor = version.total_minor if version else 0
    finance.disbursed_minor = disbursed
    finance.open_deviations = unsettled
    return _recompute(finance, project, spent=sum(int(v or 0) for v in spent_by_line.values()))


def add_spending(line: BudgetLine, project_amount_minor: int) -> ProjectFinance:
    """The fast path after recording spending on a line: the same result as refresh, without re-summing every
    expenditure of the project (the line's total moves by the amount, then the project's figures follow)."""
    from django.db.models import F

    BudgetLine.objects.filter(pk=line.pk).update(spent_minor=F("spent_minor") + project_amount_minor)
    return refresh_from_lines(line.project)


def refresh_from_lines(project) -> ProjectFinance:
    """Like refresh, but trusts BudgetLine.spent_minor instead of re-summing expenditures."""
    total = BudgetLine.objects.filter(project=project).aggregate(total=Sum("spent_minor"))["total"] or 0
    return refresh_totals(project, spent=int(total))


def refresh_totals(project, *, spent: int) -> ProjectFinance:
    """Recomputes the project's figures with a known total spending (lines already up to date)."""
    return _recompute(ensure(project), project, spent=spent)


def _recompute(finance: ProjectFinance, project, *, spent: int) -> ProjectFinance:
    config = _settings()
    version_id = finance.budget_version_id
    amounts = (
        dict(BudgetVersionLine.objects.filter(version_id=version_id).values_list("line_id", "amount_minor"))
        if version_id
        else {}
    )
    worst = None
    lines_over = 0
    warning = False
    for line_id, line_spent in BudgetLine.objects.filter(project=project).values_list("id", "spent_minor"):
        amount = int(amounts.get(line_id, 0))
        if amount == 0 and line_spent == 0:
            continue
        # Spending on a line with no amount shows as ten times over.
        line_ratio = variance.ratio_bp(line_spent, amount) or 10 * variance.BP
        worst = line_ratio if worst is None else max(worst, line_ratio)
        if variance.is_beyond(line_spent, amount, config.line_threshold_bp):
            lines_over += 1
        elif variance.is_warning(line_spent, amount, config.line_threshold_bp, config.warning_percent):
            warning = True
    budget = finance.budget_minor
    if version_id and variance.is_warning(spent, budget, config.total_threshold_bp, config.warning_percent):
        warning = True
    finance.spent_minor = spent
    finance.ratio_bp = variance.ratio_bp(spent, budget)
    finance.worst_line_ratio_bp = worst
    finance.lines_over = lines_over
    finance.warning = warning
    finance.risk = variance.risk(
        budget=budget,
        spent=spent,
        worst_line_bp=worst,
        unsettled=finance.open_deviations,
        warning=warning,
        lines_over=lines_over,
    )
    finance.updated_at = timezone.now()
    finance.save()
    return finance
