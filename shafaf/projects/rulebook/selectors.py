"""Every read of the rulebook, already filtered to what the user may see."""

from __future__ import annotations

from django.db.models import Prefetch

from shafaf.projects.selectors import projects_visible_to

from . import checks
from .engine import EffectiveSetting, default_setting
from .models import CheckResultRecord, RulebookRun, RuleSetting


def _effective(check: checks.Check, row: RuleSetting | None) -> EffectiveSetting:
    if row is None:
        return default_setting(check)
    # Thresholds added to a check after the row was saved take their defaults; ones it no longer has go.
    thresholds = check.default_thresholds()
    thresholds.update({k: v for k, v in (row.thresholds or {}).items() if k in thresholds})
    return EffectiveSetting(
        code=check.code,
        enabled=row.enabled,
        severity=row.severity,
        thresholds=thresholds,
        customised=True,
        updated_at=row.updated_at,
        updated_by=row.updated_by.get_username() if row.updated_by_id else "",
    )


def effective_settings() -> dict[str, EffectiveSetting]:
    """Every check's setting, by code, in the registry's order (one query)."""
    rows = {row.code: row for row in RuleSetting.objects.select_related("updated_by")}
    return {code: _effective(check, rows.get(code)) for code, check in checks.REGISTRY.items()}


def effective_setting(code: str) -> EffectiveSetting:
    """One check's setting; KeyError for an unknown code."""
    check = checks.REGISTRY[code]
    return _effective(check, RuleSetting.objects.select_related("updated_by").filter(code=code).first())


def _with_results(queryset):
    return queryset.prefetch_related(Prefetch("results", queryset=CheckResultRecord.objects.order_by("position", "id")))


def runs_visible_to(user, queryset=None):
    """The runs of the projects the user may see (projects.selectors.projects_visible_to)."""
    queryset = RulebookRun.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(project__in=projects_visible_to(user).values("pk"))


def run_list(user):
    return _with_results(runs_visible_to(user).select_related("project", "actor")).order_by("-at", "-id")


def latest_run(project) -> RulebookRun | None:
    """The project's latest run with its results, or None when the rulebook never ran for it. The caller
    has already checked that the user may see the project."""
    return (
        _with_results(RulebookRun.objects.filter(project=project).select_related("actor"))
        .order_by("-at", "-id")
        .first()
    )
