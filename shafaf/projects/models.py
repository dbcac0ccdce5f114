from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import Role
from shafaf.accounts.models import Organization
from shafaf.core.models import TimeStampedModel

from .choices import (
    EXTERNAL_MODELS,
    INTERNAL_MODELS,
    LICENSED_STATUSES,
    PHASE_STATUS_BADGES,
    STATUS_BADGES,
    BeneficiaryGroup,
    DocumentKind,
    PhaseStatus,
    ProjectAction,
    ProjectModel,
    ProjectStatus,
)
from .codelists import COUNTRIES, CURRENCIES, SECTORS

HOME_COUNTRY = "KW"


def latitude_field():
    """An optional GPS latitude in degrees, to the micro-degree (about 0.1 m)."""
    return models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )


def longitude_field():
    """An optional GPS longitude in degrees, to the micro-degree."""
    return models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectQuerySet:
        from . import selectors

        return selectors.projects_visible_to(user, self)


class Project(TimeStampedModel):
    reference = models.CharField(_("reference"), max_length=30, unique=True, editable=False)
    charity = models.ForeignKey(
        Organization,
        verbose_name=_("charity"),
        on_delete=models.PROTECT,
        related_name="projects",
        limit_choices_to={"kind": "charity"},
    )
    title_ar = models.CharField(_("title (Arabic)"), max_length=300, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    project_model = models.CharField(_("MOSA project model"), max_length=40, choices=ProjectModel.choices)
    sector = models.CharField(_("DAC sector"), max_length=5, help_text=_("The five-digit DAC sector code."))
    country = models.CharField(_("recipient country"), max_length=2)
    beneficiary_group = models.CharField(_("beneficiary group"), max_length=20, choices=BeneficiaryGroup.choices)
    beneficiary_count = models.PositiveIntegerField(_("number of beneficiaries"), validators=[MinValueValidator(1)])
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    currency = models.CharField(_("currency"), max_length=3, default="KWD")
    implementing_partner = models.ForeignKey(
        Organization,
        verbose_name=_("implementing partner"),
        on_delete=models.PROTECT,
        related_name="implemented_projects",
        null=True,
        blank=True,
        limit_choices_to={"kind": "partner"},
    )
    status = models.CharField(_("status"), max_length=30, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT)
    iati_identifier = models.CharField(_("IATI identifier"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    # The lifecycle (projects/workflow.py); written only by services.project_transition and project_update.
    licence_number = models.CharField(
        _("licence number"),
        max_length=30,
        blank=True,
        editable=False,
        help_text=_("Given by the ministry on approval."),
    )
    licence_date = models.DateField(_("licence date"), null=True, blank=True, editable=False)
    is_revision = models.BooleanField(
        _("revision"),
        default=False,
        editable=False,
        help_text=_("A licensed project whose scope was changed and is back in review."),
    )
    resume_status = models.CharField(
        _("state to return to"),
        max_length=30,
        choices=ProjectStatus.choices,
        blank=True,
        editable=False,
        help_text=_("Where a suspended project resumes, or where an approved revision returns."),
    )
    status_changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("last submitted at"), null=True, blank=True, editable=False)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="project_newest_first"),
            models.Index(fields=["charity", "-created_at", "-id"], name="project_charity_newest_first"),
            models.Index(fields=["charity", "status"], name="project_charity_status"),
            models.Index(fields=["country", "sector"], name="project_country_sector"),
            models.Index(fields=["status", "submitted_at"], name="project_review_queue"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title_ar="") | ~Q(title_en=""), name="project_has_a_title"),
            models.CheckConstraint(condition=Q(planned_end__gte=F("planned_start")), name="project_dates_in_order"),
            models.CheckConstraint(condition=Q(beneficiary_count__gte=1), name="project_has_beneficiaries"),
            models.UniqueConstraint(
                fields=["charity", "iati_identifier"],
                condition=~Q(iati_identifier=""),
                name="project_unique_iati_identifier_per_charity",
            ),
            models.UniqueConstraint(
                fields=["licence_number"], condition=~Q(licence_number=""), name="project_unique_licence_number"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=sorted(LICENSED_STATUSES))
                | (~Q(licence_number="") & Q(licence_date__isnull=False)),
                name="project_licensed_has_a_licence",
            ),
            models.CheckConstraint(
                condition=~Q(status=ProjectStatus.SUSPENDED)
                | Q(resume_status__in=[ProjectStatus.APPROVED, ProjectStatus.IN_EXECUTION]),
                name="project_suspended_knows_where_to_resume",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.title()}"

    def title(self, language: str | None = None) -> str:
        language = language or get_language() or "ar"
        if language.startswith("en"):
            return self.title_en or self.title_ar
        return self.title_ar or self.title_en

    def description(self, language: str | None = None) -> str:
        language = language or get_language() or "ar"
        if language.startswith("en"):
            return self.description_en or self.description_ar
        return self.description_ar or self.description_en

    @property
    def country_label(self) -> str:
        return COUNTRIES.label(self.country)

    @property
    def sector_label(self) -> str:
        return SECTORS.label(self.sector)

    @property
    def is_external(self) -> bool:
        return self.project_model in EXTERNAL_MODELS

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "secondary")

    @property
    def days_waiting(self) -> int | None:
        """Whole days since the project was last submitted (the review queue's age)."""
        if self.submitted_at is None:
            return None
        return max(0, (timezone.now() - self.submitted_at).days)

    def clean(self):
        errors: dict[str, list] = {}
        if not (self.title_ar or "").strip() and not (self.title_en or "").strip():
            errors.setdefault("title_ar", []).append(_("Give the title in Arabic, English or both."))
        if self.sector and self.sector not in SECTORS.active_codes():
            errors.setdefault("sector", []).append(_("This is not an active DAC sector code."))
        if self.country and self.country not in COUNTRIES.active_codes():
            errors.setdefault("country", []).append(_("This is not a known country code."))
        if self.currency and self.currency not in CURRENCIES.active_codes():
            errors.setdefault("currency", []).append(_("This is not an active ISO 4217 currency code."))
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors.setdefault("planned_end", []).append(_("The planned end cannot be before the planned start."))
        if self.project_model in INTERNAL_MODELS and self.country and self.country != HOME_COUNTRY:
            errors.setdefault("country", []).append(_("An internal project is implemented in Kuwait."))
        if self.project_model in EXTERNAL_MODELS and self.country == HOME_COUNTRY:
            errors.setdefault("country", []).append(_("An external project is implemented outside Kuwait."))
        if self.charity_id and self.charity.kind != "charity":
            errors.setdefault("charity", []).append(_("Only a charity owns projects."))
        if self.implementing_partner_id and self.implementing_partner.kind != "partner":
            errors.setdefault("implementing_partner", []).append(_("Choose a foreign implementing partner."))
        if errors:
            raise ValidationError(errors)


class ProjectLocation(models.Model):
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="locations")
    admin_area_ar = models.CharField(_("administrative area (Arabic)"), max_length=200, blank=True)
    admin_area_en = models.CharField(_("administrative area (English)"), max_length=200, blank=True)
    latitude = latitude_field()
    longitude = longitude_field()

    class Meta:
        verbose_name = _("project location")
        verbose_name_plural = _("project locations")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(admin_area_ar="") | ~Q(admin_area_en=""), name="location_has_an_area_name"
            ),
            # The NOT NULL tests matter: a CHECK whose result is NULL passes, so without them a
            # latitude with no longitude (15.5 >= -90 AND NULL >= -180 is NULL) would be let in.
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__isnull=False)
                    & Q(longitude__isnull=False)
                    & Q(latitude__gte=-90)
                    & Q(latitude__lte=90)
                    & Q(longitude__gte=-180)
                    & Q(longitude__lte=180)
                ),
                name="location_point_is_whole_and_on_earth",
            ),
        ]

    def __str__(self) -> str:
        language = get_language() or "ar"
        name = (
            (self.admin_area_en or self.admin_area_ar)
            if language.startswith("en")
            else (self.admin_area_ar or self.admin_area_en)
        )
        if self.latitude is not None:
            return f"{name} ({self.latitude}, {self.longitude})"
        return name

    def clean(self):
        if not self.admin_area_ar.strip() and not self.admin_area_en.strip():
            raise ValidationError({"admin_area_ar": _("Name the administrative area in Arabic, English or both.")})
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": _("Give both latitude and longitude, or neither.")})


class ProjectTransition(models.Model):
    """One move of a project from one state to another: the domain history its timeline shows. The audit
    chain records each too (action "project.<action>", with the same reason)."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="transitions"
    )
    action = models.CharField(_("action"), max_length=30, choices=ProjectAction.choices)
    from_status = models.CharField(_("from"), max_length=30, choices=ProjectStatus.choices)
    to_status = models.CharField(_("to"), max_length=30, choices=ProjectStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(_("role"), max_length=30, choices=Role.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("project transition")
        verbose_name_plural = _("project transitions")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["project", "at", "id"], name="transition_project_time")]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=F("to_status")), name="transition_changes_the_state"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_status} -> {self.to_status} ({self.action})"


class ProjectSequence(models.Model):
    """The last reference number given per year; claimed under a row lock so two creators never share one."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("project reference sequence")
        verbose_name_plural = _("project reference sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class LicenceSequence(models.Model):
    """The last licence number given per year (MOSA-2026-000123); claimed under a row lock at approval."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("licence number sequence")
        verbose_name_plural = _("licence number sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class ProjectPhase(models.Model):
    """A phase (مرحلة) of a project's execution, with its planned dates, its weight in the project's progress,
    and how far it has come. A milestone (معلم رئيسي) is a phase flagged `is_milestone`: a point to reach,
    which may weigh 0 (then it is shown but does not count in the project's weighted progress); any other
    phase weighs at least 1."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    weight = models.PositiveIntegerField(
        _("weight"), default=1, help_text=_("Its share in the project's progress. A milestone may weigh 0.")
    )
    is_milestone = models.BooleanField(_("milestone"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=PhaseStatus.choices, default=PhaseStatus.PLANNED)
    percent_complete = models.PositiveSmallIntegerField(
        _("percent complete"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("project phase")
        verbose_name_plural = _("project phases")
        ordering = ["project", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0) & Q(percent_complete__lte=100), name="phase_percent_0_to_100"
            ),
            models.CheckConstraint(condition=Q(planned_end__gte=F("planned_start")), name="phase_dates_in_order"),
            models.CheckConstraint(condition=Q(weight__gte=1) | Q(is_milestone=True), name="phase_weight_positive"),
            models.CheckConstraint(condition=~Q(name_ar="") | ~Q(name_en=""), name="phase_has_a_name"),
            models.CheckConstraint(
                condition=~Q(status=PhaseStatus.DONE) | Q(percent_complete=100), name="phase_done_is_complete"
            ),
            models.CheckConstraint(
                condition=~Q(status=PhaseStatus.PLANNED) | Q(percent_complete=0), name="phase_planned_not_started"
            ),
            models.CheckConstraint(condition=Q(status__in=PhaseStatus.values), name="phase_status_known"),
        ]

    def __str__(self) -> str:
        return self.name()

    def name(self, language: str | None = None) -> str:
        language = language or get_language() or "ar"
        if language.startswith("en"):
            return self.name_en or self.name_ar
        return self.name_ar or self.name_en

    @property
    def status_badge(self) -> str:
        return PHASE_STATUS_BADGES.get(self.status, "secondary")

    def clean(self):
        errors: dict[str, list] = {}
        if not (self.name_ar or "").strip() and not (self.name_en or "").strip():
            errors.setdefault("name_ar", []).append(_("Give the name in Arabic, English or both."))
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors.setdefault("planned_end", []).append(_("The planned end cannot be before the planned start."))
        if not self.is_milestone and self.weight is not None and self.weight < 1:
            errors.setdefault("weight", []).append(_("Only a milestone may weigh 0."))
        if self.status == PhaseStatus.DONE and self.percent_complete != 100:
            errors.setdefault("percent_complete", []).append(_("A phase that is done is fully complete."))
        if self.status == PhaseStatus.PLANNED and self.percent_complete:
            errors.setdefault("status", []).append(_("A phase that has made progress is no longer only planned."))
        if errors:
            raise ValidationError(errors)


def document_upload_to(document, filename: str) -> str:
    """projects/<project id>/<random>.<ext>: the stored name never comes from what the uploader typed."""
    import uuid
    from pathlib import PurePath

    extension = PurePath(filename).suffix.lower()[:10]
    return f"projects/{document.project_id}/{uuid.uuid4().hex}{extension}"


class ProjectDocument(models.Model):
    """A document of a project (licence application, drawings, agreement...) or evidence of its execution
    (photos with their date and place, invoices). The file is served only through a view that checks the
    user may see the project (views.document_download_view), never from MEDIA_URL."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="documents")
    phase = models.ForeignKey(
        ProjectPhase,
        verbose_name=_("phase"),
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=200)
    content_type = models.CharField(_("content type"), max_length=100, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    taken_on = models.DateField(_("date taken"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=300, blank=True)
    latitude = latitude_field()
    longitude = longitude_field()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("project document")
        verbose_name_plural = _("project documents")
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["project", "kind"], name="document_project_kind")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__isnull=False)
                    & Q(longitude__isnull=False)
                    & Q(latitude__gte=-90)
                    & Q(latitude__lte=90)
                    & Q(longitude__gte=-180)
                    & Q(longitude__lte=180)
                ),
                name="document_point_is_whole_and_on_earth",
            ),
            models.CheckConstraint(condition=~Q(sha256=""), name="document_has_a_sha256"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def sha256_short(self) -> str:
        return self.sha256[:12]


from .oversight.models import Alert  # noqa: E402,F401
from .rulebook.models import CheckResultRecord, RulebookRun, RuleSetting  # noqa: E402,F401
