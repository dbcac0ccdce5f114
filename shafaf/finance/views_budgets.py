"""The pages of a project's budget: the current version (lines by category, administrative share against the
licence, periods, status) with the history of the versions (who, when, why, what changed); the form of the original
budget or of a revision (a formset of lines and one of periods: a bad row shows its errors, nothing is saved); the
commit button; the tranche planned on a contract's page; the ministry's page of licensed administrative shares."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shafaf.core.exceptions import DomainError
from shafaf.core.views import apply_domain_error
from shafaf.projects.selectors import project_get

from . import budgets, permissions, selectors, selectors_budgets
from .forms_budgets import (
    AdminShareForm,
    BudgetLineFormSet,
    BudgetPeriodFormSet,
    BudgetVersionForm,
    TrancheForm,
)
from .models import AdminShareLicence, BudgetStatus

EXTRA_ROWS = 2


def _budget_context(request, project) -> dict:
    user = request.user
    current = selectors_budgets.current_budget(project)
    return {
        "project": project,
        "finance_tab": "budget",
        "current": current,
        "history": selectors_budgets.budget_history(project),
        "can_edit": permissions.can_edit_budget(user, project),
        "can_create_original": permissions.can_create_original_budget(user, project),
        "can_commit": current is not None
        and current.version.status == BudgetStatus.INDICATIVE
        and permissions.can_edit_budget(user, project),
    }


@require_safe
def budget_view(request, pk: int):
    project = project_get(request.user, pk)
    return render(request, "finance/budget_detail.html", _budget_context(request, project))


def _initial_lines(project) -> list[dict]:
    """The current version's lines, for a revision's form to start from (every line of the project, 0 included)."""
    current = selectors_budgets.current_budget(project)
    if current is None:
        return []
    amounts = {item.line.pk: item.amount.amount_text for item in current.lines}
    zero = "0"
    return [
        {
            "code": line.code,
            "category": line.category,
            "name_ar": line.name_ar,
            "name_en": line.name_en,
            "amount": amounts.get(line.pk, zero),
        }
        for line in sorted(selectors_budgets.project_lines(project), key=lambda line: (len(line.code), line.code))
    ]


def _with_more_rows(data: QueryDict, prefix: str) -> QueryDict:
    """The posted data with one more (empty) row in the formset `prefix` (the "add a line" button)."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(data.get(key, "0"))
    except ValueError:
        total = 0
    data[key] = str(min(total + 1, 200))
    return data


def _place_rows(formset, error: DomainError, prefix: str, rows: list[int]) -> bool:
    """Puts the service's "<prefix>-<i>-<field>" errors on the formset's forms (i counts the rows sent)."""
    placed = False
    for name, field_messages in error.fields.items():
        parts = name.split("-")
        if len(parts) != 3 or parts[0] != prefix or not parts[1].isdigit():
            continue
        index = int(parts[1])
        if index >= len(rows):
            continue
        form = formset.forms[rows[index]]
        target = parts[2] if parts[2] in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
        placed = True
    return placed


@require_http_methods(["GET", "HEAD", "POST"])
def budget_create_view(request, pk: int):
    """The original budget, or a revision of it (every line the project has, to change or set to 0)."""
    project = project_get(request.user, pk)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers enter the project's budget."))
    revision = project.budget_versions.exists()
    currency = project.currency
    status, error = 200, None
    data = request.POST if request.method == "POST" else None
    adding = data is not None and ("add_line" in data or "add_period" in data)
    if adding:
        data = _with_more_rows(data, "lines" if "add_line" in data else "periods")
    version_form = BudgetVersionForm(data, revision=revision)
    if data is None:
        initial = _initial_lines(project)
        lines = BudgetLineFormSet(prefix="lines", initial=initial, form_kwargs={"currency": currency})
        lines.extra = EXTRA_ROWS if not initial else 1
        periods = BudgetPeriodFormSet(prefix="periods", form_kwargs={"currency": currency})
        periods.extra = 1
    else:
        lines = BudgetLineFormSet(data, prefix="lines", form_kwargs={"currency": currency})
        periods = BudgetPeriodFormSet(data, prefix="periods", form_kwargs={"currency": currency})

    if not permissions.can_edit_budget(request.user, project) or (
        not revision and not permissions.can_create_original_budget(request.user, project)
    ):
        status = 409
        error = _("The budget cannot be changed while the project is “%(status)s”.") % {
            "status": project.get_status_display()
        }
    elif request.method == "POST" and not adding:
        status = 400
        valid = version_form.is_valid() & lines.is_valid() & periods.is_valid()
        if valid:
            line_rows = [
                index
                for index, form in enumerate(lines.forms)
                if not form.is_blank() and not form.cleaned_data.get("DELETE")
            ]
            period_rows = [
                index
                for index, form in enumerate(periods.forms)
                if not form.is_blank() and not form.cleaned_data.get("DELETE")
            ]
            try:
                version = budgets.budget_version_create(
                    actor=request.user,
                    project=project,
                    lines=[
                        {
                            name: lines.forms[index].cleaned_data.get(name)
                            for name in ("code", "category", "name_ar", "name_en", "amount")
                        }
                        for index in line_rows
                    ],
                    periods=[
                        {name: periods.forms[index].cleaned_data.get(name) for name in ("start", "end", "amount")}
                        for index in period_rows
                    ],
                    status=version_form.cleaned_data["status"],
                    reason=version_form.cleaned_data["reason"],
                )
            except DomainError as refused:
                if refused.status == 403:
                    raise PermissionDenied(refused.message) from refused
                placed = _place_rows(lines, refused, "lines", line_rows)
                placed = _place_rows(periods, refused, "periods", period_rows) or placed
                rest = {k: v for k, v in refused.fields.items() if not k.startswith(("lines-", "periods-"))}
                if rest or not placed:
                    apply_domain_error(version_form, DomainError(refused.message, code=refused.code, fields=rest))
                status = refused.status
            else:
                if version.number == 1:
                    messages.success(request, _("The budget is saved."))
                else:
                    messages.success(request, _("The revision of the budget is saved."))
                return redirect("finance:budget", project.pk)
    context = {
        "project": project,
        "finance_tab": "budget",
        "revision": revision,
        "version_form": version_form,
        "lines": lines,
        "periods": periods,
        "error": error,
        "currency": currency,
    }
    return render(request, "finance/budget_form.html", context, status=status)


@require_POST
def budget_commit_view(request, pk: int):
    project = project_get(request.user, pk)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers commit the project's budget."))
    current = selectors_budgets.current_budget(project)
    if current is None:
        raise Http404
    try:
        budgets.budget_commit(actor=request.user, version=current.version)
    except DomainError as refused:
        if refused.status == 403:
            raise PermissionDenied(refused.message) from refused
        messages.error(request, refused.message)
        context = _budget_context(request, project)
        return render(request, "finance/budget_detail.html", context, status=refused.status)
    messages.success(request, _("The budget is committed."))
    return redirect("finance:budget", project.pk)


@require_http_methods(["GET", "HEAD", "POST"])
def admin_share_view(request):
    """The ministry's page: each charity's licensed administrative share, and the form that sets it."""
    if not permissions.can_set_admin_share(request.user):
        raise PermissionDenied(_("Only the ministry's administrators set the licensed administrative shares."))
    form = AdminShareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                budgets.admin_share_licence_set(
                    actor=request.user, charity=form.cleaned_data["charity"], percent=form.cleaned_data["percent"]
                )
            except DomainError as refused:
                if refused.status == 403:
                    raise PermissionDenied(refused.message) from refused
                apply_domain_error(form, refused)
                status = refused.status
            else:
                messages.success(request, _("The licensed administrative share is saved."))
                return redirect("finance:admin_share")
    licences = AdminShareLicence.objects.select_related("charity", "set_by").order_by("charity__name_en")
    for licence in licences:
        licence.percent_text = f"{licence.percent_bp // 100}.{licence.percent_bp % 100:02d}"
    context = {"form": form, "licences": licences}
    return render(request, "finance/budget_admin_share.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def tranche_create_view(request, pk: int, contract_pk: int):
    project = project_get(request.user, pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers plan tranches."))
    form = TrancheForm(request.POST or None, contract=contract)
    status, error = 200, None
    if not permissions.project_accepts_money(project):
        from .services import not_licensed_refusal

        error, status = not_licensed_refusal(project).message, 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                budgets.tranche_plan(
                    actor=request.user,
                    contract=contract,
                    number=data["number"],
                    planned_on=data["planned_on"],
                    amount=data["amount"],
                )
            except DomainError as refused:
                if refused.status == 403:
                    raise PermissionDenied(refused.message) from refused
                apply_domain_error(form, refused)
                status = refused.status
            else:
                messages.success(request, _("The tranche is planned."))
                return redirect("finance:contract_detail", project.pk, contract.pk)
    context = {"project": project, "contract": contract, "form": form, "error": error}
    return render(request, "finance/budget_tranche_form.html", context, status=status)
