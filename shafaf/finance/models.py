"""Money that leaves a charity for a project's implementing partner: the contracts signed with the partner and
the disbursements (transfers) made under them. Amounts are integers in the currency's minor units
(shafaf.core.money); never floats."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.core.money import Money


def contract_upload_to(contract, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    extension = PurePath(filename).suffix.lower()[:10]
    return f"contracts/{contract.project_id}/{uuid.uuid4().hex}{extension}"


class Contract(models.Model):
    """A contract between a charity and the foreign partner implementing one of its projects."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="contracts"
    )
    partner = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="contracts",
        limit_choices_to={"kind": "partner"},
    )
    number = models.CharField(_("contract number"), max_length=60)
    signed_on = models.DateField(_("signed on"))
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    file = models.FileField(_("signed contract"), upload_to=contract_upload_to, max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="contract_unique_number"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="contract_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def has_document(self) -> bool:
        return bool(self.file) and bool(self.sha256)


class Disbursement(models.Model):
    """A transfer of money to the implementing partner under a contract."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="disbursements"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="disbursements"
    )
    partner = models.ForeignKey(
        "accounts.Organization", verbose_name=_("partner"), on_delete=models.PROTECT, related_name="disbursements"
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("transfer reference"), max_length=100)
    is_settlement = models.BooleanField(
        _("settlement of a suspended partner's contract"), default=False, editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "reference"], name="disbursement_unique_reference"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="disbursement_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)
