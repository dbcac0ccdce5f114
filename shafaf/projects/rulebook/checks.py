"""The ministry's checks. Each is a small function registered with its code, default severity, default
thresholds and the stages it runs at; it reads the project (and, through a named interface, another
app) and answers an Outcome: passed or not, a message in Arabic and in English, and the facts it used.

Messages are written here in both languages (not through gettext): results are stored and shown in both
languages whatever the language of the user who ran them.

Interfaces the later issues provide (see INTERFACES). Until an interface exists, its check answers an
honest warning, "not available yet", with facts {"source": "unavailable", "interface": ...}; it never
passes, and never blocks (a check that cannot run must not stop every approval).

- shafaf.partners.selectors.partner_accreditation_status(partner, on_date, country, project_model)
    -> an object or dict with `accredited: bool`, `suspended: bool`, and optionally `facts: dict`
       (JSON-ready: the accreditation's id, authority, validity…), `reason_ar: str`, `reason_en: str`.
- shafaf.projects.selectors.missing_project_documents(project)
    -> list of the document kinds required for the project's model that it lacks (each a code str, or a
       dict {"kind", "label_ar", "label_en"}); [] when complete.
- shafaf.finance.selectors.project_budget_summary(project)
    -> None when the project has no budget, else {"total_minor": int, "currency": str, "lines": int}.
- shafaf.finance.selectors.administrative_share(project)
    -> None when it cannot be computed (no budget), else {"share_percent": Decimal|str,
       "licensed_percent": Decimal|str|None} (administrative expenses as a percentage of the budget, and
       the charity's licensed percentage).
- shafaf.coordination.selectors.undecided_overlaps(project)
    -> list of the overlap flags on the project that the ministry has not decided, each a dict with at
       least {"flag": int, "level": "possible_overlap" | "likely_duplicate"}. Nothing of the other
       charity's project is stored from it (the facts are shown to the charity).
- shafaf.reports.selectors.reports_due(project, on_date)
    -> list of the progress reports due on or before on_date and not yet submitted, each a dict
       {"period": str, "due_date": date}.
- shafaf.strategy.selectors.project_objectives(project)
    -> the objectives (each with a `code`) the project is linked to; empty when none.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..choices import EXTERNAL_MODELS, BeneficiaryGroup, ProjectModel
from .models import Severity, Stage

ALL_STAGES = frozenset(Stage.values)
BLOCKING, WARNING = Severity.BLOCKING.value, Severity.WARNING.value


# --- the parts of a check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """One setting of a check the ministry may change: an integer within bounds, or a yes/no."""

    key: str
    label: Promise
    default: int | bool
    min_value: int | None = 0
    max_value: int | None = None
    help_text: Promise | str = ""

    @property
    def is_bool(self) -> bool:
        return isinstance(self.default, bool)

    def describe(self) -> dict:
        return {
            "key": self.key,
            "label": str(self.label),
            "type": "boolean" if self.is_bool else "integer",
            "default": self.default,
            "min": None if self.is_bool else self.min_value,
            "max": None if self.is_bool else self.max_value,
        }


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message_ar: str
    message_en: str
    facts: dict = field(default_factory=dict)
    available: bool = True


@dataclass(frozen=True)
class Context:
    stage: str
    today: dt.date
    thresholds: dict


@dataclass(frozen=True)
class Check:
    code: str
    title: Promise
    description: Promise
    severity: str
    stages: frozenset[str]
    function: Callable[[object, Context], Outcome]
    thresholds: tuple[Threshold, ...] = ()
    interface: str = ""  # "module.function" of another app this check consumes ("" when none)
    app: str = ""  # the app that provides the interface, when it is not installed yet
    validate: Callable[[dict], dict] | None = None  # cross-field rules: {key: [message]}

    def default_thresholds(self) -> dict:
        return {t.key: t.default for t in self.thresholds}

    def stage_labels(self) -> list[str]:
        return [str(Stage(s).label) for s in Stage.values if s in self.stages]

    def interface_available(self) -> bool:
        return not self.interface or load_interface(self.interface, self.app) is not None


REGISTRY: dict[str, Check] = {}


def register(
    *,
    code: str,
    title,
    description,
    severity: str,
    stages=ALL_STAGES,
    thresholds: tuple[Threshold, ...] = (),
    interface: str = "",
    app: str = "",
    validate=None,
):
    def decorator(function):
        assert code not in REGISTRY, code
        assert not {t.key for t in thresholds} & {"enabled", "severity", "reason"}, code
        REGISTRY[code] = Check(
            code=code,
            title=title,
            description=description,
            severity=severity,
            stages=frozenset(stages),
            function=function,
            thresholds=thresholds,
            interface=interface,
            app=app,
            validate=validate,
        )
        return function

    return decorator


# --- thresholds: one rule for the form, the API and the service ----------------------------------------


def clean_thresholds(check: Check, values: dict) -> tuple[dict, dict]:
    """Validates a complete set of thresholds for `check`. Returns (cleaned, errors by key); unknown keys,
    wrong types and values out of bounds are errors, and so is what the check's own rule refuses."""
    errors: dict[str, list] = {}
    cleaned: dict = {}
    if not isinstance(values, dict):
        return {}, {"thresholds": [_("Give the thresholds as an object of names and values.")]}
    known = {t.key: t for t in check.thresholds}
    for key in values:
        if key not in known:
            errors.setdefault(str(key), []).append(_("This check has no such threshold."))
    for key, threshold in known.items():
        value = values.get(key, threshold.default)
        if threshold.is_bool:
            if not isinstance(value, bool):
                errors.setdefault(key, []).append(_("Give yes or no (true or false)."))
                continue
        else:
            if isinstance(value, bool) or not isinstance(value, int):
                errors.setdefault(key, []).append(_("Give a whole number."))
                continue
            if threshold.min_value is not None and value < threshold.min_value:
                errors.setdefault(key, []).append(_("Give %(min)s or more.") % {"min": threshold.min_value})
                continue
            if threshold.max_value is not None and value > threshold.max_value:
                errors.setdefault(key, []).append(_("Give %(max)s or less.") % {"max": threshold.max_value})
                continue
        cleaned[key] = value
    if not errors and check.validate is not None:
        for key, messages in check.validate(cleaned).items():
            errors.setdefault(key, []).extend(messages)
    return cleaned, errors


# --- interfaces of other apps ---------------------------------------------------------------------------


def load_interface(path: str, app: str = ""):
    """The function at "package.module.function", or None when its app is not installed or the module or
    function does not exist yet. An import error inside an existing module is not hidden."""
    module_name, _dot, name = path.rpartition(".")
    if app and not apps.is_installed(app):
        return None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
            return None
        raise
    return getattr(module, name, None)


def _get(value, key: str, default=None):
    """A key of a dict, or an attribute of an object: interfaces may answer either."""
    if isinstance(value, dict):
        return value.get(key, default)
    if isinstance(value, str):
        return default
    return getattr(value, key, default)


def unavailable(check_code: str, message_ar: str, message_en: str, **facts) -> Outcome:
    check = REGISTRY[check_code]
    return Outcome(
        passed=False,
        message_ar=message_ar,
        message_en=message_en,
        facts={"source": "unavailable", "interface": check.interface, **facts},
        available=False,
    )


# --- bilingual labels -----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _both(choices_name: str, value: str) -> tuple[str, str]:
    """The Arabic and English labels of a choice (from the catalogue the interface already uses)."""
    choices = {"model": ProjectModel, "group": BeneficiaryGroup}[choices_name]
    try:
        label = choices(value).label
    except ValueError:
        return value, value
    with translation.override("ar"):
        arabic = str(label)
    with translation.override("en"):
        english = str(label)
    return arabic, english


FIELD_LABELS = {
    "title_ar": ("العنوان بالعربية", "the Arabic title"),
    "title_en": ("العنوان بالإنجليزية", "the English title"),
    "description": ("وصف المشروع بالعربية أو بالإنجليزية", "a description in Arabic or English"),
    "locations": ("موقع تنفيذ واحد على الأقل", "at least one location"),
    "location_point": ("إحداثيات GPS لموقع واحد على الأقل", "a GPS point for at least one location"),
    "implementing_partner": ("الشريك المنفذ الخارجي", "the implementing partner"),
    "beneficiary_count": ("عدد المستفيدين", "the number of beneficiaries"),
    "beneficiary_group": ("فئة المستفيدين", "the beneficiary group"),
    "sector": ("القطاع (DAC)", "the DAC sector"),
    "country": ("الدولة المستفيدة", "the recipient country"),
}


def _join(items: list[str], arabic: bool) -> str:
    return ("، " if arabic else ", ").join(items)


# --- the checks -----------------------------------------------------------------------------------------


@register(
    code="required_fields",
    title=_("Required information present"),
    description=_(
        "The project gives what its MOSA project model needs: the Arabic title, a description, its "
        "locations, the beneficiary group and count, the sector and country, and an implementing partner "
        "for external projects."
    ),
    severity=BLOCKING,
    thresholds=(
        Threshold("min_locations", _("Locations needed (at least)"), 1, 0, 50),
        Threshold("require_title_ar", _("Arabic title needed"), True),
        Threshold("require_title_en", _("English title needed"), False),
        Threshold("construction_needs_point", _("Construction projects need a GPS point"), False),
    ),
)
def required_fields(project, ctx: Context) -> Outcome:
    t = ctx.thresholds
    missing = []
    if t["require_title_ar"] and not (project.title_ar or "").strip():
        missing.append("title_ar")
    if t["require_title_en"] and not (project.title_en or "").strip():
        missing.append("title_en")
    if not (project.description_ar or "").strip() and not (project.description_en or "").strip():
        missing.append("description")
    locations = list(project.locations.all())
    if len(locations) < t["min_locations"]:
        missing.append("locations")
    if (
        t["construction_needs_point"]
        and project.project_model.startswith("construction")
        and not any(loc.latitude is not None for loc in locations)
    ):
        missing.append("location_point")
    if project.project_model in EXTERNAL_MODELS and not project.implementing_partner_id:
        missing.append("implementing_partner")
    if not project.beneficiary_group:
        missing.append("beneficiary_group")
    if not project.beneficiary_count:
        missing.append("beneficiary_count")
    if not project.sector:
        missing.append("sector")
    if not project.country:
        missing.append("country")
    model_ar, model_en = _both("model", project.project_model)
    facts = {
        "project_model": project.project_model,
        "external": project.project_model in EXTERNAL_MODELS,
        "locations": len(locations),
        "missing": missing,
        **t,
    }
    if not missing:
        return Outcome(
            True,
            f"البيانات المطلوبة لنموذج «{model_ar}» مستوفاة.",
            f"Everything a “{model_en}” project needs is given.",
            facts,
        )
    names_ar = _join([FIELD_LABELS[name][0] for name in missing], arabic=True)
    names_en = _join([FIELD_LABELS[name][1] for name in missing], arabic=False)
    return Outcome(
        False,
        f"بيانات مطلوبة لنموذج «{model_ar}» ناقصة: {names_ar}.",
        f"A “{model_en}” project needs information that is missing: {names_en}.",
        facts,
    )


@register(
    code="documents_present",
    title=_("Required documents attached"),
    description=_("The documents the project's MOSA project model requires are attached."),
    severity=BLOCKING,
    stages={Stage.SUBMISSION, Stage.APPROVAL},
    interface="shafaf.projects.selectors.missing_project_documents",
)
def documents_present(project, ctx: Context) -> Outcome:
    missing_documents = load_interface(REGISTRY["documents_present"].interface)
    if missing_documents is None:
        return unavailable(
            "documents_present",
            "مستندات المشاريع لا تُحفظ على المنصة بعد، فلا يمكن التحقق من إرفاق المستندات المطلوبة.",
            "Project documents are not kept on the platform yet, so the required documents cannot be checked.",
        )
    missing = list(missing_documents(project) or [])

    def label(item, language: str) -> str:
        return str(item.get(f"label_{language}") or item.get("kind")) if isinstance(item, dict) else str(item)

    facts = {"project_model": project.project_model, "missing": [_get(item, "kind", item) for item in missing]}
    if not missing:
        return Outcome(True, "المستندات المطلوبة مرفقة.", "The required documents are attached.", facts)
    names_ar = _join([label(item, "ar") for item in missing], True)
    names_en = _join([label(item, "en") for item in missing], False)
    return Outcome(
        False, f"مستندات مطلوبة غير مرفقة: {names_ar}.", f"Required documents are not attached: {names_en}.", facts
    )


def _months_between(start: dt.date, end: dt.date) -> int:
    """Calendar months the period covers, counting a started month: 1 Jan to 31 Dec is 12."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months + (1 if end.day >= start.day else 0)


@register(
    code="dates_coherent",
    title=_("Planned dates coherent"),
    description=_(
        "The planned end is not before the planned start, the duration is within the maximum, and at "
        "submission the planned start is not in the past (beyond the grace days)."
    ),
    severity=BLOCKING,
    thresholds=(
        Threshold("start_grace_days", _("Grace days for a start in the past (at submission)"), 0, 0, 3650),
        Threshold("max_duration_months", _("Longest duration (months)"), 60, 1, 600),
    ),
)
def dates_coherent(project, ctx: Context) -> Outcome:
    t = ctx.thresholds
    start, end = project.planned_start, project.planned_end
    problems_ar, problems_en, problems = [], [], []
    months = _months_between(start, end) if start and end else None
    if start is None or end is None:
        problems.append("dates_missing")
        problems_ar.append("التاريخان المخططان غير مكتملين")
        problems_en.append("the planned dates are incomplete")
    else:
        if end < start:
            problems.append("end_before_start")
            problems_ar.append("تاريخ الانتهاء المخطط يسبق تاريخ البدء المخطط")
            problems_en.append("the planned end is before the planned start")
        elif months > t["max_duration_months"]:
            problems.append("too_long")
            problems_ar.append(f"مدة المشروع {months} شهراً وتتجاوز الحد الأقصى ({t['max_duration_months']} شهراً)")
            problems_en.append(f"the project lasts {months} months, more than the {t['max_duration_months']} allowed")
        if ctx.stage == Stage.SUBMISSION and start < ctx.today - dt.timedelta(days=t["start_grace_days"]):
            problems.append("start_in_past")
            problems_ar.append(f"تاريخ البدء المخطط ({start.isoformat()}) مضى عند التقديم")
            problems_en.append(f"the planned start ({start.isoformat()}) has passed at submission")
    facts = {
        "planned_start": start,
        "planned_end": end,
        "duration_months": months,
        "today": ctx.today,
        "start_checked": ctx.stage == Stage.SUBMISSION,
        "problems": problems,
        **t,
    }
    if not problems:
        return Outcome(True, "التواريخ المخططة متسقة.", "The planned dates are coherent.", facts)
    return Outcome(
        False,
        f"التواريخ المخططة غير متسقة: {_join(problems_ar, True)}.",
        f"The planned dates are not coherent: {_join(problems_en, False)}.",
        facts,
    )


@register(
    code="budget_present",
    title=_("Budget present"),
    description=_("The project has an estimated budget with budget lines."),
    severity=BLOCKING,
    stages={Stage.SUBMISSION, Stage.APPROVAL},
    thresholds=(Threshold("min_lines", _("Budget lines needed (at least)"), 1, 0, 1000),),
    interface="shafaf.finance.selectors.project_budget_summary",
    app="shafaf.finance",
)
def budget_present(project, ctx: Context) -> Outcome:
    check = REGISTRY["budget_present"]
    summary_of = load_interface(check.interface, check.app)
    if summary_of is None:
        return unavailable(
            "budget_present",
            "الميزانيات التقديرية لا تُحفظ على المنصة بعد، فلا يمكن التحقق من وجود ميزانية للمشروع.",
            "Budgets are not kept on the platform yet, so the project's budget cannot be checked.",
        )
    summary = summary_of(project)
    min_lines = ctx.thresholds["min_lines"]
    if summary is None:
        return Outcome(
            False,
            "لا توجد ميزانية تقديرية للمشروع.",
            "The project has no budget.",
            {"budget": False, "min_lines": min_lines},
        )
    total, lines = int(_get(summary, "total_minor", 0) or 0), int(_get(summary, "lines", 0) or 0)
    facts = {
        "budget": True,
        "total_minor": total,
        "currency": _get(summary, "currency", ""),
        "lines": lines,
        "min_lines": min_lines,
    }
    if total > 0 and lines >= min_lines:
        return Outcome(True, "للمشروع ميزانية تقديرية ببنودها.", "The project has a budget with its lines.", facts)
    return Outcome(
        False,
        f"ميزانية المشروع غير مكتملة: المجموع {total} وعدد البنود {lines} (المطلوب {min_lines} على الأقل).",
        f"The project's budget is incomplete: total {total}, {lines} lines (at least {min_lines} needed).",
        facts,
    )


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register(
    code="admin_share_within_licence",
    title=_("Administrative share within the licensed percentage"),
    description=_(
        "The administrative expenses share of the budget is within the charity's licensed percentage "
        "(plus the tolerance, in percentage points)."
    ),
    severity=BLOCKING,
    thresholds=(Threshold("tolerance_points", _("Tolerance (percentage points)"), 0, 0, 100),),
    interface="shafaf.finance.selectors.administrative_share",
    app="shafaf.finance",
)
def admin_share_within_licence(project, ctx: Context) -> Outcome:
    check = REGISTRY["admin_share_within_licence"]
    share_of = load_interface(check.interface, check.app)
    if share_of is None:
        return unavailable(
            "admin_share_within_licence",
            "الميزانيات التقديرية لا تُحفظ على المنصة بعد، فلا يمكن التحقق من نسبة المصاريف الإدارية "
            "مقارنة بالنسبة المرخصة.",
            "Budgets are not kept on the platform yet, so the administrative expenses share cannot be "
            "compared with the licensed percentage.",
        )
    tolerance = ctx.thresholds["tolerance_points"]
    result = share_of(project)
    share = _decimal(_get(result, "share_percent")) if result is not None else None
    licensed = _decimal(_get(result, "licensed_percent")) if result is not None else None
    facts = {"share_percent": share, "licensed_percent": licensed, "tolerance_points": tolerance}
    if share is None:
        return Outcome(
            False,
            "لا يمكن حساب نسبة المصاريف الإدارية: لا توجد ميزانية ببنود إدارية.",
            "The administrative expenses share cannot be computed: there is no budget to compute it from.",
            facts,
        )
    if licensed is None:
        return Outcome(
            False,
            "لا توجد نسبة مرخصة للمصاريف الإدارية مسجلة للجمعية.",
            "No licensed administrative expenses percentage is recorded for the charity.",
            facts,
        )
    if share <= licensed + tolerance:
        return Outcome(
            True,
            f"نسبة المصاريف الإدارية {share}٪ ضمن النسبة المرخصة {licensed}٪.",
            f"The administrative expenses share, {share} %, is within the licensed {licensed} %.",
            facts,
        )
    return Outcome(
        False,
        f"نسبة المصاريف الإدارية {share}٪ تتجاوز النسبة المرخصة {licensed}٪.",
        f"The administrative expenses share, {share} %, is above the licensed {licensed} %.",
        facts,
    )


@register(
    code="external_partner_known",
    title=_("Implementing partner accredited and not suspended"),
    description=_(
        "An external project names its foreign implementing partner, an active partner organisation that "
        "MoFA and MOSA have accredited for the country and project model and that is not suspended."
    ),
    severity=BLOCKING,
    interface="shafaf.partners.selectors.partner_accreditation_status",
    app="shafaf.partners",
)
def external_partner_known(project, ctx: Context) -> Outcome:
    if project.project_model not in EXTERNAL_MODELS:
        return Outcome(
            True,
            "لا يلزم شريك منفذ خارجي لمشروع داخلي.",
            "An internal project needs no foreign implementing partner.",
            {"external": False},
        )
    partner = project.implementing_partner if project.implementing_partner_id else None
    facts = {"external": True, "partner": project.implementing_partner_id}
    if partner is None:
        return Outcome(
            False,
            "المشروع الخارجي لا يحدد شريكاً منفذاً خارجياً.",
            "The external project names no foreign implementing partner.",
            facts,
        )
    facts.update(partner_kind=partner.kind, partner_active=partner.is_active)
    if partner.kind != "partner" or not partner.is_active:
        return Outcome(
            False,
            "الشريك المنفذ المحدد ليس جهة خارجية منفذة نشطة على المنصة.",
            "The implementing partner named is not an active foreign implementing partner on the platform.",
            facts,
        )
    check = REGISTRY["external_partner_known"]
    status_of = load_interface(check.interface, check.app)
    if status_of is None:
        return unavailable(
            "external_partner_known",
            "سجلات الاعتماد غير محفوظة على المنصة بعد: الشريك المنفذ جهة خارجية نشطة، لكن لا يمكن التحقق "
            "من اعتماده لدى وزارة الخارجية ووزارة الشؤون الاجتماعية أو من عدم إيقاف التعامل معه.",
            "Accreditation records are not kept on the platform yet: the implementing partner is an active "
            "partner organisation, but its accreditation by MoFA and MOSA, and that it is not suspended, "
            "cannot be checked.",
            **{k: v for k, v in facts.items() if k != "external"},
        )
    status = status_of(partner, ctx.today, project.country, project.project_model)
    accredited, suspended = bool(_get(status, "accredited", False)), bool(_get(status, "suspended", False))
    facts.update(source="partners", accredited=accredited, suspended=suspended, on_date=ctx.today)
    facts.update({f"accreditation_{k}": v for k, v in (_get(status, "facts") or {}).items()})
    reason_ar, reason_en = _get(status, "reason_ar", ""), _get(status, "reason_en", "")
    if suspended:
        return Outcome(
            False,
            "الشريك المنفذ جهة موقوف التعامل معها." + (f" {reason_ar}" if reason_ar else ""),
            "The implementing partner is suspended." + (f" {reason_en}" if reason_en else ""),
            facts,
        )
    if not accredited:
        return Outcome(
            False,
            "الشريك المنفذ ليس جهة معتمدة لهذه الدولة ونموذج المشروع." + (f" {reason_ar}" if reason_ar else ""),
            "The implementing partner is not accredited for this country and project model."
            + (f" {reason_en}" if reason_en else ""),
            facts,
        )
    return Outcome(
        True,
        "الشريك المنفذ جهة معتمدة وغير موقوف التعامل معها.",
        "The implementing partner is accredited and not suspended.",
        facts,
    )


@register(
    code="no_undecided_overlap",
    title=_("No undecided overlap with another charity's project"),
    description=_(
        "Every possible overlap or likely duplicate between this project and another charity's project "
        "has been decided by the ministry."
    ),
    severity=BLOCKING,
    stages={Stage.APPROVAL, Stage.NIGHTLY},
    interface="shafaf.coordination.selectors.undecided_overlaps",
    app="shafaf.coordination",
)
def no_undecided_overlap(project, ctx: Context) -> Outcome:
    check = REGISTRY["no_undecided_overlap"]
    overlaps_of = load_interface(check.interface, check.app)
    if overlaps_of is None:
        return unavailable(
            "no_undecided_overlap",
            "التنسيق بين مشاريع الجمعيات غير متاح على المنصة بعد، فلا يمكن التحقق من حالات التشابه المحتمل "
            "أو التكرار المرجح.",
            "Coordination across charities is not on the platform yet, so possible overlaps and likely "
            "duplicates cannot be checked.",
        )
    flags = list(overlaps_of(project) or [])
    facts = {
        "undecided": len(flags),
        "flags": [_get(flag, "flag") for flag in flags],
        "levels": sorted({str(_get(flag, "level", "")) for flag in flags}),
    }
    if not flags:
        return Outcome(
            True,
            "لا توجد حالة تشابه مع مشروع جمعية أخرى بانتظار قرار الوزارة.",
            "No overlap with another charity's project awaits the ministry's decision.",
            facts,
        )
    return Outcome(
        False,
        f"عدد حالات التشابه مع مشاريع جمعيات أخرى التي لم تبت فيها الوزارة بعد: {len(flags)}.",
        f"Overlaps with other charities' projects that the ministry has not decided yet: {len(flags)}.",
        facts,
    )


@register(
    code="reports_not_overdue",
    title=_("Progress reports not overdue"),
    description=_("No progress report is late by more than the grace days."),
    severity=WARNING,
    stages={Stage.NIGHTLY},
    thresholds=(Threshold("grace_days", _("Grace days after a report's due date"), 14, 0, 365),),
    interface="shafaf.reports.selectors.reports_due",
    app="shafaf.reports",
)
def reports_not_overdue(project, ctx: Context) -> Outcome:
    check = REGISTRY["reports_not_overdue"]
    due_of = load_interface(check.interface, check.app)
    if due_of is None:
        return unavailable(
            "reports_not_overdue",
            "تقارير الإنجاز لا تُحفظ على المنصة بعد، فلا يمكن التحقق من تأخر التقارير.",
            "Progress reports are not kept on the platform yet, so late reports cannot be checked.",
        )
    grace = ctx.thresholds["grace_days"]
    overdue = []
    for report in due_of(project, ctx.today) or []:
        due = _get(report, "due_date")
        if due is not None and due + dt.timedelta(days=grace) < ctx.today:
            overdue.append(
                {"period": str(_get(report, "period", "")), "due_date": due, "days_late": (ctx.today - due).days}
            )
    facts = {"today": ctx.today, "grace_days": grace, "overdue": overdue}
    if not overdue:
        return Outcome(True, "لا توجد تقارير إنجاز متأخرة.", "No progress report is overdue.", facts)
    return Outcome(
        False,
        f"تقارير إنجاز متأخرة: {len(overdue)}.",
        f"Progress reports overdue: {len(overdue)}.",
        facts,
    )


@register(
    code="objectives_linked",
    title=_("Linked to strategic objectives"),
    description=_(
        "The project serves at least one objective of the ministry's strategic plan or of its charity's plan in force."
    ),
    severity=WARNING,
    stages={Stage.SUBMISSION, Stage.APPROVAL},
    interface="shafaf.strategy.selectors.project_objectives",
    app="shafaf.strategy",
)
def objectives_linked(project, ctx: Context) -> Outcome:
    check = REGISTRY["objectives_linked"]
    objectives_of = load_interface(check.interface, check.app)
    if objectives_of is None:
        return unavailable(
            "objectives_linked",
            "الخطط الاستراتيجية لا تُحفظ على المنصة بعد، فلا يمكن التحقق من ربط المشروع بأهدافها.",
            "Strategic plans are not kept on the platform yet, so the project's objectives cannot be checked.",
        )
    codes = sorted(str(_get(objective, "code", "")) for objective in objectives_of(project) or [])
    facts = {"objectives": len(codes), "codes": codes}
    if codes:
        return Outcome(
            True,
            f"المشروع مرتبط بأهداف استراتيجية: {_join(codes, True)}.",
            f"The project serves strategic objectives: {_join(codes, False)}.",
            facts,
        )
    return Outcome(
        False,
        "المشروع غير مرتبط بأي هدف من أهداف الخطة الاستراتيجية للوزارة أو للجمعية.",
        "The project is not linked to any objective of the ministry's or its charity's strategic plan.",
        facts,
    )


# Beneficiary maxima per group, and for sponsorship models (each sponsorship is one person or family).
_GROUP_MAXIMA = {
    BeneficiaryGroup.ORPHANS: 20_000,
    BeneficiaryGroup.STUDENTS: 20_000,
    BeneficiaryGroup.FAMILIES: 100_000,
    BeneficiaryGroup.WIDOWS: 20_000,
    BeneficiaryGroup.REFUGEES: 500_000,
    BeneficiaryGroup.PATIENTS: 200_000,
    BeneficiaryGroup.PEOPLE_WITH_DISABILITIES: 20_000,
    BeneficiaryGroup.ELDERLY: 20_000,
    BeneficiaryGroup.COMMUNITY: 2_000_000,
}
SPONSORSHIP_MODELS = frozenset({ProjectModel.SPONSORSHIP_INTERNAL, ProjectModel.SPONSORSHIP_EXTERNAL})


def _validate_beneficiaries(t: dict) -> dict:
    errors = {}
    for key, value in t.items():
        if key.startswith("max_") and value < t["min_count"]:
            errors[key] = [_("A maximum cannot be below the minimum.")]
    return errors


@register(
    code="beneficiaries_plausible",
    title=_("Number of beneficiaries plausible"),
    description=_(
        "The number of beneficiaries is within the minimum and the maximum for its beneficiary group "
        "(and for sponsorships, the sponsorship maximum)."
    ),
    severity=WARNING,
    stages={Stage.SUBMISSION, Stage.APPROVAL},
    thresholds=(
        Threshold("min_count", _("Fewest beneficiaries"), 1, 1, 10_000_000),
        Threshold("max_sponsorship", _("Most sponsorships in one project"), 5_000, 1, 10_000_000),
        *(
            Threshold(
                f"max_{group.value}",
                format_lazy("{}: {}", _("Most beneficiaries"), group.label),
                maximum,
                1,
                100_000_000,
            )
            for group, maximum in _GROUP_MAXIMA.items()
        ),
    ),
    validate=_validate_beneficiaries,
)
def beneficiaries_plausible(project, ctx: Context) -> Outcome:
    t = ctx.thresholds
    count = project.beneficiary_count or 0
    group = project.beneficiary_group
    maximum = t.get(f"max_{group}")
    limit_key = f"max_{group}"
    if project.project_model in SPONSORSHIP_MODELS and (maximum is None or t["max_sponsorship"] < maximum):
        maximum, limit_key = t["max_sponsorship"], "max_sponsorship"
    group_ar, group_en = _both("group", group)
    facts = {
        "beneficiary_group": group,
        "project_model": project.project_model,
        "beneficiary_count": count,
        "min_count": t["min_count"],
        "max_count": maximum,
        "limit": limit_key,
    }
    if count < t["min_count"]:
        return Outcome(
            False,
            f"عدد المستفيدين ({count}) أقل من الحد الأدنى ({t['min_count']}).",
            f"The number of beneficiaries ({count}) is below the minimum ({t['min_count']}).",
            facts,
        )
    if maximum is not None and count > maximum:
        return Outcome(
            False,
            f"عدد المستفيدين ({count}) يتجاوز الحد المعقول لفئة «{group_ar}» ({maximum}).",
            f"The number of beneficiaries ({count}) is above the plausible maximum for “{group_en}” ({maximum}).",
            facts,
        )
    return Outcome(
        True,
        f"عدد المستفيدين ({count}) ضمن الحدود المعقولة لفئة «{group_ar}».",
        f"The number of beneficiaries ({count}) is plausible for “{group_en}”.",
        facts,
    )


# The interfaces the later issues provide, by check (see the module docstring for what each returns).
INTERFACES = {code: check.interface for code, check in REGISTRY.items() if check.interface}
