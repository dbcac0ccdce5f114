"""The alert rules, in the spirit of the aid-management systems that follow running projects (no progress or
report for N days, a phase past its planned end, spending after the end date, a licensed project that does
not move). Each rule is a function over one project answering None (nothing to say) or
(message_ar, message_en, facts); the facts are JSON-ready and stored with the alert.

Who must act (the alert's owner):
- the charity, for what it must do itself: start or finish its project, report progress, close its phases;
- the ministry (the MOSA authority), for what needs its decision: a licensed project that now fails a blocking
  check of the rulebook, or money spent after a project's end.

Rules that need data of other parts of the platform call a named interface (INTERFACE below). While that
function does not exist yet the rule is skipped: it raises nothing and is reported as "not available". A rule
never raises an alert it cannot back with facts.

Thresholds: the defaults are the constants below; settings.SHAFAF_ALERT_THRESHOLDS may override any of them
({"status_unchanged": {"months": 3}, ...}). The ministry will edit them on the platform later, as it edits the
rulebook's (rulebook.models.RuleSetting).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.projects.choices import ACTIVE_STATUSES, ProjectStatus
from shafaf.projects.rulebook.checks import load_interface

from .models import AlertSeverity

OWNER_CHARITY = "charity"
OWNER_MINISTRY = "ministry"

STATUS_UNCHANGED_MONTHS = 6  # approved or in execution, and no change of state for this many months
PAST_PLANNED_END_GRACE_DAYS = 0  # in execution this many days after its planned end
NO_PROGRESS_DAYS = 90  # in execution with no progress or report for this many days (a quarter)
PHASE_PAST_END_GRACE_DAYS = 0  # a phase not finished this many days after its planned end

DEFAULT_THRESHOLDS: dict[str, dict[str, int]] = {
    "status_unchanged": {"months": STATUS_UNCHANGED_MONTHS},
    "past_planned_end": {"grace_days": PAST_PLANNED_END_GRACE_DAYS},
    "overdue_rulebook": {},
    "phase_past_end": {"grace_days": PHASE_PAST_END_GRACE_DAYS},
    "no_progress": {"days": NO_PROGRESS_DAYS},
    "spending_after_end": {},
    "partner_not_accredited": {},
    "budget_deviation": {},
    "budget_warning": {},
}

Finding = tuple[str, str, dict] | None


def thresholds() -> dict[str, dict[str, int]]:
    """The thresholds in force: the defaults, overridden by settings.SHAFAF_ALERT_THRESHOLDS."""
    overrides = getattr(settings, "SHAFAF_ALERT_THRESHOLDS", {}) or {}
    return {code: {**values, **overrides.get(code, {})} for code, values in DEFAULT_THRESHOLDS.items()}


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    severity: str
    owner: str  # OWNER_CHARITY or OWNER_MINISTRY
    statuses: tuple[str, ...]
    evaluate: Callable[..., Finding] = field(repr=False)
    interface: str = ""  # "package.module.function" of another app; empty when the rule needs none
    app: str = ""  # the app that provides the interface (it must be installed)

    def load(self):
        """The interface's function, or None while it does not exist."""
        return load_interface(self.interface, self.app) if self.interface else None

    @property
    def available(self) -> bool:
        return not self.interface or self.load() is not None


RULES: dict[str, Rule] = {}


def rule(code: str, *, title, severity: str, owner: str, statuses=ACTIVE_STATUSES, interface: str = "", app: str = ""):
    def register(function):
        RULES[code] = Rule(code, title, severity, owner, tuple(statuses), function, interface, app)
        return function

    return register


# --- helpers -----------------------------------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _get(value, key: str, default=None):
    if isinstance(value, dict):
        return value.get(key, default)
    return getattr(value, key, default)


# --- the rules ---------------------------------------------------------------------------------------------


@rule(
    "status_unchanged",
    title=_("State unchanged for months after approval"),
    severity=AlertSeverity.WARNING,
    owner=OWNER_CHARITY,
)
def status_unchanged(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    months = int(limits["months"])
    since = _as_date(project.status_changed_at) or project.licence_date
    if since is None or since > months_before(today, months):
        return None
    facts = {"status": project.status, "since": since.isoformat(), "months": months}
    status_ar = {"approved": "معتمد", "in_execution": "قيد التنفيذ"}.get(project.status, project.status)
    status_en = {"approved": "approved", "in_execution": "in execution"}.get(project.status, project.status)
    return (
        f"المشروع في حالة «{status_ar}» منذ {since.isoformat()} دون أي تغيير منذ أكثر من {months} أشهر. "
        "يُرجى بدء التنفيذ أو إنجازه، أو بيان سبب التأخير للوزارة.",
        f"The project has been {status_en} since {since.isoformat()}, unchanged for more than {months} months. "
        "Start or complete it, or explain the delay to the ministry.",
        facts,
    )


@rule(
    "past_planned_end",
    title=_("In execution past its planned end"),
    severity=AlertSeverity.WARNING,
    owner=OWNER_CHARITY,
    statuses=(ProjectStatus.IN_EXECUTION,),
)
def past_planned_end(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    grace = int(limits["grace_days"])
    days_late = (today - project.planned_end).days
    if days_late <= grace:
        return None
    facts = {"planned_end": project.planned_end.isoformat(), "days_late": days_late}
    return (
        f"انتهى الموعد المخطط لانتهاء المشروع في {project.planned_end.isoformat()} ولا يزال قيد التنفيذ "
        f"(متأخر {days_late} يوماً). يُرجى إنجازه أو طلب تعديل موعد انتهائه.",
        f"The project's planned end was {project.planned_end.isoformat()} and it is still in execution "
        f"({days_late} days late). Complete it or ask for a new end date.",
        facts,
    )


@rule(
    "overdue_rulebook",
    title=_("Blocking failures in the latest nightly checks"),
    severity=AlertSeverity.CRITICAL,
    owner=OWNER_MINISTRY,
)
def overdue_rulebook(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    from shafaf.projects.rulebook.models import RulebookRun

    run = RulebookRun.objects.filter(project=project, stage="nightly").order_by("-at", "-id").first()
    if run is None or run.passed:
        return None
    codes = list(
        run.results.filter(passed=False, severity="blocking").order_by("position").values_list("code", flat=True)
    )
    facts = {"rulebook_run": run.pk, "run_at": run.at.isoformat(), "failed_checks": codes}
    listed = "، ".join(codes)
    return (
        f"أخفق المشروع المرخص في {len(codes)} من الضوابط المانعة في آخر فحص ليلي للائحة الضوابط "
        f"({listed}). يُرجى من الوزارة مراجعة المشروع واتخاذ القرار المناسب.",
        f"The licensed project fails {len(codes)} blocking check(s) of the rulebook in its latest nightly run "
        f"({', '.join(codes)}). The ministry should review it and decide.",
        facts,
    )


@rule(
    "phase_past_end",
    title=_("A phase past its planned end"),
    severity=AlertSeverity.WARNING,
    owner=OWNER_CHARITY,
    statuses=(ProjectStatus.IN_EXECUTION,),
    interface="shafaf.projects.selectors.phases_past_end",
)
def phase_past_end(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    grace = int(limits["grace_days"])
    phases = []
    for phase in interface(project, today - dt.timedelta(days=grace)) or ():
        end = _as_date(_get(phase, "planned_end"))
        name = _get(phase, "name_ar") or _get(phase, "title_ar") or _get(phase, "name") or _get(phase, "title")
        phases.append(
            {
                "id": _get(phase, "pk", _get(phase, "id")),
                "name": str(name or ""),
                "planned_end": end.isoformat() if end else None,
            }
        )
    if not phases:
        return None
    names = "، ".join(p["name"] or str(p["id"]) for p in phases)
    names_en = ", ".join(p["name"] or str(p["id"]) for p in phases)
    return (
        f"تجاوزت {len(phases)} من مراحل المشروع موعد انتهائها المخطط دون إنجاز ({names}). يُرجى إنجازها أو تحديث خطتها.",
        f"{len(phases)} phase(s) of the project are past their planned end and not finished ({names_en}). "
        "Finish them or update the plan.",
        {"phases": phases},
    )


@rule(
    "no_progress",
    title=_("No progress or report for a long time"),
    severity=AlertSeverity.WARNING,
    owner=OWNER_CHARITY,
    statuses=(ProjectStatus.IN_EXECUTION,),
    interface="shafaf.projects.selectors.last_progress_at",
)
def no_progress(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    days = int(limits["days"])
    last = _as_date(interface(project))
    since = last or _as_date(project.status_changed_at) or project.licence_date
    if since is None or (today - since).days < days:
        return None
    facts = {"last_progress": last.isoformat() if last else None, "since": since.isoformat(), "days": days}
    if last is None:
        return (
            f"لم يُسجَّل أي تقدم أو تقرير إنجاز للمشروع منذ بدء تنفيذه في {since.isoformat()} "
            f"(أكثر من {days} يوماً). يُرجى رفع تقرير الإنجاز.",
            f"No progress or progress report has been recorded since the project started on {since.isoformat()} "
            f"(more than {days} days). Submit a progress report.",
            facts,
        )
    return (
        f"آخر تقدم أو تقرير إنجاز للمشروع سُجِّل في {since.isoformat()} (منذ أكثر من {days} يوماً). "
        "يُرجى رفع تقرير الإنجاز.",
        f"The project's last progress or report was recorded on {since.isoformat()} (more than {days} days ago). "
        "Submit a progress report.",
        facts,
    )


@rule(
    "spending_after_end",
    title=_("Spending after the project's end date"),
    severity=AlertSeverity.CRITICAL,
    owner=OWNER_MINISTRY,
    interface="shafaf.finance.selectors.expenditures_after",
    app="shafaf.finance",
)
def spending_after_end(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    found = interface(project, project.planned_end)
    count = found.count() if hasattr(found, "count") and not isinstance(found, list) else len(list(found or ()))
    if not count:
        return None
    facts = {"planned_end": project.planned_end.isoformat(), "expenditures": count}
    return (
        f"سُجِّل {count} من المصروفات بعد تاريخ انتهاء المشروع ({project.planned_end.isoformat()}). "
        "يُرجى من الوزارة مراجعتها.",
        f"{count} expenditure(s) were recorded after the project's end date ({project.planned_end.isoformat()}). "
        "The ministry should review them.",
        facts,
    )


@rule(
    "partner_not_accredited",
    title=_("Implementing partner no longer accredited, suspended or on a sanctions list"),
    severity=AlertSeverity.CRITICAL,
    owner=OWNER_MINISTRY,
    interface="shafaf.partners.gate.partner_accreditation_status",
    app="shafaf.partners",
)
def partner_not_accredited(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    """A licensed project whose foreign partner the platform may no longer deal with: its accreditation lapsed,
    was suspended or revoked, or a sanctions screening hit stands. Disbursements are refused meanwhile."""
    if not project.implementing_partner_id:
        return None
    status = interface(project.implementing_partner, today, project.country, project.project_model)
    if _get(status, "accredited", False):
        return None
    facts = {"partner": project.implementing_partner_id, **(_get(status, "facts") or {})}
    return (
        "لا يجوز التعامل مع الشريك المنفذ لهذا المشروع حاليًا، وتُرفض التحويلات إليه. "
        + (_get(status, "reason_ar", "") or ""),
        "The platform may not deal with this project's implementing partner now; transfers to it are refused. "
        + (_get(status, "reason_en", "") or ""),
        facts,
    )


@rule(
    "budget_deviation",
    title=_("Budget deviation awaiting justification or decision"),
    severity=AlertSeverity.CRITICAL,
    owner=OWNER_MINISTRY,
    interface="shafaf.finance.deviations.unsettled_deviations",
    app="shafaf.finance",
)
def budget_deviation(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    """Spending beyond the ministry's threshold on a budget line or the whole budget, not yet settled: awaiting
    the charity's justification, the ministry's decision, or rejected (spending on it is blocked)."""
    found = list(interface(project))
    if not found:
        return None
    by_status: dict[str, int] = {}
    for deviation in found:
        by_status[deviation.status] = by_status.get(deviation.status, 0) + 1
    lines = sorted(d.line.code for d in found if getattr(d, "line_id", None))
    total = any(not getattr(d, "line_id", None) for d in found)
    facts = {"deviations": len(found), "by_status": by_status, "lines": lines, "total": total}
    where_ar = "، ".join(lines) if lines else ""
    where_en = ", ".join(lines) if lines else ""
    subject_ar = (
        ("الميزانية الإجمالية" + (" وبنود الميزانية " + where_ar if lines else ""))
        if total
        else ("بنود الميزانية " + where_ar)
    )
    subject_en = (
        ("the total budget" + (" and budget lines " + where_en if lines else ""))
        if total
        else ("budget lines " + where_en)
    )
    return (
        f"تجاوز الإنفاق الحد المسموح في {subject_ar}: {len(found)} انحراف بانتظار التبرير أو قرار الوزارة.",
        f"Spending is beyond the threshold on {subject_en}: {len(found)} deviation(s) await a justification or the "
        "ministry's decision.",
        facts,
    )


@rule(
    "budget_warning",
    title=_("Spending approaching a budget threshold"),
    severity=AlertSeverity.WARNING,
    owner=OWNER_CHARITY,
    interface="shafaf.finance.deviations.deviation_warnings",
    app="shafaf.finance",
)
def budget_warning(project, *, today: dt.date, limits: dict, interface=None) -> Finding:
    """A line fully spent, or spending past the ministry's warning level, before any deviation opens."""
    found = list(interface(project) or ())
    if not found:
        return None
    codes = sorted(_get(item, "code", "") or "total" for item in found)
    facts = {"warnings": len(found), "lines": codes}
    codes_ar = ["الإجمالي" if code == "total" else code for code in codes]
    return (
        f"يقترب الإنفاق من الحد المسموح في {len(found)} من بنود الميزانية ({'، '.join(codes_ar)}).",
        f"Spending is approaching the threshold on {len(found)} budget item(s) ({', '.join(codes)}).",
        facts,
    )


def evaluate(rule_: Rule, project, *, today: dt.date, limits: dict | None = None, interface=None) -> Finding:
    """The rule's finding for the project (None when its state is not one the rule looks at)."""
    if project.status not in rule_.statuses:
        return None
    limits = thresholds()[rule_.code] if limits is None else limits
    return rule_.evaluate(project, today=today, limits=limits, interface=interface)
