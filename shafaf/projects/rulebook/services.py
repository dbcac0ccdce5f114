"""Every write of the rulebook: a run of the checks (stored and audited) and the ministry's settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.projects.choices import ProjectStatus

from . import checks, engine, permissions, selectors
from .engine import CheckResult, EffectiveSetting, blocking_failures
from .models import CheckResultRecord, RulebookRun, RuleSetting, Severity, Stage

__all__ = ["CheckResult", "RunResults", "blocking_failures", "rule_setting_update", "rulebook_run"]

# The statuses whose projects the nightly run checks.
NIGHTLY_STATUSES = (
    ProjectStatus.SUBMITTED,
    ProjectStatus.UNDER_REVIEW,
    ProjectStatus.APPROVED,
    ProjectStatus.IN_EXECUTION,
)


class RunResults(list):
    """The results of a run (a list of CheckResult), with the stored run as `.run`."""

    run: RulebookRun

    @property
    def passed(self) -> bool:
        return not blocking_failures(self)


def rulebook_run(
    *,
    actor,
    project,
    stage: str,
    settings: dict[str, EffectiveSetting] | None = None,
    today=None,
) -> RunResults:
    """Evaluates every enabled check of `stage` ("submission", "approval" or "nightly") for the project,
    stores the run and its results, and records one audit event ("project.rulebook_run"), all in one
    transaction. Returns the results (each with .code, .severity, .passed, .blocking, .message…).

    It joins the caller's transaction when there is one (a savepoint): if the caller then rolls back, the
    run is rolled back with it. A caller that refuses an approval because of the run must therefore raise
    its refusal outside the atomic block that holds the run, or the reasons are lost with it.

    The caller has checked the actor may do what asks for the run (submit, approve…); `actor` is None
    for the nightly run."""
    if stage not in Stage.values:
        raise DomainError(_("Unknown rulebook stage."), code="invalid", fields={"stage": [_("Unknown stage.")]})
    results = RunResults(engine.evaluate(project, stage=stage, settings=settings, today=today))
    failed_blocking = [r.code for r in results if r.blocking]
    failed_warning = [r.code for r in results if not r.passed and not r.blocking]
    with transaction.atomic():
        run = RulebookRun.objects.create(
            project=project,
            stage=stage,
            actor=actor if actor is not None and actor.pk else None,
            at=timezone.now(),
            passed=not failed_blocking,
            blocking_failures=len(failed_blocking),
            warnings=len(failed_warning),
        )
        CheckResultRecord.objects.bulk_create(
            CheckResultRecord(
                run=run,
                position=position,
                code=result.code,
                severity=result.severity,
                passed=result.passed,
                message_ar=result.message_ar,
                message_en=result.message_en,
                facts=result.facts,
            )
            for position, result in enumerate(results)
        )
        audit.record(
            actor=actor,
            action="project.rulebook_run",
            subject=project,
            organization=project.charity,
            changes={
                "rulebook_run": [None, run.pk],
                "stage": [None, stage],
                "passed": [None, run.passed],
                "checks": [None, len(results)],
                "failed_blocking": [None, failed_blocking],
                "failed_warning": [None, failed_warning],
            },
        )
    results.run = run
    return results


@dataclass
class BatchSummary:
    projects: int = 0
    passed: int = 0
    with_blocking_failures: int = 0
    with_warnings: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.projects / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "projects": self.projects,
            "passed": self.passed,
            "with_blocking_failures": self.with_blocking_failures,
            "with_warnings": self.with_warnings,
            "seconds": round(self.seconds, 3),
            "projects_per_second": round(self.per_second, 1),
        }


def projects_for_batch(*, project_ids: Iterable[int] | None = None, statuses: Iterable[str] | None = NIGHTLY_STATUSES):
    """The projects a batch run checks: the given ids, or those in `statuses` (None: every project)."""
    from shafaf.projects.models import Project

    queryset = Project.objects.all()
    if project_ids is not None:
        queryset = queryset.filter(pk__in=list(project_ids))
    elif statuses is not None:
        queryset = queryset.filter(status__in=list(statuses))
    return queryset.select_related("charity", "implementing_partner").prefetch_related("locations").order_by("pk")


def rulebook_run_batch(
    *,
    actor=None,
    stage: str = Stage.NIGHTLY,
    project_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = NIGHTLY_STATUSES,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 200,
) -> BatchSummary:
    """rulebook_run over many projects (the nightly run), each in its own transaction, with the ministry's
    settings read once. `progress(done, total)` is called after each project."""
    queryset = projects_for_batch(project_ids=project_ids, statuses=statuses)
    total = queryset.count()
    settings = selectors.effective_settings()
    today = timezone.localdate()
    summary = BatchSummary()
    started = time.perf_counter()
    for project in queryset.iterator(chunk_size=chunk_size):
        results = rulebook_run(actor=actor, project=project, stage=stage, settings=settings, today=today)
        summary.projects += 1
        if results.passed:
            summary.passed += 1
        else:
            summary.with_blocking_failures += 1
        if any(not r.passed and not r.blocking for r in results):
            summary.with_warnings += 1
        if progress is not None:
            progress(summary.projects, total)
    summary.seconds = time.perf_counter() - started
    return summary


# --- the ministry's settings ---------------------------------------------------------------------------


def rule_setting_update(
    *,
    actor,
    code: str,
    enabled: bool | None = None,
    severity: str | None = None,
    thresholds: dict | None = None,
    reason: str = "",
) -> EffectiveSetting:
    """Changes one check's setting (what is given; `thresholds` may name only some of them). Validates
    everything before writing; records an audit event with the old and new values. Nothing changes and
    nothing is recorded when the values are the same."""
    if not permissions.can_edit_rulebook(actor):
        raise NotAllowed(_("Only a ministry administrator may change the rulebook."))
    check = checks.REGISTRY.get(code)
    if check is None:
        raise DomainError(_("There is no check with this code."), code="not_found", status=404)
    errors: dict[str, list] = {}
    if enabled is not None and not isinstance(enabled, bool):
        errors["enabled"] = [_("Give yes or no (true or false).")]
    if severity is not None and severity not in Severity.values:
        errors["severity"] = [_("Choose blocking or warning.")]
    if thresholds is not None and not isinstance(thresholds, dict):
        errors["thresholds"] = [_("Give the thresholds as an object of names and values.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=errors)
    with transaction.atomic():
        row = RuleSetting.objects.select_for_update().filter(code=code).first()
        before = selectors._effective(check, row)
        merged = dict(before.thresholds)
        merged.update(thresholds or {})
        cleaned, threshold_errors = checks.clean_thresholds(check, merged)
        if threshold_errors:
            raise DomainError(
                _("Please correct the errors below."),
                code="invalid",
                fields={f"thresholds.{key}": messages for key, messages in threshold_errors.items()},
            )
        after = EffectiveSetting(
            code=code,
            enabled=before.enabled if enabled is None else enabled,
            severity=before.severity if severity is None else severity,
            thresholds=cleaned,
        )
        changes = audit.diff(before.snapshot(), after.snapshot())
        if not changes:
            return before
        if row is None:
            row = RuleSetting(code=code)
        row.enabled, row.severity, row.thresholds, row.updated_by = (
            after.enabled,
            after.severity,
            after.thresholds,
            actor,
        )
        row.save()
        audit.record(actor=actor, action="rulebook.setting_update", subject=row, changes=changes, reason=reason)
    return selectors.effective_setting(code)
