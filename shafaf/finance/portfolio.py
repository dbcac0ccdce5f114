"""The ministry's portfolio: every project's money at a glance, riskiest first.

It reads the roll-ups (ProjectFinance, kept up to date by the services; rollup.refresh computes `risk`) and never
sums expenditures: one COUNT and one page query, plus one query for the phases of the page's projects (CPI and
SPI come from them, the roll-up's budget and spending, and today's date: shafaf.finance.earned_value.compute).
The number of queries does not grow with the number of projects or rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import CHARITY_ROLES
from shafaf.accounts.models import Organization
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role
from shafaf.core.filters import StyledFilterSet
from shafaf.core.money import Money
from shafaf.projects.choices import ProjectStatus
from shafaf.projects.models import ProjectPhase

from .earned_value import EarnedValue, PhasePlan, compute
from .models import ProjectFinance


def portfolio_visible_to(user, queryset=None):
    """The roll-ups the user may see: every project for the ministry and auditors, its own charity's for a
    charity member, none for anyone else."""
    queryset = ProjectFinance.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    charity_ids = organization_ids_with_role(user, *CHARITY_ROLES)
    return queryset.filter(charity_id__in=charity_ids) if charity_ids else queryset.none()


def portfolio_list(user):
    """The visible roll-ups, riskiest first (ties by project id, so pages are stable), with their project and
    charity joined and the projects' phases prefetched (one query per page)."""
    phases = Prefetch(
        "project__phases",
        queryset=ProjectPhase.objects.only(
            "id", "project_id", "weight", "planned_start", "planned_end", "percent_complete", "is_milestone"
        ).order_by(),
    )
    return (
        portfolio_visible_to(user)
        .select_related("project", "charity")
        .only(
            "project_id",
            "charity_id",
            "currency",
            "budget_minor",
            "spent_minor",
            "disbursed_minor",
            "ratio_bp",
            "worst_line_ratio_bp",
            "lines_over",
            "open_deviations",
            "warning",
            "risk",
            "updated_at",
            "project__id",
            "project__reference",
            "project__title_ar",
            "project__title_en",
            "project__status",
            "project__country",
            "project__planned_start",
            "project__planned_end",
            "project__charity_id",
            "charity__id",
            "charity__name_ar",
            "charity__name_en",
            "charity__slug",
        )
        .prefetch_related(phases)
        .order_by("-risk", "project_id")
    )


class PortfolioFilter(StyledFilterSet):
    charity = django_filters.ModelChoiceFilter(
        label=_("Charity"), queryset=Organization.objects.filter(kind="charity"), field_name="charity"
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProjectStatus.choices, field_name="project__status")
    country = django_filters.CharFilter(label=_("Country code"), method="filter_country")

    class Meta:
        model = ProjectFinance
        fields = ["charity", "status", "country"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and not has_oversight(user):
            charities = Organization.objects.filter(pk__in=organization_ids_with_role(user, *CHARITY_ROLES))
            self.filters["charity"].queryset = charities
        self.filters["charity"].queryset = self.filters["charity"].queryset.order_by("name_ar", "id")

    def filter_country(self, queryset, name, value):
        return queryset.filter(project__country=value.strip().upper()[:2])


@dataclass(frozen=True)
class PortfolioRow:
    finance: ProjectFinance
    budget: Money
    spent: Money
    disbursed: Money
    earned: EarnedValue

    @property
    def project(self):
        return self.finance.project

    @property
    def ratio_percent(self) -> str:
        """spent / budget as a percentage with two decimals, from the integer basis points ("104.50")."""
        ratio = self.finance.ratio_bp
        if ratio is None:
            return ""
        whole, hundredths = divmod(abs(int(ratio)), 100)
        return f"{'-' if ratio < 0 else ''}{whole}.{hundredths:02d}"


def rows(finances, on_date: dt.date) -> list[PortfolioRow]:
    """The page's roll-ups with their earned value today (no query: the phases were prefetched)."""
    result = []
    for finance in finances:
        project = finance.project
        budget = Money(int(finance.budget_minor), finance.currency)
        spent = Money(int(finance.spent_minor), finance.currency)
        earned = compute(
            bac=budget,
            ac=spent,
            phases=[PhasePlan.of(phase) for phase in project.phases.all()],
            project_start=project.planned_start,
            project_end=project.planned_end,
            on_date=on_date,
        )
        result.append(
            PortfolioRow(
                finance=finance,
                budget=budget,
                spent=spent,
                disbursed=Money(int(finance.disbursed_minor), finance.currency),
                earned=earned,
            )
        )
    return result
