import django_filters

from .forms import style_fields


class StyledFilterSet(django_filters.FilterSet):
    """A FilterSet whose form has Bootstrap's classes; shared by pages and the API."""

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_shafaf_styled", False):
            style_fields(form)
            form._shafaf_styled = True
        return form


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number within a database id's range. Anything else is a field error
    (400), never a database overflow (500)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        kwargs.setdefault("decimal_places", 0)
        super().__init__(*args, **kwargs)
