"""Evaluates the rulebook for one project. Pure: reads the project (and the other apps' interfaces), writes
nothing. services.rulebook_run stores what this returns."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language

from shafaf.audit.chain import jsonable

from . import checks
from .models import Severity, Stage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectiveSetting:
    """What applies to one check: the ministry's row, or the check's defaults when there is none."""

    code: str
    enabled: bool
    severity: str
    thresholds: dict
    customised: bool = False
    updated_at: object = None
    updated_by: str = ""

    @property
    def check(self) -> checks.Check:
        return checks.REGISTRY[self.code]

    def snapshot(self) -> dict:
        """Flat, JSON-ready, for the audit diff: enabled, severity and one entry per threshold."""
        data = {"enabled": self.enabled, "severity": self.severity}
        data.update({f"thresholds.{key}": value for key, value in sorted(self.thresholds.items())})
        return data


def default_setting(check: checks.Check) -> EffectiveSetting:
    return EffectiveSetting(
        code=check.code, enabled=True, severity=check.severity, thresholds=check.default_thresholds()
    )


def default_settings() -> dict[str, EffectiveSetting]:
    return {code: default_setting(check) for code, check in checks.REGISTRY.items()}


@dataclass(frozen=True)
class CheckResult:
    code: str
    severity: str  # as applied: the ministry's severity, or "warning" when the check could not run
    passed: bool
    message_ar: str
    message_en: str
    facts: dict = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        """True only when the check failed and is blocking."""
        return not self.passed and self.severity == Severity.BLOCKING

    @property
    def available(self) -> bool:
        return self.facts.get("source") != "unavailable"

    @property
    def message(self) -> str:
        return self.message_en if (get_language() or "ar").startswith("en") else self.message_ar

    @property
    def title(self) -> str:
        check = checks.REGISTRY.get(self.code)
        return str(check.title) if check else self.code

    @property
    def state(self) -> str:
        if self.passed:
            return "passed"
        return "blocking" if self.blocking else "warning"


def blocking_failures(results) -> list:
    """The failed blocking checks of a run (CheckResult or stored CheckResultRecord alike)."""
    return [result for result in results if result.blocking]


def _json_ready(facts: dict) -> dict:
    """Plain JSON types only (dates as ISO text, decimals as text, choices as their value), so the facts
    read the same before and after they are stored."""
    return json.loads(json.dumps(jsonable(facts), ensure_ascii=False))


def _check_error(check: checks.Check, error: Exception) -> checks.Outcome:
    """A check that raised does not pass: it fails with its own severity, and says so."""
    logger.exception("rulebook check %s failed to run", check.code)
    return checks.Outcome(
        passed=False,
        message_ar="تعذر تشغيل هذا الضابط بسبب خطأ في النظام؛ أبلغ الدعم الفني.",
        message_en="This check could not run because of a system error; report it to support.",
        facts={"error": type(error).__name__},
    )


def evaluate(
    project,
    *,
    stage: str,
    settings: Mapping[str, EffectiveSetting] | None = None,
    today=None,
) -> list[CheckResult]:
    """Every enabled check that runs at `stage`, in the registry's order. `settings` maps check codes to
    EffectiveSetting (selectors.effective_settings(); codes missing from it take their defaults); without
    it the ministry's settings are read. Writes nothing."""
    if stage not in Stage.values:
        raise ValueError(f"Unknown rulebook stage: {stage!r}")
    if settings is None:
        from .selectors import effective_settings

        settings = effective_settings()
    today = today or timezone.localdate()
    results = []
    for code, check in checks.REGISTRY.items():
        setting = settings.get(code) or default_setting(check)
        if not setting.enabled or stage not in check.stages:
            continue
        context = checks.Context(stage=stage, today=today, thresholds=setting.thresholds)
        try:
            outcome = check.function(project, context)
        except Exception as error:
            outcome = _check_error(check, error)
        results.append(
            CheckResult(
                code=code,
                # A check that cannot run yet warns; it never blocks every approval on its own.
                severity=setting.severity if outcome.available else Severity.WARNING.value,
                passed=bool(outcome.passed) and outcome.available,
                message_ar=outcome.message_ar,
                message_en=outcome.message_en,
                facts=_json_ready(outcome.facts),
            )
        )
    return results
