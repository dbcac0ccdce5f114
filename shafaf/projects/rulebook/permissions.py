"""Who may do what with the rulebook. Deny by default."""

from __future__ import annotations

from shafaf.accounts.choices import Role
from shafaf.accounts.permissions import has_oversight, is_ministry


def can_view_rulebook(user) -> bool:
    """The ministry reads the rulebook's settings; so does the auditor, who reads everything."""
    return has_oversight(user)


def can_edit_rulebook(user) -> bool:
    return user.is_authenticated and Role.MINISTRY_ADMIN in user.roles()


def can_run_checks(user, project) -> bool:
    """The ministry may run the checks of a project it sees at any time (stored as a nightly run)."""
    return is_ministry(user)
