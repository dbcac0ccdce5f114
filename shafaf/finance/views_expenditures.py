"""The pages of a project's expenditures: the list with its filters and the totals per budget line, one
expenditure with its evidence, the form that records one, and the spreadsheet import with its progress (polled by
htmx) and its per-row error report."""

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
from shafaf.core.views import htmx_template, refuse_on_form, stored_file_response
from shafaf.interop.tables import Column, attr, export_or_none
from shafaf.projects.selectors import project_get

from . import expenditures, permissions
from . import selectors_expenditures as selectors
from .filters import ExpenditureFilter
from .forms_expenditures import ExpenditureForm, ExpenditureImportForm
from .models import FinanceImport
from .selectors import money_text


def _not_allowed():
    return PermissionDenied(
        _(
            "Only the charity's administrators and finance officers, and the implementing partner's reporters, "
            "record this project's expenditures."
        )
    )


def _with_texts(expenditure):
    expenditure.amount_text = money_text(expenditure.amount)
    expenditure.project_amount_text = money_text(
        Money(int(expenditure.project_amount_minor), expenditure.project.currency)
    )
    return expenditure


def _base_context(request, project) -> dict:
    return {
        "project": project,
        "finance_tab": "expenditures",
        "can_record": permissions.can_record_expenditure(request.user, project),
        "may_record": permissions.may_record_expenditure(request.user, project),
        "accepts_money": permissions.project_accepts_money(project),
    }


def _expenditure_columns(project) -> list[Column]:
    """The columns of a project's expenditures list, as its table shows them (and its CSV/Excel downloads)."""
    return [
        Column("date", _lazy("Date"), attr("spent_on")),
        Column("line", _lazy("Budget line"), attr("line.code")),
        Column("amount", _lazy("Amount"), attr("amount")),
        Column("currency", _lazy("Currency"), lambda expenditure: expenditure.amount.currency),
        Column(
            "project_amount",
            _("In %(currency)s") % {"currency": project.currency},
            lambda expenditure: Money(int(expenditure.project_amount_minor), project.currency),
        ),
        Column("rate", _lazy("Rate"), lambda expenditure: expenditure.rate or None),
        Column(
            "rate_date", _lazy("Rate date"), lambda expenditure: expenditure.rate_date if expenditure.rate else None
        ),
        Column("evidence", _lazy("Evidence"), attr("get_evidence_kind_display")),
        Column("reference", _lazy("Reference"), attr("reference")),
        Column("source", _lazy("Source"), attr("get_source_display")),
    ]


@require_safe
def expenditure_list_view(request, pk: int):
    project = project_get(request.user, pk)
    queryset = selectors.expenditure_list(request.user, project)
    filterset = ExpenditureFilter(request.GET or None, queryset=queryset)
    filterset.form.fields["line"].widget = _line_select(project, filterset.form.fields["line"])
    valid = not filterset.is_bound or filterset.is_valid()
    filtered = filterset.qs if valid else queryset.none()
    columns = _expenditure_columns(project)
    if valid and (response := export_or_none(request, filtered, columns, f"expenditures-{project.reference}")):
        return response
    page = Paginator(filtered, 50).get_page(request.GET.get("page"))
    for expenditure in page:
        _with_texts(expenditure)
    totals = [
        {
            "line": total.line,
            "count": total.count,
            "budget": money_text(total.budget) if total.budget is not None else "—",
            "spent": money_text(total.spent),
            "remaining": money_text(total.remaining) if total.remaining is not None else "—",
            "over": total.remaining is not None and total.remaining.minor < 0,
        }
        for total in selectors.line_totals(project, filtered)
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **_base_context(request, project),
        "filter": filterset,
        "page": page,
        "totals": totals,
        "query": query.urlencode(),
        "imports": selectors.expenditure_imports(request.user, project)[:5],
    }
    return render(request, "finance/expenditure_list.html", context, status=200 if valid else 400)


def _line_select(project, field):
    """The line filter as a choice of the project's lines (still an id underneath, shared with the API)."""
    from django import forms

    from .models import BudgetLine

    choices = [("", "—")] + [
        (line.pk, f"{line.code} · {line.name_ar or line.name_en}".rstrip(" ·"))
        for line in BudgetLine.objects.filter(project=project).order_by("code")
    ]
    return forms.Select(choices=choices, attrs={"class": "form-select"})


@require_http_methods(["GET", "HEAD", "POST"])
def expenditure_create_view(request, pk: int):
    project = project_get(request.user, pk)
    if not permissions.may_record_expenditure(request.user, project):
        raise _not_allowed()
    form = ExpenditureForm(request.POST or None, request.FILES or None, project=project)
    error, status = None, 200
    if not permissions.project_accepts_money(project):
        error, status = expenditures.not_active_refusal(project), 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                expenditure = expenditures.expenditure_record(
                    actor=request.user,
                    project=project,
                    line=data["line"],
                    amount=data["amount"],
                    currency=data["currency"],
                    spent_on=data["spent_on"],
                    evidence_kind=data["evidence_kind"],
                    file=data["file"],
                    reference=data["reference"],
                    place=data["place"],
                    description=data["description"],
                )
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(request, _("The expenditure is recorded."))
                return redirect("finance:expenditure_detail", project.pk, expenditure.pk)
    context = {**_base_context(request, project), "form": form, "error": error}
    return render(request, "finance/expenditure_form.html", context, status=status)


@require_safe
def expenditure_detail_view(request, pk: int, expenditure_pk: int):
    project = project_get(request.user, pk)
    expenditure = _with_texts(selectors.expenditure_get(request.user, expenditure_pk, project))
    context = {**_base_context(request, project), "expenditure": expenditure}
    return render(request, "finance/expenditure_detail.html", context)


@require_safe
def expenditure_download_view(request, pk: int, expenditure_pk: int):
    """The invoice or receipt, to whoever may see the expenditure (MEDIA is never served directly)."""
    project = project_get(request.user, pk)
    expenditure = selectors.expenditure_get(request.user, expenditure_pk, project)
    if not expenditure.file:
        raise Http404
    return stored_file_response(expenditure.file, name=f"{project.reference}-expenditure-{expenditure.pk}")


@require_http_methods(["GET", "HEAD", "POST"])
def expenditure_import_view(request, pk: int):
    project = project_get(request.user, pk)
    if not permissions.may_record_expenditure(request.user, project):
        raise _not_allowed()
    form = ExpenditureImportForm(request.POST or None, request.FILES or None)
    error, status = None, 200
    if not permissions.project_accepts_money(project):
        error, status = expenditures.not_active_refusal(project), 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                batch = expenditures.expenditures_import_start(
                    actor=request.user, project=project, file=form.cleaned_data["file"]
                )
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(request, _("The spreadsheet is being imported."))
                return redirect("finance:import_detail", project.pk, batch.pk)
    context = {
        **_base_context(request, project),
        "form": form,
        "error": error,
        "imports": selectors.expenditure_imports(request.user, project)[:10],
    }
    return render(request, "finance/expenditure_import.html", context, status=status)


def _progress(batch: FinanceImport) -> dict:
    total = max(batch.rows_total, batch.rows_done)
    finished = batch.status != FinanceImport.Status.RUNNING
    percent = 100 if finished else (batch.rows_done * 100 // total if total else 0)
    return {"finished": finished, "percent": percent, "total": total}


@require_safe
def import_detail_view(request, pk: int, import_pk: int):
    """An import's progress and its per-row error report; htmx polls the progress part while it runs."""
    project = project_get(request.user, pk)
    batch = selectors.expenditure_import_get(request.user, import_pk, project)
    errors = batch.errors or []
    page = Paginator(errors, 100).get_page(request.GET.get("page"))
    context = {
        **_base_context(request, project),
        "batch": batch,
        "progress": _progress(batch),
        "errors_page": page,
    }
    template = htmx_template(
        request, "finance/expenditure_import_detail.html", "finance/expenditure_import_progress.html"
    )
    return render(request, template, context)
