"""Who may do what with contracts and disbursements. Deny by default.

Seeing: the project's charity (every member), the ministry and auditors; the implementing partner's reporter
sees its own partner's contracts, read-only; nobody else (selectors.contracts_visible_to). Acting: the
charity's administrators and finance officers, on a licensed project (approved or in execution)."""

from __future__ import annotations

from shafaf.accounts.choices import Role
from shafaf.accounts.permissions import organization_ids_with_role
from shafaf.projects.choices import ACTIVE_STATUSES

# The roles of the owning charity that register contracts and record disbursements.
FINANCE_ROLES = (Role.CHARITY_ADMIN, Role.CHARITY_FINANCE)


def is_finance_officer(user, project) -> bool:
    """The user is an administrator or finance officer of the charity that owns the project."""
    return user.is_authenticated and project.charity_id in organization_ids_with_role(user, *FINANCE_ROLES)


def project_accepts_money(project) -> bool:
    """Money is committed to or transferred for a running licensed project only (approved or in execution)."""
    return project.status in ACTIVE_STATUSES


def can_register_contract(user, project) -> bool:
    return is_finance_officer(user, project) and project_accepts_money(project)


def can_record_disbursement(user, contract) -> bool:
    return can_register_contract(user, contract.project)


def can_attach_contract_document(user, contract) -> bool:
    """The signed contract is uploaded by the same roles, once, while the project is licensed."""
    return can_register_contract(user, contract.project)
