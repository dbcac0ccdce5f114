from __future__ import annotations

from .choices import OrganizationKind, Role
from .models import Membership, Organization, User
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


def charity_importer(charity: Organization):
    """The user a command-line import into `charity` is recorded as when none is named: its first active admin,
    else its first active staff member; None when it has neither."""
    membership = (
        Membership.objects.filter(
            organization=charity, role__in=[Role.CHARITY_ADMIN, Role.CHARITY_STAFF], is_active=True
        )
        .select_related("user")
        .order_by("role", "id")
        .first()
    )
    return membership.user if membership is not None else None


def user_named(username: str) -> User | None:
    return User.objects.filter(username=username).first()
