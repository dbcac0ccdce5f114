"""A dashboard's figures, tables and links, computed once per request from the filtered projects, for the page,
its map and its Excel export alike (so the three always agree)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shafaf.core.money import Money

from . import selectors
from .selectors import CHARITY, DONOR, MINISTRY, PUBLIC, Scope

DIMENSIONS = ("status", "country", "sector", "project_model")


def _url(path: str, params: dict) -> str:
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return f"{path}?{query}" if query else path


def dashboard_url(kind: str) -> str:
    return reverse("dashboards:public") if kind == PUBLIC else reverse("dashboards:dashboard", args=[kind])


class Links:
    """The list behind each figure, with the dashboard's filters carried over where that list understands them."""

    def __init__(self, scope: Scope, params: dict[str, str]):
        self.scope = scope
        self.params = params
        self.internal = scope.kind in (MINISTRY, CHARITY)

    def projects(self, **extra) -> str:
        if self.internal:
            return _url(reverse("projects:project_list"), {**self.params, **extra})
        return _url(dashboard_url(self.scope.kind), {**self.params, **extra})

    def _charity_country(self) -> dict:
        return {key: self.params[key] for key in ("charity", "country") if key in self.params}

    def money(self) -> str:
        if self.internal:
            keep = {key: self.params[key] for key in ("charity", "status", "country") if key in self.params}
            return _url(reverse("finance:portfolio"), keep)
        return self.projects()

    def overlaps(self, status: str) -> str:
        return _url(reverse("coordination:queue"), {"status": status, **self._charity_country()})

    def deviations(self, status: str) -> str:
        if self.scope.kind == MINISTRY:
            from shafaf.finance.permissions import can_see_deviation_queue

            if can_see_deviation_queue(self.scope.user):
                charity = {"charity": self.params["charity"]} if "charity" in self.params else {}
                return _url(reverse("finance:deviation_queue"), {"status": status, **charity})
        return self.money()

    def screening(self, status: str) -> str:
        return _url(reverse("screening:hit_list"), {"status": status})

    def alerts(self) -> str:
        return _url(reverse("oversight:alert_list"), {"status": "open"})

    def overdue(self) -> str:
        return reverse("home")

    def compliance(self) -> str:
        return reverse("oversight:compliance")


def objective_url(objective) -> str:
    for name in ("strategy:objective_detail", "strategy:objective"):
        try:
            return reverse(name, args=[objective.pk])
        except NoReverseMatch:
            continue
    return ""


@dataclass
class Table:
    """One table of the dashboard: shown on the page and exported as one sheet of the workbook."""

    name: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[tuple[list, str]]:
        return list(zip(self.rows, self.links, strict=True))


@dataclass
class Figures:
    scope: Scope
    filterset: object
    valid: bool
    params: dict
    links: Links
    total: int = 0
    dimensions: dict = field(default_factory=dict)
    money: list = field(default_factory=list)
    overlaps: dict | None = None
    deviations: list | None = None
    screening: list | None = None
    alerts: dict | None = None
    overdue: dict | None = None
    compliance: list | None = None
    objectives: list | None = None
    allocations: list | None = None
    overlap_links: dict = field(default_factory=dict)
    has_details: bool = False

    @property
    def kind(self) -> str:
        return self.scope.kind


def compute(scope: Scope, data, *, details: bool = True, main: bool = True) -> Figures:
    """The dashboard's figures. `details=False` leaves out the overdue reports, the compliance classes and the
    progress of the objectives: the page loads them after its first paint (details_view, kept in the cache for a
    while: selectors.cached_details); the Excel export includes them. `main=False` computes only those."""
    filterset, projects, valid = selectors.filtered(scope, data)
    params = selectors.filter_params(filterset)
    rows = selectors.rows_scope(scope, projects, bool(params) or not valid)
    links = Links(scope, params)
    figures = Figures(scope=scope, filterset=filterset, valid=valid, params=params, links=links)
    if main:
        for dimension in DIMENSIONS:
            buckets = selectors.projects_by(projects, dimension)
            for bucket in buckets:
                bucket.url = links.projects(**{dimension: bucket.key})
            figures.dimensions[dimension] = buckets
        figures.total = sum(bucket.count for bucket in figures.dimensions["status"])
        figures.money = selectors.money_by_currency(rows)
        for row in figures.money:
            row.url = links.money()
    filtered_ = bool(params)
    user = scope.user
    if scope.kind in (MINISTRY, CHARITY):
        figures.has_details = True
        if main:
            figures.overlaps = selectors.overlaps(scope, projects, filtered_)
            figures.overlap_links = {key: links.overlaps(key) for key in ("open", "decided", "withdrawn")}
            figures.deviations = selectors.deviations_by_status(rows)
            for bucket in figures.deviations:
                bucket.url = links.deviations(bucket.key)
            figures.alerts = selectors.alerts_by_severity(rows)
        charity = None
        if scope.kind == MINISTRY:
            from shafaf.partners.permissions import can_view_screening

            if main and can_view_screening(user):
                figures.screening = selectors.screening_by_status(projects, filtered_)
                for bucket in figures.screening:
                    bucket.url = links.screening(bucket.key)
        else:
            from shafaf.accounts.models import Organization

            charity = Organization(pk=int(params["charity"]) if "charity" in params else min(scope.charity_ids))
        if details:
            answer = selectors.cached_details(scope, charity=charity, projects=rows, params=params, filtered_=filtered_)
            figures.overdue, figures.compliance, figures.objectives = (
                answer["overdue"],
                answer["compliance"],
                answer["objectives"],
            )
    if main and scope.kind == DONOR:
        figures.allocations = selectors.donor_allocations(user)
    return figures


def _percent(basis_points) -> str:
    if basis_points is None:
        return "—"
    whole, rest = divmod(int(basis_points), 100)
    return f"{whole}.{rest:02d}%"


def tables(figures: Figures) -> list[Table]:
    """Every table of the dashboard, in the page's order, with only the figures its viewer sees."""
    result = []
    titles = {
        "status": _("Projects by state"),
        "country": _("Projects by country"),
        "sector": _("Projects by DAC sector"),
        "project_model": _("Projects by MOSA model"),
    }
    for dimension in DIMENSIONS:
        if dimension not in figures.dimensions:
            continue
        table = Table(dimension, titles[dimension], [_("Code"), _("Name"), _("Projects")])
        for bucket in figures.dimensions[dimension]:
            table.rows.append([bucket.key, bucket.label, bucket.count])
            table.links.append(bucket.url)
        result.append(table)
    money = Table(
        "money", _("Money by currency"), [_("Currency"), _("Budgeted"), _("Disbursed"), _("Spent"), _("Projects")]
    )
    for row in figures.money:
        money.rows.append([row.currency, row.budget, row.disbursed, row.spent, row.projects])
        money.links.append(row.url)
    result.append(money)
    if figures.allocations is not None:
        allocations = Table("allocations", _("My allocations"), [_("Currency"), _("Allocated")])
        for amount in figures.allocations:
            allocations.rows.append([amount.currency, amount])
            allocations.links.append("")
        result.append(allocations)
    if figures.overlaps is not None:
        overlaps = Table("overlaps", _("Overlaps between charities"), [_("Status"), _("Flags")])
        for key, label in (
            ("open", _("Awaiting a decision")),
            ("decided", _("Decided")),
            ("withdrawn", _("No longer an overlap")),
        ):
            overlaps.rows.append([label, figures.overlaps[key]])
            overlaps.links.append(figures.links.overlaps(key))
        result.append(overlaps)
    if figures.deviations is not None:
        deviations = Table("deviations", _("Budget deviations"), [_("Status"), _("Deviations")])
        for bucket in figures.deviations:
            deviations.rows.append([bucket.label, bucket.count])
            deviations.links.append(bucket.url)
        result.append(deviations)
    if figures.screening is not None:
        screening = Table("screening", _("Screening hits"), [_("Status"), _("Hits")])
        for bucket in figures.screening:
            screening.rows.append([bucket.label, bucket.count])
            screening.links.append(bucket.url)
        result.append(screening)
    if figures.alerts is not None:
        follow_up = Table("follow_up", _("Follow-up"), [_("Figure"), pgettext("how many", "Number")])
        follow_up.rows.append([_("Open critical alerts"), figures.alerts["critical"]])
        follow_up.links.append(figures.links.alerts())
        follow_up.rows.append([_("Open warnings"), figures.alerts["warning"]])
        follow_up.links.append(figures.links.alerts())
        result.append(follow_up)
    if figures.overdue is not None:
        overdue = Table("overdue", _("Overdue progress reports"), [_("Figure"), pgettext("how many", "Number")])
        overdue.rows.append([_("Reports past their due date"), figures.overdue["reports"]])
        overdue.links.append(figures.links.overdue())
        result.append(overdue)
    if figures.compliance is not None:
        compliance = Table(
            "compliance",
            _("Compliance class per charity"),
            [_("Charity"), _("Class"), _("Active projects"), _("Checked"), _("With blocking failures")],
        )
        for row in figures.compliance:
            compliance.rows.append([row.charity.display_name(), row.label, row.active, row.checked, row.failing])
            compliance.links.append(figures.links.compliance())
        result.append(compliance)
    if figures.objectives is not None:
        objectives = Table(
            "objectives",
            _("Progress of each objective"),
            [_("Code"), _("Objective"), _("Projects"), _("Indicators"), _("Of target")],
        )
        money = Table(
            "objective_money",
            _("Money behind each objective"),
            [_("Code"), _("Currency"), _("Budgeted"), _("Disbursed"), _("Spent"), _("Projects")],
        )
        for row in figures.objectives:
            objective = row["objective"]
            url = objective_url(objective)
            indent = "\u00a0\u00a0" * int(row.get("depth") or 0)
            objectives.rows.append(
                [
                    objective.code,
                    indent + objective.title(),
                    row["projects"],
                    row["indicators"],
                    _percent(row.get("percent_bp")),
                ]
            )
            objectives.links.append(url)
            for amounts in row["money"]:
                currency = amounts["currency"]
                money.rows.append(
                    [
                        objective.code,
                        currency,
                        Money(int(amounts["budget_minor"]), currency),
                        Money(int(amounts["disbursed_minor"]), currency),
                        Money(int(amounts["spent_minor"]), currency),
                        amounts["projects"],
                    ]
                )
                money.links.append(url)
        result.append(objectives)
        result.append(money)
    return result


def chart_payload(figures: Figures, *, rtl: bool, language: str) -> dict:
    """What dashboards.js draws: one chart per dimension and one of money per currency. Amounts travel as exact
    decimal text; the script turns them into numbers only to draw them."""
    charts = []
    names = {
        "status": _("Projects by state"),
        "country": _("Projects by country"),
        "sector": _("Projects by DAC sector"),
        "project_model": _("Projects by MOSA model"),
    }
    for dimension in DIMENSIONS:
        buckets = figures.dimensions[dimension][:20]
        charts.append(
            {
                "id": f"chart-{dimension}",
                "kind": "count",
                "title": names[dimension],
                "label": _("Projects"),
                "labels": [bucket.label for bucket in buckets],
                "values": [bucket.count for bucket in buckets],
                "links": [bucket.url for bucket in buckets],
            }
        )
    charts.append(
        {
            "id": "chart-money",
            "kind": "money",
            "title": _("Money by currency"),
            "labels": [row.currency for row in figures.money],
            "series": [
                {"label": _("Budgeted"), "values": [row.budget.amount_text for row in figures.money]},
                {"label": _("Disbursed"), "values": [row.disbursed.amount_text for row in figures.money]},
                {"label": _("Spent"), "values": [row.spent.amount_text for row in figures.money]},
            ],
            "links": [row.url for row in figures.money],
        }
    )
    return {"rtl": rtl, "language": language, "charts": charts}
