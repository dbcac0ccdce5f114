"""The pages of a project's contracts and disbursements: the list with the totals, the contract form, a
contract with its disbursements and the upload of the signed copy, the disbursement form. A refusal by the
accreditation gate is shown in an alert naming every reason; the form keeps what was typed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shafaf.core.exceptions import DomainError
from shafaf.core.views import apply_domain_error, stored_file_response
from shafaf.interop.tables import Column, attr, export_filtered
from shafaf.projects.selectors import project_get

from . import permissions, selectors, services
from .filters import ContractFilter
from .forms import ContractDocumentForm, ContractForm, DisbursementForm


def _place_error(form, error: DomainError, *, alert: bool = True) -> list[str]:
    """Puts a service's refusal on the form and returns the gate's reasons (for the alert box, which also shows
    the refusal's message; without it, a refusal with no field goes on top of the form)."""
    if error.status == 403:
        raise PermissionDenied(error.message) from error
    reasons = [str(message) for message in error.fields.get("partner", [])]
    rest = {name: messages for name, messages in error.fields.items() if name != "partner"}
    if rest:
        apply_domain_error(form, DomainError(error.message, code=error.code, fields=rest))
    elif not reasons and not alert:
        form.add_error(None, error.message)
    return reasons


def _with_totals(contract):
    contract.totals = selectors.contract_totals(contract)
    contract.amount_text = selectors.money_text(contract.totals.amount)
    contract.disbursed_text = selectors.money_text(contract.totals.disbursed)
    contract.remaining_text = selectors.money_text(contract.totals.remaining)
    return contract


def _contract_totals(contract):
    if not hasattr(contract, "totals"):
        contract.totals = selectors.contract_totals(contract)
    return contract.totals


# The columns of a project's contracts list, as its table shows them (and its CSV/Excel downloads).
CONTRACT_COLUMNS = [
    Column("number", _lazy("Contract number"), attr("number")),
    Column("signed_on", _lazy("Signed on"), attr("signed_on")),
    Column("amount", _lazy("Amount"), lambda contract: _contract_totals(contract).amount),
    Column("disbursed", _lazy("Disbursed"), lambda contract: _contract_totals(contract).disbursed),
    Column("remaining", _lazy("Remaining"), lambda contract: _contract_totals(contract).remaining),
    Column("currency", _lazy("Currency"), lambda contract: _contract_totals(contract).amount.currency),
    Column(
        "signed_contract",
        _lazy("Signed contract"),
        lambda contract: _("Uploaded") if contract.has_document else _("Missing"),
    ),
]


@require_safe
def contract_list_view(request, pk: int):
    project = project_get(request.user, pk)
    filterset = ContractFilter(request.GET or None, queryset=selectors.contract_list(request.user, project))
    filename = f"contracts-{project.reference}"
    if (response := export_filtered(request, filterset, CONTRACT_COLUMNS, filename)) is not None:
        return response
    valid = not filterset.is_bound or filterset.is_valid()
    page = Paginator(filterset.qs if valid else filterset.queryset.none(), 25).get_page(request.GET.get("page"))
    for contract in page:
        _with_totals(contract)
    totals = [
        {
            "currency": line.currency,
            "contracts": line.contracts,
            "contracted": selectors.money_text(line.contracted),
            "disbursed": selectors.money_text(line.disbursed),
            "remaining": selectors.money_text(line.remaining),
        }
        for line in selectors.project_totals(project)
    ]
    context = {
        "project": project,
        "filter": filterset,
        "page": page,
        "totals": totals,
        "can_register": permissions.can_register_contract(request.user, project),
        "is_finance_officer": permissions.is_finance_officer(request.user, project),
        "accepts_money": permissions.project_accepts_money(project),
    }
    return render(request, "finance/contract_list.html", context, status=200 if valid else 400)


@require_http_methods(["GET", "HEAD", "POST"])
def contract_create_view(request, pk: int):
    project = project_get(request.user, pk)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers register contracts."))
    form = ContractForm(request.POST or None, request.FILES or None, project=project)
    reasons, error, status = [], None, 200
    if not permissions.project_accepts_money(project):
        error, status = services.not_licensed_refusal(project), 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                contract = services.contract_register(
                    actor=request.user,
                    project=project,
                    number=data["number"],
                    signed_on=data["signed_on"],
                    amount=data["amount"],
                    currency=data["currency"],
                    file=data.get("file"),
                )
            except DomainError as refused:
                reasons, error, status = _place_error(form, refused), refused, refused.status
            else:
                messages.success(request, _("The contract is registered."))
                return redirect("finance:contract_detail", project.pk, contract.pk)
    context = {"project": project, "form": form, "reasons": reasons, "error": error}
    return render(request, "finance/contract_form.html", context, status=status)


def _detail_context(request, contract, *, document_form=None, reasons=None, error=None) -> dict:
    user = request.user
    disbursements = list(selectors.contract_disbursements(contract))
    for disbursement in disbursements:
        disbursement.amount_text = selectors.money_text(disbursement.amount)
    can_attach = permissions.can_attach_contract_document(user, contract) and not contract.has_document
    return {
        "project": contract.project,
        "contract": _with_totals(contract),
        "disbursements": disbursements,
        "can_record": permissions.can_record_disbursement(user, contract),
        "can_attach": can_attach,
        "document_form": document_form or (ContractDocumentForm() if can_attach else None),
        "reasons": reasons or [],
        "error": error,
    }


@require_safe
def contract_detail_view(request, pk: int, contract_pk: int):
    project = project_get(request.user, pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    return render(request, "finance/contract_detail.html", _detail_context(request, contract))


@require_POST
def contract_document_view(request, pk: int, contract_pk: int):
    project = project_get(request.user, pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers upload signed contracts."))
    form = ContractDocumentForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            services.contract_attach_document(actor=request.user, contract=contract, file=form.cleaned_data["file"])
        except DomainError as refused:
            _place_error(form, refused, alert=False)
            status = refused.status
        else:
            messages.success(request, _("The signed contract is uploaded."))
            return redirect("finance:contract_detail", project.pk, contract.pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    context = _detail_context(request, contract, document_form=form)
    context["document_form"] = form
    return render(request, "finance/contract_detail.html", context, status=status)


@require_safe
def contract_download_view(request, pk: int, contract_pk: int):
    """The signed contract, to whoever may see the contract (MEDIA is never served directly)."""
    from django.http import Http404

    project = project_get(request.user, pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    if not contract.file:
        raise Http404
    return stored_file_response(contract.file, name=f"{project.reference}-contract-{contract.pk}")


@require_http_methods(["GET", "HEAD", "POST"])
def disbursement_create_view(request, pk: int, contract_pk: int):
    project = project_get(request.user, pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    if not permissions.is_finance_officer(request.user, project):
        raise PermissionDenied(_("Only the charity's administrators and finance officers record disbursements."))
    form = DisbursementForm(request.POST or None, contract=contract)
    reasons, error, status = [], None, 200
    if not permissions.project_accepts_money(project):
        error, status = services.not_licensed_refusal(project), 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                disbursement = services.disbursement_record(
                    actor=request.user,
                    contract=contract,
                    amount=data["amount"],
                    paid_on=data["paid_on"],
                    reference=data["reference"],
                )
            except DomainError as refused:
                reasons, error, status = _place_error(form, refused), refused, refused.status
            else:
                if disbursement.is_settlement:
                    messages.success(request, _("The disbursement is recorded as a settlement of the contract."))
                else:
                    messages.success(request, _("The disbursement is recorded."))
                return redirect("finance:contract_detail", project.pk, contract.pk)
    contract = selectors.contract_get(request.user, contract_pk, project)
    context = {"project": project, "contract": _with_totals(contract), "form": form, "reasons": reasons, "error": error}
    return render(request, "finance/disbursement_form.html", context, status=status)
