"""Every read of deviations, already filtered to what the user may see: the project's charity (every member), the
ministry and auditors; nobody else (no partner reporter, no donor)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404

from shafaf.accounts.choices import CHARITY_ROLES
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role
from shafaf.core.ids import pk_or_404

from .models import UNSETTLED_DEVIATION_STATUSES, Deviation, DeviationStatus


def deviations_visible_to(user, queryset=None):
    queryset = Deviation.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    return queryset.filter(project__charity_id__in=organization_ids_with_role(user, *CHARITY_ROLES))


def deviation_list(user, project=None):
    queryset = deviations_visible_to(user).select_related(
        "project__charity", "line", "budget_version", "justified_by", "decided_by"
    )
    if project is not None:
        queryset = queryset.filter(project=project)
    return queryset.order_by("-detected_at", "-id")


def deviation_get(user, pk, project=None) -> Deviation:
    """The deviation (of `project` when given), or Http404 when it does not exist or the user may not see it."""
    return get_object_or_404(deviation_list(user, project), pk=pk_or_404(pk))


# Justified deviations first (they await the ministry), then open, rejected, and the settled ones.
STATUS_ORDER = Case(
    When(status=DeviationStatus.JUSTIFIED, then=Value(0)),
    When(status=DeviationStatus.OPEN, then=Value(1)),
    When(status=DeviationStatus.REJECTED, then=Value(2)),
    When(status=DeviationStatus.APPROVED, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def deviation_queue(user, *, include_settled: bool = False):
    """The ministry's queue across every charity: the unsettled deviations (all of them with include_settled),
    justified ones first, then the oldest first. Empty for anyone who may not see every charity."""
    if not has_oversight(user):
        return Deviation.objects.none()
    queryset = deviations_visible_to(user).select_related("project__charity", "line", "justified_by")
    if not include_settled:
        queryset = queryset.filter(status__in=UNSETTLED_DEVIATION_STATUSES)
    return queryset.annotate(status_order=STATUS_ORDER).order_by("status_order", "detected_at", "id")


def deviation_history(deviation: Deviation):
    """The audit events about the deviation, oldest first (the caller has checked the user may see it)."""
    from shafaf.audit.selectors import events_about

    return events_about(deviation).select_related("actor")
