"""Who may do what with contracts and disbursements. Deny by default.

Seeing: the project's charity (every member), the ministry and auditors; the implementing partner's reporter
sees its own partner's contracts, read-only; nobody else (selectors.contracts_visible_to). Acting: the
charity's administrators and finance officers, on a licensed project (approved or in execution)."""

from __future__ import annotations

from shafaf.accounts.choices import Role
from shafaf.accounts.permissions import organization_ids_with_role
from shafaf.projects.choices import ACTIVE_STATUSES, ProjectStatus

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


# --- budgets (shafaf.finance.budgets) ------------------------------------------------------------------------------

# The original budget is entered while the project is being prepared; a revision also while it runs (with a reason).
BUDGET_DRAFT_STATUSES = (ProjectStatus.DRAFT, ProjectStatus.CHANGES_REQUESTED)
BUDGET_EDIT_STATUSES = (*BUDGET_DRAFT_STATUSES, *ACTIVE_STATUSES)


def can_edit_budget(user, project) -> bool:
    """The charity's administrators and finance officers, while the project is a draft, back for changes, or
    licensed and running (a revision then, with its reason)."""
    return is_finance_officer(user, project) and project.status in BUDGET_EDIT_STATUSES


def can_create_original_budget(user, project) -> bool:
    return is_finance_officer(user, project) and project.status in BUDGET_DRAFT_STATUSES


def can_import_budget(user, project) -> bool:
    """An import (IATI, spreadsheet) may bring a project's budget whatever its state: the charity's finance
    officers, the ministry's administrators or a superuser running the importer."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser) or is_finance_officer(user, project) or Role.MINISTRY_ADMIN in user.roles()


def can_commit_budget(user, version) -> bool:
    return can_edit_budget(user, version.project)


def can_set_admin_share(user) -> bool:
    """The licensed administrative share of a charity is set by the ministry's administrators."""
    return user.is_authenticated and Role.MINISTRY_ADMIN in user.roles()


def can_plan_tranche(user, contract) -> bool:
    return can_register_contract(user, contract.project)


# --- expenditures (shafaf.finance.expenditures) --------------------------------------------------------------------


def is_partner_reporter(user, project) -> bool:
    """The user reports for the project's implementing partner."""
    partner_id = project.implementing_partner_id
    return (
        user.is_authenticated
        and partner_id is not None
        and partner_id in organization_ids_with_role(user, Role.PARTNER_REPORTER)
    )


def may_record_expenditure(user, project) -> bool:
    """The roles that record a project's expenditures, whatever its state: the charity's administrators and
    finance officers, and the reporters of its implementing partner."""
    return is_finance_officer(user, project) or is_partner_reporter(user, project)


def can_record_expenditure(user, project) -> bool:
    """Those roles, while the project is licensed and running (approved or in execution)."""
    return may_record_expenditure(user, project) and project_accepts_money(project)


# --- deviations (issue 6, part 5) ---------------------------------------------------------------------------------


def can_see_deviations(user, project) -> bool:
    """A project's deviations and variance: the charity's members, the ministry and auditors (no partner, no
    donor); the caller has already checked that the user may see the project."""
    from shafaf.accounts.choices import CHARITY_ROLES
    from shafaf.accounts.permissions import has_oversight

    if not user.is_authenticated:
        return False
    return has_oversight(user) or project.charity_id in organization_ids_with_role(user, *CHARITY_ROLES)


def can_justify_deviation(user, deviation) -> bool:
    """The charity's administrators and finance officers justify an open or rejected deviation of its project."""
    return is_finance_officer(user, deviation.project) and deviation.status in ("open", "rejected")


def can_decide_deviations(user) -> bool:
    """The ministry's reviewers and administrators approve or reject justified deviations."""
    from shafaf.accounts.permissions import is_ministry

    return is_ministry(user)


def can_decide_deviation(user, deviation) -> bool:
    return can_decide_deviations(user) and deviation.status == "justified"


def can_see_deviation_queue(user) -> bool:
    """The ministry's queue of deviations across every charity: the ministry's reviewers and administrators."""
    return can_decide_deviations(user)


def can_edit_finance_settings(user) -> bool:
    """The thresholds and the exchange-rate age are set by the ministry's administrators."""
    return user.is_authenticated and Role.MINISTRY_ADMIN in user.roles()


def can_see_finance_settings(user) -> bool:
    from shafaf.accounts.permissions import is_ministry

    return is_ministry(user)


# --- insight: earned value, portfolio, statements (issue 6, parts 6 and 8) ----------------------------------------


def can_view_statement(user, project) -> bool:
    """A project's financial statement and earned value: the charity's members, the ministry and auditors (no
    partner, no donor); the caller has already checked that the user may see the project."""
    return can_see_deviations(user, project)


def can_view_charity_statement(user, charity) -> bool:
    """A charity's statement: its members, the ministry and auditors."""
    from shafaf.accounts.choices import CHARITY_ROLES
    from shafaf.accounts.permissions import has_oversight

    if not user.is_authenticated:
        return False
    return has_oversight(user) or charity.pk in organization_ids_with_role(user, *CHARITY_ROLES)


def can_view_portfolio(user) -> bool:
    """The portfolio: the ministry's reviewers and administrators and auditors see every charity's projects; a
    charity's members see the same view restricted to their own charity's projects."""
    from shafaf.accounts.choices import CHARITY_ROLES
    from shafaf.accounts.permissions import has_oversight

    if not user.is_authenticated:
        return False
    return has_oversight(user) or bool(organization_ids_with_role(user, *CHARITY_ROLES))


# --- exchange rates (shafaf.finance.rates_import) ------------------------------------------------------------------

# Rates are public knowledge: the ministry's staff, the auditors and the charities' members read the table.
RATE_READER_ROLES = frozenset(
    {
        Role.MINISTRY_REVIEWER,
        Role.MINISTRY_ADMIN,
        Role.ACCREDITATION_OFFICER,
        Role.AUDITOR,
        Role.CHARITY_ADMIN,
        Role.CHARITY_STAFF,
        Role.CHARITY_FINANCE,
    }
)


def can_view_rates(user) -> bool:
    return user.is_authenticated and (bool(user.is_superuser) or bool(RATE_READER_ROLES & user.roles()))


def can_manage_rates(user) -> bool:
    """The ministry's rates are entered and imported by its administrators (the ministry has no finance role)."""
    return user.is_authenticated and Role.MINISTRY_ADMIN in user.roles()
