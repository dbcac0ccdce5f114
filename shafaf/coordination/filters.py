"""The FilterSet of the coordination queue, shared by the ministry's page and /api/v1/coordination/flags/."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet
from shafaf.projects.codelists import COUNTRIES

from .choices import Decision, FlagStatus, Level
from .models import Flag


class FlagFilter(StyledFilterSet):
    """By level, status, decision, charity (either side), country (either side), project (either side) and
    whether the flag is within one charity."""

    level = django_filters.ChoiceFilter(label=_("Level"), choices=Level.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=FlagStatus.choices)
    decision = django_filters.ChoiceFilter(label=_("Decision"), choices=Decision.choices)
    charity = IdFilter(label=_("Charity"), method="filter_charity")
    country = django_filters.ChoiceFilter(label=_("Country"), method="filter_country")
    project = IdFilter(label=_("Project"), method="filter_project")
    internal = django_filters.BooleanFilter(label=_("Within one charity"))

    class Meta:
        model = Flag
        fields = ["level", "status", "decision", "charity", "country", "project", "internal"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = COUNTRIES.choices()

    def filter_charity(self, queryset, name, value: int):
        return queryset.filter(Q(project_a__charity_id=value) | Q(project_b__charity_id=value))

    def filter_country(self, queryset, name, value: str):
        return queryset.filter(Q(project_a__country=value) | Q(project_b__country=value))

    def filter_project(self, queryset, name, value: int):
        return queryset.filter(Q(project_a_id=value) | Q(project_b_id=value))
