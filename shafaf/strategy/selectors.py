"""Every read of plans, objectives and indicators, already filtered to what the user may see.

The ministry's plans are read by every signed-in member of an organisation and by donors; a charity's plan by
its own members, the ministry and auditors. A draft version is read only by its plan's organisation, the
ministry and auditors.

Roll-up rule (stated on every indicator page): for a period P, each contributing indicator's value for P is
its own values whose period lies in P (ends within P, so that a quarter across two years counts once, in the
year it ends) combined by its own rule; then the contributors' values are combined by
the receiving indicator's rule (sum: the sum; average: the mean, rounded half-even to a thousandth; latest:
the value of the contributor reported last). It is applied recursively through `feeds`. A value counts once
the ministry accepts the report that carries it; until then (submitted, or returned to the charity) it is
pending.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Q, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from shafaf.accounts.choices import CHARITY_ROLES, OrganizationKind
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role
from shafaf.core.ids import pk_or_404
from shafaf.projects.selectors import projects_visible_to

from .choices import Aggregation, VersionStatus
from .models import Indicator, IndicatorTarget, IndicatorValue, Objective, Plan, PlanVersion, ProjectObjective
from .values import mean_milli, percent_bp, value_text

ACCEPTED = "accepted"
PENDING_STATUSES = ("submitted", "returned")

# ------------------------------------------------------------------------------------------------------------------
# Visibility


def _own_charity_ids(user) -> set[int]:
    return organization_ids_with_role(user, *CHARITY_ROLES)


def plans_visible_to(user, queryset=None):
    """The ministry's plans to every signed-in member of an organisation and to donors; a charity's plans to
    its own members, the ministry and auditors."""
    queryset = Plan.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    if not user.roles():
        return queryset.none()
    ministry = Q(organization__kind=OrganizationKind.AUTHORITY)
    return queryset.filter(ministry | Q(organization_id__in=_own_charity_ids(user)))


def versions_visible_to(user, queryset=None):
    """The versions of the plans the user sees; drafts only to the plan's organisation, the ministry and
    auditors."""
    queryset = PlanVersion.objects.all() if queryset is None else queryset
    queryset = queryset.filter(plan__in=plans_visible_to(user))
    if has_oversight(user):
        return queryset
    return queryset.filter(~Q(status=VersionStatus.DRAFT) | Q(plan__organization_id__in=_own_charity_ids(user)))


def objectives_visible_to(user, queryset=None):
    queryset = Objective.objects.all() if queryset is None else queryset
    return queryset.filter(version__in=versions_visible_to(user))


def indicators_visible_to(user, queryset=None):
    """Objectives' indicators of the versions the user sees, and the indicators of the projects it sees."""
    queryset = Indicator.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(objective__in=objectives_visible_to(user)) | Q(project__in=projects_visible_to(user)))


def plan_get(user, pk) -> Plan:
    return get_object_or_404(plans_visible_to(user).select_related("organization"), pk=pk_or_404(pk))


def version_get(user, pk) -> PlanVersion:
    return get_object_or_404(versions_visible_to(user).select_related("plan__organization"), pk=pk_or_404(pk))


def objective_get(user, pk) -> Objective:
    return get_object_or_404(
        objectives_visible_to(user).select_related("version__plan__organization", "parent", "maps_to"),
        pk=pk_or_404(pk),
    )


def indicator_get(user, pk) -> Indicator:
    return get_object_or_404(
        indicators_visible_to(user).select_related(
            "objective__version__plan__organization", "project__charity", "feeds"
        ),
        pk=pk_or_404(pk),
    )


def plan_versions(plan):
    return plan.versions.select_related("created_by", "published_by").order_by("-number")


def version_in_force(plan) -> PlanVersion | None:
    return plan.versions.filter(status=VersionStatus.PUBLISHED).first()


def version_draft(plan) -> PlanVersion | None:
    return plan.versions.filter(status=VersionStatus.DRAFT).first()


def ministry_versions_in_force():
    """The versions in force of the ministry's plans."""
    return PlanVersion.objects.filter(
        status=VersionStatus.PUBLISHED, plan__organization__kind=OrganizationKind.AUTHORITY
    ).select_related("plan__organization")


def charity_versions_in_force(charity):
    return PlanVersion.objects.filter(status=VersionStatus.PUBLISHED, plan__organization=charity).select_related(
        "plan__organization"
    )


def linkable_objectives(project):
    """The objectives a project may be linked to: those of the ministry's plans in force and of its charity's
    plans in force."""
    return Objective.objects.filter(
        Q(version__in=ministry_versions_in_force()) | Q(version__in=charity_versions_in_force(project.charity_id))
    ).select_related("version__plan__organization")


def mappable_objectives():
    """The ministry objectives a charity's objective may serve (`maps_to`): those of the ministry's plans in
    force."""
    return Objective.objects.filter(version__in=ministry_versions_in_force())


# ------------------------------------------------------------------------------------------------------------------
# Trees and links


def _tree(objectives) -> list[tuple[Objective, int]]:
    by_parent: dict[int | None, list[Objective]] = defaultdict(list)
    ids = {objective.pk for objective in objectives}
    for objective in objectives:
        by_parent[objective.parent_id if objective.parent_id in ids else None].append(objective)
    for children in by_parent.values():
        children.sort(key=lambda o: (o.position, o.code, o.pk))
    result: list[tuple[Objective, int]] = []

    def walk(parent_id, depth):
        for child in by_parent.get(parent_id, ()):
            result.append((child, depth))
            if depth < 50:
                walk(child.pk, depth + 1)

    walk(None, 0)
    return result


def objective_tree(version) -> list[tuple[Objective, int]]:
    """The version's objectives as (objective, depth), each after its parent, siblings by position and code."""
    return _tree(list(version.objectives.select_related("maps_to")))


def _closures(targets: list[int]) -> dict[int, set[int]]:
    """For each target objective, the objectives whose projects count for it: itself, its children (through
    `parent`), the objectives mapped to it (`maps_to`) and those it was copied from (`origin`), recursively.
    Reads the objectives' links in one query."""
    rows = list(Objective.objects.values_list("pk", "parent_id", "maps_to_id", "origin_id"))
    incoming: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id, maps_to_id, origin_id in rows:
        if parent_id:
            incoming[parent_id].append(pk)
        if maps_to_id:
            incoming[maps_to_id].append(pk)
        if origin_id:
            incoming[pk].append(origin_id)
    result = {}
    for target in targets:
        seen = {target}
        stack = [target]
        while stack:
            for source in incoming.get(stack.pop(), ()):
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        result[target] = seen
    return result


def objective_sources(objective) -> set[int]:
    """The ids of the objectives whose linked projects count for this one (itself included)."""
    return _closures([objective.pk])[objective.pk]


def objective_projects(user, objective):
    """The projects the user sees that are linked to this objective, to one of its children, or to an objective
    that maps to it (recursively)."""
    links = ProjectObjective.objects.filter(objective_id__in=objective_sources(objective)).values("project_id")
    return projects_visible_to(user).filter(pk__in=Subquery(links)).select_related("charity")


def version_projects(user, version):
    """The projects the user sees that serve the version's objectives: linked to one of them, or to an objective
    (of a charity's plan) that maps to one of them."""
    targets = list(version.objectives.values_list("pk", flat=True))
    sources = set().union(*_closures(targets).values()) if targets else set()
    links = ProjectObjective.objects.filter(objective_id__in=sources).values("project_id")
    return projects_visible_to(user).filter(pk__in=Subquery(links))


def objective_money(user, objective) -> list[dict]:
    """The money of the objective's projects (objective_projects), one row per currency."""

    from shafaf.finance.models import ProjectFinance

    projects = objective_projects(user, objective).values("pk")
    rows = (
        ProjectFinance.objects.filter(project_id__in=Subquery(projects))
        .values("currency")
        .annotate(
            budget_minor=Sum("budget_minor"),
            disbursed_minor=Sum("disbursed_minor"),
            spent_minor=Sum("spent_minor"),
            projects=Count("project_id"),
        )
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"],
            "budget_minor": row["budget_minor"] or 0,
            "disbursed_minor": row["disbursed_minor"] or 0,
            "spent_minor": row["spent_minor"] or 0,
            "projects": row["projects"],
        }
        for row in rows
    ]


def objectives_without_projects(user, version=None):
    """The objectives (of the versions in force, or of `version`) that no project the user sees serves."""
    if version is None:
        objectives = objectives_visible_to(user).filter(version__status=VersionStatus.PUBLISHED)
    else:
        objectives = objectives_visible_to(user).filter(version=version)
    candidates = list(objectives.values_list("pk", flat=True))
    closures = _closures(candidates)
    served = set(
        ProjectObjective.objects.filter(project__in=projects_visible_to(user)).values_list("objective_id", flat=True)
    )
    empty = [pk for pk in candidates if not (closures[pk] & served)]
    return objectives.filter(pk__in=empty).select_related("version__plan")


def project_objectives(project):
    """The objectives the project is linked to."""
    return Objective.objects.filter(project_links__project=project).select_related("version__plan__organization")


def project_indicators(project):
    return project.indicators.select_related("feeds").order_by("code", "pk")


def report_indicator_values(report):
    """The indicator values a progress report carries, by indicator code."""
    return report.indicator_values.select_related("indicator").order_by("indicator__code")


def report_values_text(report) -> dict[str, str]:
    """{indicator code: value text} of a report (what the report's form and audit show)."""
    return {row.indicator.code: value_text(row.value_milli) for row in report_indicator_values(report)}


# ------------------------------------------------------------------------------------------------------------------
# Roll-ups


@dataclass(frozen=True)
class PeriodRow:
    period_start: dt.date
    period_end: dt.date
    target_milli: int | None
    actual_milli: int | None
    pending_milli: int | None
    contributors: int
    percent_bp: int | None


@dataclass
class _Value:
    period_start: dt.date
    period_end: dt.date
    value_milli: int
    reported_at: dt.datetime
    accepted: bool


class _Graph:
    """The indicators feeding a set of indicators (recursively), their values and targets, read in a number
    of queries bounded by the depth of the feeding tree."""

    def __init__(self, roots: list[Indicator]):
        self.indicators: dict[int, tuple] = {i.pk: (i.aggregation, i.project_id) for i in roots}
        self.contributors: dict[int, list[int]] = defaultdict(list)
        frontier = [i.pk for i in roots if not i.project_id]
        depth = 0
        while frontier and depth < 20:
            rows = list(
                Indicator.objects.filter(feeds_id__in=frontier).values_list(
                    "pk", "feeds_id", "aggregation", "project_id"
                )
            )
            frontier = []
            for pk, feeds_id, aggregation, project_id in rows:
                self.contributors[feeds_id].append(pk)
                if pk not in self.indicators:
                    self.indicators[pk] = (aggregation, project_id)
                    if not project_id:  # nothing feeds a project's indicator
                        frontier.append(pk)
            depth += 1
        self.values: dict[int, list[_Value]] = defaultdict(list)
        leaves = [pk for pk, (_rule, project_id) in self.indicators.items() if project_id]
        if leaves:
            for indicator_id, start, end, value, recorded_at, status, submitted_at in IndicatorValue.objects.filter(
                indicator_id__in=leaves, report__status__in=(ACCEPTED, *PENDING_STATUSES)
            ).values_list(
                "indicator_id",
                "period_start",
                "period_end",
                "value_milli",
                "recorded_at",
                "report__status",
                "report__submitted_at",
            ):
                self.values[indicator_id].append(
                    _Value(start, end, value, submitted_at or recorded_at, status == ACCEPTED)
                )
        self.targets: dict[int, list[tuple]] = defaultdict(list)
        for indicator_id, start, end, value in IndicatorTarget.objects.filter(
            indicator_id__in=[r.pk for r in roots]
        ).values_list("indicator_id", "period_start", "period_end", "value_milli"):
            self.targets[indicator_id].append((start, end, value))

    @staticmethod
    def _combine(rule: str, items: list[tuple[int, dt.datetime]]) -> tuple[int, dt.datetime] | None:
        """items: (value, reported at)."""
        if not items:
            return None
        reported = max(at for _value, at in items)
        if rule == Aggregation.AVERAGE:
            return mean_milli([value for value, _at in items]), reported
        if rule == Aggregation.LATEST:
            value, at = max(items, key=lambda item: item[1])
            return value, at
        return sum(value for value, _at in items), reported

    def period_value(self, pk: int, start: dt.date, end: dt.date, accepted: bool, _depth: int = 0):
        """(value, reported at, leaf contributors) of one indicator for the period, or None."""
        rule, project_id = self.indicators[pk]
        items: list[tuple[int, dt.datetime]] = []
        leaves = 0
        if project_id:
            own = [v for v in self.values.get(pk, ()) if v.accepted == accepted and start <= v.period_end <= end]
            own.sort(key=lambda v: (v.period_end, v.reported_at))
            items = [(v.value_milli, v.reported_at) for v in own]
            if rule == Aggregation.LATEST and own:
                items = [(own[-1].value_milli, own[-1].reported_at)]
            leaves = 1 if own else 0
        if _depth < 20:
            for contributor in self.contributors.get(pk, ()):
                result = self.period_value(contributor, start, end, accepted, _depth + 1)
                if result is not None:
                    items.append(result[:2])
                    leaves += result[2]
        combined = self._combine(rule, items)
        if combined is None:
            return None
        return combined[0], combined[1], leaves

    def value_periods(self, pk: int, _depth: int = 0) -> set[tuple[dt.date, dt.date]]:
        periods = {(v.period_start, v.period_end) for v in self.values.get(pk, ())}
        if _depth < 20:
            for contributor in self.contributors.get(pk, ()):
                periods |= self.value_periods(contributor, _depth + 1)
        return periods

    def rollup(self, pk: int) -> list[PeriodRow]:
        targets = sorted(self.targets.get(pk, ()))
        periods = [(start, end, value) for start, end, value in targets]
        covered = [(start, end) for start, end, _value in targets]
        extra = set()
        for start, end in self.value_periods(pk):
            if any(s <= end <= e for s, e in covered):
                continue
            if self.indicators[pk][1]:  # a project's indicator: its own reporting periods
                extra.add((start, end))
            else:  # an objective's indicator without a target there: the calendar year the value's period ends in
                extra.add((dt.date(end.year, 1, 1), dt.date(end.year, 12, 31)))
        periods += [(start, end, None) for start, end in sorted(extra)]
        rows = []
        for start, end, target in periods:
            actual = self.period_value(pk, start, end, accepted=True)
            pending = self.period_value(pk, start, end, accepted=False)
            actual_milli = actual[0] if actual else None
            rows.append(
                PeriodRow(
                    period_start=start,
                    period_end=end,
                    target_milli=target,
                    actual_milli=actual_milli,
                    pending_milli=pending[0] if pending else None,
                    contributors=actual[2] if actual else 0,
                    percent_bp=percent_bp(actual_milli, target),
                )
            )
        return rows

    def latest_percent(self, pk: int, today: dt.date) -> int | None:
        """The percent of target reached in the latest target period that has started or has accepted values
        (None without one)."""
        latest = None
        for start, end, target in sorted(self.targets.get(pk, ())):
            actual = self.period_value(pk, start, end, accepted=True)
            if start <= today or actual is not None:
                latest = (target, actual[0] if actual else 0)
        if latest is None:
            return None
        return percent_bp(latest[1], latest[0])


def indicator_rollup(indicator) -> list[PeriodRow]:
    """The indicator's target, actual (accepted values) and pending values per period: the targets' periods
    first, then the periods of values outside them. See the roll-up rule in this module's docstring."""
    return _Graph([indicator]).rollup(indicator.pk)


def indicator_values_of(indicator):
    """A project indicator's values with their report, newest period first."""
    return indicator.values.select_related("report").prefetch_related("evidence").order_by("-period_start")


def _projects_and_money(user, targets: list[int], filters: Q | None = None) -> tuple[dict, dict]:
    """For target objectives: {project id: the targets it serves} of the projects the user sees (restricted by
    `filters`), and {target: {currency: money row}}. Three queries, whatever the number of projects."""
    from shafaf.finance.models import ProjectFinance

    closures = _closures(targets)
    receivers: dict[int, set[int]] = defaultdict(set)
    for target, sources in closures.items():
        for source in sources:
            receivers[source].add(target)
    projects = projects_visible_to(user)
    if filters is not None:
        projects = projects.filter(filters)
    links = ProjectObjective.objects.filter(
        objective_id__in=list(receivers), project_id__in=Subquery(projects.values("pk"))
    )
    project_targets: dict[int, set[int]] = defaultdict(set)
    for project_id, objective_id in links.values_list("project_id", "objective_id"):
        project_targets[project_id] |= receivers[objective_id]
    money: dict[int, dict[str, dict]] = defaultdict(dict)
    if project_targets:
        finance = ProjectFinance.objects.filter(project_id__in=Subquery(links.values("project_id"))).values_list(
            "project_id", "currency", "budget_minor", "disbursed_minor", "spent_minor"
        )
        for project_id, currency, budget, disbursed, spent in finance:
            for target in project_targets.get(project_id, ()):
                row = money[target].setdefault(
                    currency,
                    {"currency": currency, "budget_minor": 0, "disbursed_minor": 0, "spent_minor": 0, "projects": 0},
                )
                row["budget_minor"] += budget
                row["disbursed_minor"] += disbursed
                row["spent_minor"] += spent
                row["projects"] += 1
    return project_targets, money


def _counts_and_money(user, targets: list[int], filters: Q | None = None) -> tuple[dict, dict]:
    """For target objectives: {target: number of projects} the user sees behind each (restricted by `filters`),
    and {target: {currency: money row}}. One statement does it in the database: the (source objective, target)
    pairs of the closures are joined to the links, each (target, project) is kept once (a project linked to
    several objectives serving one target counts once for it), then joined to the projects' finance and summed
    per target and currency. Two queries, whatever the number of projects."""
    from django.db import connection

    from shafaf.finance.models import ProjectFinance

    pairs = sorted({(source, target) for target, sources in _closures(targets).items() for source in sources})
    counts: dict[int, int] = defaultdict(int)
    money: dict[int, dict[str, dict]] = defaultdict(dict)
    if not pairs:
        return counts, money
    projects = projects_visible_to(user)
    if filters is not None:
        projects = projects.filter(filters)
    where, params = "", []
    if filters is not None or projects.query.where:  # every project: no need to read the projects table
        try:
            projects_sql, params = projects.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # no project at all (an anonymous user, a filter that matches nothing)
            return counts, money
        where, params = f"WHERE l.project_id IN ({projects_sql})", list(params)
    values = ", ".join(["(%s, %s)"] * len(pairs))
    links, finance = ProjectObjective._meta.db_table, ProjectFinance._meta.db_table
    # Only table names and placeholders are put into the text; every value is a parameter.
    sql = (
        f"WITH m(source, target) AS (VALUES {values}), "  # noqa: S608
        f"tp AS (SELECT DISTINCT m.target AS target, l.project_id AS project_id FROM {links} l "
        f"INNER JOIN m ON l.objective_id = m.source {where}) "
        "SELECT tp.target, f.currency, COUNT(*), SUM(f.budget_minor), SUM(f.disbursed_minor), SUM(f.spent_minor) "
        f"FROM tp LEFT JOIN {finance} f ON f.project_id = tp.project_id GROUP BY tp.target, f.currency"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for pair in pairs for value in pair] + params)
        rows = cursor.fetchall()
    for target, currency, number, budget, disbursed, spent in rows:
        counts[target] += number
        if currency is None:  # no money recorded for these projects
            continue
        money[target][currency] = {
            "currency": currency,
            "budget_minor": int(budget or 0),
            "disbursed_minor": int(disbursed or 0),
            "spent_minor": int(spent or 0),
            "projects": number,
        }
    return counts, money


def objectives_summary(user, objectives) -> dict[int, dict]:
    """For a page of objectives: {objective id: {"projects": [Project], "money": [per currency]}} of the projects
    the user sees behind each (as objective_projects and objective_money), in a bounded number of queries."""
    from shafaf.projects.models import Project

    targets = [objective.pk for objective in objectives]
    project_targets, money = _projects_and_money(user, targets)
    projects = {
        p.pk: p
        for p in Project.objects.filter(pk__in=list(project_targets))
        .select_related("charity")
        .only("pk", "reference", "title_ar", "title_en", "charity__name_ar", "charity__name_en", "charity_id")
    }
    by_target: dict[int, list] = defaultdict(list)
    for project_id, served in project_targets.items():
        for target in served:
            by_target[target].append(projects[project_id])
    return {
        target: {
            "projects": sorted(by_target.get(target, []), key=lambda p: p.reference),
            "money": [money[target][c] for c in sorted(money.get(target, {}))],
        }
        for target in targets
    }


# ------------------------------------------------------------------------------------------------------------------
# Dashboards


def objective_progress(user, *, charity=None, filters: Q | None = None, today: dt.date | None = None) -> list[dict]:
    """One row per objective of the ministry's plans in force (and, with `charity`, of that charity's plans in
    force): {objective, depth, projects, money: [per currency], indicators, percent_bp}. The projects are
    those the user sees (restricted by `filters`, a Q on Project) linked to the objective or to any objective
    serving it. A bounded number of queries whatever the number of projects."""
    today = today or dt.date.today()
    in_force = Q(status=VersionStatus.PUBLISHED) & (
        Q(plan__organization__kind=OrganizationKind.AUTHORITY)
        | (Q(plan__organization=charity) if charity is not None else Q(pk__in=[]))
    )
    versions = versions_visible_to(user).filter(in_force).values("pk")
    objectives = list(
        Objective.objects.filter(version_id__in=Subquery(versions)).select_related("version__plan__organization")
    )
    by_version: dict[int, list[Objective]] = defaultdict(list)
    version_list = {}
    for objective in objectives:
        by_version[objective.version_id].append(objective)
        version_list[objective.version_id] = objective.version
    ordered: list[tuple[Objective, int]] = []
    for version in sorted(
        version_list.values(),
        key=lambda v: (v.plan.organization.kind != OrganizationKind.AUTHORITY, v.plan.organization_id, v.plan_id),
    ):
        ordered += _tree(by_version.get(version.pk, []))
    if not ordered:
        return []
    counts, money = _counts_and_money(user, [objective.pk for objective, _depth in ordered], filters)

    indicators = list(Indicator.objects.filter(objective_id__in=[o.pk for o, _d in ordered]))
    graph = _Graph(indicators) if indicators else None
    by_objective: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        by_objective[indicator.objective_id].append(indicator)

    result = []
    for objective, depth in ordered:
        own = by_objective.get(objective.pk, [])
        percents = [p for p in (graph.latest_percent(i.pk, today) for i in own) if p is not None] if graph else []
        result.append(
            {
                "objective": objective,
                "depth": depth,
                "projects": counts.get(objective.pk, 0),
                "money": [money[objective.pk][c] for c in sorted(money.get(objective.pk, {}))],
                "indicators": len(own),
                "percent_bp": round(sum(percents) / len(percents)) if percents else None,
            }
        )
    return result


def objective_indicators(objective):
    return objective.indicators.select_related("feeds").prefetch_related("targets").order_by("code", "pk")


def objectives_by_pk(user, pks) -> dict[int, Objective]:
    try:
        pks = [int(pk) for pk in pks]
    except (TypeError, ValueError):
        raise Http404 from None
    return {o.pk: o for o in objectives_visible_to(user).filter(pk__in=pks)}
