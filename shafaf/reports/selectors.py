"""Every read of progress reports, already filtered to what the user may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from shafaf.projects.choices import LICENSED_STATUSES
from shafaf.projects.selectors import project_get, projects_visible_to

from .choices import COVERING_STATUSES
from .models import ProgressReport, ReportSchedule


def reports_visible_to(user, queryset=None):
    queryset = ProgressReport.objects.all() if queryset is None else queryset
    return queryset.filter(project__in=projects_visible_to(user)).select_related("project")


def report_list(user, project):
    return reports_visible_to(user).filter(project=project).select_related("submitted_by", "reviewed_by")


def report_get(user, project_pk, report_pk) -> ProgressReport:
    """The report of the project, or Http404 when either does not exist or the user may not see it."""
    project = project_get(user, project_pk)
    try:
        report_pk = int(report_pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(
        ProgressReport.objects.select_related("project__charity", "submitted_by", "reviewed_by"),
        pk=report_pk,
        project=project,
    )


def schedule_of(project) -> ReportSchedule | None:
    try:
        return project.report_schedule
    except ReportSchedule.DoesNotExist:
        return None


def _due(project, schedule, covered: set[dt.date], on_date: dt.date) -> list[dict]:
    if schedule is None or project.status not in LICENSED_STATUSES:
        return []
    return [
        period
        for period in schedule.periods(until=on_date)
        if period["due_date"] < on_date and period["period_start"] not in covered
    ]


def reports_due(project, on_date: dt.date | None = None) -> list[dict]:
    """The reporting periods of the project whose due date has passed without a submitted or accepted report:
    [{period, period_start, period_end, due_date}] (the rulebook's reports_not_overdue check reads it)."""
    on_date = on_date or timezone.localdate()
    covered = set(project.progress_reports.filter(status__in=COVERING_STATUSES).values_list("period_start", flat=True))
    return _due(project, schedule_of(project), covered, on_date)


def open_periods(project) -> list[dict]:
    """The periods of the project's schedule that have no report yet (a new report is for one of them)."""
    schedule = schedule_of(project)
    if schedule is None:
        return []
    taken = set(project.progress_reports.values_list("period_start", flat=True))
    return [period for period in schedule.periods() if period["period_start"] not in taken]


def overdue_reports(user, on_date: dt.date | None = None) -> list[dict]:
    """The overdue reports of the projects the user may see, the oldest due first:
    [{project, period, period_start, period_end, due_date, days_late}] (two queries, whatever the number)."""
    on_date = on_date or timezone.localdate()
    projects = (
        projects_visible_to(user)
        .filter(status__in=LICENSED_STATUSES, report_schedule__isnull=False)
        .select_related("report_schedule")
        .prefetch_related(
            Prefetch(
                "progress_reports",
                queryset=ProgressReport.objects.filter(status__in=COVERING_STATUSES).only("project_id", "period_start"),
                to_attr="covering_reports",
            )
        )
    )
    result = []
    for project in projects:
        covered = {report.period_start for report in project.covering_reports}
        for period in _due(project, project.report_schedule, covered, on_date):
            result.append({**period, "project": project, "days_late": (on_date - period["due_date"]).days})
    return sorted(result, key=lambda row: (row["due_date"], row["project"].pk))


def last_progress_at(project):
    """When the project last showed progress: the latest of its submitted or accepted reports' submission
    times and its phases' progress updates (their audit events). None when there is none."""
    from shafaf.audit.models import AuditEvent

    times = []
    submitted = (
        project.progress_reports.filter(status__in=COVERING_STATUSES).aggregate(last=Max("submitted_at")).get("last")
    )
    if submitted:
        times.append(submitted)
    phase_ids = [str(pk) for pk in project.phases.values_list("pk", flat=True)]
    if phase_ids:
        updated = (
            AuditEvent.objects.filter(
                action="project.phase_progress", subject_type="projects.projectphase", subject_id__in=phase_ids
            )
            .aggregate(last=Max("occurred_at"))
            .get("last")
        )
        if updated:
            times.append(updated)
    return max(times) if times else None
