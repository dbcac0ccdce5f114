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
    """The project's lifecycle (projects/workflow.py says who moves it from which state to which)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    IN_EXECUTION = "in_execution", _("In execution")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")


# States in which the ministry has licensed the project (it holds a licence number).
LICENSED_STATUSES = frozenset(
    {
        ProjectStatus.APPROVED,
        ProjectStatus.IN_EXECUTION,
        ProjectStatus.COMPLETED,
        ProjectStatus.CLOSED,
        ProjectStatus.SUSPENDED,
    }
)
# States in which a licensed project is running: it takes contracts and money, and the alert rules watch it.
ACTIVE_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.IN_EXECUTION)
# Bootstrap's colour for each state's badge.
STATUS_BADGES = {
    ProjectStatus.DRAFT: "secondary",
    ProjectStatus.SUBMITTED: "info",
    ProjectStatus.UNDER_REVIEW: "info",
    ProjectStatus.CHANGES_REQUESTED: "warning",
    ProjectStatus.APPROVED: "success",
    ProjectStatus.IN_EXECUTION: "primary",
    ProjectStatus.COMPLETED: "success",
    ProjectStatus.CLOSED: "dark",
    ProjectStatus.REJECTED: "danger",
    ProjectStatus.SUSPENDED: "warning",
    ProjectStatus.CANCELLED: "secondary",
}
# States waiting for the ministry (its review queue).
AWAITING_REVIEW_STATUSES = frozenset({ProjectStatus.SUBMITTED, ProjectStatus.UNDER_REVIEW})


class ProjectAction(models.TextChoices):
    """What moved a project from one state to another, as its timeline names it. The values are the
    actions of the API (POST /api/v1/projects/{id}/{action}/); "revise" is taken by an edit of a licensed
    project's scope, never asked for directly."""

    SUBMIT = "submit", _("Submission")
    START_REVIEW = "start-review", _("Start of review")
    REQUEST_CHANGES = "request-changes", _("Request for changes")
    APPROVE = "approve", _("Approval")
    REJECT = "reject", _("Rejection")
    START = "start", _("Start of execution")
    COMPLETE = "complete", _("Completion")
    CLOSE = "close", _("Closure")
    SUSPEND = "suspend", _("Suspension")
    RESUME = "resume", _("Resumption")
    CANCEL = "cancel", _("Cancellation")
    REVISE = "revise", _("Revision sent back to review")


class PhaseStatus(models.TextChoices):
    """Where a phase (مرحلة) of a project's execution stands."""

    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


PHASE_STATUS_BADGES = {
    PhaseStatus.PLANNED: "secondary",
    PhaseStatus.IN_PROGRESS: "primary",
    PhaseStatus.DONE: "success",
}


class DocumentKind(models.TextChoices):
    """What a project document or piece of evidence (شواهد / مستندات داعمة) is."""

    LICENCE_APPLICATION = "licence_application", _("Licence application")
    ENGINEERING_DRAWINGS = "engineering_drawings", _("Engineering drawings")
    PARTNER_AGREEMENT = "partner_agreement", _("Agreement with the implementing partner")
    BENEFICIARY_LIST = "beneficiary_list", _("List of beneficiaries")
    SITE_PHOTO = "site_photo", _("Site photo")
    INVOICE = "invoice", _("Invoice")
    PROGRESS_EVIDENCE = "progress_evidence", _("Progress evidence")
    OTHER = "other", _("Other")


# The kinds of evidence of execution: what an implementing partner's reporter may add (to its projects only).
EVIDENCE_KINDS = frozenset({DocumentKind.SITE_PHOTO, DocumentKind.INVOICE, DocumentKind.PROGRESS_EVIDENCE})

# The documents each MOSA project model requires before the ministry licenses it (the rulebook's
# documents_present check, through selectors.missing_project_documents).
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    ProjectModel.CONSTRUCTION_INTERNAL: (DocumentKind.LICENCE_APPLICATION, DocumentKind.ENGINEERING_DRAWINGS),
    ProjectModel.CONSTRUCTION_EXTERNAL: (
        DocumentKind.LICENCE_APPLICATION,
        DocumentKind.ENGINEERING_DRAWINGS,
        DocumentKind.PARTNER_AGREEMENT,
    ),
    ProjectModel.SOCIAL_DEVELOPMENT_INTERNAL: (DocumentKind.LICENCE_APPLICATION,),
    ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL: (DocumentKind.LICENCE_APPLICATION, DocumentKind.PARTNER_AGREEMENT),
    ProjectModel.SPONSORSHIP_INTERNAL: (DocumentKind.LICENCE_APPLICATION, DocumentKind.BENEFICIARY_LIST),
    ProjectModel.SPONSORSHIP_EXTERNAL: (
        DocumentKind.LICENCE_APPLICATION,
        DocumentKind.BENEFICIARY_LIST,
        DocumentKind.PARTNER_AGREEMENT,
    ),
    ProjectModel.VARIOUS: (DocumentKind.LICENCE_APPLICATION,),
    ProjectModel.RELIEF_CAMPAIGN_EXTERNAL: (DocumentKind.LICENCE_APPLICATION, DocumentKind.PARTNER_AGREEMENT),
}
