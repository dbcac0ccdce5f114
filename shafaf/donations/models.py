"""Donors, their donations, the allocation of each donation to projects to the last fils, receipts anyone can
verify, and the notifications that tell donors what happened to the projects they fund.

Amounts are integers in the currency's minor units (shafaf.core.money), never floats. A donation, an allocation
and a receipt are never edited: a refund or a correction is a new donation entry pointing to the one it corrects;
a re-allocation is a new allocation entry (negative from one project, positive to another). Every donation and
allocation is posted to the finance ledger (shafaf.finance.ledger) in the same transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.core.models import ImportRun
from shafaf.core.money import Money


class DonorKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Donor(models.Model):
    """A donor of one charity (each charity keeps its own donors: another charity never sees them). A donor who
    has an account (`user`) sees, in the portal, the donations of every donor record linked to that account."""

    charity = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("charity"),
        on_delete=models.PROTECT,
        related_name="donors",
        limit_choices_to={"kind": "charity"},
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DonorKind.choices, default=DonorKind.PERSON)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    consent_to_contact = models.BooleanField(_("agrees to be contacted"), default=False)
    show_name_publicly = models.BooleanField(
        _("name may be shown publicly"),
        default=False,
        help_text=_("Otherwise public pages and receipt verification show the donor as anonymous."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("donor account"),
        on_delete=models.SET_NULL,
        related_name="donor_records",
        null=True,
        blank=True,
    )
    external_ref = models.CharField(_("charity's donor number"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("donor")
        verbose_name_plural = _("donors")
        ordering = ["charity", "name_en", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name_ar="") | ~Q(name_en=""), name="donor_has_a_name"),
            models.UniqueConstraint(
                fields=["charity", "external_ref"], condition=~Q(external_ref=""), name="donor_unique_external_ref"
            ),
        ]
        indexes = [models.Index(fields=["charity", "email"], name="donor_charity_email")]

    def __str__(self) -> str:
        return self.name_ar or self.name_en


class BankAccount(models.Model):
    """A bank account of a charity, approved by the ministry to receive donations."""

    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.PROTECT, related_name="bank_accounts"
    )
    bank_name = models.CharField(_("bank"), max_length=200)
    iban = models.CharField(_("IBAN"), max_length=34)
    currency = models.CharField(_("currency"), max_length=3, default="KWD")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["charity", "bank_name"]
        constraints = [models.UniqueConstraint(fields=["iban"], name="bank_account_unique_iban")]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.iban[-4:]}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None and self.is_active


class Campaign(models.Model):
    """A licensed fund-raising campaign of a charity (its donations are a restricted fund of the campaign)."""

    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.PROTECT, related_name="campaigns"
    )
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    licence_number = models.CharField(_("licence number"), max_length=60, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates")]

    def __str__(self) -> str:
        return self.name_ar


class Channel(models.TextChoices):
    KNET = "knet", _("K-Net")
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    STANDING_ORDER = "standing_order", _("Standing order")
    SMS = "sms", _("SMS")
    DEVICE = "device", _("Donation device")


class Purpose(models.TextChoices):
    PROJECT = "project", _("A project (restricted)")
    CAMPAIGN = "campaign", _("A campaign")
    GENERAL = "general", _("The general fund")


class EntryKind(models.TextChoices):
    DONATION = "donation", _("Donation")
    REFUND = "refund", _("Refund")
    CORRECTION = "correction", _("Correction")


class DonationImport(ImportRun):
    """One channel settlement file: its counts, progress and per-row errors; rows already recorded (the same
    channel reference) are counted apart, neither kept twice nor refused."""

    charity = models.ForeignKey("accounts.Organization", verbose_name=_("charity"), on_delete=models.PROTECT)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    rows_duplicate = models.PositiveIntegerField(_("rows already recorded"), default=0)

    class Meta(ImportRun.Meta):
        verbose_name = _("settlement file import")
        verbose_name_plural = _("settlement file imports")


class Donation(models.Model):
    """A donation received by a charity (or a refund or correction of one: a new entry, never an edit)."""

    # No index of their own for charity, donor and project: the indexes in Meta lead with them.
    charity = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("charity"),
        on_delete=models.PROTECT,
        related_name="donations",
        db_index=False,
    )
    donor = models.ForeignKey(
        Donor, verbose_name=_("donor"), on_delete=models.PROTECT, related_name="donations", db_index=False
    )
    kind = models.CharField(_("entry"), max_length=20, choices=EntryKind.choices, default=EntryKind.DONATION)
    corrects = models.ForeignKey(  # indexed by donation_corrects (only the rows that correct one)
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        related_name="corrections",
        null=True,
        blank=True,
        db_index=False,
    )
    # Positive for a donation; negative for a refund; either sign for a correction.
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    received_at = models.DateTimeField(_("received at"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    bank_account = models.ForeignKey(
        BankAccount, verbose_name=_("bank account"), on_delete=models.PROTECT, related_name="donations"
    )
    purpose = models.CharField(_("for"), max_length=20, choices=Purpose.choices)
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="donations",
        null=True,
        blank=True,
        db_index=False,
    )
    campaign = models.ForeignKey(  # indexed by donation_campaign (only the campaigns' rows)
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="donations",
        null=True,
        blank=True,
        db_index=False,
    )
    anonymous = models.BooleanField(_("anonymous to the public"), default=False)
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)
    # Not indexed: nothing lists donations by who entered them (every insert would pay for the index).
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
    )
    # Entered after the next business day following its receipt: the ministry sees it flagged.
    entered_late = models.BooleanField(_("entered late"), default=False)
    # The channel's own reference (settlement files): a second file with the same row is recognised.
    channel_ref = models.CharField(_("channel reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    request_hash = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    batch = models.ForeignKey(  # indexed by donation_batch (only imported rows)
        DonationImport,
        verbose_name=_("import"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    reason = models.TextField(_("reason"), blank=True)
    # The receipt: a short public code, and the platform's signature over the receipt's facts.
    # Unique by donation_unique_receipt_number (a constraint: no second, pattern-matching index on PostgreSQL).
    receipt_number = models.CharField(_("receipt number"), max_length=40)
    receipt_signature = models.CharField(_("receipt signature"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["charity", "-received_at"], name="donation_charity_received"),
            models.Index(fields=["donor", "-received_at"], name="donation_donor_received"),
            models.Index(fields=["project"], name="donation_project"),
            models.Index(fields=["corrects"], condition=Q(corrects__isnull=False), name="donation_corrects"),
            models.Index(fields=["campaign"], condition=Q(campaign__isnull=False), name="donation_campaign"),
            models.Index(fields=["batch"], condition=Q(batch__isnull=False), name="donation_batch"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="donation_amount_not_zero"),
            models.CheckConstraint(condition=~Q(kind="donation") | Q(amount_minor__gt=0), name="donation_positive"),
            models.CheckConstraint(condition=~Q(kind="refund") | Q(amount_minor__lt=0), name="refund_negative"),
            models.CheckConstraint(
                condition=Q(kind="donation") | Q(corrects__isnull=False), name="refund_points_to_donation"
            ),
            models.CheckConstraint(
                condition=(Q(purpose="project") & Q(project__isnull=False))
                | (Q(purpose="campaign") & Q(campaign__isnull=False) & Q(project__isnull=True))
                | (Q(purpose="general") & Q(project__isnull=True) & Q(campaign__isnull=True)),
                name="donation_purpose_target",
            ),
            models.UniqueConstraint(
                fields=["charity", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="donation_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["charity", "channel", "channel_ref"],
                condition=~Q(channel_ref=""),
                name="donation_unique_channel_ref",
            ),
            models.UniqueConstraint(fields=["receipt_number"], name="donation_unique_receipt_number"),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class Allocation(models.Model):
    """Part of a donation given to a project. Sums per donation never exceed it; parts come from a
    largest-remainder split so they add up exactly. Never edited: a re-allocation is a negative entry plus a new
    one."""

    donation = models.ForeignKey(
        Donation, verbose_name=_("donation"), on_delete=models.PROTECT, related_name="allocations"
    )
    project = models.ForeignKey(  # indexed by allocation_project (project, donation)
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="allocations",
        db_index=False,
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    allocated_by = models.ForeignKey(  # not indexed: nothing lists allocations by who made them
        settings.AUTH_USER_MODEL,
        verbose_name=_("allocated by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
    )
    allocated_at = models.DateTimeField(_("allocated at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["donation", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount_minor=0), name="allocation_not_zero")]
        indexes = [models.Index(fields=["project", "donation"], name="allocation_project")]

    def __str__(self) -> str:
        return f"{self.donation_id} → {self.project_id}: {self.amount_minor}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class NotificationKind(models.TextChoices):
    REPORT = "report", _("A new report was published")
    PHASE = "phase", _("A phase was completed")
    BUDGET = "budget", _("The budget was revised")


class Notification(models.Model):
    """A message in a donor's portal (and, when the donor agreed to be contacted, an e-mail)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="+", null=True
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    # What happened, for whom: one notification per user and event, even when the event is announced twice.
    event_key = models.CharField(_("event"), max_length=100)
    title_ar = models.CharField(_("title (Arabic)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "event_key"], name="notification_once_per_event")]

    def __str__(self) -> str:
        return self.title_en


class LoginLink(models.Model):
    """A one-time sign-in link e-mailed to a donor account: only the SHA-256 of its secret is kept; it works
    once, until it expires."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    secret_hash = models.CharField(_("secret (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    requested_from = models.GenericIPAddressField(_("requested from"), null=True, blank=True)
    used_from = models.GenericIPAddressField(_("used from"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"sign-in link {self.pk}"


class LoginLinkRequest(models.Model):
    """A request for a sign-in link, whether or not the address has an account (for the rate limits). The
    address is kept only as its SHA-256."""

    email_hash = models.CharField(_("e-mail (SHA-256)"), max_length=64)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sign-in link request")
        verbose_name_plural = _("sign-in link requests")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["email_hash", "requested_at"], name="login_link_request_email")]

    def __str__(self) -> str:
        return f"sign-in link request {self.pk}"
