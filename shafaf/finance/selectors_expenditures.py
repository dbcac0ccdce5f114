"""Every read of expenditures and of their spreadsheet imports, already filtered to what the user may see.

Who sees a project's expenditures: the ministry and auditors (all), the members of the project's charity, and the
reporters of its implementing partner once the project has left the draft — the people who see the project's
contracts (selectors.contracts_visible_to); nobody else."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role
from shafaf.core.ids import pk_or_404
from shafaf.core.money import Money
from shafaf.projects.choices import ProjectStatus

from .models import BudgetLine, BudgetVersionLine, Expenditure, FinanceImport
from .rollup import current_version


def _visibility(user, prefix: str = "project__") -> Q | None:
    """The condition on rows carrying a project (through `prefix`) that the user may see; None means all."""
    if has_oversight(user):
        return None
    condition = Q(**{f"{prefix}charity_id__in": organization_ids_with_role(user, *CHARITY_ROLES)})
    partner_ids = organization_ids_with_role(user, Role.PARTNER_REPORTER)
    if partner_ids:
        condition |= Q(**{f"{prefix}implementing_partner_id__in": partner_ids}) & ~Q(
            **{f"{prefix}status": ProjectStatus.DRAFT}
        )
    return condition


def expenditures_visible_to(user, queryset=None):
    queryset = Expenditure.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _visibility(user)
    return queryset if condition is None else queryset.filter(condition)


def expenditure_list(user, project=None):
    queryset = expenditures_visible_to(user).select_related("line", "recorded_by", "project")
    if project is not None:
        queryset = queryset.filter(project=project)
    return queryset.order_by("-spent_on", "-id")


def expenditure_get(user, pk, project=None) -> Expenditure:
    """The expenditure (of `project` when given), or Http404 when it does not exist or the user may not see it."""
    return get_object_or_404(expenditure_list(user, project), pk=pk_or_404(pk))


def expenditure_imports(user, project):
    """The spreadsheet imports of a project's expenditures, newest first (the caller has checked the project is
    visible: whoever sees the project's expenditures sees how they came)."""
    if not user.is_authenticated:
        return FinanceImport.objects.none()
    return (
        FinanceImport.objects.filter(kind=FinanceImport.Kind.EXPENDITURES, project=project)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def expenditure_import_get(user, pk, project) -> FinanceImport:
    return get_object_or_404(expenditure_imports(user, project), pk=pk_or_404(pk))


@dataclass(frozen=True)
class LineTotal:
    line: BudgetLine
    budget: Money | None  # the line's amount in the current budget version (None when it has none)
    spent: Money  # in the project's currency
    count: int

    @property
    def remaining(self) -> Money | None:
        return None if self.budget is None else self.budget - self.spent


def line_totals(project, queryset=None) -> list[LineTotal]:
    """Spending per budget line in the project's currency (of `queryset`, the filtered expenditures, when given;
    of all the project's otherwise), with each line's amount in the current budget, in three queries."""
    currency = project.currency
    rows = (
        (queryset if queryset is not None else Expenditure.objects.filter(project=project))
        .order_by()
        .values("line_id")
        .annotate(total=Sum("project_amount_minor"), n=Count("id"))
    )
    spent = {row["line_id"]: (int(row["total"] or 0), int(row["n"])) for row in rows}
    version = current_version(project)
    amounts = (
        dict(BudgetVersionLine.objects.filter(version=version).values_list("line_id", "amount_minor"))
        if version is not None
        else {}
    )
    totals = []
    for line in BudgetLine.objects.filter(project=project).order_by("code"):
        minor, count = spent.get(line.pk, (0, 0))
        budget = amounts.get(line.pk)
        if budget is None and not count:
            continue
        totals.append(
            LineTotal(
                line=line,
                budget=Money(int(budget), currency) if budget is not None else None,
                spent=Money(minor, currency),
                count=count,
            )
        )
    return totals
