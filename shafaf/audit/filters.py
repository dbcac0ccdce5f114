import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet

from .models import AuditEvent

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


class AuditEventFilter(StyledFilterSet):
    action = django_filters.CharFilter(label=_("Action"), lookup_expr="startswith")
    subject_type = django_filters.CharFilter(label=_("Subject type"))
    subject_id = django_filters.CharFilter(label=_("Subject id"))
    actor = django_filters.CharFilter(label=_("Actor's username"), field_name="actor_username")
    organization = IdFilter(label=_("Organisation id"), field_name="organization_id")
    request_id = django_filters.CharFilter(label=_("Request id"))
    occurred_after = django_filters.IsoDateTimeFilter(
        label=_("From"), field_name="occurred_at", lookup_expr="gte", widget=DATETIME
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        label=_("Until"), field_name="occurred_at", lookup_expr="lte", widget=DATETIME
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "subject_type", "subject_id", "actor", "organization", "request_id"]
