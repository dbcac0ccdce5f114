"""The charity's donation pages: donations (record, refund, allocate), donors, bank accounts, settlement files.
The ministry and auditors read them all; donors use the portal (views_portal)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money
from shafaf.core.views import refuse_on_form
from shafaf.interop.tables import Column, attr, export_filtered, export_or_none
from shafaf.projects.choices import ACTIVE_STATUSES
from shafaf.projects.models import Project

from . import imports, permissions, selectors, services
from .filters import DonationFilter, DonationImportFilter, DonorFilter
from .forms import AllocateForm, AmountReasonForm, BankAccountForm, DonationForm, DonorForm, ImportForm
from .models import DonationImport, EntryKind, Purpose


def _require_view(request) -> None:
    if not permissions.can_view_donations(request.user):
        raise PermissionDenied(_("Only charities, the ministry and auditors see these pages."))


def _acting_charity(request, allowed: set[int]) -> Organization:
    """The charity the user acts for: the one named by ?charity= among theirs, or their first."""
    if not allowed:
        raise PermissionDenied(_("You do not act for a charity."))
    wanted = request.GET.get("charity") or request.POST.get("charity")
    charity_id = int(wanted) if wanted and wanted.isdigit() and int(wanted) in allowed else min(allowed)
    return Organization.objects.get(pk=charity_id)


def _page(request, queryset, per_page=25):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- donations -------------------------------------------------------------------------------------------------------


def _donation_for(donation) -> str:
    if donation.project:
        return donation.project.reference
    if donation.campaign:
        return str(donation.campaign)
    return str(donation.get_purpose_display())


# The columns of the donations pages' lists, as their tables show them (and their CSV/Excel downloads).
DONATION_COLUMNS = [
    Column("receipt", _lazy("Receipt"), attr("receipt_number")),
    Column("charity", _lazy("Charity"), lambda donation: str(donation.charity)),
    Column("donor", _lazy("Donor"), lambda donation: str(donation.donor) if donation.donor_id else ""),
    Column("amount", _lazy("Amount"), attr("amount")),
    Column("currency", _lazy("Currency"), attr("currency")),
    Column("received", _lazy("Received"), attr("received_at")),
    Column("entered_late", _lazy("Entered late"), attr("entered_late")),
    Column("channel", _lazy("Channel"), attr("get_channel_display")),
    Column("for", _lazy("For"), _donation_for),
    Column("entry", _lazy("Entry"), attr("get_kind_display")),
]
DONOR_COLUMNS = [
    Column("name_ar", _lazy("Name (Arabic)"), attr("name_ar")),
    Column("name_en", _lazy("Name (English)"), attr("name_en")),
    Column("charity", _lazy("Charity"), lambda donor: str(donor.charity)),
    Column("number", _lazy("Number"), attr("external_ref")),
    Column("email", _lazy("E-mail"), attr("email")),
    Column("contact", _lazy("Contact"), attr("consent_to_contact")),
]
BANK_ACCOUNT_COLUMNS = [
    Column("charity", _lazy("Charity"), lambda account: str(account.charity)),
    Column("bank", _lazy("Bank"), attr("bank_name")),
    Column("iban", _lazy("IBAN"), attr("iban")),
    Column("currency", _lazy("Currency"), attr("currency")),
    Column("approved", _lazy("Approved"), attr("is_approved")),
]
IMPORT_COLUMNS = [
    Column("file", _lazy("File"), attr("file_name")),
    Column("charity", _lazy("Charity"), lambda batch: str(batch.charity)),
    Column("channel", _lazy("Channel"), attr("get_channel_display")),
    Column("status", _lazy("Status"), attr("get_status_display")),
    Column("kept", _lazy("Kept"), attr("rows_ok")),
    Column("already_recorded", _lazy("Already recorded"), attr("rows_duplicate")),
    Column("refused", _lazy("Refused"), attr("rows_failed")),
]


@require_safe
def donation_list_view(request):
    _require_view(request)
    queryset = selectors.donations_visible_to(request.user).select_related("charity", "donor", "project", "campaign")
    filterset = DonationFilter(request.GET or None, queryset=queryset)
    if (response := export_filtered(request, filterset, DONATION_COLUMNS, "donations")) is not None:
        return response
    valid = not filterset.is_bound or filterset.is_valid()
    page = _page(request, filterset.qs if valid else queryset.none())
    context = {
        "filter": filterset,
        "page": page,
        "can_record": permissions.can_record_donation(request.user),
        "can_manage": permissions.can_manage_money(request.user),
    }
    return render(request, "donations/donation_list.html", context, status=200 if valid else 400)


@require_http_methods(["GET", "HEAD", "POST"])
def donation_create_view(request):
    charity = _acting_charity(request, permissions.charities_user_records_for(request.user))
    form = DonationForm(request.POST or None, charity=charity)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                donation = services.donation_record(actor=request.user, charity=charity, **data)
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(
                    request, _("Donation recorded: receipt %(number)s.") % {"number": donation.receipt_number}
                )
                return redirect("donations:donation_detail", donation.pk)
    return render(request, "donations/donation_form.html", {"form": form, "charity": charity}, status=status)


def _licensed_projects(charity_id: int):
    return Project.objects.filter(charity_id=charity_id, status__in=ACTIVE_STATUSES).order_by("reference")


def _detail_context(request, donation, *, allocate_form=None, refund_form=None) -> dict:
    can_manage = permissions.can_manage_money(request.user, donation.charity_id)
    is_original = donation.kind == EntryKind.DONATION
    remainder = services.unallocated(donation) if is_original else None
    can_allocate = can_manage and is_original and donation.purpose != Purpose.PROJECT and remainder.minor > 0
    return {
        "donation": donation,
        "entries": donation.corrections.order_by("entered_at", "id") if is_original else [],
        "allocations": selectors.allocations_of(donation if is_original else donation.corrects),
        "totals": [
            {"project": Project.objects.get(pk=row["project_id"]), "total": Money(row["total"], donation.currency)}
            for row in selectors.allocation_totals_of(donation if is_original else donation.corrects)
        ],
        "net": services.net_amount(donation) if is_original else None,
        "remainder": remainder,
        "can_allocate": can_allocate,
        "can_refund": can_manage and is_original and services.net_amount(donation).minor > 0,
        "allocate_form": allocate_form
        or (AllocateForm(projects=_licensed_projects(donation.charity_id)) if can_allocate else None),
        "refund_form": refund_form or AmountReasonForm(),
    }


@require_safe
def donation_detail_view(request, pk: int):
    _require_view(request)
    donation = selectors.donation_get(request.user, pk)
    return render(request, "donations/donation_detail.html", _detail_context(request, donation))


@require_POST
def donation_allocate_view(request, pk: int):
    _require_view(request)
    donation = selectors.donation_get(request.user, pk)
    if not permissions.can_allocate(request.user, donation):
        raise PermissionDenied(_("You cannot allocate this charity's donations."))
    form = AllocateForm(request.POST, projects=_licensed_projects(donation.charity_id))
    status = 400
    if form.is_valid():
        rows = list(form.rows())
        try:
            if form.cleaned_data["mode"] == "amounts":
                services.allocate(actor=request.user, donation=donation, parts=rows, reason=form.cleaned_data["reason"])
            else:
                shares = []
                for project, value in rows:
                    if not value.isdigit() or len(value) > 9:
                        raise DomainError(
                            _("Shares are whole numbers."), fields={f"p{project.pk}": [_("Shares are whole numbers.")]}
                        )
                    shares.append((project, int(value)))
                services.allocate(
                    actor=request.user, donation=donation, shares=shares, reason=form.cleaned_data["reason"]
                )
        except DomainError as refused:
            if refused.fields and not any(name in form.fields for name in refused.fields):
                refused = DomainError(refused.message, code=refused.code)
            status = refuse_on_form(form, refused)
        else:
            messages.success(request, _("Allocated."))
            return redirect("donations:donation_detail", donation.pk)
    context = _detail_context(request, donation, allocate_form=form)
    return render(request, "donations/donation_detail.html", context, status=status)


@require_POST
def donation_refund_view(request, pk: int):
    _require_view(request)
    donation = selectors.donation_get(request.user, pk)
    if not permissions.can_refund_donation(request.user, donation):
        raise PermissionDenied(_("You cannot refund this charity's donations."))
    form = AmountReasonForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.donation_refund(actor=request.user, donation=donation, **form.cleaned_data)
        except DomainError as refused:
            status = refuse_on_form(form, refused)
        else:
            messages.success(request, _("Refund recorded."))
            return redirect("donations:donation_detail", donation.pk)
    context = _detail_context(request, donation, refund_form=form)
    return render(request, "donations/donation_detail.html", context, status=status)


# --- donors ----------------------------------------------------------------------------------------------------------


@require_safe
def donor_list_view(request):
    _require_view(request)
    queryset = selectors.donors_visible_to(request.user).select_related("charity")
    filterset = DonorFilter(request.GET or None, queryset=queryset)
    if (response := export_filtered(request, filterset, DONOR_COLUMNS, "donors")) is not None:
        return response
    valid = not filterset.is_bound or filterset.is_valid()
    context = {
        "filter": filterset,
        "page": _page(request, filterset.qs if valid else queryset.none()),
        "can_create": permissions.can_create_donor(request.user),
    }
    return render(request, "donations/donor_list.html", context, status=200 if valid else 400)


@require_http_methods(["GET", "HEAD", "POST"])
def donor_create_view(request):
    charity = _acting_charity(request, permissions.charities_user_records_for(request.user))
    form = DonorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.donor_create(actor=request.user, charity=charity, **form.cleaned_data)
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(request, _("Donor added."))
                return redirect("donations:donor_list")
    return render(request, "donations/donor_form.html", {"form": form, "charity": charity}, status=status)


# --- bank accounts ---------------------------------------------------------------------------------------------------


@require_safe
def bank_account_list_view(request):
    _require_view(request)
    accounts = selectors.bank_accounts_visible_to(request.user).select_related("charity")
    if (response := export_or_none(request, accounts, BANK_ACCOUNT_COLUMNS, "bank-accounts")) is not None:
        return response
    context = {
        "page": _page(request, accounts),
        "can_register": permissions.can_register_bank_account(request.user),
        "can_approve": permissions.can_approve_bank_account(request.user),
    }
    return render(request, "donations/bank_account_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def bank_account_create_view(request):
    charity = _acting_charity(request, permissions.charities_user_manages_money_for(request.user))
    form = BankAccountForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.bank_account_register(actor=request.user, charity=charity, **form.cleaned_data)
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(request, _("Bank account registered; the ministry approves it."))
                return redirect("donations:bank_account_list")
    return render(request, "donations/bank_account_form.html", {"form": form, "charity": charity}, status=status)


@require_POST
def bank_account_approve_view(request, pk: int):
    if not permissions.can_approve_bank_account(request.user):
        raise PermissionDenied(_("Only the ministry approves the bank accounts that receive donations."))
    account = selectors.bank_accounts_visible_to(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    try:
        services.bank_account_approve(actor=request.user, account=account)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Bank account approved."))
    return redirect("donations:bank_account_list")


# --- settlement files ------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def import_list_view(request):
    _require_view(request)
    allowed = permissions.charities_user_manages_money_for(request.user)
    charity = _acting_charity(request, allowed) if allowed else None
    form = ImportForm(request.POST or None, request.FILES or None, charity=charity) if charity else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("You cannot import settlement files."))
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                batch = imports.import_start(
                    actor=request.user,
                    charity=charity,
                    channel=data["channel"],
                    bank_account=data["bank_account"],
                    file=upload.file,
                    file_name=upload.name,
                )
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                return redirect("donations:import_detail", batch.pk)
    queryset = selectors.imports_visible_to(request.user).select_related("charity")
    filterset = DonationImportFilter(request.GET or None, queryset=queryset)
    if request.method != "POST" and (
        response := export_filtered(request, filterset, IMPORT_COLUMNS, "donation-imports")
    ):
        return response
    valid = not filterset.is_bound or filterset.is_valid()
    context = {"form": form, "filter": filterset, "page": _page(request, filterset.qs if valid else queryset.none())}
    return render(request, "donations/import_list.html", context, status=status if valid else 400)


@require_safe
def import_detail_view(request, pk: int):
    _require_view(request)
    batch = selectors.imports_visible_to(request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    context = {"batch": batch, "running": batch.status == DonationImport.Status.RUNNING}
    return render(request, "donations/import_detail.html", context)
