"""The pages of a project's progress reports: the list, the form (new and edit), the report with its
submit / accept / return forms."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from shafaf.core.exceptions import DomainError
from shafaf.core.views import refuse_on_form
from shafaf.interop.tables import Column, attr, export_or_none
from shafaf.projects.selectors import project_get
from shafaf.strategy import selectors as strategy_selectors
from shafaf.strategy.forms import place_indicator_errors
from shafaf.strategy.values import format_value, value_text

from . import permissions, selectors, services
from .forms import ReportForm, ReviewForm

ACTIONS = ("submit", "accept", "return")


REPORT_COLUMNS = [
    Column("period", _lazy("Period"), attr("period_label")),
    Column("due_date", _lazy("Due date"), attr("due_date")),
    Column("status", _lazy("Status"), attr("get_status_display")),
    Column("submitted", _lazy("Submitted"), lambda report: report.submitted_at and report.submitted_at.date()),
    Column("reviewed", _lazy("Reviewed"), lambda report: report.reviewed_at and report.reviewed_at.date()),
]


def report_list_view(request, pk: int):
    project = project_get(request.user, pk)
    reports = selectors.report_list(request.user, project)
    filename = f"reports-{project.reference}"
    if (response := export_or_none(request, reports, REPORT_COLUMNS, filename)) is not None:
        return response
    context = {
        "project": project,
        "reports": reports,
        "schedule": selectors.schedule_of(project),
        "due": selectors.reports_due(project),
        "can_create": permissions.can_create_report(request.user, project),
    }
    return render(request, "reports/report_list.html", context)


def report_form_view(request, pk: int, report_pk: int | None = None):
    """A new draft report (for one of the schedule's open periods), or a draft or returned report edited."""
    if report_pk is None:
        project = project_get(request.user, pk)
        report = None
        if not permissions.can_create_report(request.user, project):
            raise PermissionDenied
        periods = selectors.open_periods(project)
    else:
        report = selectors.report_get(request.user, pk, report_pk)
        project = report.project
        if not permissions.can_edit_report(request.user, report):
            raise PermissionDenied
        periods = None
    initial = {}
    values, evidence = {}, {}
    if report is not None:
        initial = {
            "narrative_ar": report.narrative_ar,
            "narrative_en": report.narrative_en,
            "evidence": list(report.evidence.all()),
        }
        for row in strategy_selectors.report_indicator_values(report).prefetch_related("evidence"):
            values[row.indicator.code] = value_text(row.value_milli)
            evidence[row.indicator.code] = list(row.evidence.all())
    indicators = strategy_selectors.project_indicators(project)
    form = ReportForm(
        request.POST or None,
        project=project,
        periods=periods,
        initial=initial,
        indicators=indicators,
        indicator_values=values,
        indicator_evidence=evidence,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.service_fields()
            try:
                if report is None:
                    report = services.report_create(actor=request.user, project=project, **data)
                else:
                    report = services.report_update(actor=request.user, report=report, **data)
            except DomainError as error:
                if error.status != 403 and error.fields and "indicator_values" in error.fields:
                    place_indicator_errors(form, error.fields.pop("indicator_values"))
                    status = error.status
                    if error.fields:
                        status = refuse_on_form(form, error)
                else:
                    status = refuse_on_form(form, error)
            else:
                messages.success(request, _("The report is saved."))
                return redirect("reports:report_detail", project.pk, report.pk)
    context = {"project": project, "report": report, "form": form}
    return render(request, "reports/report_form.html", context, status=status)


def _detail_context(request, report, review_form=None) -> dict:
    user = request.user
    phases = {str(phase.pk): phase for phase in report.project.phases.all()}
    snapshot = [(phases.get(key), key, percent) for key, percent in (report.phase_progress or {}).items()]
    return {
        "project": report.project,
        "report": report,
        "evidence": report.evidence.all(),
        "indicator_values": [
            {"row": row, "text": format_value(row.value_milli, row.indicator.unit)}
            for row in strategy_selectors.report_indicator_values(report).prefetch_related("evidence")
        ],
        "phase_snapshot": snapshot,
        "can_edit": permissions.can_edit_report(user, report),
        "can_review": permissions.can_review_report(user, report),
        "review_form": review_form or ReviewForm(),
    }


def report_detail_view(request, pk: int, report_pk: int):
    report = selectors.report_get(request.user, pk, report_pk)
    return render(request, "reports/report_detail.html", _detail_context(request, report))


def report_action_view(action: str):
    @require_POST
    def view(request, pk: int, report_pk: int):
        report = selectors.report_get(request.user, pk, report_pk)
        user = request.user
        if action == "submit":
            allowed = permissions.can_write_reports(user, report.project)
        else:
            allowed = permissions.can_review_reports(user)
        if not allowed:
            raise PermissionDenied
        form = ReviewForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                if action == "submit":
                    services.report_submit(actor=user, report=report)
                elif action == "accept":
                    services.report_accept(actor=user, report=report, comment=form.cleaned_data["comment"])
                else:
                    services.report_return(actor=user, report=report, comment=form.cleaned_data["comment"])
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                done = {
                    "submit": _("The report is submitted to the ministry."),
                    "accept": _("The report is accepted."),
                    "return": _("The report is returned to the charity."),
                }
                messages.success(request, done[action])
                return redirect("reports:report_detail", report.project_id, report.pk)
        report.refresh_from_db()
        return render(request, "reports/report_detail.html", _detail_context(request, report, form), status=status)

    view.__name__ = f"report_{action}_view"
    return view
