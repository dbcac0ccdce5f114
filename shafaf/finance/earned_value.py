"""Earned value of a project: what its budget planned to have spent by a date (PV), what its progress is worth
(EV), what it has actually spent (AC), and the indices and estimate that follow (CPI, SPI, EAC).

The maths is exact: integers and Fractions, never floats; only the final figures are rounded, each with a named
mode (ROUNDING). Definitions, with BAC the budget at completion (ProjectFinance.budget_minor, the current
version's total):

* a phase's planned fraction at date t grows linearly, one equal step per calendar day, from its planned start
  to its planned end, counting day t as elapsed (a status date is the end of its day): before the start it is 0,
  on the start 1/n for a phase of n days, from the end on it is 1;
* PV(t) = BAC × Σ wᵢ·plannedᵢ(t) / Σ wᵢ;  EV = BAC × Σ wᵢ·percent_completeᵢ / 100 / Σ wᵢ;
* a milestone weighs 0 here whatever its stored weight: it is a point to reach, not work that takes time;
* AC(t) = the project's expenditures up to t in its currency (Expenditure.project_amount_minor);
* CPI = EV / AC, SPI = EV / PV (None when the denominator is 0), to 0.01; EAC = BAC / CPI = BAC × AC / EV,
  computed from the unrounded CPI (None when CPI is None or rounds to 0.00).

A project without weighted phases has no measure of progress: its PV grows linearly over the project's planned
dates and its EV (with CPI, SPI and EAC) is None, with an explanation to show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from shafaf.core.money import BIGINT_MAX, Money

# Every rounding of this module: amounts to the currency's minor unit, indices to 0.01. Half-even ("banker's")
# rounding, like the conversions of shafaf.finance.rates, so that rounding errors do not drift one way.
ROUNDING = ROUND_HALF_EVEN
INDEX_PLACES = 2

NO_PHASES = _("The project has no weighted phases, so its progress cannot be measured: earned value needs them.")
NO_BUDGET = _("The project has no budget yet.")


@dataclass(frozen=True)
class PhasePlan:
    """What earned value reads of a phase (shafaf.projects.models.ProjectPhase)."""

    weight: int
    planned_start: dt.date
    planned_end: dt.date
    percent_complete: int
    is_milestone: bool = False

    @property
    def effective_weight(self) -> int:
        return 0 if self.is_milestone else int(self.weight)

    @classmethod
    def of(cls, phase) -> PhasePlan:
        return cls(
            weight=phase.weight,
            planned_start=phase.planned_start,
            planned_end=phase.planned_end,
            percent_complete=phase.percent_complete,
            is_milestone=phase.is_milestone,
        )


@dataclass(frozen=True)
class EarnedValue:
    """A project's earned value on a date. Amounts are Money in the project's currency; indices are Decimal to
    0.01. `ev`, `cpi`, `spi` and `eac` are None when they cannot be computed (`explanation` says why for EV)."""

    on_date: dt.date
    currency: str
    bac: Money
    pv: Money
    ev: Money | None
    ac: Money
    cpi: Decimal | None
    spi: Decimal | None
    eac: Money | None
    planned_fraction: Fraction
    earned_fraction: Fraction | None
    has_phases: bool
    explanation: str = ""

    @property
    def sv(self) -> Money | None:
        """Schedule variance EV − PV."""
        return None if self.ev is None else self.ev - self.pv

    @property
    def cv(self) -> Money | None:
        """Cost variance EV − AC."""
        return None if self.ev is None else self.ev - self.ac


# ------------------------------------------------------------------------------------------------------------------
# Pure maths


def _round_fraction(value: Fraction) -> int:
    """`value` rounded to an integer, half to even (Python's round() on a Fraction is exact and half-even)."""
    assert ROUNDING == ROUND_HALF_EVEN
    return round(value)


def money_of(bac: Money, fraction: Fraction) -> Money:
    """BAC × fraction, rounded to the minor unit (ROUNDING)."""
    return Money(_round_fraction(bac.minor * fraction), bac.currency)


def index(numerator: Fraction, denominator: Fraction) -> Decimal | None:
    """numerator / denominator to 0.01 (ROUNDING); None when the denominator is 0."""
    if denominator == 0:
        return None
    hundredths = _round_fraction(Fraction(numerator) / Fraction(denominator) * 10**INDEX_PLACES)
    return Decimal(hundredths).scaleb(-INDEX_PLACES)


def elapsed_fraction(start: dt.date, end: dt.date, on_date: dt.date) -> Fraction:
    """How much of [start, end] has elapsed at the end of `on_date`, one equal step per calendar day."""
    if end < start:
        start, end = end, start
    if on_date < start:
        return Fraction(0)
    if on_date >= end:
        return Fraction(1)
    return Fraction((on_date - start).days + 1, (end - start).days + 1)


def planned_fraction(phases: Iterable[PhasePlan], on_date: dt.date) -> Fraction | None:
    """Σ wᵢ·plannedᵢ(t) / Σ wᵢ, or None when the phases weigh nothing."""
    total, weighted = 0, Fraction(0)
    for phase in phases:
        weight = phase.effective_weight
        total += weight
        if weight:
            weighted += weight * elapsed_fraction(phase.planned_start, phase.planned_end, on_date)
    return weighted / total if total else None


def earned_fraction(phases: Iterable[PhasePlan]) -> Fraction | None:
    """Σ wᵢ·percent_completeᵢ / 100 / Σ wᵢ, or None when the phases weigh nothing."""
    total, weighted = 0, 0
    for phase in phases:
        weight = phase.effective_weight
        total += weight
        weighted += weight * int(phase.percent_complete)
    return Fraction(weighted, 100 * total) if total else None


def compute(
    *,
    bac: Money,
    ac: Money,
    phases: Iterable[PhasePlan],
    project_start: dt.date,
    project_end: dt.date,
    on_date: dt.date,
) -> EarnedValue:
    """Earned value from its inputs, without the database (the portfolio computes a page of projects with it)."""
    phases = list(phases)
    planned = planned_fraction(phases, on_date)
    earned = earned_fraction(phases)
    has_phases = planned is not None
    if planned is None:
        planned = elapsed_fraction(project_start, project_end, on_date)
    pv = money_of(bac, planned)
    exact_pv = bac.minor * planned
    ev = cpi = spi = eac = None
    explanation = ""
    if earned is None:
        explanation = str(NO_PHASES)
    else:
        exact_ev = bac.minor * earned
        ev = money_of(bac, earned)
        cpi = index(exact_ev, Fraction(ac.minor))
        spi = index(exact_ev, exact_pv)
        if cpi is not None and cpi != 0:
            # EAC = BAC / CPI with the unrounded CPI = EV / AC, i.e. BAC × AC / EV.
            eac_minor = _round_fraction(Fraction(bac.minor) * ac.minor / exact_ev)
            eac = Money(eac_minor, bac.currency) if abs(eac_minor) <= BIGINT_MAX else None
    if bac.minor == 0 and not explanation:
        explanation = str(NO_BUDGET)
    return EarnedValue(
        on_date=on_date,
        currency=bac.currency,
        bac=bac,
        pv=pv,
        ev=ev,
        ac=ac,
        cpi=cpi,
        spi=spi,
        eac=eac,
        planned_fraction=planned,
        earned_fraction=earned,
        has_phases=has_phases,
        explanation=explanation,
    )


# ------------------------------------------------------------------------------------------------------------------
# From the database


def budget_at_completion(project) -> Money:
    """BAC: the roll-up's budget (the current version's total) in the project's currency; the current version's
    total when the roll-up does not exist yet."""
    from .models import BudgetVersion, ProjectFinance

    row = ProjectFinance.objects.filter(project=project).values_list("budget_minor", "currency").first()
    if row is not None:
        return Money(int(row[0]), row[1] or project.currency)
    version = BudgetVersion.objects.filter(project=project).order_by("-number").values_list("total_minor").first()
    return Money(int(version[0]) if version else 0, project.currency)


def actual_cost(project, on_date: dt.date, currency: str) -> Money:
    """AC: the project's expenditures up to and including `on_date`, in its currency (one indexed SUM)."""
    from django.db.models import Sum

    from .models import Expenditure

    total = Expenditure.objects.filter(project=project, spent_on__lte=on_date).aggregate(
        total=Sum("project_amount_minor")
    )["total"]
    return Money(int(total or 0), currency)


def project_phases(project) -> list[PhasePlan]:
    from shafaf.projects.models import ProjectPhase

    rows = ProjectPhase.objects.filter(project=project).values_list(
        "weight", "planned_start", "planned_end", "percent_complete", "is_milestone"
    )
    return [PhasePlan(*row) for row in rows]


def earned_value(project, on_date: dt.date | None = None) -> EarnedValue:
    """The project's earned value on `on_date` (today by default): three queries."""
    from django.utils import timezone

    on_date = on_date or timezone.localdate()
    bac = budget_at_completion(project)
    return compute(
        bac=bac,
        ac=actual_cost(project, on_date, bac.currency),
        phases=project_phases(project),
        project_start=project.planned_start,
        project_end=project.planned_end,
        on_date=on_date,
    )


@dataclass(frozen=True)
class CurvePoint:
    on_date: dt.date
    pv: Money
    ac: Money | None  # None after today: nothing has been spent in the future yet
    ev: Money | None  # only on today's point


def _month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The last day of each month from start's month to end's, the last one cut to `end`."""
    points = []
    year, month = start.year, start.month
    while True:
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        month_end = following - dt.timedelta(days=1)
        if month_end >= end:
            points.append(end)
            return points
        points.append(month_end)
        year, month = following.year, following.month


def s_curve(project, today: dt.date | None = None) -> list[CurvePoint]:
    """Monthly points from the project's planned start to max(planned end, today): cumulative PV and AC, and EV
    on today's point (inserted when today falls between two month ends). Four queries, whatever the number of
    expenditures: AC is summed per day in SQL."""
    from django.db.models import Sum
    from django.utils import timezone

    from .models import Expenditure

    today = today or timezone.localdate()
    bac = budget_at_completion(project)
    phases = project_phases(project)
    end = max(project.planned_end, today)
    dates = _month_ends(project.planned_start, end)
    if project.planned_start <= today <= end and today not in dates:
        dates = sorted([*dates, today])
    by_day = (
        Expenditure.objects.filter(project=project, spent_on__lte=dates[-1])
        .values("spent_on")
        .annotate(total=Sum("project_amount_minor"))
        .order_by("spent_on")
        .values_list("spent_on", "total")
    )
    spending = list(by_day)
    now = compute(
        bac=bac,
        ac=Money(0, bac.currency),
        phases=phases,
        project_start=project.planned_start,
        project_end=project.planned_end,
        on_date=today,
    )
    points, cumulative, index_ = [], 0, 0
    for point_date in dates:
        while index_ < len(spending) and spending[index_][0] <= point_date:
            cumulative += int(spending[index_][1] or 0)
            index_ += 1
        planned = planned_fraction(phases, point_date)
        if planned is None:
            planned = elapsed_fraction(project.planned_start, project.planned_end, point_date)
        points.append(
            CurvePoint(
                on_date=point_date,
                pv=money_of(bac, planned),
                ac=Money(cumulative, bac.currency) if point_date <= today else None,
                ev=now.ev if point_date == today else None,
            )
        )
    return points
