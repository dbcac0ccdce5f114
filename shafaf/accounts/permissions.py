"""Who may do what with organisations and memberships. Deny by default."""

from __future__ import annotations

from .choices import MINISTRY_ROLES, OVERSIGHT_ROLES, Role


def is_ministry(user) -> bool:
    return user.is_authenticated and bool(user.roles() & MINISTRY_ROLES)


def has_oversight(user) -> bool:
    return user.is_authenticated and bool(user.roles() & OVERSIGHT_ROLES)


def organization_ids_with_role(user, *roles: str) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(user.active_memberships().filter(role__in=roles).values_list("organization_id", flat=True))


def can_create_organization(user) -> bool:
    return user.is_authenticated and Role.MINISTRY_ADMIN in user.roles()


def can_edit_organization(user, organization) -> bool:
    if not user.is_authenticated:
        return False
    if Role.MINISTRY_ADMIN in user.roles():
        return True
    return organization.pk in organization_ids_with_role(user, Role.CHARITY_ADMIN)


def can_manage_memberships(user, organization) -> bool:
    return can_edit_organization(user, organization)
