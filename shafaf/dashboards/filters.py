"""The dashboards' one filter form: a subset of the projects list's FilterSet, so that every figure links to the
projects list with the very same query string."""

from __future__ import annotations

from shafaf.accounts.models import Organization
from shafaf.projects.filters import ProjectFilter

# The filters a dashboard offers, all understood by the projects list (/projects/?...).
FIELDS = ("status", "country", "sector", "project_model", "charity", "planned_start_after", "planned_start_before")


class DashboardFilter(ProjectFilter):
    """Status, country, DAC sector (a code or its first digits), MOSA model, charity (where the user sees more
    than one) and the planned start's date range."""

    def __init__(self, *args, charities=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.filters):
            if name not in FIELDS:
                del self.filters[name]
        if charities is None:
            del self.filters["charity"]
        else:
            self.filters["charity"].queryset = charities.order_by("name_ar", "id")

    @classmethod
    def charities_for(cls, charity_ids) -> object:
        return Organization.objects.filter(kind="charity", pk__in=charity_ids)
