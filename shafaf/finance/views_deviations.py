"""The pages of deviations: a project's variance (per line, per period, cumulative, with warnings) and its
deviations; one deviation with its history, the charity's justification form and the ministry's decision form;
the ministry's queue across every charity; the ministry's finance settings (thresholds)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_safe

from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money
from shafaf.core.views import refuse_on_form
from shafaf.interop.tables import Column, attr, export_filtered, export_or_none
from shafaf.projects.selectors import project_get

from . import deviations, permissions
from . import selectors_deviations as selectors
from .filters_deviations import DeviationFilter
from .forms_deviations import DecideForm, FinanceSettingsForm, JustifyForm
from .models import DeviationScope, DeviationStatus
from .selectors import money_text

STATUS_BADGES = {
    DeviationStatus.OPEN: "text-bg-warning",
    DeviationStatus.JUSTIFIED: "text-bg-info",
    DeviationStatus.APPROVED: "text-bg-success",
    DeviationStatus.REJECTED: "text-bg-danger",
    DeviationStatus.RESOLVED: "text-bg-secondary",
}


def _variance_row(value: deviations.Variance) -> dict:
    return {
        "budget": money_text(value.budget),
        "spent": money_text(value.spent),
        "difference": money_text(value.difference),
        "ratio": value.ratio_text,
        "infinite": value.infinite,
        "beyond": value.needs_deviation,
        "covered": value.covered,
        "warning": value.warning,
        "under": value.spent_minor < value.budget_minor,
    }


def _decorate(deviation):
    """Adds the texts a page shows for a deviation (amounts, ratio, badge, resolution)."""
    currency = deviation.currency
    deviation.budget_text = money_text(Money(deviation.budget_minor, currency))
    deviation.spent_text = money_text(Money(deviation.spent_minor, currency))
    infinite = deviation.budget_minor <= 0 and deviation.spent_minor > 0
    deviation.ratio_text = deviations.ratio_text(
        None if deviation.budget_minor <= 0 else deviation.ratio_bp, infinite=infinite
    )
    deviation.threshold_text = deviations.percent_text(deviation.threshold_bp) + " %"
    deviation.badge = STATUS_BADGES.get(deviation.status, "text-bg-secondary")
    deviation.subject_text = deviation.line.code if deviation.line_id else _("Total budget")
    deviation.resolution_text = deviations.resolution_label(deviation) if deviation.resolution else ""
    if deviation.approved_spent_minor is not None:
        deviation.approved_text = money_text(Money(deviation.approved_spent_minor, currency))
    return deviation


def _project_for_deviations(request, pk):
    project = project_get(request.user, pk)
    if not permissions.can_see_deviations(request.user, project):
        # A partner's reporter sees the project it implements, not its budget deviations: as if there were none.
        raise Http404
    return project


@require_safe
def project_deviations_view(request, pk: int):
    project = _project_for_deviations(request, pk)
    data = deviations.project_variance(project)
    lines = [{"line": row.line, "deviation": row.deviation, **_variance_row(row.variance)} for row in data.lines]
    periods = [{"period": row.period, **_variance_row(row.variance)} for row in data.periods]
    items = [_decorate(d) for d in selectors.deviation_list(request.user, project)]
    filename = f"deviations-{project.reference}"
    if (response := export_or_none(request, items, PROJECT_DEVIATION_COLUMNS, filename)) is not None:
        return response
    context = {
        "project": project,
        "data": data,
        "lines": lines,
        "periods": periods,
        "total": _variance_row(data.total) if data.has_budget else None,
        "warnings": deviations.warnings_of(data),
        "deviations": items,
        "line_threshold": deviations.percent_text(data.settings.line_threshold_bp),
        "total_threshold": deviations.percent_text(data.settings.total_threshold_bp),
        "warning_percent": data.settings.warning_percent,
        "blocked": [item for item in items if item.status == DeviationStatus.REJECTED],
    }
    return render(request, "finance/deviation_list.html", context)


def _detail_context(request, deviation, *, justify_form=None, decide_form=None) -> dict:
    user = request.user
    can_justify = permissions.can_justify_deviation(user, deviation)
    can_decide = permissions.can_decide_deviation(user, deviation)
    history = list(selectors.deviation_history(deviation))
    return {
        "project": deviation.project,
        "deviation": _decorate(deviation),
        "can_justify": can_justify,
        "can_decide": can_decide,
        "justify_form": justify_form or (JustifyForm() if can_justify else None),
        "decide_form": decide_form or (DecideForm() if can_decide else None),
        "history": history,
        "is_total": deviation.scope == DeviationScope.TOTAL,
    }


@require_safe
def deviation_detail_view(request, pk: int, deviation_pk: int):
    project = _project_for_deviations(request, pk)
    deviation = selectors.deviation_get(request.user, deviation_pk, project)
    return render(request, "finance/deviation_detail.html", _detail_context(request, deviation))


@require_http_methods(["GET", "HEAD", "POST"])
def deviation_justify_view(request, pk: int, deviation_pk: int):
    project = _project_for_deviations(request, pk)
    deviation = selectors.deviation_get(request.user, deviation_pk, project)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers justify its deviations."))
    form = JustifyForm(request.POST or None)
    status = 200
    if deviation.status not in (DeviationStatus.OPEN, DeviationStatus.REJECTED):
        status = 409
        form = None
        messages.error(
            request,
            _("This deviation is %(status)s: it cannot be justified now.") % {"status": deviation.get_status_display()},
        )
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                deviations.deviation_justify(actor=request.user, deviation=deviation, text=form.cleaned_data["text"])
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(request, _("The justification is sent to the ministry."))
                return redirect("finance:deviation_detail", project.pk, deviation.pk)
        deviation = selectors.deviation_get(request.user, deviation_pk, project)
    context = _detail_context(request, deviation, justify_form=form)
    if form is None:
        context["justify_form"] = None
    return render(request, "finance/deviation_detail.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def deviation_decide_view(request, pk: int, deviation_pk: int):
    project = _project_for_deviations(request, pk)
    deviation = selectors.deviation_get(request.user, deviation_pk, project)
    if not permissions.can_decide_deviations(request.user):
        raise PermissionDenied(_("Only the ministry's reviewers and administrators decide on deviations."))
    form = DecideForm(request.POST or None)
    status = 200
    if deviation.status != DeviationStatus.JUSTIFIED:
        status = 409
        form = None
        messages.error(
            request,
            _("This deviation is %(status)s: only a justified deviation awaits a decision.")
            % {"status": deviation.get_status_display()},
        )
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                decided = deviations.deviation_decide(
                    actor=request.user, deviation=deviation, decision=data["decision"], note=data["note"]
                )
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                if decided.status == DeviationStatus.APPROVED:
                    messages.success(request, _("The deviation is approved."))
                else:
                    messages.success(request, _("The deviation is rejected; spending on it stays blocked."))
                return redirect("finance:deviation_detail", project.pk, deviation.pk)
        deviation = selectors.deviation_get(request.user, deviation_pk, project)
    context = _detail_context(request, deviation, decide_form=form)
    if form is None:
        context["decide_form"] = None
    return render(request, "finance/deviation_detail.html", context, status=status)


def _scope(deviation) -> str:
    scope = str(deviation.get_scope_display())
    return f"{scope} {deviation.line.code}" if deviation.line_id else scope


# The columns of the ministry's deviation queue, as its table shows them (and its CSV/Excel downloads).
PROJECT_DEVIATION_COLUMNS = [
    Column("detected", _lazy("Detected"), attr("detected_at")),
    Column("scope", _lazy("Scope"), lambda deviation: _scope(deviation)),
    Column("budget", _lazy("Budget"), lambda deviation: Money(deviation.budget_minor, deviation.currency)),
    Column("spent", _lazy("Spent"), lambda deviation: Money(deviation.spent_minor, deviation.currency)),
    Column("currency", _lazy("Currency"), attr("currency")),
    Column("ratio", _lazy("Spent / budget"), attr("ratio_text")),
    Column("status", _lazy("Status"), attr("get_status_display")),
]
DEVIATION_COLUMNS = [
    Column("charity", _lazy("Charity"), lambda deviation: str(deviation.project.charity)),
    Column("project", _lazy("Project"), attr("project.reference")),
    Column("scope", _lazy("Scope"), _scope),
    Column("budget", _lazy("Budget"), lambda deviation: Money(deviation.budget_minor, deviation.currency)),
    Column("spent", _lazy("Spent"), lambda deviation: Money(deviation.spent_minor, deviation.currency)),
    Column("currency", _lazy("Currency"), attr("currency")),
    Column("ratio", _lazy("Spent / budget"), lambda deviation: _decorate(deviation).ratio_text),
    Column("status", _lazy("Status"), attr("get_status_display")),
    Column("detected", _lazy("Detected"), lambda deviation: deviation.detected_at.date()),
]


@require_safe
def deviation_queue_view(request):
    if not permissions.can_see_deviation_queue(request.user):
        raise PermissionDenied(_("The deviation queue is the ministry's."))
    include_settled = bool(request.GET.getlist("status"))
    queryset = selectors.deviation_queue(request.user, include_settled=include_settled)
    filterset = DeviationFilter(request.GET or None, queryset=queryset)
    if (response := export_filtered(request, filterset, DEVIATION_COLUMNS, "deviations")) is not None:
        return response
    valid = not filterset.is_bound or filterset.is_valid()
    page = Paginator(filterset.qs if valid else queryset.none(), 50).get_page(request.GET.get("page"))
    for deviation in page:
        _decorate(deviation)
    context = {"filter": filterset, "page": page}
    return render(request, "finance/deviation_queue.html", context, status=200 if valid else 400)


@require_http_methods(["GET", "HEAD", "POST"])
def finance_settings_view(request):
    user = request.user
    if not permissions.can_see_finance_settings(user):
        raise PermissionDenied(_("The finance settings are the ministry's."))
    row = deviations._settings()
    can_edit = permissions.can_edit_finance_settings(user)
    form = FinanceSettingsForm(request.POST or None, initial=FinanceSettingsForm.initial_from(row))
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only the ministry's administrators change the finance settings."))
        status = 400
        if form.is_valid():
            try:
                deviations.settings_update(actor=user, **form.cleaned_data)
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(
                    request, _("The settings are saved. Projects are re-evaluated on their next change and nightly.")
                )
                return redirect("finance:settings")
    context = {"form": form, "row": row, "can_edit": can_edit}
    return render(request, "finance/deviation_settings.html", context, status=status)
