import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.models import Organization
from shafaf.core.filters import StyledFilterSet

from .choices import BeneficiaryGroup, ProjectModel, ProjectStatus
from .models import Project

DATE = forms.DateInput(attrs={"type": "date"})


class ProjectFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProjectStatus.choices)
    project_model = django_filters.ChoiceFilter(label=_("MOSA project model"), choices=ProjectModel.choices)
    beneficiary_group = django_filters.ChoiceFilter(label=_("Beneficiary group"), choices=BeneficiaryGroup.choices)
    country = django_filters.CharFilter(label=_("Country code"), method="filter_country")
    sector = django_filters.CharFilter(label=_("DAC sector code"), lookup_expr="startswith")
    charity = django_filters.ModelChoiceFilter(
        label=_("Charity"), queryset=Organization.objects.filter(kind="charity"), field_name="charity"
    )
    planned_start_after = django_filters.DateFilter(
        label=_("Starts on or after"), field_name="planned_start", lookup_expr="gte", widget=DATE
    )
    planned_start_before = django_filters.DateFilter(
        label=_("Starts on or before"), field_name="planned_start", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = Project
        fields = ["q", "status", "project_model", "beneficiary_group", "country", "sector", "charity"]

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value.strip().upper())

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title_ar__icontains=value)
            | Q(title_en__icontains=value)
            | Q(iati_identifier__icontains=value)
        )
