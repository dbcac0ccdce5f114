"""Coordination across charities: each project's comparable record (its signature), the ministry's thresholds,
the model's parameters (every version kept), each online check, the overlap flags with the ministry's
decisions, and the batch scans."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.projects.models import Project

from .choices import CheckTrigger, Decision, FlagStatus, Level


class CoordinationSettings(models.Model):
    """The ministry's thresholds (one row, pk=1), on the model's score (a match weight: log2 of the odds that
    two projects are the same project). A pair scoring at or above `likely_threshold` is a likely duplicate; at
    or above `possible_threshold` a possible overlap."""

    likely_threshold = models.DecimalField(
        _("likely duplicate at or above"), max_digits=6, decimal_places=2, default=Decimal("9.5")
    )
    possible_threshold = models.DecimalField(
        _("possible overlap at or above"), max_digits=6, decimal_places=2, default=6
    )
    completed_within_days = models.PositiveIntegerField(
        _("compare completed projects for (days)"),
        default=365,
        help_text=_("A completed project is still compared for this many days after it was completed."),
    )
    max_candidates = models.PositiveIntegerField(_("candidates scored per check"), default=200)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("coordination settings")
        verbose_name_plural = _("coordination settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(possible_threshold__lte=F("likely_threshold")), name="coord_possible_not_above_likely"
            ),
            models.CheckConstraint(condition=Q(max_candidates__gte=1), name="coord_max_candidates_positive"),
        ]

    def __str__(self) -> str:
        return "coordination settings"


class ModelVersion(models.Model):
    """The comparison model's parameters (m and u probabilities of every level of every signal, and the prior),
    as `shafaf.coordination.model` reads them. Number 1 is the shipped default; `coordination_train` adds a
    version re-estimated from the corpus and the ministry's decisions. Exactly one is active."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    params = models.JSONField(_("parameters"))
    is_active = models.BooleanField(_("active"), default=False)
    labels_used = models.PositiveIntegerField(_("decisions used as labels"), default=0)
    records_used = models.PositiveIntegerField(_("projects used"), default=0)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="coord_one_active_model")
        ]

    def __str__(self) -> str:
        return f"v{self.number}"


class ProjectSignature(models.Model):
    """What coordination compares of a project: the record built by `shafaf.coordination.record.build_record`
    (normalised text tokens, partner, place, sector, beneficiaries, budget in fils of KWD, dates). Rebuilt on
    every scope edit; the in-memory index of each process catches up by `updated_at`."""

    project = models.OneToOneField(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="coordination_signature"
    )
    record = models.JSONField(_("record"))
    digest = models.CharField(_("SHA-256 of the record"), max_length=64)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("project signature")
        verbose_name_plural = _("project signatures")

    def __str__(self) -> str:
        return f"signature of {self.project_id}"


class OverlapCheck(models.Model):
    """One online check of a project (on submission, on a scope edit, or run by the ministry): what was
    compared and what was found, kept as it was answered."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="coordination_checks"
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=CheckTrigger.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="+"
    )
    candidates = models.PositiveIntegerField(_("candidates scored"), default=0)
    overlaps = models.PositiveIntegerField(_("overlaps with other charities"), default=0)
    internal = models.PositiveIntegerField(_("internal duplicates"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    # [{"project", "reference", "charity", "internal", "score", "level", "reasons"}] best first.
    results = models.JSONField(_("results"), default=list)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("overlap check")
        verbose_name_plural = _("overlap checks")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["project", "-at"], name="coord_check_project_at")]

    def __str__(self) -> str:
        return f"check of {self.project_id} at {self.at:%Y-%m-%d %H:%M}"


class Flag(models.Model):
    """An overlap between two projects found by a check or a scan (project_a has the smaller id). Across two
    charities it waits for the ministry's decision and blocks both projects' approval until then; within one
    charity (`internal`) it is reported to that charity as an internal duplicate and blocks nothing."""

    project_a = models.ForeignKey(
        Project, verbose_name=_("first project"), on_delete=models.CASCADE, related_name="coordination_flags_a"
    )
    project_b = models.ForeignKey(
        Project, verbose_name=_("second project"), on_delete=models.CASCADE, related_name="coordination_flags_b"
    )
    internal = models.BooleanField(_("within one charity"), default=False)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    score = models.FloatField(_("score"))
    # [{"signal", "level", "weight", "text_ar", "text_en"}] in the order the model explains them.
    reasons = models.JSONField(_("reasons"), default=list)
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    found_by = models.CharField(_("found by"), max_length=20, choices=[*CheckTrigger.choices, ("scan", _("Scan"))])
    first_found_at = models.DateTimeField(_("first found"), default=timezone.now)
    last_found_at = models.DateTimeField(_("last found"), default=timezone.now)

    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    # Duplicate: the project that is rejected or withdrawn.
    duplicate_project = models.ForeignKey(
        Project,
        verbose_name=_("the duplicate"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # Joint funding: the agreed shares of the joint work (basis points, summing to 10,000) and its total cost.
    share_a_bp = models.PositiveIntegerField(_("first project's share (basis points)"), null=True, blank=True)
    share_b_bp = models.PositiveIntegerField(_("second project's share (basis points)"), null=True, blank=True)
    joint_total = models.BigIntegerField(_("total cost of the joint work (minor units)"), null=True, blank=True)
    joint_currency = models.CharField(_("currency"), max_length=3, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("overlap flag")
        verbose_name_plural = _("overlap flags")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project_a", "project_b"], name="coord_one_flag_per_pair"),
            models.CheckConstraint(condition=Q(project_a__lt=F("project_b")), name="coord_flag_pair_ordered"),
            models.CheckConstraint(
                condition=Q(status="decided", decided_at__isnull=False) & ~Q(decision="")
                | ~Q(status="decided") & Q(decision=""),
                name="coord_decided_has_decision",
            ),
            models.CheckConstraint(
                condition=~Q(decision="joint")
                | Q(share_a_bp__isnull=False, share_b_bp__isnull=False, share_a_bp__gte=1, share_b_bp__gte=1),
                name="coord_joint_has_shares",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "internal"], name="coord_flag_status"),
            models.Index(fields=["project_b", "status"], name="coord_flag_b_status"),
        ]

    def __str__(self) -> str:
        return f"{self.project_a_id} ~ {self.project_b_id} ({self.level})"


class ScanRun(models.Model):
    """One batch scan of the whole corpus (`manage.py coordination_scan`, nightly): its progress, the pairs found
    at or above "possible overlap", and how many of them were not found by the previous finished scan."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    engine = models.CharField(_("engine"), max_length=20, default="duckdb")
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="+"
    )
    records = models.PositiveIntegerField(_("projects scanned"), default=0)
    comparisons = models.BigIntegerField(_("pairs compared"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress (percent)"), default=0)
    progress_message = models.CharField(_("stage"), max_length=200, blank=True)
    pairs = models.PositiveIntegerField(_("pairs found"), default=0)
    likely = models.PositiveIntegerField(_("likely duplicates"), default=0)
    new_pairs = models.PositiveIntegerField(_("pairs new since the previous scan"), default=0)
    output = models.CharField(_("output file"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coordination scan")
        verbose_name_plural = _("coordination scans")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"scan {self.pk}"


class ScanPair(models.Model):
    """A cross-charity pair found by a scan (kept per scan, so the next scan can say which pairs are new)."""

    run = models.ForeignKey(ScanRun, verbose_name=_("scan"), on_delete=models.CASCADE, related_name="found")
    project_a = models.ForeignKey(Project, verbose_name=_("first project"), on_delete=models.CASCADE, related_name="+")
    project_b = models.ForeignKey(Project, verbose_name=_("second project"), on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    is_new = models.BooleanField(_("new since the previous scan"), default=False)

    class Meta:
        verbose_name = _("scanned pair")
        verbose_name_plural = _("scanned pairs")
        constraints = [models.UniqueConstraint(fields=["run", "project_a", "project_b"], name="coord_scan_pair_once")]

    def __str__(self) -> str:
        return f"{self.project_a_id} ~ {self.project_b_id}"
