"""Every figure of the dashboards, read in SQL aggregates from the projects the viewer may see.

A dashboard is one of four kinds: the ministry's (every charity; the ministry and auditors), a charity's (its own
projects and plan; its members), a donor's (the projects its donations are allocated to) and the public one (the
licensed projects, aggregated; never a donor). Each figure is one GROUP BY or aggregate query over the filtered
projects: the number of queries does not grow with the number of projects, and no row is read one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Case, Count, Exists, F, FloatField, Func, IntegerField, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Cast, ExtractDay, ExtractMonth, ExtractYear, Floor, Greatest, Least, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import CHARITY_ROLES
from shafaf.accounts.models import Organization
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role
from shafaf.core.money import Money
from shafaf.projects.choices import ACTIVE_STATUSES, LICENSED_STATUSES, ProjectModel, ProjectStatus
from shafaf.projects.codelists import COUNTRIES, SECTORS
from shafaf.projects.models import Project, ProjectLocation

from .filters import DashboardFilter

MINISTRY, CHARITY, DONOR, PUBLIC = "ministry", "charity", "donor", "public"
KINDS = (MINISTRY, CHARITY, DONOR, PUBLIC)
TITLES = {
    MINISTRY: _("Ministry dashboard"),
    CHARITY: _("Charity dashboard"),
    DONOR: _("The projects I fund"),
    PUBLIC: _("Licensed projects"),
}
# The map's grid: points are counted per cell of this many degrees, the busiest cells first, at most MAX_CELLS.
CELL_DEGREES = 1
MAX_CELLS = 2000


@dataclass
class Scope:
    """Who looks at which dashboard, and the projects it is made of before any filter."""

    kind: str
    user: object
    projects: object  # QuerySet[Project]
    charity_ids: frozenset[int] = frozenset()
    charity_choices: object = None  # the charities the filter offers (None: no charity filter)

    @property
    def title(self) -> str:
        return str(TITLES[self.kind])


def sector_category_label(category: str) -> str:
    """The DAC 3-digit category's name (from the sector codelist), or the code itself when unknown."""
    for item in SECTORS.values():
        if item.get("category") == category:
            english = item.get("category_name_en") or category
            arabic = item.get("category_name_ar") or english
            from django.utils.translation import get_language

            return english if (get_language() or "ar").startswith("en") else arabic
    return category


def kind_for(user) -> str | None:
    """The dashboard /dashboard/ opens for this user: the ministry's for the ministry and auditors, the charity's
    for a charity's members, the donor's for a donor account, None for anyone else."""
    if not user.is_authenticated:
        return PUBLIC
    if has_oversight(user):
        return MINISTRY
    if organization_ids_with_role(user, *CHARITY_ROLES):
        return CHARITY
    from shafaf.donations.portal import is_donor

    if is_donor(user):
        return DONOR
    return None


def scope_for(user, kind: str) -> Scope:
    """The scope of the dashboard `kind` for the user; PermissionDenied when it is not the user's to see."""
    if kind == PUBLIC:
        return Scope(PUBLIC, user, Project.objects.filter(status__in=sorted(LICENSED_STATUSES)))
    if not user.is_authenticated:
        raise PermissionDenied
    if kind == MINISTRY:
        if not has_oversight(user):
            raise PermissionDenied(_("The ministry's dashboard is for the ministry and auditors."))
        return Scope(MINISTRY, user, Project.objects.all(), charity_choices=Organization.objects.filter(kind="charity"))
    if kind == CHARITY:
        own = frozenset(organization_ids_with_role(user, *CHARITY_ROLES))
        if not own:
            raise PermissionDenied(_("The charity dashboard is for a charity's members."))
        choices = DashboardFilter.charities_for(own) if len(own) > 1 else None
        return Scope(
            CHARITY, user, Project.objects.filter(charity_id__in=own), charity_ids=own, charity_choices=choices
        )
    if kind == DONOR:
        from shafaf.donations.portal import is_donor, my_allocations, my_donations

        if not is_donor(user):
            raise PermissionDenied(_("This dashboard is for donors."))
        funded = Q(pk__in=my_allocations(user).values("project_id")) | Q(
            pk__in=my_donations(user).filter(project__isnull=False).values("project_id")
        )
        return Scope(DONOR, user, Project.objects.filter(funded))
    raise PermissionDenied


def filtered(scope: Scope, data) -> tuple[DashboardFilter, object, bool]:
    """(the bound filter, the filtered projects, whether the filter is valid)."""
    filterset = DashboardFilter(data or None, queryset=scope.projects, charities=scope.charity_choices)
    valid = not filterset.is_bound or filterset.is_valid()
    projects = filterset.qs if valid else scope.projects.none()
    return filterset, projects.order_by(), valid


def filter_params(filterset: DashboardFilter) -> dict[str, str]:
    """The filter's values as query-string parameters (the projects list understands every one)."""
    if not filterset.is_bound or not filterset.is_valid():
        return {}
    params = {}
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, ""):
            continue
        if isinstance(value, Organization):
            value = value.pk
        elif isinstance(value, dt.date):
            value = value.isoformat()
        params[name] = str(value)
    return params


def is_filtered(filterset: DashboardFilter) -> bool:
    return bool(filter_params(filterset))


# --- figures ----------------------------------------------------------------------------------------------------


class _EveryProject:
    """Stands for every project (the ministry's dashboard without a filter): rows are then read without the
    `project IN (all projects)` semi-join, which costs a scan of the projects for nothing."""

    def __repr__(self) -> str:
        return "EVERY_PROJECT"


EVERY_PROJECT = _EveryProject()


def rows_scope(scope: Scope, projects, filtered_: bool):
    """What the figures read other tables for: EVERY_PROJECT for the ministry without a filter, else the projects."""
    return EVERY_PROJECT if scope.kind == MINISTRY and not filtered_ else projects


def _of(queryset, projects, *, statuses=None, field: str = "project"):
    """The rows of `queryset` whose project is one of `projects` (a QuerySet or EVERY_PROJECT), and in `statuses`."""
    if projects is EVERY_PROJECT:
        return queryset.filter(**{f"{field}__status__in": sorted(statuses)}) if statuses else queryset
    if statuses:
        projects = projects.filter(status__in=sorted(statuses))
    return queryset.filter(**{f"{field}__in": projects.values("pk")})


@dataclass
class Bucket:
    key: str
    label: str
    count: int
    url: str = ""


@dataclass
class MoneyRow:
    currency: str
    budget: Money
    disbursed: Money
    spent: Money
    projects: int
    url: str = ""


def _status_label(value: str) -> str:
    try:
        return str(ProjectStatus(value).label)
    except ValueError:
        return value


def _model_label(value: str) -> str:
    try:
        return str(ProjectModel(value).label)
    except ValueError:
        return value


def projects_by(projects, dimension: str) -> list[Bucket]:
    """The filtered projects counted by status, country, sector (DAC 3-digit category) or MOSA model, the
    largest first (one GROUP BY query)."""
    if dimension == "sector":
        rows = projects.annotate(key=Substr("sector", 1, 3)).values("key").annotate(count=Count("pk"))
        label = sector_category_label
    else:
        rows = projects.values(key=F(dimension)).annotate(count=Count("pk"))
        label = {"status": _status_label, "country": COUNTRIES.label, "project_model": _model_label}[dimension]
    buckets = [Bucket(row["key"], label(row["key"]), row["count"]) for row in rows.order_by()]
    if dimension == "status":
        order = {value: index for index, value in enumerate(ProjectStatus.values)}
        return sorted(buckets, key=lambda bucket: order.get(bucket.key, len(order)))
    return sorted(buckets, key=lambda bucket: (-bucket.count, bucket.key))


def money_by_currency(projects) -> list[MoneyRow]:
    """Budgeted, disbursed and spent per currency, from the projects' finance roll-ups (exact integer sums)."""
    from shafaf.finance.models import ProjectFinance

    rows = (
        _of(ProjectFinance.objects.all(), projects)
        .values("currency")
        .annotate(
            budget=Sum("budget_minor"), disbursed=Sum("disbursed_minor"), spent=Sum("spent_minor"), count=Count("pk")
        )
        .order_by("currency")
    )
    return [
        MoneyRow(
            currency=row["currency"],
            budget=Money(int(row["budget"] or 0), row["currency"]),
            disbursed=Money(int(row["disbursed"] or 0), row["currency"]),
            spent=Money(int(row["spent"] or 0), row["currency"]),
            projects=row["count"],
        )
        for row in rows
    ]


def overlaps(scope: Scope, projects, filtered_: bool) -> dict[str, int]:
    """The cross-charity overlap flags touching the projects, by status (open, decided, withdrawn)."""
    from shafaf.coordination.choices import FlagStatus
    from shafaf.coordination.models import Flag

    flags = Flag.objects.filter(internal=False)
    if scope.kind != MINISTRY or filtered_:
        ids = projects.values("pk")
        flags = flags.filter(Q(project_a__in=ids) | Q(project_b__in=ids))
    return flags.aggregate(
        open=Count("pk", filter=Q(status=FlagStatus.OPEN)),
        decided=Count("pk", filter=Q(status=FlagStatus.DECIDED)),
        withdrawn=Count("pk", filter=Q(status=FlagStatus.WITHDRAWN)),
    )


def deviations_by_status(projects) -> list[Bucket]:
    from shafaf.finance.models import Deviation, DeviationStatus

    counts = dict(_of(Deviation.objects.all(), projects).values_list("status").annotate(count=Count("pk")).order_by())
    return [Bucket(value, str(label), counts.get(value, 0)) for value, label in DeviationStatus.choices]


def screening_by_status(projects, filtered_: bool) -> list[Bucket]:
    """The screening hits by status (of the partners implementing the filtered projects, when filtered)."""
    from shafaf.partners.choices import HitStatus
    from shafaf.partners.models import ScreeningHit

    hits = ScreeningHit.objects.all()
    if filtered_:
        hits = hits.filter(
            partner_id__in=projects.filter(implementing_partner__isnull=False).values("implementing_partner_id")
        )
    counts = dict(hits.values_list("status").annotate(count=Count("pk")).order_by())
    return [Bucket(value, str(label), counts.get(value, 0)) for value, label in HitStatus.choices]


def alerts_by_severity(projects) -> dict[str, int]:
    """The unresolved alerts of the projects, by severity."""
    from shafaf.projects.oversight.models import UNRESOLVED_STATUSES, Alert, AlertSeverity

    return _of(Alert.objects.filter(status__in=UNRESOLVED_STATUSES), projects).aggregate(
        warning=Count("pk", filter=Q(severity=AlertSeverity.WARNING)),
        critical=Count("pk", filter=Q(severity=AlertSeverity.CRITICAL)),
    )


def _leap_years() -> list[int]:
    return [year for year in range(1900, 2200) if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)]


class DatePart(Func):
    """A date's year, month or day as an integer: PostgreSQL's date_part (a double, cheaper than EXTRACT's numeric),
    Django's Extract elsewhere."""

    output_field = IntegerField()

    def __init__(self, expression, part: str):
        super().__init__(expression)
        self.part = part

    def as_sql(self, compiler, connection, **extra_context):
        extract = {"year": ExtractYear, "month": ExtractMonth, "day": ExtractDay}[self.part]
        return compiler.compile(extract(self.source_expressions[0]))

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date_part('{self.part}', {sql})::integer", params


def _month_index(name: str):
    return DatePart(F(name), "year") * 12 + DatePart(F(name), "month") - 1


def overdue_reports(projects, on_date: dt.date | None = None) -> dict[str, int]:
    """The progress reports past their due date without a submitted or accepted report, and the projects owing
    one: the same periods as shafaf.reports.selectors.overdue_reports, counted in two aggregate queries.

    Period n of a schedule (n from 0) is due on first_due + n × frequency months and starts on starts_on + n ×
    frequency months; it exists while it starts on or before the planned end (at most 240 periods). In month
    indexes (year × 12 + month), due_n is before today when n × frequency ≤ today − first_due's month, less one
    unless first_due's day is before today's; it starts on or before the end when n × frequency ≤ end − start's
    month, less one unless start's day is on or before the end's day (or the end is its month's last day).
    """
    from shafaf.reports.choices import COVERING_STATUSES
    from shafaf.reports.models import ProgressReport, ReportSchedule

    today = on_date or timezone.localdate()
    today_index = today.year * 12 + today.month - 1
    due_k = (
        Value(today_index)
        - _month_index("first_due")
        - Case(When(due_day__lt=today.day, then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    end_k = (
        _month_index("project__planned_end")
        - _month_index("starts_on")
        - Case(
            When(Q(start_day__lte=F("end_day")) | Q(end_day=F("end_month_length")), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    schedules = (
        _of(ReportSchedule.objects.all(), projects, statuses=LICENSED_STATUSES)
        .annotate(
            end_year=DatePart(F("project__planned_end"), "year"),
            end_month=DatePart(F("project__planned_end"), "month"),
            end_day=DatePart(F("project__planned_end"), "day"),
            start_day=DatePart(F("starts_on"), "day"),
            due_day=DatePart(F("first_due"), "day"),
        )
        .annotate(
            end_month_length=Case(
                When(end_month__in=[4, 6, 9, 11], then=Value(30)),
                When(
                    Q(end_month=2) & Q(end_year__in=_leap_years()),
                    then=Value(29),
                ),
                When(end_month=2, then=Value(28)),
                default=Value(31),
                output_field=IntegerField(),
            )
        )
        .annotate(last_k=Least(due_k, end_k, F("frequency_months") * 239, output_field=IntegerField()))
        # floor(last_k / frequency) + 1 periods when last_k >= 0, else none: one integer division either way.
        .annotate(due=Greatest(F("last_k") + F("frequency_months"), Value(0)) / F("frequency_months"))
    )
    due = schedules.aggregate(periods=Sum("due"))
    covered = (
        _of(ProgressReport.objects.all(), projects, statuses=LICENSED_STATUSES)
        .filter(
            project__report_schedule__isnull=False,
            status__in=sorted(COVERING_STATUSES),
            due_date__lt=today,
        )
        .count()
    )
    return {"reports": max(0, int(due["periods"] or 0) - covered)}


@dataclass
class ComplianceRow:
    charity: Organization
    compliance_class: str
    active: int
    checked: int
    failing: int

    @property
    def label(self) -> str:
        from shafaf.projects.oversight.selectors import ComplianceClass

        return str(ComplianceClass.LABELS[self.compliance_class])

    @property
    def badge(self) -> str:
        from shafaf.projects.oversight.selectors import ComplianceClass

        return ComplianceClass.BADGES[self.compliance_class]


def compliance_by_charity(projects) -> list[ComplianceRow]:
    """Each charity's compliance class (shafaf.projects.oversight's rule: from the latest rulebook run of each of
    its active projects) over the filtered projects: two GROUP BY queries (the active projects, and the latest runs
    found by an anti-join: no later run of the same project) and one for the charities' names."""
    from shafaf.projects.oversight.selectors import classify
    from shafaf.projects.rulebook.models import RulebookRun

    active = (Project.objects.all() if projects is EVERY_PROJECT else projects).filter(status__in=ACTIVE_STATUSES)
    counts = {row["charity_id"]: row["n"] for row in active.values("charity_id").annotate(n=Count("pk")).order_by()}
    if not counts:
        return []
    later = RulebookRun.objects.filter(project_id=OuterRef("project_id")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id"))
    )
    latest = (
        _of(RulebookRun.objects.all(), projects, statuses=ACTIVE_STATUSES)
        .filter(~Exists(later))
        .values(charity_id=F("project__charity_id"))
        .annotate(checked=Count("pk"), failing=Count("pk", filter=Q(blocking_failures__gt=0)))
        .order_by()
    )
    runs = {row["charity_id"]: row for row in latest}
    answer = []
    for charity in Organization.objects.filter(pk__in=counts).order_by("name_en", "pk"):
        checked = runs.get(charity.pk, {}).get("checked", 0)
        failing = runs.get(charity.pk, {}).get("failing", 0)
        answer.append(ComplianceRow(charity, classify(checked, failing), counts[charity.pk], checked, failing))
    return answer


def objective_rows(user, *, charity=None, projects=None, filtered_: bool = False) -> list[dict]:
    """The progress of each objective of the plans in force (shafaf.strategy.selectors.objective_progress: the
    ministry's, and the charity's with `charity`), restricted to the filtered projects when a filter is set."""
    from shafaf.strategy.selectors import objective_progress

    condition = (
        Q(pk__in=projects.values("pk"))
        if (filtered_ and projects is not None and projects is not EVERY_PROJECT)
        else None
    )
    return objective_progress(user, charity=charity, filters=condition)


def cached_details(scope: Scope, *, charity=None, projects=None, params=None, filtered_: bool = False) -> dict:
    """The slower, slowly changing figures of the ministry's and a charity's dashboard: the overdue reports, the
    compliance classes and the progress of the objectives. Kept in the cache for SHAFAF_DASHBOARD_CACHE_SECONDS
    (0: not kept), per dashboard, charities seen, charity, filter and day: whoever shares these sees the same."""
    from django.conf import settings
    from django.core.cache import cache

    seconds = int(getattr(settings, "SHAFAF_DASHBOARD_CACHE_SECONDS", 120))
    key = "|".join(
        [
            "dashboards:details:1",
            scope.kind,
            ",".join(str(pk) for pk in sorted(scope.charity_ids)),
            str(charity.pk if charity is not None else ""),
            "&".join(f"{name}={value}" for name, value in sorted((params or {}).items())),
            timezone.localdate().isoformat(),
        ]
    )
    if seconds:
        answer = cache.get(key)
        if answer is not None:
            return answer
    answer = {
        "overdue": overdue_reports(projects),
        "compliance": compliance_by_charity(projects),
        "objectives": objective_rows(scope.user, charity=charity, projects=projects, filtered_=filtered_),
    }
    if seconds:
        cache.set(key, answer, seconds)
    return answer


def donor_allocations(user) -> list[Money]:
    """The donor's own allocations per currency."""
    from shafaf.donations.portal import my_allocations

    return [
        Money(int(row["total"]), row["currency"])
        for row in my_allocations(user).values("currency").annotate(total=Sum("amount_minor")).order_by("currency")
        if row["total"]
    ]


# --- the map ----------------------------------------------------------------------------------------------------


@dataclass
class MapData:
    countries: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    points: int = 0


def map_cells(projects) -> tuple[list[dict], int]:
    """The projects' GPS points counted per grid cell of CELL_DEGREES, each at its points' mean position, the
    busiest MAX_CELLS cells (one GROUP BY query whatever the number of points)."""
    rows = (
        _of(ProjectLocation.objects.filter(latitude__isnull=False), projects)
        .annotate(lat_f=Cast("latitude", FloatField()), lon_f=Cast("longitude", FloatField()))
        .annotate(cell_y=Floor(F("lat_f") / CELL_DEGREES), cell_x=Floor(F("lon_f") / CELL_DEGREES))
        .values("cell_y", "cell_x")
        .annotate(count=Count("pk"), lat=Avg("lat_f"), lon=Avg("lon_f"))
        .order_by("-count", "cell_y", "cell_x")[:MAX_CELLS]
    )
    cells = [
        {"lat": round(float(row["lat"]), 4), "lon": round(float(row["lon"]), 4), "count": row["count"]} for row in rows
    ]
    return cells, sum(cell["count"] for cell in cells)
