from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    AUTHORITY = "authority", _("Authority")
    CHARITY = "charity", _("Charity")
    PARTNER = "partner", _("Foreign implementing partner")
    DONOR_ORGANIZATION = "donor_org", _("Donor organisation")
    AUDIT_OFFICE = "audit_office", _("Audit office")


class Authority(models.TextChoices):
    MOSA = "MOSA", _("Ministry of Social Affairs")
    MOFA = "MOFA", _("Ministry of Foreign Affairs")


class Role(models.TextChoices):
    MINISTRY_REVIEWER = "ministry_reviewer", _("Ministry reviewer")
    MINISTRY_ADMIN = "ministry_admin", _("Ministry administrator")
    ACCREDITATION_OFFICER = "accreditation_officer", _("Accreditation officer")
    CHARITY_ADMIN = "charity_admin", _("Charity administrator")
    CHARITY_STAFF = "charity_staff", _("Charity staff")
    CHARITY_FINANCE = "charity_finance", _("Charity finance officer")
    PARTNER_REPORTER = "partner_reporter", _("Partner reporter")
    DONOR = "donor", _("Donor")
    AUDITOR = "auditor", _("Auditor")


class Language(models.TextChoices):
    ARABIC = "ar", _("Arabic")
    ENGLISH = "en", _("English")


MINISTRY_ROLES = frozenset({Role.MINISTRY_REVIEWER, Role.MINISTRY_ADMIN})
CHARITY_ROLES = frozenset({Role.CHARITY_ADMIN, Role.CHARITY_STAFF, Role.CHARITY_FINANCE})
# Roles that read every charity's data.
OVERSIGHT_ROLES = MINISTRY_ROLES | {Role.AUDITOR}
# Roles whose holders must confirm a TOTP code at every login. Auditors read everything, so they are
# held to the same bar as the ministry.
TWO_FACTOR_ROLES = MINISTRY_ROLES | CHARITY_ROLES | {Role.ACCREDITATION_OFFICER, Role.AUDITOR}

# Which roles an organisation of each kind may grant.
ROLES_BY_KIND = {
    OrganizationKind.AUTHORITY: frozenset({Role.MINISTRY_REVIEWER, Role.MINISTRY_ADMIN, Role.ACCREDITATION_OFFICER}),
    OrganizationKind.CHARITY: CHARITY_ROLES,
    OrganizationKind.PARTNER: frozenset({Role.PARTNER_REPORTER}),
    OrganizationKind.DONOR_ORGANIZATION: frozenset({Role.DONOR}),
    OrganizationKind.AUDIT_OFFICE: frozenset({Role.AUDITOR}),
}
