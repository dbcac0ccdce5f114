import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import StyledFilterSet

from .choices import OrganizationKind
from .models import Organization


class OrganizationFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=OrganizationKind.choices)
    country = django_filters.CharFilter(label=_("Country code"), lookup_expr="iexact")
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Organization
        fields = ["q", "kind", "country", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name_ar__icontains=value)
            | Q(name_en__icontains=value)
            | Q(slug__icontains=value)
            | Q(iati_org_id__icontains=value)
            | Q(mosa_licence_number__icontains=value)
        )
