"""Who may do what with coordination. Deny by default.

The ministry (reviewers and administrators) and auditors see every flag; a charity's members see the flags of
their own projects (both charities of a flag see that it exists and its decision); nobody else sees any. Only
the ministry decides a flag; only a ministry administrator changes the thresholds."""

from __future__ import annotations

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, is_ministry, organization_ids_with_role
from shafaf.projects.permissions import charities_user_can_draft_for

from .choices import FlagStatus


def own_charity_ids(user) -> set[int]:
    """The charities whose flags the user sees as one of their members."""
    return organization_ids_with_role(user, *CHARITY_ROLES)


def can_view_queue(user) -> bool:
    """The coordination queue (every charity's flags): the ministry and auditors."""
    return has_oversight(user)


def can_open_queue(user) -> bool:
    """The queue page: the ministry and auditors see every charity's flags there, a charity's members their own."""
    return user.is_authenticated and (has_oversight(user) or bool(own_charity_ids(user)))


def can_view_flag(user, flag) -> bool:
    if not user.is_authenticated:
        return False
    if has_oversight(user):
        return True
    own = own_charity_ids(user)
    return bool(own) and (flag.project_a.charity_id in own or flag.project_b.charity_id in own)


def can_decide(user, flag) -> bool:
    """A ministry reviewer or administrator decides a flag that awaits a decision."""
    return is_ministry(user) and flag.status == FlagStatus.OPEN


def can_run_check(user, project) -> bool:
    """The ministry runs a check of any project; a charity's admins and staff of their own projects."""
    if not user.is_authenticated:
        return False
    return is_ministry(user) or project.charity_id in charities_user_can_draft_for(user)


def can_change_settings(user) -> bool:
    return user.is_authenticated and Role.MINISTRY_ADMIN in user.roles()


def can_start_scan(user) -> bool:
    return is_ministry(user)


def can_view_checks(user, project) -> bool:
    """The results of a project's checks: the ministry, auditors and the project's own charity."""
    if not user.is_authenticated:
        return False
    return has_oversight(user) or project.charity_id in own_charity_ids(user)
