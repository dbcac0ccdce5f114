"""Who may do what with foreign partners and their accreditations. Deny by default.

- the ministry's admins and the accreditation officers (of MoFA or MOSA) register and edit partners, their
  names, addresses and officers, and import them in bulk;
- an accreditation officer records, suspends, reinstates and revokes only the accreditations of its own
  authority; the settlement deadline of a suspension is set by that authority's officers or a ministry admin;
- the ministry's reviewers and the auditors read everything;
- charity members read the registry (they choose their implementing partners) but not officers' dates of birth;
- a partner's reporter reads only its own partner's record.
"""

from __future__ import annotations

from shafaf.accounts.choices import CHARITY_ROLES, MINISTRY_ROLES, OVERSIGHT_ROLES, Role
from shafaf.accounts.permissions import organization_ids_with_role

from .choices import HitStatus

MANAGER_ROLES = frozenset({Role.MINISTRY_ADMIN, Role.ACCREDITATION_OFFICER})
# Roles that read every partner's full record (officers' dates of birth included).
FULL_READ_ROLES = OVERSIGHT_ROLES | {Role.ACCREDITATION_OFFICER}
LIST_ROLES = FULL_READ_ROLES | CHARITY_ROLES | {Role.PARTNER_REPORTER}


def _roles(user) -> set[str]:
    return user.roles() if user is not None and user.is_authenticated else set()


def officer_authorities(user) -> set[str]:
    """The authorities (Authority codes, "MOSA" / "MOFA") whose accreditation officer the user is."""
    if not _roles(user) & {Role.ACCREDITATION_OFFICER}:
        return set()
    cached = getattr(user, "_shafaf_officer_authorities", None)
    if cached is None:
        from shafaf.accounts.models import Organization

        ids = organization_ids_with_role(user, Role.ACCREDITATION_OFFICER)
        cached = set(
            Organization.objects.filter(pk__in=ids, kind="authority")
            .exclude(authority_code="")
            .values_list("authority_code", flat=True)
        )
        user._shafaf_officer_authorities = cached
    return set(cached)


def own_partner_ids(user) -> set[int]:
    """The partners for which the user reports."""
    return organization_ids_with_role(user, Role.PARTNER_REPORTER)


def sees_every_partner(user) -> bool:
    return bool(_roles(user) & (FULL_READ_ROLES | CHARITY_ROLES))


def can_view_partner_list(user) -> bool:
    return bool(_roles(user) & LIST_ROLES)


def can_view_partner(user, partner) -> bool:
    if sees_every_partner(user):
        return True
    return partner.pk in own_partner_ids(user)


def can_view_dates_of_birth(user, partner=None) -> bool:
    """Officers' dates of birth: the ministry, the auditors, the accreditation officers and the partner itself."""
    if _roles(user) & FULL_READ_ROLES:
        return True
    return partner is not None and partner.pk in own_partner_ids(user)


def can_manage_partners(user) -> bool:
    """Register and edit partners, their names, addresses and officers; import them from a file."""
    return bool(_roles(user) & MANAGER_ROLES)


def can_edit_partner(user, partner) -> bool:
    return can_manage_partners(user)


def can_record_accreditation(user, authority: str | None = None) -> bool:
    """An accreditation officer records its own authority's accreditations (any of them when not given)."""
    authorities = officer_authorities(user)
    return bool(authorities) if authority is None else authority in authorities


def can_change_accreditation(user, accreditation) -> bool:
    """Suspend, reinstate, revoke, add a document: the officers of the accreditation's authority."""
    return accreditation.authority in officer_authorities(user)


def can_set_settlement_deadline(user, accreditation) -> bool:
    return can_change_accreditation(user, accreditation) or Role.MINISTRY_ADMIN in _roles(user)


# --- sanctions lists and screening ----------------------------------------------------------------------------

# Who confirms or clears a hit, and screens on request: the ministry and the accreditation officers.
DECIDE_ROLES = frozenset(MINISTRY_ROLES | {Role.ACCREDITATION_OFFICER})


def can_view_screening(user) -> bool:
    """The lists, their versions, the screenings and the hits: the ministry, accreditation officers, auditors."""
    return bool(_roles(user) & FULL_READ_ROLES)


def can_decide_hit(user, hit=None) -> bool:
    """Ministry reviewers and admins and accreditation officers confirm or clear a hit (not a superseded one)."""
    return bool(_roles(user) & DECIDE_ROLES) and (hit is None or hit.status != HitStatus.SUPERSEDED)


def can_screen(user) -> bool:
    """Screening a partner now, or any name (the API's /screen/): the ministry and accreditation officers."""
    return bool(_roles(user) & DECIDE_ROLES)


def can_import_sanctions(user) -> bool:
    """Loading a sanctions list version: ministry admins and accreditation officers."""
    return bool(_roles(user) & MANAGER_ROLES)
