"""Who may see and act on alerts and compliance classes. Deny by default."""

from __future__ import annotations

from shafaf.accounts.choices import CHARITY_ROLES
from shafaf.accounts.permissions import has_oversight, is_ministry, organization_ids_with_role


def own_charity_ids(user) -> set[int]:
    return organization_ids_with_role(user, *CHARITY_ROLES)


def can_view_alerts(user) -> bool:
    """The ministry and the auditor (every alert) and charity members (their charity's)."""
    return has_oversight(user) or bool(own_charity_ids(user))


def can_acknowledge(user, alert) -> bool:
    """The members of the alert's owner, and the ministry (which may acknowledge any alert)."""
    if not user.is_authenticated:
        return False
    if is_ministry(user):
        return True
    return alert.owner_id in own_charity_ids(user)


def can_view_compliance(user) -> bool:
    """The ministry and the auditor (every charity) and charity members (their own charity's class)."""
    return has_oversight(user) or bool(own_charity_ids(user))
