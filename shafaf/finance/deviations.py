"""Deviations from a project's budget (issue 6, part 5): the variance per line, per period and for the whole
budget; the detection of spending beyond the ministry's thresholds; the warnings before a threshold is crossed;
and the workflow of a deviation: the charity justifies it in writing, the ministry approves or rejects it.

The maths is shafaf.finance.variance (integers only: minor units and basis points, every rounding named):
spending S on a budget B is beyond a threshold of T basis points when S × 10000 > B × (10000 + T), so 10 % over a
line with a 10 % threshold is within and 10.01 % is beyond. A line with no amount (B = 0) and any spending is
beyond every threshold; its ratio has no value and shows as "∞".

Only over-spending opens a deviation. Under-spending is shown as variance (a negative difference) but never needs
a justification: a project that has not spent its budget yet is not at fault, and a saving is not a breach.

Lifecycle of a deviation (DeviationStatus):

    open ──justify──▶ justified ──approve──▶ approved            (settled; covers spending up to
      ▲                   │                                        approved_spent_minor + the threshold)
      │                   └──reject───▶ rejected ──justify──▶ justified
      │
    open / justified / rejected ──(spending back within the threshold, e.g. a budget revision)──▶ resolved

A rejected deviation blocks new spending on its line (on every line for the total) until it is resolved or a new
justification is approved (spending_blocked). Once approved, a new deviation opens on the same line only when the
spending passes the approved spending by more than the threshold again.

deviations_detect is idempotent and cheap (a handful of queries); the expenditure and budget services call it in
their transaction after every change."""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Case, IntegerField, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money, round_ratio

from . import permissions, rollup, variance
from .models import (
    UNSETTLED_DEVIATION_STATUSES,
    BudgetLine,
    BudgetPeriod,
    BudgetVersionLine,
    Deviation,
    DeviationScope,
    DeviationStatus,
    Expenditure,
    FinanceSettings,
    ProjectFinance,
)

BP = variance.BP
ROUNDING = decimal.ROUND_HALF_EVEN
MIN_JUSTIFICATION = 20
INFINITY = "∞"

# Why a deviation was resolved (stored in Deviation.resolution, shown translated).
RESOLVED_WITHIN = "within_threshold"
RESOLVED_COVERED = "covered_by_approval"
RESOLVED_NO_SPENDING = "no_spending"
RESOLUTIONS = {
    RESOLVED_WITHIN: gettext_lazy("Spending is back within the threshold of the current budget."),
    RESOLVED_COVERED: gettext_lazy("Spending is within the spending the ministry approved."),
    RESOLVED_NO_SPENDING: gettext_lazy("The line no longer has any spending."),
}

WARN_AT_BUDGET = "at_budget"
WARN_NEAR_THRESHOLD = "near_threshold"


# --- the maths ---------------------------------------------------------------------------------------------------


def ratio_decimal(spent: int, budget: int, places: int = 4) -> Decimal | None:
    """spent / budget as a Decimal with `places` decimals, rounded half-even (1.0734); None without a budget."""
    if budget <= 0:
        return None
    return Decimal(round_ratio(spent * 10**places, budget, decimal.ROUND_HALF_EVEN)).scaleb(-places)


def ratio_text(ratio_bp: int | None, *, infinite: bool = False) -> str:
    """A ratio in basis points as a percentage for people: 10734 → "107.34 %"; "∞" for spending with no budget;
    "—" when there is neither budget nor spending."""
    if ratio_bp is None:
        return INFINITY if infinite else "—"
    sign = "-" if ratio_bp < 0 else ""
    whole, cents = divmod(abs(ratio_bp), 100)
    return f"{sign}{whole}.{cents:02d} %"


def percent_text(bp: int) -> str:
    """Basis points as a plain percentage: 1000 → "10", 750 → "7.5", 1 → "0.01"."""
    return format(Decimal(bp).scaleb(-2).normalize(), "f")


def parse_percent(text, *, field: str, maximum_bp: int = 100000) -> int:
    """A percentage typed by a person ("10", "7.5", "٧٫٥") in basis points; DomainError naming the field when it
    is not a number, negative, beyond `maximum_bp` or more precise than a basis point."""
    cleaned = str(text or "").strip().translate(str.maketrans("٠١٢٣٤٥٦٧٨٩٫,", "0123456789..")).rstrip("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise DomainError(_("Enter a percentage."), code="invalid", fields={field: [_("Enter a percentage.")]})
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        message = _("At most two decimals (a basis point).")
        raise DomainError(message, code="invalid", fields={field: [message]})
    bp = int(scaled)
    if bp < 0 or bp > maximum_bp:
        message = _("Enter a percentage between 0 and %(max)s.") % {"max": percent_text(maximum_bp)}
        raise DomainError(message, code="invalid", fields={field: [message]})
    return bp


@dataclass(frozen=True)
class Variance:
    """Budget against spending for one line, one period or the whole budget, in the project's currency.
    `threshold_bp` is None for a period (informational: periods have no threshold)."""

    currency: str
    budget_minor: int
    spent_minor: int
    threshold_bp: int | None = None
    warning_percent: int = 80
    # The spending the ministry approved on this line / total (None without an approval).
    approved_spent_minor: int | None = None

    @property
    def budget(self) -> Money:
        return Money(self.budget_minor, self.currency)

    @property
    def spent(self) -> Money:
        return Money(self.spent_minor, self.currency)

    @property
    def difference(self) -> Money:
        """Spending minus budget: negative when under budget."""
        return Money(self.spent_minor - self.budget_minor, self.currency)

    @property
    def ratio_bp(self) -> int | None:
        return variance.ratio_bp(self.spent_minor, self.budget_minor)

    @property
    def infinite(self) -> bool:
        """Spending with no budget: beyond every threshold, no ratio."""
        return self.budget_minor <= 0 and self.spent_minor > 0

    @property
    def ratio_text(self) -> str:
        return ratio_text(self.ratio_bp, infinite=self.infinite)

    @property
    def beyond(self) -> bool:
        """Beyond the threshold of the budget (whatever the ministry approved)."""
        return self.threshold_bp is not None and variance.is_beyond(
            self.spent_minor, self.budget_minor, self.threshold_bp
        )

    @property
    def covered(self) -> bool:
        """Beyond the budget's threshold, but within the threshold of the spending the ministry approved."""
        return (
            self.beyond
            and self.approved_spent_minor is not None
            and not variance.is_beyond(self.spent_minor, self.approved_spent_minor, self.threshold_bp)
        )

    @property
    def needs_deviation(self) -> bool:
        return self.beyond and not self.covered

    @property
    def base_minor(self) -> int:
        """What the spending is measured against for warnings: the budget, or the approved spending above it."""
        if self.covered:
            return max(self.budget_minor, self.approved_spent_minor or 0)
        return self.budget_minor

    @property
    def warning(self) -> str:
        """Empty (nothing to say), WARN_AT_BUDGET (fully spent: 100 % or more, not yet near the threshold) or
        WARN_NEAR_THRESHOLD (past `warning_percent` % of the way to the threshold, not beyond)."""
        if self.threshold_bp is None or self.needs_deviation:
            return ""
        base, spent = self.base_minor, self.spent_minor
        if base <= 0:
            return ""
        if spent * BP * 100 >= base * (BP * 100 + self.threshold_bp * self.warning_percent):
            return WARN_NEAR_THRESHOLD
        if spent >= base and not self.covered:
            return WARN_AT_BUDGET
        return ""

    @property
    def warn_at_bp(self) -> int | None:
        if self.threshold_bp is None:
            return None
        return variance.warning_level_bp(self.threshold_bp, self.warning_percent)

    @property
    def limit_bp(self) -> int | None:
        """The ratio beyond which a deviation opens (10000 + threshold)."""
        return None if self.threshold_bp is None else BP + self.threshold_bp


@dataclass
class LineVariance:
    line: BudgetLine
    variance: Variance
    deviation: Deviation | None = None  # the unsettled deviation on the line, if any


@dataclass
class PeriodVariance:
    period: BudgetPeriod
    variance: Variance


@dataclass
class ProjectVariance:
    project: object
    settings: FinanceSettings
    version: object | None
    currency: str
    total: Variance
    lines: list[LineVariance] = field(default_factory=list)
    periods: list[PeriodVariance] = field(default_factory=list)

    @property
    def has_budget(self) -> bool:
        return self.version is not None


def _settings() -> FinanceSettings:
    from .rates import settings

    return settings()


def _approved_by_subject(deviations) -> dict:
    """The latest approval per subject (line id, or None for the total)."""
    found: dict = {}
    for deviation in deviations:
        if deviation.status != DeviationStatus.APPROVED or deviation.approved_spent_minor is None:
            continue
        key = deviation.line_id if deviation.scope == DeviationScope.LINE else None
        current = found.get(key)
        if current is None or (deviation.decided_at or deviation.detected_at, deviation.pk) > (
            current.decided_at or current.detected_at,
            current.pk,
        ):
            found[key] = deviation
    return found


def _line_amounts(version) -> dict[int, int]:
    if version is None:
        return {}
    return dict(BudgetVersionLine.objects.filter(version=version).values_list("line_id", "amount_minor"))


def _total_spent(project, finance: ProjectFinance | None) -> int:
    if finance is not None:
        return int(finance.spent_minor)
    total = BudgetLine.objects.filter(project=project).aggregate(total=Coalesce(Sum("spent_minor"), 0))["total"]
    return int(total)


def project_variance(project, *, with_periods: bool = True, deviations=None) -> ProjectVariance:
    """The project's variance per line, per period of its current budget version and for the whole budget, from
    the roll-ups (BudgetLine.spent_minor, ProjectFinance.spent_minor) and one aggregate for the periods."""
    config = _settings()
    version = rollup.current_version(project)
    currency = version.currency if version else project.currency
    finance = ProjectFinance.objects.filter(pk=project.pk).first()
    if deviations is None:
        deviations = list(
            Deviation.objects.filter(
                project=project, status__in=[*UNSETTLED_DEVIATION_STATUSES, DeviationStatus.APPROVED]
            )
        )
    approved = _approved_by_subject(deviations)
    unsettled = {
        (d.line_id if d.scope == DeviationScope.LINE else None): d
        for d in deviations
        if d.status in UNSETTLED_DEVIATION_STATUSES
    }
    amounts = _line_amounts(version)
    lines = []
    for line in BudgetLine.objects.filter(project=project).order_by("code"):
        amount = int(amounts.get(line.pk, 0))
        if line.pk not in amounts and line.spent_minor == 0:
            continue  # a line of an earlier version, unused
        approval = approved.get(line.pk)
        lines.append(
            LineVariance(
                line=line,
                variance=Variance(
                    currency,
                    amount,
                    int(line.spent_minor),
                    config.line_threshold_bp,
                    config.warning_percent,
                    approval.approved_spent_minor if approval else None,
                ),
                deviation=unsettled.get(line.pk),
            )
        )
    approval = approved.get(None)
    total = Variance(
        currency,
        int(version.total_minor) if version else 0,
        _total_spent(project, finance),
        config.total_threshold_bp if version else None,
        config.warning_percent,
        approval.approved_spent_minor if approval else None,
    )
    periods = []
    if with_periods and version is not None:
        rows = list(BudgetPeriod.objects.filter(version=version).order_by("start", "id"))
        if rows:
            sums = Expenditure.objects.filter(project=project).aggregate(
                **{
                    f"p{row.pk}": Coalesce(
                        Sum(
                            Case(
                                When(spent_on__gte=row.start, spent_on__lte=row.end, then="project_amount_minor"),
                                default=0,
                                output_field=IntegerField(),
                            )
                        ),
                        0,
                    )
                    for row in rows
                }
            )
            periods = [
                PeriodVariance(row, Variance(currency, int(row.amount_minor), int(sums[f"p{row.pk}"] or 0)))
                for row in rows
            ]
    return ProjectVariance(
        project=project, settings=config, version=version, currency=currency, total=total, lines=lines, periods=periods
    )


# --- warnings -----------------------------------------------------------------------------------------------------


def _warning_dict(scope: str, line, value: Variance) -> dict:
    level = value.warning
    limit = ratio_text(value.limit_bp)
    if scope == DeviationScope.LINE:
        if level == WARN_NEAR_THRESHOLD:
            message = _("Line %(code)s has spent %(ratio)s of its amount: a deviation opens beyond %(limit)s.") % {
                "code": line.code,
                "ratio": value.ratio_text,
                "limit": limit,
            }
        else:
            message = _("Line %(code)s is fully spent (%(ratio)s): a deviation opens beyond %(limit)s.") % {
                "code": line.code,
                "ratio": value.ratio_text,
                "limit": limit,
            }
    elif level == WARN_NEAR_THRESHOLD:
        message = _("The project has spent %(ratio)s of its budget: a deviation opens beyond %(limit)s.") % {
            "ratio": value.ratio_text,
            "limit": limit,
        }
    else:
        message = _("The project's budget is fully spent (%(ratio)s): a deviation opens beyond %(limit)s.") % {
            "ratio": value.ratio_text,
            "limit": limit,
        }
    return {
        "scope": str(scope),
        "line": line.pk if line is not None else None,
        "code": line.code if line is not None else "",
        "category": line.category if line is not None else "",
        "level": level,
        "budget_minor": value.budget_minor,
        "spent_minor": value.spent_minor,
        "currency": value.currency,
        "ratio_bp": value.ratio_bp,
        "ratio_text": value.ratio_text,
        "threshold_bp": value.threshold_bp,
        "warn_at_bp": value.warn_at_bp,
        "message": message,
    }


def warnings_of(data: ProjectVariance) -> list[dict]:
    found = [_warning_dict(DeviationScope.LINE, row.line, row.variance) for row in data.lines if row.variance.warning]
    if data.total.warning:
        found.append(_warning_dict(DeviationScope.TOTAL, None, data.total))
    return found


def deviation_warnings(project) -> list[dict]:
    """The lines (and the total) approaching their threshold but not beyond it: past FinanceSettings.warning_percent
    % of the way to the threshold (line threshold 10 % and warning 80 % → from 108 %), or fully spent (100 %).
    Each is a dict: scope, line (id or None), code, category, level ("near_threshold" or "at_budget"), budget_minor,
    spent_minor, currency, ratio_bp, ratio_text, threshold_bp, warn_at_bp and a translated message."""
    return warnings_of(project_variance(project, with_periods=False))


# --- detection ----------------------------------------------------------------------------------------------------


def _figures(value: Variance) -> dict:
    return {
        "budget_minor": value.budget_minor,
        "spent_minor": value.spent_minor,
        "ratio_bp": value.ratio_bp if value.ratio_bp is not None else 0,
        "threshold_bp": value.threshold_bp,
    }


def _open(*, actor, project, version, scope: str, line, value: Variance) -> Deviation:
    deviation = Deviation.objects.create(
        project=project,
        scope=scope,
        line=line,
        status=DeviationStatus.OPEN,
        currency=value.currency,
        budget_version=version,
        **_figures(value),
    )
    audit.record(
        actor=actor,
        action="deviation.open",
        subject=deviation,
        organization=project.charity,
        role=None if actor is not None else "",
        changes={
            "status": [None, DeviationStatus.OPEN],
            "scope": [None, scope],
            "line": [None, line.code if line is not None else None],
            "budget_minor": [None, value.budget_minor],
            "spent_minor": [None, value.spent_minor],
            "ratio": [None, value.ratio_text],
            "threshold_bp": [None, value.threshold_bp],
            "budget_version": [None, version.number],
        },
    )
    return deviation


def _resolve(*, actor, deviation: Deviation, value: Variance, reason: str) -> bool:
    now = timezone.now()
    claimed = Deviation.objects.filter(pk=deviation.pk, status=deviation.status).update(
        status=DeviationStatus.RESOLVED, resolved_at=now, resolution=reason, **_figures(value)
    )
    if not claimed:
        return False
    old = deviation.status
    deviation.refresh_from_db()
    audit.record(
        actor=actor,
        action="deviation.resolve",
        subject=deviation,
        organization=deviation.project.charity,
        role=None if actor is not None else "",
        changes={
            "status": [old, DeviationStatus.RESOLVED],
            "resolution": [None, reason],
            "spent_minor": [None, value.spent_minor],
            "budget_minor": [None, value.budget_minor],
        },
    )
    return True


def deviations_detect(project, *, actor=None) -> list[Deviation]:
    """Opens, updates or resolves the project's deviations from its roll-ups, and returns the deviations that now
    stand unsettled (open, justified or rejected).

    For each budget line whose spending passes its amount in the current version by more than
    FinanceSettings.line_threshold_bp, and for the whole budget beyond total_threshold_bp (over-spending only):
    an unsettled deviation on it has its figures brought up to date; an approval covers it while the spending
    stays within the approved spending plus the threshold; otherwise a new deviation opens (audited
    "deviation.open"). An unsettled deviation whose spending is back within the threshold (a budget revision, a
    reversal) is resolved (audited "deviation.resolve"). Idempotent: a second call changes nothing.

    Runs in the caller's transaction (or its own), with the project's roll-up row locked so that two concurrent
    expenditures do not both open the same deviation. Refreshes the roll-ups when a deviation opened or resolved."""
    with transaction.atomic():
        rollup.ensure(project)
        ProjectFinance.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()
        deviations = list(
            Deviation.objects.select_related("line", "project__charity").filter(
                project=project, status__in=[*UNSETTLED_DEVIATION_STATUSES, DeviationStatus.APPROVED]
            )
        )
        data = project_variance(project, with_periods=False, deviations=deviations)
        unsettled = {
            (d.line_id if d.scope == DeviationScope.LINE else None): d
            for d in deviations
            if d.status in UNSETTLED_DEVIATION_STATUSES
        }
        changed = False
        standing: list[Deviation] = []
        subjects = [(DeviationScope.LINE, row.line, row.variance) for row in data.lines]
        if data.version is not None:
            subjects.append((DeviationScope.TOTAL, None, data.total))
        seen = set()
        for scope, line, value in subjects:
            key = line.pk if line is not None else None
            seen.add(key)
            existing = unsettled.get(key)
            if value.needs_deviation:
                if existing is None:
                    standing.append(
                        _open(actor=actor, project=project, version=data.version, scope=scope, line=line, value=value)
                    )
                    changed = True
                    continue
                figures = _figures(value)
                if existing.budget_version_id != data.version.pk or any(
                    getattr(existing, name) != figure for name, figure in figures.items()
                ):
                    Deviation.objects.filter(pk=existing.pk).update(budget_version=data.version, **figures)
                    existing.refresh_from_db()
                standing.append(existing)
            elif existing is not None:
                reason = RESOLVED_COVERED if value.covered else RESOLVED_WITHIN
                if scope == DeviationScope.LINE and value.spent_minor <= 0:
                    reason = RESOLVED_NO_SPENDING
                changed |= _resolve(actor=actor, deviation=existing, value=value, reason=reason)
        # An unsettled deviation on a line that left the budget with no spending, or on the total of a project
        # with no budget any more: nothing is beyond, so it is resolved.
        for key, existing in unsettled.items():
            if key not in seen:
                value = Variance(existing.currency, 0, 0, existing.threshold_bp)
                changed |= _resolve(actor=actor, deviation=existing, value=value, reason=RESOLVED_NO_SPENDING)
        if changed:
            rollup.refresh(project)
    return standing


def unsettled_deviations(project):
    """The project's deviations that still need someone to act (open, justified or rejected), oldest first: the
    interface of the oversight rule "budget_deviation"."""
    return (
        Deviation.objects.filter(project=project, status__in=UNSETTLED_DEVIATION_STATUSES)
        .select_related("line")
        .order_by("detected_at", "id")
    )


def spending_blocked(project, line) -> str | None:
    """A translated reason when a rejected deviation stands on `line` (or on the project's total, which blocks
    every line); None when spending on the line may be recorded. The expenditure services call it first."""
    condition = Q(scope=DeviationScope.TOTAL)
    if line is not None:
        condition |= Q(scope=DeviationScope.LINE, line_id=getattr(line, "pk", line))
    rejected = (
        Deviation.objects.filter(condition, project=project, status=DeviationStatus.REJECTED)
        .select_related("line")
        .order_by("scope", "id")
        .first()
    )
    if rejected is None:
        return None
    if rejected.scope == DeviationScope.TOTAL:
        return _(
            "Spending on this project is blocked: the ministry rejected the deviation from its total budget. "
            "Revise the budget, or justify the deviation again for the ministry's approval."
        )
    return _(
        "Spending on budget line %(code)s is blocked: the ministry rejected its deviation. "
        "Revise the budget, or justify the deviation again for the ministry's approval."
    ) % {"code": rejected.line.code}


# --- the workflow -------------------------------------------------------------------------------------------------


def _claim(deviation: Deviation, old: str, **values) -> Deviation:
    claimed = Deviation.objects.filter(pk=deviation.pk, status=old).update(**values)
    if not claimed:
        raise Conflict(
            _("Someone else changed this deviation first. Reload it to see its current state."), code="conflict"
        )
    deviation.refresh_from_db()
    return deviation


def deviation_justify(*, actor, deviation: Deviation, text: str) -> Deviation:
    """The charity's written justification of an open (or rejected) deviation; it then awaits the ministry's
    decision. The charity's administrators and finance officers only; at least 20 characters."""
    if not permissions.is_finance_officer(actor, deviation.project):
        raise NotAllowed(_("Only the charity's administrators and finance officers justify its deviations."))
    text = (text or "").strip()
    if deviation.status not in (DeviationStatus.OPEN, DeviationStatus.REJECTED):
        raise Conflict(
            _("This deviation is %(status)s: it cannot be justified now.") % {"status": deviation.get_status_display()},
            code="invalid_transition",
        )
    if len(text) < MIN_JUSTIFICATION:
        message = _("Write at least %(count)s characters: the ministry decides on this text.") % {
            "count": MIN_JUSTIFICATION
        }
        raise DomainError(message, code="invalid", fields={"text": [message]})
    old = deviation.status
    now = timezone.now()
    with transaction.atomic():
        deviation = _claim(
            deviation,
            old,
            status=DeviationStatus.JUSTIFIED,
            justification=text,
            justified_by=actor,
            justified_at=now,
            decided_by=None,
            decided_at=None,
            decision_note="",
        )
        audit.record(
            actor=actor,
            action="deviation.justify",
            subject=deviation,
            organization=deviation.project.charity,
            changes={"status": [old, DeviationStatus.JUSTIFIED], "justification": [None, text]},
            reason=text,
        )
        rollup.refresh(deviation.project)
    return deviation


APPROVE = "approve"
REJECT = "reject"


def _current_spent(deviation: Deviation) -> int:
    if deviation.scope == DeviationScope.LINE:
        return int(BudgetLine.objects.filter(pk=deviation.line_id).values_list("spent_minor", flat=True).get())
    return _total_spent(deviation.project, ProjectFinance.objects.filter(pk=deviation.project_id).first())


def deviation_decide(*, actor, deviation: Deviation, decision: str, note: str = "") -> Deviation:
    """The ministry's decision on a justified deviation: "approve" (the spending so far is accepted:
    approved_spent_minor is the current spending; a new deviation opens only beyond it plus the threshold) or
    "reject" (with a note; spending on the line stays blocked until the budget is revised or a new justification
    is approved). Ministry reviewers and administrators only."""
    if not permissions.can_decide_deviations(actor):
        raise NotAllowed(_("Only the ministry's reviewers and administrators decide on deviations."))
    if decision not in (APPROVE, REJECT):
        message = _("Choose to approve or to reject.")
        raise DomainError(message, code="invalid", fields={"decision": [message]})
    note = (note or "").strip()
    if deviation.status != DeviationStatus.JUSTIFIED:
        raise Conflict(
            _("This deviation is %(status)s: only a justified deviation awaits a decision.")
            % {"status": deviation.get_status_display()},
            code="invalid_transition",
        )
    if decision == REJECT and not note:
        message = _("Say why the deviation is rejected: the charity will read it.")
        raise DomainError(message, code="reason_required", fields={"note": [message]})
    now = timezone.now()
    with transaction.atomic():
        values: dict = {"decided_by": actor, "decided_at": now, "decision_note": note}
        changes: dict = {}
        if decision == APPROVE:
            spent = _current_spent(deviation)
            values.update(status=DeviationStatus.APPROVED, approved_spent_minor=spent, spent_minor=spent)
            if deviation.budget_minor > 0:
                values["ratio_bp"] = variance.ratio_bp(spent, deviation.budget_minor)
            changes["approved_spent_minor"] = [deviation.approved_spent_minor, spent]
        else:
            values["status"] = DeviationStatus.REJECTED
        deviation = _claim(deviation, DeviationStatus.JUSTIFIED, **values)
        changes["status"] = [DeviationStatus.JUSTIFIED, deviation.status]
        if note:
            changes["decision_note"] = [None, note]
        audit.record(
            actor=actor,
            action=f"deviation.{decision}",
            subject=deviation,
            organization=deviation.project.charity,
            changes=changes,
            reason=note,
        )
        if decision == APPROVE:
            deviations_detect(deviation.project, actor=actor)
        rollup.refresh(deviation.project)
    return deviation


# --- the ministry's settings --------------------------------------------------------------------------------------

SETTINGS_FIELDS = ("line_threshold_bp", "total_threshold_bp", "warning_percent", "rate_max_age_days")
MAX_RATE_AGE_DAYS = 366


def _whole_number(text, *, field: str, low: int, high: int) -> int:
    cleaned = str(text if text is not None else "").strip().translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))
    if not cleaned.isdigit() or not low <= int(cleaned) <= high:
        message = _("Enter a whole number between %(low)s and %(high)s.") % {"low": low, "high": high}
        raise DomainError(message, code="invalid", fields={field: [message]})
    return int(cleaned)


def settings_update(
    *, actor, line_threshold_percent, total_threshold_percent, warning_percent, rate_max_age_days
) -> FinanceSettings:
    """The ministry administrator sets the thresholds (percentages as text: "10", "7.5"; stored in basis points),
    the warning level (percent of the way to the threshold, 1–100) and the oldest usable exchange rate (days).
    Projects are re-evaluated on their next detection run (every expenditure and budget change, and nightly)."""
    if not permissions.can_edit_finance_settings(actor):
        raise NotAllowed(_("Only the ministry's administrators change the finance settings."))
    errors: dict = {}
    values: dict = {}
    for name, parse in (
        ("line_threshold_percent", lambda v, n: parse_percent(v, field=n, maximum_bp=100000)),
        ("total_threshold_percent", lambda v, n: parse_percent(v, field=n, maximum_bp=100000)),
        ("warning_percent", lambda v, n: _whole_number(v, field=n, low=1, high=100)),
        ("rate_max_age_days", lambda v, n: _whole_number(v, field=n, low=0, high=MAX_RATE_AGE_DAYS)),
    ):
        raw = {
            "line_threshold_percent": line_threshold_percent,
            "total_threshold_percent": total_threshold_percent,
            "warning_percent": warning_percent,
            "rate_max_age_days": rate_max_age_days,
        }[name]
        try:
            values[name] = parse(raw, name)
        except DomainError as error:
            errors.update(error.fields)
    if errors:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=errors)
    with transaction.atomic():
        row = _settings()
        row = FinanceSettings.objects.select_for_update().get(pk=row.pk)
        before = {name: getattr(row, name) for name in SETTINGS_FIELDS}
        row.line_threshold_bp = values["line_threshold_percent"]
        row.total_threshold_bp = values["total_threshold_percent"]
        row.warning_percent = values["warning_percent"]
        row.rate_max_age_days = values["rate_max_age_days"]
        changes = audit.diff(before, {name: getattr(row, name) for name in SETTINGS_FIELDS})
        if changes:
            row.updated_by = actor
            row.updated_at = timezone.now()
            row.save()
            audit.record(actor=actor, action="finance.settings_update", subject=row, changes=changes)
    return row


def detect_all(*, projects=None, actor=None, progress=None) -> dict:
    """Runs detection over every project with a budget (the nightly re-evaluation after a change of thresholds).
    Returns {"projects": n, "unsettled": m}."""
    from shafaf.projects.models import Project

    queryset = projects if projects is not None else Project.objects.filter(budget_versions__isnull=False).distinct()
    count = unsettled = 0
    for project in queryset.select_related("charity").iterator(chunk_size=500):
        unsettled += len(deviations_detect(project, actor=actor))
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    return {"projects": count, "unsettled": unsettled}


def resolution_label(deviation: Deviation) -> str:
    return str(RESOLUTIONS.get(deviation.resolution, deviation.resolution))


__all__ = [
    "APPROVE",
    "REJECT",
    "ProjectVariance",
    "Variance",
    "detect_all",
    "deviation_decide",
    "deviation_justify",
    "deviation_warnings",
    "deviations_detect",
    "project_variance",
    "ratio_decimal",
    "settings_update",
    "spending_blocked",
    "unsettled_deviations",
]
