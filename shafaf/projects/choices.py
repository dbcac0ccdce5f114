from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectModel(models.TextChoices):
    """The ministry's project models (MOSA)."""

    CONSTRUCTION_INTERNAL = "construction_internal", _("Construction project (internal)")
    CONSTRUCTION_EXTERNAL = "construction_external", _("Construction project (external)")
    SOCIAL_DEVELOPMENT_INTERNAL = "social_development_internal", _("Social development project (internal)")
    SOCIAL_DEVELOPMENT_EXTERNAL = "social_development_external", _("Social development project (external)")
    SPONSORSHIP_INTERNAL = "sponsorship_internal", _("Sponsorship (internal)")
    SPONSORSHIP_EXTERNAL = "sponsorship_external", _("Sponsorship (external)")
    VARIOUS = "various", _("Various")
    RELIEF_CAMPAIGN_EXTERNAL = "relief_campaign_external", _("External relief campaign")


EXTERNAL_MODELS = frozenset(
    {
        ProjectModel.CONSTRUCTION_EXTERNAL,
        ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL,
        ProjectModel.SPONSORSHIP_EXTERNAL,
        ProjectModel.RELIEF_CAMPAIGN_EXTERNAL,
    }
)
INTERNAL_MODELS = frozenset(
    {ProjectModel.CONSTRUCTION_INTERNAL, ProjectModel.SOCIAL_DEVELOPMENT_INTERNAL, ProjectModel.SPONSORSHIP_INTERNAL}
)


class BeneficiaryGroup(models.TextChoices):
    ORPHANS = "orphans", _("Orphans")
    STUDENTS = "students", _("Students")
    FAMILIES = "families", _("Families in need")
    WIDOWS = "widows", _("Widows")
    REFUGEES = "refugees", _("Refugees and displaced people")
    PATIENTS = "patients", _("Patients")
    PEOPLE_WITH_DISABILITIES = "disabilities", _("People with disabilities")
    ELDERLY = "elderly", _("Elderly people")
    COMMUNITY = "community", _("The whole community")


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
