"""One FilterSet per list, shared by the pages and the API."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet

from .models import Contract, Disbursement, ExchangeRate, Expenditure, ExpenditureSource

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


# --- exchange rates (RATES) ----------------------------------------------------------------------------------------


class ExchangeRateFilter(StyledFilterSet):
    """The ministry's rates: by currency and date range (the rates page and /api/v1/exchange-rates/)."""

    currency = django_filters.CharFilter(label=_("Currency"), method="filter_currency", max_length=3)
    date_from = django_filters.DateFilter(label=_("From"), field_name="on_date", lookup_expr="gte", widget=DATE)
    date_to = django_filters.DateFilter(label=_("To"), field_name="on_date", lookup_expr="lte", widget=DATE)

    class Meta:
        model = ExchangeRate
        fields = ["currency", "date_from", "date_to"]

    def filter_currency(self, queryset, name, value):
        return queryset.filter(currency=value.strip().upper()) if value and value.strip() else queryset


# --- expenditures (EXPENDITURES) -----------------------------------------------------------------------------------


class ExpenditureFilter(StyledFilterSet):
    """A project's expenditures: by budget line, date range, currency and source (the page and
    /api/v1/expenditures/)."""

    project = IdFilter(label=_("Project"), field_name="project_id")
    line = IdFilter(label=_("Budget line"), field_name="line_id")
    spent_after = django_filters.DateFilter(
        label=_("Spent on or after"), field_name="spent_on", lookup_expr="gte", widget=DATE
    )
    spent_before = django_filters.DateFilter(
        label=_("Spent on or before"), field_name="spent_on", lookup_expr="lte", widget=DATE
    )
    currency = django_filters.CharFilter(label=_("Currency"), method="filter_currency", max_length=3)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=ExpenditureSource.choices)
    batch = IdFilter(label=_("Import"), field_name="batch_id")

    class Meta:
        model = Expenditure
        fields = ["project", "line", "spent_after", "spent_before", "currency", "source", "batch"]

    def filter_currency(self, queryset, name, value):
        return queryset.filter(currency=value.strip().upper()) if value and value.strip() else queryset
