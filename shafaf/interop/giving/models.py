"""Grants read from 360Giving files: each valid grant of a file, kept with where it came from.

A grant is one of a charity's records of what other funders give (a 360Giving publication it imported); it is
identified by its 360Giving id within the charity, so that importing a file again updates a grant instead of adding
it twice. Amounts are kept as integer minor units of their currency and as the exact decimal text of the file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.core.money import Money


class ImportedGrant(models.Model):
    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.CASCADE, related_name="imported_grants"
    )
    grant_id = models.CharField(_("360Giving grant identifier"), max_length=255)
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    amount_awarded_minor = models.BigIntegerField(_("amount awarded (minor units)"))
    amount_awarded = models.CharField(_("amount awarded (as written)"), max_length=60)
    amount_disbursed = models.CharField(_("amount disbursed (as written)"), max_length=60, blank=True)
    award_date = models.DateField(_("award date"))
    planned_start = models.CharField(_("planned start (as written)"), max_length=40, blank=True)
    planned_end = models.CharField(_("planned end (as written)"), max_length=40, blank=True)
    recipient_org_id = models.CharField(_("recipient organisation identifier"), max_length=255, blank=True)
    recipient_org_name = models.CharField(_("recipient organisation"), max_length=500, blank=True)
    funding_org_id = models.CharField(_("funding organisation identifier"), max_length=255)
    funding_org_name = models.CharField(_("funding organisation"), max_length=500)
    date_modified = models.DateTimeField(_("last modified by the publisher"), null=True, blank=True)
    data = models.TextField(_("the grant as published (JSON)"))
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64)
    source_file = models.CharField(_("source file"), max_length=255)
    source_row = models.PositiveIntegerField(_("row in the source file"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("imported grant")
        verbose_name_plural = _("imported grants")
        ordering = ["charity", "-award_date", "grant_id"]
        constraints = [
            models.UniqueConstraint(fields=["charity", "grant_id"], name="imported_grant_unique_id"),
            models.CheckConstraint(condition=~Q(grant_id=""), name="imported_grant_id_present"),
        ]

    def __str__(self) -> str:
        return self.grant_id

    @property
    def amount(self) -> Money:
        return Money(self.amount_awarded_minor, self.currency)
