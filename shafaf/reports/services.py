"""Every write to progress reports. Each is atomic, checked and audited (shafaf.audit.services.record)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.donations import notifications as donor_notifications
from shafaf.projects.models import ProjectDocument
from shafaf.strategy import selectors as strategy_selectors
from shafaf.strategy import services as strategy_services

from . import permissions
from .choices import DEFAULT_FREQUENCY_MONTHS, EDITABLE_STATUSES, ReportStatus
from .models import ProgressReport, ReportSchedule, add_months
from .selectors import open_periods, schedule_of

REPORT_FIELDS = ("narrative_ar", "narrative_en", "indicator_values", "indicator_evidence")
# Fields kept on the report itself; the indicator values are rows of the strategy app.
MODEL_FIELDS = ("narrative_ar", "narrative_en")
REVIEW_COMMENT_MAX_LENGTH = 4000


def _snapshot(report: ProgressReport) -> dict:
    data = {field: getattr(report, field) for field in ("status", *MODEL_FIELDS, "review_comment")}
    if report.pk:
        data["evidence"] = sorted(report.evidence.values_list("pk", flat=True))
        data["indicator_values"] = strategy_selectors.report_values_text(report)
    return data


def schedule_for_approval(project, *, frequency_months: int = DEFAULT_FREQUENCY_MONTHS, starts_on=None):
    """The project's report schedule, made when it is approved (kept as it is when it already has one, as
    for an approved revision): periods of `frequency_months` from the licence date, each report due at the
    period's end. Returns (schedule, created). Runs inside the caller's transaction."""
    existing = schedule_of(project)
    if existing is not None:
        return existing, False
    starts_on = starts_on or project.licence_date or timezone.localdate()
    schedule = ReportSchedule.objects.create(
        project=project,
        frequency_months=frequency_months,
        starts_on=starts_on,
        first_due=add_months(starts_on, frequency_months),
    )
    return schedule, True


def reports_schedule_on_approval(*, actor, project) -> ReportSchedule:
    """Called by shafaf.projects.services.project_transition when the ministry approves a project: sets its
    quarterly report schedule. The schedule follows from the approval (its licence date) and is not audited
    apart: the approval's own audit event records the decision it comes from."""
    with transaction.atomic():
        schedule, _created = schedule_for_approval(project)
    return schedule


def _evidence(project, evidence) -> list[ProjectDocument]:
    """The documents given as evidence, refused unless every one is the project's."""
    ids = {getattr(item, "pk", item) for item in evidence or ()}
    documents = list(ProjectDocument.objects.filter(pk__in=ids, project=project))
    if len(documents) != len(ids):
        raise DomainError(
            _("Evidence must be documents of this project."),
            code="invalid",
            fields={"evidence": [_("Evidence must be documents of this project.")]},
        )
    return documents


def _check_known(fields) -> None:
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})


def _check_indicators(values) -> dict:
    if values in (None, ""):
        return {}
    if not isinstance(values, dict):
        raise DomainError(
            _("Indicator values must be a mapping of indicator codes to values."),
            code="invalid",
            fields={"indicator_values": [_("Indicator values must be a mapping of indicator codes to values.")]},
        )
    return values


def report_create(*, actor, project, period_start: dt.date | None = None, evidence=None, **fields) -> ProgressReport:
    """A draft report for one period of the project's schedule (the earliest without a report when none is
    given), by a member of the owner charity."""
    if not permissions.can_create_report(actor, project):
        raise NotAllowed(_("You cannot write a progress report for this project."))
    _check_known(fields)
    if schedule_of(project) is None:
        raise Conflict(_("This project has no report schedule yet."), code="no_schedule")
    periods = open_periods(project)
    if period_start is None:
        period = periods[0] if periods else None
    else:
        period = next((p for p in periods if p["period_start"] == period_start), None)
    if period is None:
        message = _("This period is not one of the project's open reporting periods.")
        raise DomainError(message, code="invalid", fields={"period_start": [message]})
    indicator_values = _check_indicators(fields.pop("indicator_values", None))
    indicator_evidence = fields.pop("indicator_evidence", None)
    with transaction.atomic():
        documents = _evidence(project, evidence)
        report = ProgressReport.objects.create(
            project=project,
            period_start=period["period_start"],
            period_end=period["period_end"],
            due_date=period["due_date"],
            created_by=actor,
            **fields,
        )
        report.evidence.set(documents)
        if indicator_values or indicator_evidence:
            strategy_services.report_indicator_values_set(
                actor=actor, report=report, values=indicator_values, evidence=indicator_evidence
            )
        audit.record(
            actor=actor,
            action="report.create",
            subject=report,
            organization=project.charity,
            changes=audit.diff({}, {"period_start": report.period_start, **_snapshot(report)}),
        )
    return report


def report_update(*, actor, report: ProgressReport, evidence=None, **fields) -> ProgressReport:
    """Changes a draft or returned report's narrative, indicator values and evidence."""
    if not permissions.can_edit_report(actor, report):
        raise NotAllowed(_("This report cannot be edited now."))
    _check_known(fields)
    indicator_values = fields.pop("indicator_values", None)
    indicator_evidence = fields.pop("indicator_evidence", None)
    if indicator_values is not None:
        indicator_values = _check_indicators(indicator_values)
    with transaction.atomic():
        report = ProgressReport.objects.select_for_update().select_related("project__charity").get(pk=report.pk)
        if not permissions.can_edit_report(actor, report):
            raise Conflict(_("This report changed in the meantime. Reload it."))
        before = _snapshot(report)
        for name, value in fields.items():
            setattr(report, name, value)
        report.save()
        if evidence is not None:
            report.evidence.set(_evidence(report.project, evidence))
        if indicator_values is not None or indicator_evidence is not None:
            if indicator_values is None:
                indicator_values = strategy_selectors.report_values_text(report)
            strategy_services.report_indicator_values_set(
                actor=actor, report=report, values=indicator_values, evidence=indicator_evidence
            )
        changes = audit.diff(before, _snapshot(report))
        if changes:
            audit.record(
                actor=actor,
                action="report.update",
                subject=report,
                organization=report.project.charity,
                changes=changes,
            )
    return report


def _move(*, actor, report, action: str, allowed, new_status: str, **values) -> ProgressReport:
    with transaction.atomic():
        report = ProgressReport.objects.select_for_update().select_related("project__charity").get(pk=report.pk)
        if not allowed(report):
            raise Conflict(
                _("A report in the state “%(status)s” cannot be changed this way.")
                % {"status": report.get_status_display()}
            )
        before = _snapshot(report)
        old = report.status
        report.status = new_status
        for name, value in values.items():
            setattr(report, name, value() if callable(value) else value)
        report.save()
        changes = audit.diff(before, _snapshot(report))
        changes["status"] = [old, new_status]
        audit.record(
            actor=actor,
            action=f"report.{action}",
            subject=report,
            organization=report.project.charity,
            changes=changes,
            reason=values.get("review_comment", ""),
        )
        donor_notifications.report_published(report=report)  # an accepted report reaches the project's donors
    return report


def report_submit(*, actor, report: ProgressReport) -> ProgressReport:
    """The charity sends a draft (or returned) report to the ministry; the phases' progress is recorded as it
    is now."""
    if not permissions.can_write_reports(actor, report.project):
        raise NotAllowed(_("Only the project's charity submits its progress reports."))
    if report.status not in EDITABLE_STATUSES:
        raise Conflict(_("This report was already submitted."))
    if not (report.narrative_ar or "").strip() and not (report.narrative_en or "").strip():
        message = _("Write the narrative in Arabic, English or both before submitting.")
        raise DomainError(message, code="invalid", fields={"narrative_ar": [message]})

    def phases():
        return {str(pk): percent for pk, percent in report.project.phases.values_list("pk", "percent_complete")}

    return _move(
        actor=actor,
        report=report,
        action="submit",
        allowed=lambda r: r.status in EDITABLE_STATUSES,
        new_status=ReportStatus.SUBMITTED,
        phase_progress=phases,
        submitted_by=actor,
        submitted_at=timezone.now,
        reviewed_by=None,
        reviewed_at=None,
        review_comment="",
    )


def _review(*, actor, report, action: str, new_status: str, comment: str) -> ProgressReport:
    if not permissions.can_review_reports(actor):
        raise NotAllowed(_("Only the ministry reviews progress reports."))
    if report.status != ReportStatus.SUBMITTED:
        raise Conflict(_("Only a submitted report can be reviewed."))
    return _move(
        actor=actor,
        report=report,
        action=action,
        allowed=lambda r: r.status == ReportStatus.SUBMITTED,
        new_status=new_status,
        reviewed_by=actor,
        reviewed_at=timezone.now,
        review_comment=comment,
    )


def report_accept(*, actor, report: ProgressReport, comment: str = "") -> ProgressReport:
    """The ministry accepts a submitted report (a comment may be given)."""
    comment = (comment or "").strip()
    return _review(actor=actor, report=report, action="accept", new_status=ReportStatus.ACCEPTED, comment=comment)


def report_return(*, actor, report: ProgressReport, comment: str = "") -> ProgressReport:
    """The ministry returns a submitted report to the charity, saying what to change (required)."""
    comment = (comment or "").strip()
    if permissions.can_review_reports(actor) and not comment:
        message = _("Say what the charity must change: a comment is required to return a report.")
        raise DomainError(message, code="comment_required", fields={"comment": [message]})
    return _review(actor=actor, report=report, action="return", new_status=ReportStatus.RETURNED, comment=comment)
