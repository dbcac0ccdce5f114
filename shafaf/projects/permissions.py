"""Who may do what with projects. Deny by default."""

from __future__ import annotations

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import organization_ids_with_role

from .choices import ProjectStatus

PROJECT_EDITOR_ROLES = (Role.CHARITY_ADMIN, Role.CHARITY_STAFF)


def charities_user_can_draft_for(user) -> set[int]:
    return organization_ids_with_role(user, *PROJECT_EDITOR_ROLES)


def can_create_project(user, charity=None) -> bool:
    allowed = charities_user_can_draft_for(user)
    return bool(allowed) if charity is None else charity.pk in allowed


def can_edit_project(user, project) -> bool:
    return project.status == ProjectStatus.DRAFT and project.charity_id in charities_user_can_draft_for(user)


def is_charity_member(user, project) -> bool:
    return project.charity_id in organization_ids_with_role(user, *CHARITY_ROLES)
