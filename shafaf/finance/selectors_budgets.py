"""Reads of projects' budgets, already filtered to what the user may see: whoever may see a project sees its
budget (the ministry and auditors every project's; a charity its own; a partner's reporter the projects it
implements once submitted). The current version with its lines and amounts, and the history of the versions with
what changed from one to the next, line by line."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.shortcuts import get_object_or_404

from shafaf.core.ids import pk_or_404
from shafaf.core.money import Money
from shafaf.projects.selectors import projects_visible_to

from .models import AdminShareLicence, BudgetLine, BudgetVersion, BudgetVersionLine, LineCategory
from .selectors import _percent_of


def budget_versions_visible_to(user, queryset=None):
    """The budget versions of the projects the user may see."""
    queryset = BudgetVersion.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(project__in=projects_visible_to(user).values("pk"))


def budget_versions(user, project=None):
    """Versions (newest first) with their creator, lines' amounts and periods prefetched."""
    queryset = budget_versions_visible_to(user).select_related("created_by", "project")
    if project is not None:
        queryset = queryset.filter(project=project)
    return queryset.prefetch_related("line_amounts__line", "periods").order_by("project_id", "-number")


def budget_version_get(user, pk, project=None) -> BudgetVersion:
    return get_object_or_404(budget_versions(user, project), pk=pk_or_404(pk))


@dataclass
class LineAmount:
    line: BudgetLine
    amount: Money
    spent: Money

    @property
    def code(self) -> str:
        return self.line.code

    @property
    def category(self) -> str:
        return self.line.category


@dataclass
class CategoryGroup:
    category: str
    label: str
    lines: list[LineAmount]
    total: Money


@dataclass
class CurrentBudget:
    version: BudgetVersion
    lines: list[LineAmount]
    categories: list[CategoryGroup]
    total: Money
    admin: Money
    share_percent: object  # Decimal | None
    licensed_percent: object  # Decimal | None
    periods: list = field(default_factory=list)

    @property
    def above_licence(self) -> bool:
        return (
            self.share_percent is not None
            and self.licensed_percent is not None
            and (self.share_percent > self.licensed_percent)
        )


def current_budget(project) -> CurrentBudget | None:
    """The project's budget: its newest version, the lines with an amount in it (by category, in the order of the
    categories' choices), the administrative share against the licence, the periods. None without a budget.
    The caller has checked that the user may see the project."""
    from decimal import Decimal

    version = BudgetVersion.objects.filter(project=project).select_related("created_by").order_by("-number").first()
    if version is None:
        return None
    currency = version.currency
    rows = (
        BudgetVersionLine.objects.filter(version=version, amount_minor__gt=0)
        .select_related("line")
        .order_by("line__code")
    )
    lines = [
        LineAmount(line=row.line, amount=Money(row.amount_minor, currency), spent=Money(row.line.spent_minor, currency))
        for row in rows
    ]
    lines.sort(key=lambda item: (len(item.code), item.code))  # "2" before "10"
    categories = []
    for value, label in LineCategory.choices:
        members = [item for item in lines if item.category == value]
        if members:
            total = Money(sum(item.amount.minor for item in members), currency)
            categories.append(CategoryGroup(category=value, label=str(label), lines=members, total=total))
    licence = AdminShareLicence.objects.filter(charity_id=project.charity_id).first()
    share = _percent_of(version.admin_minor, version.total_minor) if version.total_minor > 0 else None
    return CurrentBudget(
        version=version,
        lines=lines,
        categories=categories,
        total=Money(version.total_minor, currency),
        admin=Money(version.admin_minor, currency),
        share_percent=share,
        licensed_percent=Decimal(licence.percent_bp).scaleb(-2).quantize(Decimal("0.01")) if licence else None,
        periods=list(version.periods.order_by("start")),
    )


@dataclass
class LineChange:
    code: str
    name_ar: str
    name_en: str
    before: Money | None
    after: Money

    @property
    def difference(self) -> Money:
        return self.after - (self.before or Money(0, self.after.currency))

    @property
    def kind(self) -> str:
        if self.before is None or self.before.is_zero():
            return "added"
        if self.after.is_zero():
            return "removed"
        return "changed"


@dataclass
class VersionHistory:
    version: BudgetVersion
    total: Money
    previous_total: Money | None
    changes: list[LineChange]

    @property
    def total_difference(self) -> Money | None:
        return None if self.previous_total is None else self.total - self.previous_total


def budget_history(project) -> list[VersionHistory]:
    """Every version of the project's budget, newest first, each with what it changed from the one before (the
    lines whose amount differs; for the original, every line it has). Two queries."""
    versions = list(BudgetVersion.objects.filter(project=project).select_related("created_by").order_by("number"))
    amounts: dict[int, dict[int, int]] = {version.pk: {} for version in versions}
    lines = {}
    for row in BudgetVersionLine.objects.filter(version__project=project).select_related("line"):
        amounts[row.version_id][row.line_id] = row.amount_minor
        lines[row.line_id] = row.line
    history, previous = [], None
    for version in versions:
        current = amounts[version.pk]
        before = amounts[previous.pk] if previous is not None else {}
        changes = []
        for line_pk in sorted(set(current) | set(before), key=lambda pk: (len(lines[pk].code), lines[pk].code)):
            old, new = before.get(line_pk), current.get(line_pk, 0)
            if (previous is None and new == 0) or (previous is not None and (old or 0) == new):
                continue
            line = lines[line_pk]
            changes.append(
                LineChange(
                    code=line.code,
                    name_ar=line.name_ar,
                    name_en=line.name_en,
                    before=None if previous is None else Money(old or 0, version.currency),
                    after=Money(new, version.currency),
                )
            )
        history.append(
            VersionHistory(
                version=version,
                total=Money(version.total_minor, version.currency),
                previous_total=Money(previous.total_minor, previous.currency) if previous is not None else None,
                changes=changes,
            )
        )
        previous = version
    history.reverse()
    return history


def project_lines(project):
    """Every budget line of the project (also those at 0 in the current version), by code."""
    return BudgetLine.objects.filter(project=project).order_by("code")
