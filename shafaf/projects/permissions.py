"""Who may do what with projects. Deny by default."""

from __future__ import annotations

from django.utils.translation import gettext as _

from shafaf.accounts.choices import CHARITY_ROLES, MINISTRY_ROLES, Role
from shafaf.accounts.permissions import is_ministry, organization_ids_with_role

from . import workflow
from .choices import AWAITING_REVIEW_STATUSES, EVIDENCE_KINDS, ProjectStatus

PROJECT_EDITOR_ROLES = (Role.CHARITY_ADMIN, Role.CHARITY_STAFF)


def charities_user_can_draft_for(user) -> set[int]:
    return organization_ids_with_role(user, *PROJECT_EDITOR_ROLES)


def can_create_project(user, charity=None) -> bool:
    allowed = charities_user_can_draft_for(user)
    return bool(allowed) if charity is None else charity.pk in allowed


def can_edit_project(user, project) -> bool:
    """A charity's admins and staff edit its drafts, the projects sent back to them, and licensed projects
    (a change of a licensed project's scope sends it back to review: services.project_update)."""
    return project.status in workflow.EDITABLE_STATUSES and project.charity_id in charities_user_can_draft_for(user)


def edit_refusal(user, project) -> str:
    """Why the user may not edit the project, in words (for the 403 of the page, the API and the service)."""
    if project.charity_id in charities_user_can_draft_for(user):
        if project.status in AWAITING_REVIEW_STATUSES:
            return _(
                "This project is with the ministry for review and cannot be edited now. "
                "Wait for its decision: if it requests changes, the project comes back to you."
            )
        return _("A project in the state “%(status)s” cannot be edited.") % {"status": project.get_status_display()}
    return _("You cannot edit this project.")


def _roles_in(user, organization_id) -> set[str]:
    """The user's roles in one organisation (from the memberships cached on the user: no query per project)."""
    return {role for role in user.roles() if organization_id in organization_ids_with_role(user, role)}


def project_parties(user, project) -> frozenset[str]:
    """The workflow parties (workflow.CHARITY, CHARITY_ADMIN, MINISTRY) the user acts as for this project."""
    if not user.is_authenticated:
        return frozenset()
    return workflow.parties(roles_in_owner=_roles_in(user, project.charity_id), roles=user.roles())


def acting_role(user, project, action: str) -> str:
    """The role in which the user takes the action, as the history records it."""
    transition = workflow.BY_ACTION.get(action)
    if transition is None or transition.who == workflow.MINISTRY:
        roles = user.roles() & MINISTRY_ROLES
    else:
        roles = _roles_in(user, project.charity_id) & workflow.PARTY_ROLES[workflow.CHARITY]
    for role in Role.values:  # in the order Role lists them (charity admin before staff)
        if role in roles:
            return role
    return ""


def can_transition(user, project, action: str) -> bool:
    """Whether the user may take the action on the project now (its party and its state)."""
    transition = workflow.BY_ACTION.get(action)
    if transition is None:
        return False
    return workflow.may(transition, project_parties(user, project)) and workflow.applies(
        transition, project.status, is_revision=project.is_revision
    )


def allowed_transitions(user, project) -> list[str]:
    """The workflow actions the user may take on the project now, in the table's order."""
    return workflow.available(project.status, project_parties(user, project), is_revision=project.is_revision)


def allowed_actions(user, project) -> list[str]:
    """What the API lists as allowed_actions: "edit" when the user may edit, then the workflow actions."""
    return (["edit"] if can_edit_project(user, project) else []) + allowed_transitions(user, project)


def can_view_review_queue(user) -> bool:
    return is_ministry(user)


def is_charity_member(user, project) -> bool:
    return project.charity_id in organization_ids_with_role(user, *CHARITY_ROLES)


# --- phases, progress and documents ------------------------------------------------------------------------

# States in which a project's phases may no longer be planned nor its documents added.
ENDED_STATUSES = frozenset({ProjectStatus.CLOSED, ProjectStatus.CANCELLED, ProjectStatus.REJECTED})


def is_implementing_reporter(user, project) -> bool:
    """The user reports for the foreign partner that implements the project."""
    return bool(project.implementing_partner_id) and project.implementing_partner_id in organization_ids_with_role(
        user, Role.PARTNER_REPORTER
    )


def can_plan_phases(user, project) -> bool:
    """The owner's admins and staff plan the phases (add them, change their dates and weights) until the
    project is closed, cancelled or rejected."""
    return project.status not in ENDED_STATUSES and project.charity_id in charities_user_can_draft_for(user)


def can_update_progress(user, project) -> bool:
    """The owner's admins and staff, and the implementing partner's reporter while the project is in execution,
    say how far each phase has come."""
    if project.status in ENDED_STATUSES:
        return False
    if project.charity_id in charities_user_can_draft_for(user):
        return True
    return project.status == ProjectStatus.IN_EXECUTION and is_implementing_reporter(user, project)


def can_add_document(user, project, kind: str | None = None) -> bool:
    """Every member of the owner adds documents until the project ends; the implementing partner's reporter
    adds evidence (EVIDENCE_KINDS) to the licensed projects it implements while they are in execution."""
    if project.status in ENDED_STATUSES:
        return False
    if is_charity_member(user, project):
        return True
    return (
        project.status == ProjectStatus.IN_EXECUTION
        and is_implementing_reporter(user, project)
        and (kind is None or kind in EVIDENCE_KINDS)
    )
