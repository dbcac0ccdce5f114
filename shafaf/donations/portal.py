"""The reads of the donor portal and of the public project pages.

A donor account (a user with the donor role) sees the donations of the donor records linked to it
(`Donor.user`), their allocations, and the projects those allocations fund: phases and progress, money in and
out, published (accepted) progress reports with their evidence, and "where each fils went".

Where each fils went is an *attribution*, not a trace: money is fungible inside a project's fund. For each
project, every outflow view (disbursements to partners; spending by budget line) is shared between the
allocations to the project in proportion to their amounts, with the largest-remainder split of
shafaf.core.allocation, so the shares always add up exactly to the project's figures: nothing is created or
lost. When the project spent more than its allocations (money from other sources), the surplus is attributed to
"other sources", so no allocation is ever attributed more than its own amount; what an allocation has not been
attributed yet is shown as "not yet used".

Everything here is filtered for the user: another donor, another charity's users and the public get nothing
(the views answer 404).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404

from shafaf.accounts.choices import Role
from shafaf.core.allocation import split_by_weights
from shafaf.core.ids import pk_or_404
from shafaf.core.money import Money
from shafaf.projects.choices import LICENSED_STATUSES
from shafaf.projects.models import Project

from .models import Allocation, Donation, Notification


def is_donor(user) -> bool:
    return bool(user.is_authenticated and Role.DONOR in user.roles())


# --- the donor's own donations -------------------------------------------------------------------------------


def my_donations(user):
    """The donations (and refunds and corrections) of the donor records linked to this donor account, newest
    first; nothing for anyone who is not a donor."""
    if not is_donor(user):
        return Donation.objects.none()
    return (
        Donation.objects.filter(donor__user=user)
        .select_related("charity", "donor", "project", "campaign")
        .order_by("-received_at", "-id")
    )


def my_donation_rows(user, limit: int = 500) -> list[dict]:
    """My latest donations, each with how much of it is allocated: [{"donation", "allocated": Money}]."""
    from django.db.models import Sum

    donations = list(my_donations(user)[:limit])
    allocated = dict(
        Allocation.objects.filter(donation__in=[d.pk for d in donations])
        .values("donation_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("donation_id", "total")
    )
    return [{"donation": d, "allocated": Money(int(allocated.get(d.pk) or 0), d.currency)} for d in donations]


def my_donation_get(user, pk) -> Donation:
    return get_object_or_404(my_donations(user), pk=pk_or_404(pk))


def my_allocations(user):
    """The allocations of the donor's donations."""
    if not is_donor(user):
        return Allocation.objects.none()
    return Allocation.objects.filter(donation__donor__user=user)


def my_projects(user):
    """The projects the donor's donations fund: allocated to, or given to as a restricted donation."""
    if not is_donor(user):
        return Project.objects.none()
    ids = set(my_allocations(user).values_list("project_id", flat=True))
    ids |= set(my_donations(user).filter(project__isnull=False).values_list("project_id", flat=True))
    return Project.objects.filter(pk__in=ids).select_related("charity", "implementing_partner")


def my_project_get(user, pk) -> Project:
    return get_object_or_404(my_projects(user), pk=pk_or_404(pk))


def my_notifications(user):
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).select_related("project")


def unread_count(user) -> int:
    return my_notifications(user).filter(read_at__isnull=True).count()


# --- a project's figures -------------------------------------------------------------------------------------


@dataclass
class Item:
    """One row of a breakdown: a partner or a budget line, the project's total for it and an attributed part."""

    key: int
    label_ar: str
    label_en: str
    total: Money
    part: Money | None = None

    def label(self, language: str = "ar") -> str:
        if language.startswith("ar"):
            return self.label_ar or self.label_en
        return self.label_en or self.label_ar


@dataclass
class Outflows:
    currency: str
    disbursed: list[Item] = field(default_factory=list)  # by partner
    spent: list[Item] = field(default_factory=list)  # by budget line

    @property
    def disbursed_total(self) -> Money:
        return Money(sum(item.total.minor for item in self.disbursed), self.currency)

    @property
    def spent_total(self) -> Money:
        return Money(sum(item.total.minor for item in self.spent), self.currency)


def project_outflows(project) -> Outflows:
    """The project's disbursements per partner and spending per budget line, in the project's currency."""
    from shafaf.finance.models import BudgetLine, Disbursement

    outflows = Outflows(currency=project.currency)
    rows = (
        Disbursement.objects.filter(project=project)
        .values("partner_id", "partner__name_ar", "partner__name_en", "currency")
        .annotate(total=Sum("amount_minor"), converted=Sum("project_amount_minor"))
        .order_by("partner_id", "currency")
    )
    by_partner: dict[int, Item] = {}
    for row in rows:
        minor = row["converted"] if row["converted"] is not None else None
        if minor is None and row["currency"] == project.currency:
            minor = row["total"]
        if minor is None:
            continue  # not converted into the project's currency: not attributable
        item = by_partner.setdefault(
            row["partner_id"],
            Item(row["partner_id"], row["partner__name_ar"], row["partner__name_en"], Money(0, project.currency)),
        )
        item.total = Money(item.total.minor + int(minor), project.currency)
    outflows.disbursed = list(by_partner.values())
    for line in BudgetLine.objects.filter(project=project, spent_minor__gt=0).order_by("code"):
        outflows.spent.append(
            Item(
                line.pk,
                f"{line.code} {line.name_ar}".strip(),
                f"{line.code} {line.name_en}".strip(),
                Money(int(line.spent_minor), project.currency),
            )
        )
    return outflows


def project_allocated_total(project) -> Money:
    """Everything allocated to the project (net of re-allocations), in the project's currency."""
    total = (
        Allocation.objects.filter(project=project, currency=project.currency).aggregate(total=Sum("amount_minor"))[
            "total"
        ]
        or 0
    )
    return Money(int(total), project.currency)


@dataclass
class Attribution:
    """Where an allocated amount went: its attributed parts of the disbursements and of the spending."""

    allocated: Money
    disbursed: list[Item]
    spent: list[Item]

    @property
    def disbursed_total(self) -> Money:
        return Money(sum(item.part.minor for item in self.disbursed), self.allocated.currency)

    @property
    def spent_total(self) -> Money:
        return Money(sum(item.part.minor for item in self.spent), self.allocated.currency)

    @property
    def not_disbursed(self) -> Money:
        return self.allocated - self.disbursed_total

    @property
    def not_spent(self) -> Money:
        return self.allocated - self.spent_total


def _attribute_view(items: list[Item], shares: list[int], pool: int, currency: str) -> list[list[Item]]:
    """Splits each item's total among `shares` (the allocations considered), the rest of the pool (other donors'
    allocations) and the surplus over the pool (other sources); returns, for each share, its items with parts."""
    result: list[list[Item]] = [[] for _share in shares]
    total = sum(item.total.minor for item in items)
    if not shares or total <= 0 or not any(shares):
        return [[Item(i.key, i.label_ar, i.label_en, i.total, Money(0, currency)) for i in items] for _ in shares]
    others = max(pool - sum(shares), 0)
    other_sources = max(total - pool, 0)
    # The share of the whole view each allocation is attributed, then split over the items of the view.
    whole = split_by_weights(Money(total, currency), [*shares, others, other_sources])
    for index, part in enumerate(whole[: len(shares)]):
        if part.minor == 0:
            result[index] = [Item(i.key, i.label_ar, i.label_en, i.total, Money(0, currency)) for i in items]
            continue
        parts = split_by_weights(part, [item.total.minor for item in items])
        result[index] = [
            Item(item.key, item.label_ar, item.label_en, item.total, piece)
            for item, piece in zip(items, parts, strict=True)
        ]
    return result


def attribute(project, amounts: list[Money], outflows: Outflows | None = None) -> list[Attribution | None]:
    """The attribution of each amount allocated to `project` (None for an amount not in the project's currency
    or not positive: nothing can be attributed to it)."""
    outflows = outflows or project_outflows(project)
    pool = max(project_allocated_total(project).minor, 0)
    usable = [index for index, money in enumerate(amounts) if money.currency == project.currency and money.minor > 0]
    shares = [amounts[index].minor for index in usable]
    disbursed = _attribute_view(outflows.disbursed, shares, pool, project.currency)
    spent = _attribute_view(outflows.spent, shares, pool, project.currency)
    result: list[Attribution | None] = [None] * len(amounts)
    for position, index in enumerate(usable):
        result[index] = Attribution(allocated=amounts[index], disbursed=disbursed[position], spent=spent[position])
    return result


def my_allocations_to(user, project) -> list[tuple[Donation, Money]]:
    """The donor's net allocation to the project per donation (re-allocations netted), by donation id."""
    rows = (
        my_allocations(user)
        .filter(project=project)
        .values("donation_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .order_by("donation_id", "currency")
    )
    donations = {d.pk: d for d in my_donations(user).filter(pk__in={row["donation_id"] for row in rows})}
    return [
        (donations[row["donation_id"]], Money(int(row["total"]), row["currency"]))
        for row in rows
        if row["total"] and row["donation_id"] in donations
    ]


def my_project_attribution(user, project) -> dict:
    """For the donor's page of a funded project: its allocations and their attribution, and the donor's totals."""
    outflows = project_outflows(project)
    mine = my_allocations_to(user, project)
    attributions = attribute(project, [money for _donation, money in mine], outflows)
    rows = [
        {"donation": donation, "allocated": money, "attribution": attribution}
        for (donation, money), attribution in zip(mine, attributions, strict=True)
    ]
    same = [row for row in rows if row["attribution"] is not None]
    currency = project.currency
    totals = {
        "allocated": Money(sum(row["allocated"].minor for row in same), currency),
        "disbursed": Money(sum(row["attribution"].disbursed_total.minor for row in same), currency),
        "spent": Money(sum(row["attribution"].spent_total.minor for row in same), currency),
    }
    return {"outflows": outflows, "rows": rows, "totals": totals}


def donation_allocations(user, donation) -> dict:
    """The allocations of one of the donor's donations, each with its attribution in its project."""
    allocations = list(
        Allocation.objects.filter(donation=donation).select_related("project").order_by("allocated_at", "id")
    )
    net: dict[int, int] = {}
    projects: dict[int, Project] = {}
    for allocation in allocations:
        net[allocation.project_id] = net.get(allocation.project_id, 0) + allocation.amount_minor
        projects[allocation.project_id] = allocation.project
    result = []
    for project_id, minor in net.items():
        project = projects[project_id]
        money = Money(minor, donation.currency)
        attribution = attribute(project, [money])[0] if minor > 0 else None
        result.append({"project": project, "allocated": money, "attribution": attribution})
    return {"entries": allocations, "by_project": result}


# --- what any funded project shows (the donor's page and the public page) ----------------------------------------


def published_reports(project):
    """The project's progress reports the ministry accepted (published to donors), newest first, with evidence."""
    from shafaf.reports.choices import ReportStatus
    from shafaf.reports.models import ProgressReport

    return (
        ProgressReport.objects.filter(project=project, status=ReportStatus.ACCEPTED)
        .prefetch_related("evidence")
        .order_by("-period_start", "-id")
    )


def published_evidence_get(user, project, document_pk):
    """A document that is evidence of a published report of a project the donor funds (else Http404)."""
    from shafaf.projects.models import ProjectDocument
    from shafaf.reports.choices import ReportStatus

    return get_object_or_404(
        ProjectDocument.objects.filter(
            project=project, progress_reports__status=ReportStatus.ACCEPTED, progress_reports__project=project
        ).distinct(),
        pk=pk_or_404(document_pk),
    )


def project_overview(project) -> dict:
    """Phases and progress, money in (allocations) and out (disbursements, spending), published reports."""
    from shafaf.projects.services import project_progress

    outflows = project_outflows(project)
    return {
        "phases": list(project.phases.order_by("position", "planned_start", "id")),
        "progress": project_progress(project),
        "allocated": project_allocated_total(project),
        "outflows": outflows,
        "reports": list(published_reports(project)),
    }


# --- public pages ------------------------------------------------------------------------------------------------


def public_project_get(reference: str) -> Project:
    """A licensed project by its reference (else Http404): the public page exists for licensed projects only."""
    return get_object_or_404(
        Project.objects.select_related("charity"), reference=str(reference), status__in=LICENSED_STATUSES
    )


def public_donation_figures(project) -> dict:
    """Aggregates only: the totals allocated per currency, the number of donors and of allocations, and the
    allocations by month (no donor, no donation, no individual amount tied to a person)."""
    from django.db.models.functions import TruncMonth

    allocations = Allocation.objects.filter(project=project)
    per_currency = [
        Money(int(row["total"]), row["currency"])
        for row in allocations.values("currency").annotate(total=Sum("amount_minor")).order_by("currency")
        if row["total"]
    ]
    donors = (
        Donation.objects.filter(Q(allocations__project=project) | Q(project=project))
        .values("donor_id")
        .distinct()
        .count()
    )
    by_month = [
        {"month": row["month"], "amount": Money(int(row["total"]), row["currency"]), "count": row["n"]}
        for row in allocations.annotate(month=TruncMonth("allocated_at"))
        .values("month", "currency")
        .annotate(total=Sum("amount_minor"), n=Count("id"))
        .order_by("month", "currency")
        if row["total"]
    ]
    return {
        "totals": per_currency,
        "donor_count": donors,
        "allocation_count": allocations.count(),
        "by_month": by_month,
    }
