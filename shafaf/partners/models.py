"""Foreign implementing partners: their registry record, names and officers, their accreditations by the two
ministries, the sanctions lists (every version loaded), and the screening of partners and officers against
them, with the reviewers' decisions on every hit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import Authority
from shafaf.accounts.models import Organization
from shafaf.core.models import TimeStampedModel

from .choices import (
    AccreditationStatus,
    HitStatus,
    OfficerRole,
    PartnerNameKind,
    SanctionsEntityType,
    SanctionsSource,
    ScreeningTrigger,
)

PARTNER = {"kind": "partner"}


class PartnerProfile(TimeStampedModel):
    """The registry record of a foreign partner (an Organization of kind partner, whose name_ar and name_en
    are its legal names in Arabic and Latin script)."""

    organization = models.OneToOneField(
        Organization,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="partner_profile",
        limit_choices_to=PARTNER,
    )
    registration_agency = models.CharField(
        _("registration authority"),
        max_length=20,
        blank=True,
        help_text=_("The IATI organisation-identifier prefix of the register, for example GB-CHC or YE-MSAL."),
    )
    registration_number = models.CharField(_("registration number"), max_length=60, blank=True)
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("partner registry record")
        verbose_name_plural = _("partner registry records")
        constraints = [
            models.UniqueConstraint(
                fields=["registration_agency", "registration_number"],
                condition=~Q(registration_number=""),
                name="partner_unique_registration",
            ),
        ]

    def __str__(self) -> str:
        return str(self.organization)


class PartnerName(models.Model):
    """A former name, alias or acronym of a partner: screened like its legal names."""

    partner = models.ForeignKey(
        Organization, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="partner_names"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PartnerNameKind.choices)
    name = models.CharField(_("name"), max_length=300)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("partner name")
        verbose_name_plural = _("partner names")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "name"], name="partner_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="partner_name_present"),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerAddress(models.Model):
    partner = models.ForeignKey(
        Organization, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="partner_addresses"
    )
    line = models.CharField(_("address"), max_length=300)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code."))

    class Meta:
        verbose_name = _("partner address")
        verbose_name_plural = _("partner addresses")
        ordering = ["id"]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.line, self.city, self.country) if part)


class Officer(TimeStampedModel):
    """A person who runs a partner: its head, a board member, a director or an authorised signatory."""

    partner = models.ForeignKey(
        Organization, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="officers"
    )
    role = models.CharField(_("role"), max_length=20, choices=OfficerRole.choices)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (Latin script)"), max_length=200, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2 code."))
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("officer")
        verbose_name_plural = _("officers")
        ordering = ["role", "name_en", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name_ar="") | ~Q(name_en=""), name="officer_has_a_name"),
        ]

    def __str__(self) -> str:
        return self.name_en or self.name_ar


class Accreditation(models.Model):
    """One ministry's accreditation of one partner. The partner is accredited on a date for a country and a
    project model only when both ministries' accreditations are active, valid on that date and cover both
    (an empty scope list covers everything)."""

    partner = models.ForeignKey(
        Organization,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="accreditations",
        limit_choices_to=PARTNER,
    )
    authority = models.CharField(_("authority"), max_length=10, choices=Authority.choices)
    number = models.CharField(_("accreditation number"), max_length=60)
    countries = models.JSONField(
        _("countries"), default=list, blank=True, help_text=_("ISO 3166-1 alpha-2 codes; empty covers every country.")
    )
    project_models = models.JSONField(
        _("project models"), default=list, blank=True, help_text=_("Empty covers every project model.")
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=10, choices=AccreditationStatus.choices, default=AccreditationStatus.ACTIVE
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    settlement_deadline = models.DateField(
        _("settlement deadline"),
        null=True,
        blank=True,
        help_text=_(
            "While suspended: transfers are allowed only to settle contracts signed before the suspension, "
            "with the contract uploaded, until this date."
        ),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("accreditation")
        verbose_name_plural = _("accreditations")
        ordering = ["partner_id", "authority", "-valid_until", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="accreditation_status_until")]
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="accreditation_unique_number"),
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")), name="accreditation_dates"),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "revoked", "expired"]), name="accreditation_status_known"
            ),
            models.CheckConstraint(condition=Q(authority__in=["MOSA", "MOFA"]), name="accreditation_authority_known"),
            models.CheckConstraint(
                condition=~Q(status="suspended") | Q(suspended_on__isnull=False), name="accreditation_suspended_on"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authority} {self.number}"

    def covers(self, country: str | None, project_model: str | None) -> bool:
        return (not self.countries or not country or country in self.countries) and (
            not self.project_models or not project_model or project_model in self.project_models
        )

    def valid_on(self, day) -> bool:
        return self.valid_from <= day <= self.valid_until


def accreditation_document_upload_to(document, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    extension = PurePath(filename).suffix.lower()[:10]
    return f"accreditations/{document.accreditation_id}/{uuid.uuid4().hex}{extension}"


class AccreditationDocument(models.Model):
    accreditation = models.ForeignKey(
        Accreditation, verbose_name=_("accreditation"), on_delete=models.PROTECT, related_name="documents"
    )
    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(_("file"), upload_to=accreditation_document_upload_to, max_length=200)
    content_type = models.CharField(_("content type"), max_length=100, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("accreditation document")
        verbose_name_plural = _("accreditation documents")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title


# --- sanctions lists -----------------------------------------------------------------------------------------


class SanctionsListVersion(models.Model):
    """One load of one sanctions list file. Every version loaded is kept; the current one per source is
    the one screened against."""

    source = models.CharField(_("list"), max_length=10, choices=SanctionsSource.choices)
    published = models.CharField(_("published"), max_length=40, blank=True)
    file_name = models.CharField(_("file"), max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    entry_count = models.PositiveIntegerField(_("entries"), default=0)
    name_count = models.PositiveIntegerField(_("names"), default=0)
    is_current = models.BooleanField(_("current"), default=False)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("sanctions list version")
        verbose_name_plural = _("sanctions list versions")
        ordering = ["source", "-loaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=Q(is_current=True), name="sanctions_one_current"),
            models.UniqueConstraint(fields=["source", "sha256"], name="sanctions_version_unique_file"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} — {self.published[:10] or f'{self.loaded_at:%Y-%m-%d}'}"


class SanctionsEntry(models.Model):
    """One record of one list version: a sanctioned individual or entity with all its names."""

    version = models.ForeignKey(
        SanctionsListVersion, verbose_name=_("list version"), on_delete=models.PROTECT, related_name="entries"
    )
    entry_id = models.CharField(_("list reference"), max_length=40)
    entity_type = models.CharField(_("type"), max_length=10, choices=SanctionsEntityType.choices)
    primary_name = models.CharField(_("name"), max_length=500)
    # [{"text", "kind", "quality"}], the primary name first (sanctions_parse.ParsedName).
    names = models.JSONField(_("names"), default=list)
    dates_of_birth = models.JSONField(_("dates of birth"), default=list, blank=True)
    nationalities = models.JSONField(_("nationalities"), default=list, blank=True)
    countries = models.JSONField(_("countries"), default=list, blank=True)
    addresses = models.JSONField(_("addresses"), default=list, blank=True)
    programs = models.JSONField(_("programmes"), default=list, blank=True)
    listed_on = models.CharField(_("listed on"), max_length=10, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)

    class Meta:
        verbose_name = _("sanctions list entry")
        verbose_name_plural = _("sanctions list entries")
        ordering = ["version_id", "entry_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "entry_id"], name="sanctions_entry_unique_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.primary_name}"


# --- screening -----------------------------------------------------------------------------------------------


class Screening(models.Model):
    """One screening of one partner (all its names) or one of its officers against the current lists."""

    partner = models.ForeignKey(
        Organization, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="screenings"
    )
    officer = models.ForeignKey(
        Officer, verbose_name=_("officer"), on_delete=models.PROTECT, related_name="screenings", null=True, blank=True
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=ScreeningTrigger.choices)
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    names = models.JSONField(_("names screened"), default=list)
    versions = models.JSONField(_("list versions"), default=list)
    alert = models.BooleanField(_("alert"), default=False)
    hit_count = models.PositiveIntegerField(_("hits"), default=0)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("screened by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    screened_at = models.DateTimeField(_("screened at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        ordering = ["-screened_at", "-id"]
        indexes = [models.Index(fields=["partner", "-screened_at"], name="screening_partner_newest")]

    def __str__(self) -> str:
        return f"{self.partner} {self.screened_at:%Y-%m-%d}"


class ScreeningHit(models.Model):
    """A possible match of a partner or officer with a list entry, and the reviewer's decision. One row per
    (partner, officer, list version, entry): screening again against the same version finds the decision
    already taken; a new version of the list asks again."""

    partner = models.ForeignKey(
        Organization, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="screening_hits"
    )
    officer = models.ForeignKey(
        Officer,
        verbose_name=_("officer"),
        on_delete=models.PROTECT,
        related_name="screening_hits",
        null=True,
        blank=True,
    )
    version = models.ForeignKey(
        SanctionsListVersion, verbose_name=_("list version"), on_delete=models.PROTECT, related_name="hits"
    )
    entry = models.ForeignKey(SanctionsEntry, verbose_name=_("list entry"), on_delete=models.PROTECT, related_name="+")
    screening = models.ForeignKey(
        Screening, verbose_name=_("first found by"), on_delete=models.PROTECT, related_name="hits"
    )
    last_screening = models.ForeignKey(
        Screening, verbose_name=_("last found by"), on_delete=models.PROTECT, related_name="+"
    )
    query = models.CharField(_("name screened"), max_length=500)
    matched_name = models.CharField(_("name matched"), max_length=500)
    score = models.FloatField(_("score"))
    explanation_en = models.TextField(_("explanation (English)"))
    explanation_ar = models.TextField(_("explanation (Arabic)"))
    status = models.CharField(_("status"), max_length=12, choices=HitStatus.choices, default=HitStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    found_at = models.DateTimeField(_("found at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("screening hit")
        verbose_name_plural = _("screening hits")
        ordering = ["-found_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "status"], name="hit_partner_status"),
            models.Index(fields=["status", "-found_at"], name="hit_status_newest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "officer", "version", "entry"],
                name="hit_unique_officer_entry",
                condition=Q(officer__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["partner", "version", "entry"],
                name="hit_unique_partner_entry",
                condition=Q(officer__isnull=True),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "confirmed", "cleared", "superseded"]), name="hit_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="cleared") | ~Q(decision_reason=""), name="hit_cleared_with_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query} ~ {self.matched_name} ({self.score:.2f})"
