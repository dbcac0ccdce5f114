"""Who may do what with organisations and memberships. Deny by default."""

from __future__ import annotations

from .choices import MINISTRY_ROLES, OVERSIGHT_ROLES, Role


def is_ministry(user) -> bool:
    return user.is_authenticated and bool(user.roles() & MINISTRY_ROLES)


def has_oversight(user) -> bool:
    return user.is_authenticated and bool(user.roles() & OVERSIGHT_ROLES)


def organization_ids_with_role(user, *roles: str) -> set[int]:
    """The organisations in which the user holds any of these roles (one query per user object)."""
    if not user.is_authenticated:
        return set()
    by_role = getattr(user, "_shafaf_organizations_by_role", None)
    if by_role is None:
        by_role = {}
        for organization_id, role in user.active_memberships().values_list("organization_id", "role"):
            by_role.setdefault(role, set()).add(organization_id)
        user._shafaf_organizations_by_role = by_role
    return set().union(*(by_role.get(role, set()) for role in roles))


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
