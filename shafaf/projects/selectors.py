from __future__ import annotations

from django.db.models import Q

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role

from .choices import ProjectStatus
from .models import Project


def projects_visible_to(user, queryset=None):
    """The ministry and auditors see every project; a charity sees its own; a partner reporter sees the
    projects it implements once they have left the draft; nobody else sees a draft of another charity."""
    queryset = Project.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    condition = Q(charity_id__in=organization_ids_with_role(user, *CHARITY_ROLES))
    partner_ids = organization_ids_with_role(user, Role.PARTNER_REPORTER)
    if partner_ids:
        condition |= Q(implementing_partner_id__in=partner_ids) & ~Q(status=ProjectStatus.DRAFT)
    return queryset.filter(condition)


def project_list(user, queryset=None):
    return projects_visible_to(user, queryset).select_related("charity", "implementing_partner")


def project_get(user, pk) -> Project:
    """The project, or Http404 when it does not exist or the user may not see it."""
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None  # "/api/v1/projects/abc/" is not found, not a server error
    return get_object_or_404(project_list(user).prefetch_related("locations"), pk=pk)
