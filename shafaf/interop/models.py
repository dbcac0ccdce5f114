"""What an IATI activity says about a project that the project, finance and strategy records do not hold.

One IatiActivity per project imported from an IATI file or published as one. The lists are JSON, each value the
exact text of the file (amounts and percentages as strings, never floats), so an export writes back what was read.
Shapes (every key present, "" or null when absent):

* activity_dates: [{"type", "iso_date"}]
* titles, descriptions: [{"type", "lang", "text"}] (every language; a title's type is "")
* participating_orgs: [{"role", "type", "ref", "activity_id", "names": [{"lang", "text"}]}]
* recipient_countries: [{"code", "percentage"}]; recipient_regions, sectors: [{"code", "vocabulary", "percentage"}]
* locations: [{"ref", "names": [{"lang", "text"}], "point": [lat, lng] (strings) or null, "admin": [{"vocabulary",
  "level", "code"}]}]
* budgets, planned_disbursements: [{"type", "status", "period_start", "period_end", "value", "currency",
  "value_date"}]
* transactions: [{"ref", "type", "date", "value", "currency", "value_date", "description", "provider": {"ref",
  "activity_id", "name"}, "receiver": {...}}]
* results: [{"type", "title", "indicators": [{"measure", "title", "baseline", "periods": [{"start", "end", "target",
  "actual"}]}]}]
* document_links: [{"url", "format", "titles", "categories", "language"}]; related_activities: [{"type", "ref"}]
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IatiActivity(models.Model):
    project = models.OneToOneField(
        "projects.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="iati"
    )
    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.CASCADE, related_name="iati_activities"
    )
    identifier = models.CharField(_("IATI identifier"), max_length=200)
    default_language = models.CharField(_("default language"), max_length=10, blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, blank=True)
    hierarchy = models.CharField(_("hierarchy"), max_length=10, blank=True)
    last_updated = models.DateTimeField(_("last updated by the publisher"), null=True, blank=True)
    activity_status = models.CharField(_("activity status (IATI code)"), max_length=5, blank=True)

    activity_dates = models.JSONField(_("activity dates"), default=list, blank=True)
    titles = models.JSONField(_("titles"), default=list, blank=True)
    descriptions = models.JSONField(_("descriptions"), default=list, blank=True)
    participating_orgs = models.JSONField(_("participating organisations"), default=list, blank=True)
    recipient_countries = models.JSONField(_("recipient countries"), default=list, blank=True)
    recipient_regions = models.JSONField(_("recipient regions"), default=list, blank=True)
    sectors = models.JSONField(_("sectors"), default=list, blank=True)
    locations = models.JSONField(_("locations"), default=list, blank=True)
    budgets = models.JSONField(_("budgets"), default=list, blank=True)
    planned_disbursements = models.JSONField(_("planned disbursements"), default=list, blank=True)
    transactions = models.JSONField(_("transactions"), default=list, blank=True)
    results = models.JSONField(_("results"), default=list, blank=True)
    document_links = models.JSONField(_("document links"), default=list, blank=True)
    related_activities = models.JSONField(_("related activities"), default=list, blank=True)

    source_file = models.CharField(_("source file"), max_length=255, blank=True)
    source_line = models.PositiveIntegerField(_("source line"), null=True, blank=True)
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64, blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("IATI activity")
        verbose_name_plural = _("IATI activities")
        constraints = [
            models.UniqueConstraint(fields=["charity", "identifier"], name="iati_activity_unique_per_charity"),
        ]

    def __str__(self) -> str:
        return self.identifier
