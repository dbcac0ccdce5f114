from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """How alike two projects are, by the ministry's thresholds on the model's score."""

    LIKELY = "likely", _("Likely duplicate")
    POSSIBLE = "possible", _("Possible overlap")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Awaiting the ministry's decision")
    DECIDED = "decided", _("Decided")
    # The two projects no longer overlap enough (a later scope edit), or one left the compared states before a
    # decision; the flag is kept, closed, with the reason in its history.
    WITHDRAWN = "withdrawn", _("No longer an overlap")


class Decision(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    JOINT = "joint", _("Joint funding")
    DISTINCT = "distinct", _("Distinct projects")


class CheckTrigger(models.TextChoices):
    SUBMISSION = "submission", _("Submission")
    SCOPE_EDIT = "scope_edit", _("Scope edit")
    MANUAL = "manual", _("Run by the ministry")
    IMPORT = "import", _("Import")
