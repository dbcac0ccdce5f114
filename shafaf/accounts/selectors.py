from __future__ import annotations

from .choices import OrganizationKind
from .models import Membership, Organization
from .permissions import has_oversight


def organizations_visible_to(user, queryset=None):
    """The ministry and auditors see every organisation; others see the authorities, the partners and
    charities (public registries), and their own organisations — never another donor organisation."""
    queryset = Organization.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    own = user.active_memberships().values("organization_id")
    public_kinds = [OrganizationKind.AUTHORITY, OrganizationKind.CHARITY, OrganizationKind.PARTNER]
    from django.db.models import Q

    return queryset.filter(Q(kind__in=public_kinds, is_active=True) | Q(pk__in=own))


def memberships_visible_to(user, organization):
    """Members of an organisation are listed to its own admins, the ministry and auditors."""
    from .permissions import can_manage_memberships

    queryset = Membership.objects.filter(organization=organization).select_related("user")
    if has_oversight(user) or can_manage_memberships(user, organization):
        return queryset
    return queryset.none()
