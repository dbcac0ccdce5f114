"""One FilterSet per list, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet

from .models import Allocation, BankAccount, Campaign, Channel, Donation, DonationImport, Donor, EntryKind, Purpose


class DonationFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("receipt or donor"), max_length=100)
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices, label=_("entry"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices, label=_("for"))
    charity = IdFilter(field_name="charity_id", label=_("charity"))
    donor = IdFilter(field_name="donor_id", label=_("donor"))
    project = IdFilter(field_name="project_id", label=_("project"))
    campaign = IdFilter(field_name="campaign_id", label=_("campaign"))
    entered_late = django_filters.BooleanFilter(label=_("entered late"))
    received_from = django_filters.DateFilter(field_name="received_at", lookup_expr="date__gte", label=_("from"))
    received_to = django_filters.DateFilter(field_name="received_at", lookup_expr="date__lte", label=_("to"))

    class Meta:
        model = Donation
        fields = ["q", "kind", "channel", "purpose", "charity", "donor", "project", "campaign", "entered_late"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(receipt_number__iexact=value)
            | Q(donor__name_ar__icontains=value)
            | Q(donor__name_en__icontains=value)
            | Q(channel_ref=value)
        )


class DonorFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("name, e-mail or number"), max_length=100)
    charity = IdFilter(field_name="charity_id", label=_("charity"))
    consent_to_contact = django_filters.BooleanFilter(label=_("agrees to be contacted"))

    class Meta:
        model = Donor
        fields = ["q", "charity", "consent_to_contact"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name_ar__icontains=value)
            | Q(name_en__icontains=value)
            | Q(email__iexact=value)
            | Q(external_ref__iexact=value)
        )


class AllocationFilter(StyledFilterSet):
    donation = IdFilter(field_name="donation_id", label=_("donation"))
    project = IdFilter(field_name="project_id", label=_("project"))

    class Meta:
        model = Allocation
        fields = ["donation", "project"]


class BankAccountFilter(StyledFilterSet):
    charity = IdFilter(field_name="charity_id", label=_("charity"))
    approved = django_filters.BooleanFilter(field_name="approved_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = BankAccount
        fields = ["charity", "approved"]


class CampaignFilter(StyledFilterSet):
    charity = IdFilter(field_name="charity_id", label=_("charity"))

    class Meta:
        model = Campaign
        fields = ["charity"]


class DonationImportFilter(StyledFilterSet):
    status = django_filters.ChoiceFilter(choices=DonationImport.Status.choices, label=_("status"))

    class Meta:
        model = DonationImport
        fields = ["status"]
