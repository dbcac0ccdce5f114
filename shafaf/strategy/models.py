"""Plans and strategies (الخطط الاستراتيجية): the ministry's plan and each charity's, their objectives and
indicators, targets per period, actual values from the projects' progress reports, and the links from
projects to the objectives they serve.

A plan is kept in versions. A version in force is never edited: a change starts a new draft version that
copies the objectives and indicators (each copy remembers its origin), and publishing it supersedes the old.

Indicator values are exact: integers in thousandths (SCALE) of the indicator's unit, never floats.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import Aggregation, Direction, ObjectiveKind, Unit, VersionStatus


def _bilingual(arabic: str, english: str, language: str | None = None) -> str:
    language = (language or get_language() or "ar")[:2]
    return (english or arabic) if language == "en" else (arabic or english)


class Plan(models.Model):
    """A strategic plan (خطة استراتيجية) of the ministry (an authority) or of one charity."""

    organization = models.ForeignKey(
        "accounts.Organization", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="plans"
    )
    code = models.SlugField(_("code"), max_length=60)
    name_ar = models.CharField(_("name (Arabic)"), max_length=300, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("strategic plan")
        verbose_name_plural = _("strategic plans")
        ordering = ["organization_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="plan_code_unique_per_organization"),
            models.CheckConstraint(condition=~Q(name_ar="") | ~Q(name_en=""), name="plan_has_a_name"),
        ]

    def __str__(self) -> str:
        return self.name()

    def name(self, language: str | None = None) -> str:
        return _bilingual(self.name_ar, self.name_en, language)


class PlanVersion(models.Model):
    """One version of a plan, with its period. Draft versions are edited; publishing one puts it in force and
    supersedes the version in force before it, which stays as it was."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    note = models.TextField(_("what changed"), blank=True)
    based_on = models.ForeignKey(
        "self", verbose_name=_("based on"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.UniqueConstraint(fields=["plan"], condition=Q(status="published"), name="plan_one_version_in_force"),
            models.UniqueConstraint(fields=["plan"], condition=Q(status="draft"), name="plan_one_draft_version"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="plan_version_period_order"),
            models.CheckConstraint(condition=Q(status__in=VersionStatus.values), name="plan_version_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class Objective(models.Model):
    """A pillar (محور), goal or objective (هدف) of one plan version, in a tree (`parent`). An objective of a
    charity's plan may be mapped to an objective of the ministry's plan (`maps_to`); mappings never form a
    circle. `origin` is the same objective in the version this one was copied from."""

    version = models.ForeignKey(
        PlanVersion, verbose_name=_("plan version"), on_delete=models.PROTECT, related_name="objectives"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("part of"), on_delete=models.PROTECT, related_name="children", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ObjectiveKind.choices, default=ObjectiveKind.OBJECTIVE)
    code = models.CharField(_("code"), max_length=30)
    title_ar = models.CharField(_("title (Arabic)"), max_length=300, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    sdg_goal = models.PositiveSmallIntegerField(
        _("Sustainable Development Goal"), null=True, blank=True, help_text=_("1 to 17, when the objective serves one.")
    )
    maps_to = models.ForeignKey(
        "self",
        verbose_name=_("serves the objective"),
        on_delete=models.PROTECT,
        related_name="mapped_from",
        null=True,
        blank=True,
    )
    origin = models.ForeignKey(
        "self", verbose_name=_("copied from"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")
        ordering = ["version_id", "position", "code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="objective_code_unique_per_version"),
            models.CheckConstraint(condition=~Q(title_ar="") | ~Q(title_en=""), name="objective_has_a_title"),
            models.CheckConstraint(condition=Q(kind__in=ObjectiveKind.values), name="objective_kind_known"),
            models.CheckConstraint(
                condition=Q(sdg_goal__isnull=True) | (Q(sdg_goal__gte=1) & Q(sdg_goal__lte=17)),
                name="objective_sdg_in_range",
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="objective_not_its_own_parent"),
            models.CheckConstraint(condition=~Q(maps_to=F("id")), name="objective_not_mapped_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title()}"

    def title(self, language: str | None = None) -> str:
        return _bilingual(self.title_ar, self.title_en, language)

    def description(self, language: str | None = None) -> str:
        return _bilingual(self.description_ar, self.description_en, language)


class ProjectObjective(models.Model):
    """A project serves an objective: set by the charity when it prepares the project (before submission)."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="objective_links"
    )
    objective = models.ForeignKey(
        Objective, verbose_name=_("objective"), on_delete=models.PROTECT, related_name="project_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("linked by"), on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        verbose_name = _("project's objective")
        verbose_name_plural = _("projects' objectives")
        ordering = ["project_id", "objective_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "objective"], name="project_objective_once"),
        ]
        indexes = [models.Index(fields=["objective", "project"], name="project_objective_by_objective")]

    def __str__(self) -> str:
        return f"{self.project_id} → {self.objective_id}"


class Indicator(models.Model):
    """An indicator (مؤشر) of an objective or of a project: definition, unit, direction, baseline (خط الأساس)
    and the rule that rolls values up. A project's indicator may feed an objective's indicator, and an
    objective's indicator may feed one of the objective it maps to (`feeds`), always in the same unit."""

    objective = models.ForeignKey(
        Objective, verbose_name=_("objective"), on_delete=models.PROTECT, related_name="indicators", null=True
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="indicators", null=True
    )
    code = models.CharField(_("code"), max_length=40)
    name_ar = models.CharField(_("name (Arabic)"), max_length=300, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)
    definition_ar = models.TextField(_("definition (Arabic)"), blank=True)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, choices=Unit.choices)
    direction = models.CharField(_("direction"), max_length=20, choices=Direction.choices, default=Direction.INCREASE)
    aggregation = models.CharField(
        _("roll-up rule"), max_length=20, choices=Aggregation.choices, default=Aggregation.SUM
    )
    baseline_milli = models.BigIntegerField(_("baseline (thousandths)"), null=True, blank=True)
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    feeds = models.ForeignKey(
        "self",
        verbose_name=_("feeds the indicator"),
        on_delete=models.PROTECT,
        related_name="contributors",
        null=True,
        blank=True,
    )
    origin = models.ForeignKey(
        "self", verbose_name=_("copied from"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["code", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(objective__isnull=False) & Q(project__isnull=True))
                | (Q(objective__isnull=True) & Q(project__isnull=False)),
                name="indicator_of_an_objective_or_a_project",
            ),
            models.UniqueConstraint(
                fields=["objective", "code"], condition=Q(objective__isnull=False), name="indicator_code_per_objective"
            ),
            models.UniqueConstraint(
                fields=["project", "code"], condition=Q(project__isnull=False), name="indicator_code_per_project"
            ),
            # "Linked twice": one project (or one objective) feeds a given indicator through one indicator only.
            models.UniqueConstraint(
                fields=["project", "feeds"],
                condition=Q(project__isnull=False, feeds__isnull=False),
                name="indicator_project_feeds_once",
            ),
            models.UniqueConstraint(
                fields=["objective", "feeds"],
                condition=Q(objective__isnull=False, feeds__isnull=False),
                name="indicator_objective_feeds_once",
            ),
            models.CheckConstraint(condition=~Q(feeds=F("id")), name="indicator_does_not_feed_itself"),
            models.CheckConstraint(condition=~Q(name_ar="") | ~Q(name_en=""), name="indicator_has_a_name"),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="indicator_unit_known"),
            models.CheckConstraint(condition=Q(aggregation__in=Aggregation.values), name="indicator_rule_known"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="indicator_direction_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name()}"

    def name(self, language: str | None = None) -> str:
        return _bilingual(self.name_ar, self.name_en, language)

    def definition(self, language: str | None = None) -> str:
        return _bilingual(self.definition_ar, self.definition_en, language)


class IndicatorTarget(models.Model):
    """The target (المستهدف) of an indicator for one period."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="targets"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value_milli = models.BigIntegerField(_("target (thousandths)"))

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["indicator_id", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period_start"], name="indicator_target_one_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="indicator_target_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_start.isoformat()} – {self.period_end.isoformat()}"


class IndicatorValue(models.Model):
    """An actual value (المتحقق) of a project's indicator for one reporting period, carried by that period's
    progress report with its evidence. It is reviewed with the report: it counts in roll-ups once the
    ministry accepts the report."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="values"
    )
    report = models.ForeignKey(
        "reports.ProgressReport",
        verbose_name=_("progress report"),
        on_delete=models.CASCADE,
        related_name="indicator_values",
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value_milli = models.BigIntegerField(_("value (thousandths)"))
    note = models.TextField(_("note"), blank=True)
    evidence = models.ManyToManyField(
        "projects.ProjectDocument", verbose_name=_("evidence"), related_name="indicator_values", blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator_id", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "report"], name="indicator_value_one_per_report"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="indicator_value_period_order"),
        ]
        indexes = [models.Index(fields=["indicator", "period_start"], name="indicator_value_by_period")]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_start.isoformat()}: {self.value_milli}"
