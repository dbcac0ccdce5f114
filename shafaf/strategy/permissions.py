"""Who may do what with plans, objectives and indicators. Deny by default.

The ministry's administrators keep the ministry's plans; a charity's administrators keep its own plan. A
charity's admins and staff link its projects to objectives while the project is editable, and keep the
project's indicators (their values come with the progress reports)."""

from __future__ import annotations

from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.accounts.permissions import organization_ids_with_role
from shafaf.projects.permissions import ENDED_STATUSES, can_edit_project, charities_user_can_draft_for


def is_ministry_plan(plan) -> bool:
    return plan.organization.kind == OrganizationKind.AUTHORITY


def can_manage_plan(user, plan) -> bool:
    """The ministry's admins for the ministry's plans; the charity's admins for the charity's plans."""
    if not user.is_authenticated:
        return False
    if is_ministry_plan(plan):
        return Role.MINISTRY_ADMIN in user.roles()
    return plan.organization_id in organization_ids_with_role(user, Role.CHARITY_ADMIN)


def can_create_plan(user, organization) -> bool:
    if not user.is_authenticated or organization is None:
        return False
    if organization.kind == OrganizationKind.AUTHORITY:
        return Role.MINISTRY_ADMIN in user.roles()
    if organization.kind == OrganizationKind.CHARITY:
        return organization.pk in organization_ids_with_role(user, Role.CHARITY_ADMIN)
    return False


def can_link_objectives(user, project) -> bool:
    """The charity's admins and staff, while the project is editable by them."""
    return user.is_authenticated and can_edit_project(user, project)


def can_manage_project_indicators(user, project) -> bool:
    """The charity's admins and staff keep the project's indicators until it is closed, cancelled or rejected."""
    return (
        user.is_authenticated
        and project.status not in ENDED_STATUSES
        and project.charity_id in charities_user_can_draft_for(user)
    )
