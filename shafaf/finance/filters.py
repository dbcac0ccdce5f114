"""One FilterSet per list, shared by the pages and the API."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet

from .models import Contract, Disbursement

DATE = forms.DateInput(attrs={"type": "date"})


class ContractFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Contract number"), field_name="number", lookup_expr="icontains")
    project = IdFilter(label=_("Project"), field_name="project_id")
    partner = IdFilter(label=_("Partner"), field_name="partner_id")
    signed_after = django_filters.DateFilter(
        label=_("Signed on or after"), field_name="signed_on", lookup_expr="gte", widget=DATE
    )
    signed_before = django_filters.DateFilter(
        label=_("Signed on or before"), field_name="signed_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = Contract
        fields = ["q", "project", "partner", "signed_after", "signed_before"]


class DisbursementFilter(StyledFilterSet):
    project = IdFilter(label=_("Project"), field_name="project_id")
    contract = IdFilter(label=_("Contract"), field_name="contract_id")
    is_settlement = django_filters.BooleanFilter(label=_("Settlement of a suspended partner's contract"))
    paid_after = django_filters.DateFilter(
        label=_("Paid on or after"), field_name="paid_on", lookup_expr="gte", widget=DATE
    )
    paid_before = django_filters.DateFilter(
        label=_("Paid on or before"), field_name="paid_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = Disbursement
        fields = ["project", "contract", "is_settlement", "paid_after", "paid_before"]
