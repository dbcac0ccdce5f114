"""Progress reports (تقارير الإنجاز): each licensed project's schedule and its periodic reports."""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shafaf.core.models import TimeStampedModel
from shafaf.projects.models import Project, ProjectDocument

from .choices import DEFAULT_FREQUENCY_MONTHS, STATUS_BADGES, ReportStatus


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class ReportSchedule(models.Model):
    """When a project reports to the ministry: set when the ministry approves it (quarterly by default).

    Period n runs from starts_on + n × frequency months for frequency months, and its report is due on
    first_due + n × frequency months; the periods stop at the project's planned end."""

    project = models.OneToOneField(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="report_schedule"
    )
    frequency_months = models.PositiveSmallIntegerField(
        _("frequency (months)"),
        default=DEFAULT_FREQUENCY_MONTHS,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    starts_on = models.DateField(_("first period starts on"))
    first_due = models.DateField(_("first report due on"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_months__gte=1) & Q(frequency_months__lte=12), name="schedule_frequency_range"
            ),
            models.CheckConstraint(condition=Q(first_due__gt=F("starts_on")), name="schedule_due_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.project} / {self.frequency_months}"

    def periods(self, until: dt.date | None = None) -> list[dict]:
        """The reporting periods [{period, period_start, period_end, due_date}], up to the project's planned
        end (and, given `until`, only those due on or before it)."""
        end = self.project.planned_end
        result, n = [], 0
        while n < 240:
            start = add_months(self.starts_on, n * self.frequency_months)
            if start > end:
                break
            period_end = min(add_months(self.starts_on, (n + 1) * self.frequency_months) - dt.timedelta(days=1), end)
            due = add_months(self.first_due, n * self.frequency_months)
            if until is not None and due > until:
                break
            result.append(
                {
                    "period": f"{start.isoformat()} – {period_end.isoformat()}",
                    "period_start": start,
                    "period_end": period_end,
                    "due_date": due,
                }
            )
            n += 1
        return result


class ProgressReport(TimeStampedModel):
    """A periodic progress report (تقرير إنجاز / تقرير دوري): a bilingual narrative, the phases' progress
    when it was submitted, its evidence (شواهد: documents of the same project) and the ministry's review
    (submitted → accepted or returned with a comment).

    Indicator values: the actual values of the project's indicators for the period are rows of
    shafaf.strategy.models.IndicatorValue (`report.indicator_values`), written through
    shafaf.strategy.services.report_indicator_values_set; they count in roll-ups once the report is accepted."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="progress_reports"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    narrative_ar = models.TextField(_("narrative (Arabic)"), blank=True)
    narrative_en = models.TextField(_("narrative (English)"), blank=True)
    phase_progress = models.JSONField(
        _("phase progress"), default=dict, blank=True, help_text=_("{phase id: percent} when it was submitted.")
    )
    evidence = models.ManyToManyField(
        ProjectDocument, verbose_name=_("evidence"), related_name="progress_reports", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "period_start"], name="report_one_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="report_period_in_order"),
            models.CheckConstraint(condition=Q(status__in=ReportStatus.values), name="report_status_known"),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.RETURNED) | ~Q(review_comment=""),
                name="report_returned_has_a_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.reference} {self.period_start.isoformat()} – {self.period_end.isoformat()}"

    def narrative(self, language: str | None = None) -> str:
        language = (language or get_language() or "ar")[:2]
        first, second = (
            (self.narrative_en, self.narrative_ar) if language == "en" else (self.narrative_ar, self.narrative_en)
        )
        return first or second

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "secondary")

    @property
    def period_label(self) -> str:
        return f"{self.period_start.isoformat()} – {self.period_end.isoformat()}"
