"""The rulebook's data: the ministry's settings per check, and every run with its results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    BLOCKING = "blocking", _("Blocking")
    WARNING = "warning", _("Warning")


class Stage(models.TextChoices):
    SUBMISSION = "submission", _("Submission")
    APPROVAL = "approval", _("Approval")
    NIGHTLY = "nightly", _("Nightly")


def _display(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, list):
        return ", ".join(str(_display(item)) for item in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_display(v)}" for k, v in value.items())
    return value


class RuleSetting(models.Model):
    """The ministry's setting for one check. No row: the check's defaults apply (checks.REGISTRY)."""

    code = models.CharField(_("check code"), max_length=60, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("rulebook setting")
        verbose_name_plural = _("rulebook settings")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=["blocking", "warning"]), name="rule_setting_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class RulebookRun(models.Model):
    """One evaluation of the rulebook for one project. `passed` is true when no blocking check failed
    (warnings do not make a run fail)."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="rulebook_runs"
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the nightly run."),
    )
    at = models.DateTimeField(_("run at"), default=timezone.now)
    passed = models.BooleanField(_("passed"))
    blocking_failures = models.PositiveIntegerField(_("blocking failures"), default=0)
    warnings = models.PositiveIntegerField(_("warnings"), default=0)

    class Meta:
        verbose_name = _("rulebook run")
        verbose_name_plural = _("rulebook runs")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["project", "-at", "-id"], name="rulebook_run_project_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=["submission", "approval", "nightly"]), name="rulebook_run_stage_known"
            ),
            models.CheckConstraint(
                condition=Q(passed=True, blocking_failures=0) | Q(passed=False, blocking_failures__gt=0),
                name="rulebook_run_passed_means_no_blocking_failure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} · {self.stage} · {self.at:%Y-%m-%d %H:%M}"


class CheckResultRecord(models.Model):
    """One check's result in a run, stored in both languages with the facts the check used."""

    run = models.ForeignKey(RulebookRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="results")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    code = models.CharField(_("check code"), max_length=60)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    passed = models.BooleanField(_("passed"))
    message_ar = models.TextField(_("message (Arabic)"))
    message_en = models.TextField(_("message (English)"))
    facts = models.JSONField(_("facts"), default=dict, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["run", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "code"], name="check_result_one_per_code_per_run"),
            models.CheckConstraint(
                condition=Q(severity__in=["blocking", "warning"]), name="check_result_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {'ok' if self.passed else self.severity}"

    @property
    def blocking(self) -> bool:
        return not self.passed and self.severity == Severity.BLOCKING

    @property
    def available(self) -> bool:
        return (self.facts or {}).get("source") != "unavailable"

    @property
    def message(self) -> str:
        return self.message_en if (get_language() or "ar").startswith("en") else self.message_ar

    @property
    def title(self) -> str:
        from .checks import REGISTRY

        check = REGISTRY.get(self.code)
        return str(check.title) if check else self.code

    @property
    def fact_rows(self) -> list[tuple[str, object]]:
        """The facts as (name, value) rows for the panel: lists joined, objects spelled out, yes/no kept."""
        return [(key, _display(value)) for key, value in (self.facts or {}).items()]

    @property
    def state(self) -> str:
        """passed / warning / blocking: the panel's colour."""
        if self.passed:
            return "passed"
        return "blocking" if self.blocking else "warning"
