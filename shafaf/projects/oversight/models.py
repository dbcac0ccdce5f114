"""Alerts: a condition of a running project that someone (its charity or the ministry) must act on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


# An alert in these states still stands: its rule raises no other for the same project.
UNRESOLVED_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertSeverity(models.TextChoices):
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class Alert(models.Model):
    """One alert about one project, raised by one rule (rules.RULES). Its owner is the organisation that must
    act: the project's charity, or the ministry (the MOSA authority)."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="alerts"
    )
    rule = models.CharField(_("rule"), max_length=60)
    severity = models.CharField(_("severity"), max_length=10, choices=AlertSeverity.choices)
    owner = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The organisation that must act: the project's charity or the ministry."),
    )
    message_ar = models.TextField(_("message (Arabic)"))
    message_en = models.TextField(_("message (English)"))
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement_comment = models.TextField(_("comment"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "-raised_at"], name="alert_owner_status"),
            models.Index(fields=["status", "-raised_at"], name="alert_status_newest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "rule"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="alert_one_unresolved_per_project_rule",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "acknowledged", "resolved"]), name="alert_status_known"
            ),
            models.CheckConstraint(condition=Q(severity__in=["warning", "critical"]), name="alert_severity_known"),
            models.CheckConstraint(
                condition=~Q(status="acknowledged")
                | (Q(acknowledged_at__isnull=False) & ~Q(acknowledgement_comment="")),
                name="alert_acknowledged_has_a_comment",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False), name="alert_resolved_has_a_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.project_id} · {self.status}"

    @property
    def message(self) -> str:
        return self.message_en if (get_language() or "ar").startswith("en") else self.message_ar

    @property
    def rule_title(self) -> str:
        from .rules import RULES

        rule = RULES.get(self.rule)
        return str(rule.title) if rule else self.rule

    @property
    def badge(self) -> str:
        return "danger" if self.severity == AlertSeverity.CRITICAL else "warning"
