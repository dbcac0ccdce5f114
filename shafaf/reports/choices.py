from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


# A period is covered once its report is with the ministry or accepted; a returned report must be submitted again.
COVERING_STATUSES = frozenset({ReportStatus.SUBMITTED, ReportStatus.ACCEPTED})
# The charity edits (and submits) a report in these states.
EDITABLE_STATUSES = frozenset({ReportStatus.DRAFT, ReportStatus.RETURNED})
STATUS_BADGES = {
    ReportStatus.DRAFT: "secondary",
    ReportStatus.SUBMITTED: "primary",
    ReportStatus.ACCEPTED: "success",
    ReportStatus.RETURNED: "warning",
}
DEFAULT_FREQUENCY_MONTHS = 3
