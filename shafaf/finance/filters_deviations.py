"""The FilterSet of the deviation lists (the ministry's queue and the API), shared by the page and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet

from .models import Deviation, DeviationScope, DeviationStatus


class DeviationFilter(StyledFilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=DeviationStatus.choices)
    scope = django_filters.ChoiceFilter(label=_("Scope"), choices=DeviationScope.choices)
    project = IdFilter(label=_("Project"), field_name="project_id")
    charity = IdFilter(label=_("Charity"), field_name="project__charity_id")

    class Meta:
        model = Deviation
        fields = ["status", "scope", "project", "charity"]
