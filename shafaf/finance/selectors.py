"""Every read of contracts and disbursements, already filtered to what the user may see.

Interfaces other apps call: `disbursements_after(project, date)`, and the budget interfaces named by the rulebook
and the oversight rules: `project_budget_summary(project)`, `administrative_share(project)` and
`expenditures_after(project, date)`. Other reads of budgets are in selectors_budgets.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role
from shafaf.core.ids import pk_or_404
from shafaf.core.money import Money, format_amount
from shafaf.projects.choices import ProjectStatus

from .models import Contract, Disbursement


def _visibility(user) -> Q | None:
    """The condition on contracts or disbursements (both carry their project and partner) that the user may
    see; None means everything."""
    if has_oversight(user):
        return None
    condition = Q(project__charity_id__in=organization_ids_with_role(user, *CHARITY_ROLES))
    partner_ids = organization_ids_with_role(user, Role.PARTNER_REPORTER)
    if partner_ids:
        condition |= Q(partner_id__in=partner_ids) & ~Q(project__status=ProjectStatus.DRAFT)
    return condition


def _restrict(user, queryset):
    if not user.is_authenticated:
        return queryset.none()
    condition = _visibility(user)
    return queryset if condition is None else queryset.filter(condition)


def contracts_visible_to(user, queryset=None):
    """The ministry and auditors see every contract; a charity's members see its own; a partner's reporter sees
    the contracts signed with its partner; nobody else sees any (donors neither, for now)."""
    return _restrict(user, Contract.objects.all() if queryset is None else queryset)


def disbursements_visible_to(user, queryset=None):
    """The disbursements under the contracts the user may see."""
    return _restrict(user, Disbursement.objects.all() if queryset is None else queryset)


def with_disbursed(queryset):
    """Contracts annotated with `disbursed_minor`: the sum of their disbursements (0 when none)."""
    return queryset.annotate(disbursed_minor=Coalesce(Sum("disbursements__amount_minor"), 0))


def contract_list(user, project=None):
    queryset = contracts_visible_to(user).select_related("project__charity", "partner", "registered_by")
    if project is not None:
        queryset = queryset.filter(project=project)
    return with_disbursed(queryset).order_by("-signed_on", "-id")


def contract_get(user, pk, project=None) -> Contract:
    """The contract (of `project` when given), or Http404 when it does not exist or the user may not see it."""
    queryset = contract_list(user, project)
    return get_object_or_404(queryset, pk=pk_or_404(pk))


def contract_disbursements(contract: Contract):
    """The disbursements under a contract, newest first (the caller has checked the contract is visible)."""
    return contract.disbursements.select_related("recorded_by").order_by("-paid_on", "-id")


def disbursed_total(contract: Contract) -> Money:
    """Everything disbursed under the contract so far, in its currency."""
    minor = getattr(contract, "disbursed_minor", None)
    if minor is None:
        minor = contract.disbursements.aggregate(total=Coalesce(Sum("amount_minor"), 0))["total"]
    return Money(int(minor), contract.currency)


@dataclass(frozen=True)
class ContractTotals:
    amount: Money
    disbursed: Money
    remaining: Money


def contract_totals(contract: Contract) -> ContractTotals:
    disbursed = disbursed_total(contract)
    return ContractTotals(amount=contract.amount, disbursed=disbursed, remaining=contract.amount - disbursed)


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    contracts: int
    contracted: Money
    disbursed: Money

    @property
    def remaining(self) -> Money:
        return self.contracted - self.disbursed


def project_totals(project) -> list[CurrencyTotals]:
    """The project's contracts and disbursements summed per currency (one line per currency, KWD usually
    alone), in two queries."""
    contracted = {
        row["currency"]: (row["count"], row["total"])
        for row in Contract.objects.filter(project=project)
        .values("currency")
        .annotate(total=Sum("amount_minor"), count=Count("id"))
        .order_by()
    }
    disbursed = {
        row["currency"]: row["total"]
        for row in Disbursement.objects.filter(project=project)
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    }
    return [
        CurrencyTotals(
            currency=currency,
            contracts=int(count),
            contracted=Money(int(total), currency),
            disbursed=Money(int(disbursed.get(currency) or 0), currency),
        )
        for currency, (count, total) in sorted(contracted.items())
    ]


def disbursements_after(project, date: dt.date):
    """The project's disbursements paid after `date` (for instance its planned end), oldest first."""
    return project.disbursements.filter(paid_on__gt=date).order_by("paid_on", "id")


def money_text(money: Money | None) -> str:
    """An amount for a page, a statement or a message: Western digits with grouping and the currency's code
    ("1,250.500 KWD"); empty for None."""
    return "" if money is None else f"{format_amount(money)} {money.currency}"


# --- the budget interfaces (shafaf.projects.rulebook.checks, shafaf.projects.oversight.rules) --------------------


def _current_budget(project):
    from .models import BudgetVersion

    return BudgetVersion.objects.filter(project=project).order_by("-number").first()


def project_budget_summary(project) -> dict | None:
    """None when the project has no budget; else its current version's total (minor units), its currency and the
    number of lines with an amount above zero in it."""
    version = _current_budget(project)
    if version is None:
        return None
    lines = version.line_amounts.filter(amount_minor__gt=0).count()
    return {"total_minor": int(version.total_minor), "currency": version.currency, "lines": lines}


def _percent_of(part: int, whole: int) -> Decimal:
    """part / whole × 100, rounded to 0.01 with ROUND_HALF_UP, exactly (integers only; whole > 0, part >= 0)."""
    hundredths, remainder = divmod(part * 10000, whole)
    if 2 * remainder >= whole:
        hundredths += 1
    return Decimal(hundredths).scaleb(-2).quantize(Decimal("0.01"))


def administrative_share(project) -> dict | None:
    """None when the share cannot be computed (no budget, or a budget of zero); else the administration lines'
    share of the current budget in percent (Decimal, 0.01, ROUND_HALF_UP) and the charity's licensed percentage
    (Decimal, or None when the ministry has set none)."""
    from .models import AdminShareLicence

    version = _current_budget(project)
    if version is None or version.total_minor <= 0:
        return None
    licence = AdminShareLicence.objects.filter(charity_id=project.charity_id).first()
    licensed = Decimal(licence.percent_bp).scaleb(-2).quantize(Decimal("0.01")) if licence is not None else None
    return {
        "share_percent": _percent_of(int(version.admin_minor), int(version.total_minor)),
        "licensed_percent": licensed,
    }


def expenditures_after(project, date: dt.date):
    """The project's expenditures dated after `date` (for instance its planned end), oldest first."""
    from .models import Expenditure

    return Expenditure.objects.filter(project=project, spent_on__gt=date).order_by("spent_on", "id")
