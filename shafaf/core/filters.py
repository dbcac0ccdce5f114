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
