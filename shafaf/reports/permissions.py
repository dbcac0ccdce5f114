"""Who may do what with progress reports. Deny by default. Seeing a report is seeing its project
(shafaf.projects.selectors.projects_visible_to): the owner's members, the ministry and the auditor, and the
implementing partner's reporter once the project has left the draft."""

from __future__ import annotations

from shafaf.accounts.permissions import is_ministry
from shafaf.projects.choices import LICENSED_STATUSES
from shafaf.projects.permissions import is_charity_member

from .choices import EDITABLE_STATUSES, ReportStatus


def can_create_report(user, project) -> bool:
    """The owner's members write the reports of its licensed projects."""
    return user.is_authenticated and project.status in LICENSED_STATUSES and is_charity_member(user, project)


def can_edit_report(user, report) -> bool:
    """The owner's members edit (and submit) a draft or a returned report."""
    return user.is_authenticated and report.status in EDITABLE_STATUSES and is_charity_member(user, report.project)


def can_write_reports(user, project) -> bool:
    """Whether the user is of the charity that writes the project's reports (whatever their state)."""
    return user.is_authenticated and is_charity_member(user, project)


def can_review_reports(user) -> bool:
    """Only the ministry accepts or returns reports."""
    return is_ministry(user)


def can_review_report(user, report) -> bool:
    """The ministry reviews a report once it is submitted."""
    return can_review_reports(user) and report.status == ReportStatus.SUBMITTED
