from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerNameKind(models.TextChoices):
    ALIAS = "alias", _("Also known as")
    FORMER = "former", _("Former name")
    ACRONYM = "acronym", _("Acronym")


class OfficerRole(models.TextChoices):
    HEAD = "head", _("Head")
    BOARD_MEMBER = "board_member", _("Board member")
    DIRECTOR = "director", _("Director")
    SIGNATORY = "signatory", _("Authorised signatory")


class AccreditationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class SanctionsSource(models.TextChoices):
    UN = "un", _("UN Security Council Consolidated List")
    OFAC = "ofac", _("US OFAC Specially Designated Nationals list")


class SanctionsEntityType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ENTITY = "entity", _("Entity")


class ScreeningTrigger(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    SUBMISSION = "submission", _("Project submission")
    LIST_UPDATE = "list_update", _("New list version")
    CHANGE = "change", _("Names changed")
    MANUAL = "manual", _("Screened on request")


class HitStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed")
    CLEARED = "cleared", _("Cleared")
    SUPERSEDED = "superseded", _("Superseded by a newer list version")


# A partner with a hit in one of these states is blocked by the gate.
BLOCKING_HIT_STATUSES = (HitStatus.OPEN, HitStatus.CONFIRMED)
