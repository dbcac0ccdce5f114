"""Who may do what with donors, donations, allocations, bank accounts and campaigns. Deny by default.

Seeing: the receiving charity (every member), the ministry and auditors see donations and donors; a donor
account sees the donations of the donor records linked to it; nobody else (selectors). Acting: the charity's
members record donors and donations; its administrators and finance officers refund, correct and allocate,
register bank accounts and campaigns; the ministry approves bank accounts."""

from __future__ import annotations

from shafaf.accounts.choices import CHARITY_ROLES, MINISTRY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, organization_ids_with_role

# Enter donors and donations (the front desk): every member of the charity.
RECORD_ROLES = tuple(CHARITY_ROLES)
# Move money: refunds, corrections, allocations, bank accounts, campaigns, settlement files.
FINANCE_ROLES = (Role.CHARITY_ADMIN, Role.CHARITY_FINANCE)


def _charity_id(charity) -> int | None:
    return getattr(charity, "pk", charity)


def charities_user_records_for(user) -> set[int]:
    return organization_ids_with_role(user, *RECORD_ROLES)


def charities_user_manages_money_for(user) -> set[int]:
    return organization_ids_with_role(user, *FINANCE_ROLES)


def is_charity_member(user, charity) -> bool:
    return user.is_authenticated and _charity_id(charity) in charities_user_records_for(user)


def can_view_donations(user) -> bool:
    """The user may open the charity-side donation pages (a member of a charity, the ministry or an auditor)."""
    return user.is_authenticated and (bool(charities_user_records_for(user)) or has_oversight(user))


def can_record_donation(user, charity=None) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    allowed = charities_user_records_for(user)
    return bool(allowed) if charity is None else _charity_id(charity) in allowed


def can_create_donor(user, charity=None) -> bool:
    return can_record_donation(user, charity)


def can_edit_donor(user, donor) -> bool:
    return can_record_donation(user, donor.charity_id)


def can_manage_money(user, charity=None) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    allowed = charities_user_manages_money_for(user)
    return bool(allowed) if charity is None else _charity_id(charity) in allowed


def can_refund_donation(user, donation) -> bool:
    return can_manage_money(user, donation.charity_id)


def can_correct_donation(user, donation) -> bool:
    return can_manage_money(user, donation.charity_id)


def can_allocate(user, donation) -> bool:
    return can_manage_money(user, donation.charity_id)


def can_register_bank_account(user, charity=None) -> bool:
    return can_manage_money(user, charity)


def can_approve_bank_account(user, account=None) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(user.roles() & MINISTRY_ROLES))


def can_create_campaign(user, charity=None) -> bool:
    return can_manage_money(user, charity)


def can_import_settlement(user, charity=None) -> bool:
    return can_manage_money(user, charity)
