"""The partner registry's pages: the list, a partner's page (names, addresses, officers, both ministries'
accreditations and the gate's verdict today), the forms that register and edit partners, the accreditation
actions (POST only) and the CSV import."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from shafaf.accounts.choices import Authority
from shafaf.core.exceptions import DomainError
from shafaf.core.views import flash_saved, htmx_template, refuse_on_form, run_upload_import, stored_file_response
from shafaf.interop.tables import Column, attr, export_filtered

from . import importers, permissions, selectors, services
from .choices import AccreditationStatus
from .filters import PartnerFilter
from .forms import (
    AccreditationForm,
    AddressForm,
    AliasForm,
    DocumentForm,
    ImportForm,
    OfficerForm,
    PartnerForm,
    ReasonForm,
    SettlementDeadlineForm,
    SuspendForm,
)
from .models import PartnerAddress, PartnerName

STATUS_BADGES = {
    AccreditationStatus.ACTIVE: "success",
    AccreditationStatus.SUSPENDED: "warning",
    AccreditationStatus.REVOKED: "danger",
    AccreditationStatus.EXPIRED: "secondary",
}
HITS_TEMPLATE = "partners/screening/_partner_hits.html"
ACCREDITATION_ACTIONS = ("suspend", "reinstate", "revoke", "settlement")


def _refuse_unless(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _registration(partner) -> str:
    profile = getattr(partner, "partner_profile", None)
    if profile is None or not profile.registration_number:
        return ""
    return f"{profile.registration_agency} {profile.registration_number}".strip()


def _screening(partner) -> str:
    if partner.blocking_hits:
        return ngettext("%(count)s standing hit", "%(count)s standing hits", partner.blocking_hits) % {
            "count": partner.blocking_hits
        }
    return _("Clear") if partner.is_screened else _("Not screened")


# The columns of the partners list, as its table shows them (and its CSV/Excel downloads).
PARTNER_COLUMNS = [
    Column("name_ar", _lazy("Name (Arabic)"), attr("name_ar")),
    Column("name_en", _lazy("Name (English)"), attr("name_en")),
    Column("country", _lazy("Country"), attr("country")),
    Column("registration", _lazy("Registration"), _registration),
    Column(
        "accreditation",
        _lazy("Accreditation"),
        lambda partner: _("Accredited") if partner.is_accredited else _("Not accredited"),
    ),
    Column("screening", _lazy("Screening"), _screening),
]


def partner_list_view(request):
    _refuse_unless(permissions.can_view_partner_list(request.user))
    filterset = PartnerFilter(request.GET or None, queryset=selectors.partner_list(request.user))
    if (response := export_filtered(request, filterset, PARTNER_COLUMNS, "partners")) is not None:
        return response
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if valid else selectors.partner_list(request.user).none()
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    template = htmx_template(request, "partners/partner_list.html", "partners/_partner_table.html")
    context = {
        "filter": filterset,
        "page": page,
        "counts": selectors.partner_counts(queryset),
        "can_manage": permissions.can_manage_partners(request.user),
    }
    return render(request, template, context, status=200 if valid else 400)


def _accreditation_rows(user, partner, failed: tuple[int, str, object] | None = None) -> list[dict]:
    rows = []
    for accreditation in selectors.partner_accreditations(partner):
        can_change = permissions.can_change_accreditation(user, accreditation)
        can_deadline = permissions.can_set_settlement_deadline(user, accreditation)
        forms = {}
        status = accreditation.status
        if can_change and status == AccreditationStatus.ACTIVE:
            forms["suspend"] = SuspendForm(prefix=f"suspend-{accreditation.pk}")
        if can_change and status == AccreditationStatus.SUSPENDED:
            forms["reinstate"] = ReasonForm(prefix=f"reinstate-{accreditation.pk}")
        if can_deadline and status == AccreditationStatus.SUSPENDED:
            forms["settlement"] = SettlementDeadlineForm(
                prefix=f"settlement-{accreditation.pk}",
                initial={"settlement_deadline": accreditation.settlement_deadline},
            )
        if can_change and status != AccreditationStatus.REVOKED:
            forms["revoke"] = ReasonForm(prefix=f"revoke-{accreditation.pk}")
        if failed is not None and failed[0] == accreditation.pk:
            forms[failed[1]] = failed[2]
        rows.append(
            {
                "accreditation": accreditation,
                "badge": STATUS_BADGES.get(status, "secondary"),
                "forms": forms,
                "document_form": (
                    failed[2]
                    if failed is not None and failed[0] == accreditation.pk and failed[1] == "document"
                    else DocumentForm(prefix=f"document-{accreditation.pk}")
                )
                if can_change
                else None,
            }
        )
    return rows


def _detail_context(request, partner, **forms) -> dict:
    user = request.user
    can_manage = permissions.can_edit_partner(user, partner)
    authorities = permissions.officer_authorities(user)
    accreditations = _accreditation_rows(user, partner, forms.pop("failed", None))
    by_authority = [
        {
            "authority": authority,
            "label": authority.label,
            "rows": [row for row in accreditations if row["accreditation"].authority == authority],
        }
        for authority in (Authority.MOFA, Authority.MOSA)
    ]
    try:
        select_template([HITS_TEMPLATE])
        hits_template = HITS_TEMPLATE
    except TemplateDoesNotExist:  # the screening's section is not installed
        hits_template = ""
    gate = selectors.partner_gate_status(partner, on_date=timezone.localdate())
    return {
        "partner": partner,
        "profile": getattr(partner, "partner_profile", None),
        "names": selectors.partner_names(partner),
        "addresses": selectors.partner_addresses(partner),
        "officers": selectors.partner_officers(partner),
        "show_dates_of_birth": permissions.can_view_dates_of_birth(user, partner),
        "by_authority": by_authority,
        "gate": gate,
        "gate_messages": gate.messages(),
        "screening": selectors.screening_summary(partner),
        "hits_template": hits_template,
        "can_manage": can_manage,
        "can_record": bool(authorities),
        "alias_form": forms.get("alias_form") or (AliasForm() if can_manage else None),
        "address_form": forms.get("address_form") or (AddressForm() if can_manage else None),
        "officer_form": forms.get("officer_form") or (OfficerForm() if can_manage else None),
        "accreditation_form": forms.get("accreditation_form")
        or (AccreditationForm(authorities=authorities) if authorities else None),
        "error": forms.get("error"),
    }


def partner_detail_view(request, pk: int):
    partner = selectors.partner_get(request.user, pk)
    return render(request, "partners/partner_detail.html", _detail_context(request, partner))


def _detail_again(request, partner, status: int, **forms):
    partner = selectors.partner_get(request.user, partner.pk)
    return render(request, "partners/partner_detail.html", _detail_context(request, partner, **forms), status=status)


def _save_then_back(request, partner, form, save, *, anchor: str, form_name: str, done: str = ""):
    """Runs `save` (a service call) when the form is valid, then back to that part of the partner's page;
    otherwise the page again with the form's errors. A service's 403 stays a 403."""
    status = 400
    if form.is_valid():
        try:
            save()
        except DomainError as error:
            status = refuse_on_form(form, error)
        else:
            if done:
                messages.success(request, done)
            else:
                flash_saved(request)
            return redirect(reverse("partners:partner_detail", args=[partner.pk]) + f"#{anchor}")
    return _detail_again(request, partner, status, **{form_name: form})


def partner_form_view(request, pk: int | None = None):
    """Registers a new partner, or edits one's registry record."""
    partner = None
    if pk is not None:
        partner = selectors.partner_get(request.user, pk)
        _refuse_unless(permissions.can_edit_partner(request.user, partner))
    else:
        _refuse_unless(permissions.can_manage_partners(request.user))
    initial = {}
    if partner is not None:
        profile = getattr(partner, "partner_profile", None)
        initial = {"name_ar": partner.name_ar, "name_en": partner.name_en, "country": partner.country}
        if profile is not None:
            initial.update({name: getattr(profile, name) for name in services.PROFILE_FIELDS})
    form = PartnerForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if partner is None:
                    partner = services.partner_register(actor=request.user, **data)
                    messages.success(
                        request, _("The partner is registered. It is being screened against the sanctions lists.")
                    )
                else:
                    partner = services.partner_update(actor=request.user, partner=partner, **data)
                    flash_saved(request)
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                return redirect("partners:partner_detail", pk=partner.pk)
    return render(request, "partners/partner_form.html", {"form": form, "partner": partner}, status=status)


def _managed_partner(request, pk):
    partner = selectors.partner_get(request.user, pk)
    _refuse_unless(permissions.can_edit_partner(request.user, partner))
    return partner


@require_POST
def name_add_view(request, pk: int):
    partner = _managed_partner(request, pk)
    form = AliasForm(request.POST)

    def save():
        services.partner_name_add(actor=request.user, partner=partner, **form.cleaned_data)

    return _save_then_back(request, partner, form, save, anchor="names", form_name="alias_form")


@require_POST
def name_remove_view(request, pk: int, name_pk: int):
    partner = _managed_partner(request, pk)
    name = get_object_or_404(PartnerName.objects.filter(partner=partner), pk=name_pk)
    services.partner_name_remove(actor=request.user, partner_name=name)
    messages.success(request, _("The name is removed."))
    return redirect(reverse("partners:partner_detail", args=[partner.pk]) + "#names")


@require_POST
def address_add_view(request, pk: int):
    partner = _managed_partner(request, pk)
    form = AddressForm(request.POST)

    def save():
        services.partner_address_add(actor=request.user, partner=partner, **form.cleaned_data)

    return _save_then_back(request, partner, form, save, anchor="addresses", form_name="address_form")


@require_POST
def address_remove_view(request, pk: int, address_pk: int):
    partner = _managed_partner(request, pk)
    address = get_object_or_404(PartnerAddress.objects.filter(partner=partner), pk=address_pk)
    services.partner_address_remove(actor=request.user, address=address)
    messages.success(request, _("The address is removed."))
    return redirect(reverse("partners:partner_detail", args=[partner.pk]) + "#addresses")


@require_POST
def officer_add_view(request, pk: int):
    partner = _managed_partner(request, pk)
    form = OfficerForm(request.POST)

    def save():
        services.officer_add(actor=request.user, partner=partner, **form.cleaned_data)

    return _save_then_back(request, partner, form, save, anchor="officers", form_name="officer_form")


@require_POST
def officer_deactivate_view(request, pk: int, officer_pk: int):
    partner = _managed_partner(request, pk)
    officer = selectors.officer_get(request.user, partner, officer_pk)
    try:
        services.officer_deactivate(actor=request.user, officer=officer)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        return _detail_again(request, partner, error.status, error=error.message)
    messages.success(request, _("The officer is marked as no longer in office."))
    return redirect(reverse("partners:partner_detail", args=[partner.pk]) + "#officers")


@require_POST
def accreditation_record_view(request, pk: int):
    partner = selectors.partner_get(request.user, pk)
    authorities = permissions.officer_authorities(request.user)
    _refuse_unless(bool(authorities))
    form = AccreditationForm(request.POST, request.FILES, authorities=authorities)

    def save():
        data = dict(form.cleaned_data)
        document, title = data.pop("document"), data.pop("document_title")
        services.accreditation_record(
            actor=request.user, partner=partner, documents=[(title, document)] if document else [], **data
        )

    return _save_then_back(
        request,
        partner,
        form,
        save,
        anchor="accreditations",
        form_name="accreditation_form",
        done=_("The accreditation is recorded."),
    )


def _accreditation_of(request, pk: int, accreditation_pk: int):
    partner = selectors.partner_get(request.user, pk)
    accreditation = get_object_or_404(selectors.partner_accreditations(partner), pk=accreditation_pk)
    return partner, accreditation


def accreditation_action_view(action: str):
    """POST /partners/<pk>/accreditations/<accreditation_pk>/<action>/ for suspend, reinstate, revoke and
    settlement (the settlement deadline of a suspension)."""

    @require_POST
    def view(request, pk: int, accreditation_pk: int):
        partner, accreditation = _accreditation_of(request, pk, accreditation_pk)
        user = request.user
        if action == "settlement":
            _refuse_unless(permissions.can_set_settlement_deadline(user, accreditation))
            form = SettlementDeadlineForm(request.POST, prefix=f"settlement-{accreditation.pk}")
        else:
            _refuse_unless(permissions.can_change_accreditation(user, accreditation))
            form_class = SuspendForm if action == "suspend" else ReasonForm
            form = form_class(request.POST, prefix=f"{action}-{accreditation.pk}")
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "suspend":
                    services.accreditation_suspend(actor=user, accreditation=accreditation, **data)
                elif action == "reinstate":
                    services.accreditation_reinstate(actor=user, accreditation=accreditation, reason=data["reason"])
                elif action == "revoke":
                    services.accreditation_revoke(actor=user, accreditation=accreditation, reason=data["reason"])
                else:
                    services.accreditation_set_settlement_deadline(
                        actor=user, accreditation=accreditation, deadline=data["settlement_deadline"]
                    )
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                done = {
                    "suspend": _("The accreditation is suspended."),
                    "reinstate": _("The accreditation is active again."),
                    "revoke": _("The accreditation is revoked."),
                    "settlement": _("The settlement deadline is set."),
                }
                messages.success(request, done[action])
                return redirect(reverse("partners:partner_detail", args=[partner.pk]) + "#accreditations")
        return _detail_again(request, partner, status, failed=(accreditation.pk, action, form))

    view.__name__ = f"accreditation_{action}_view"
    return view


@require_POST
def accreditation_document_add_view(request, pk: int, accreditation_pk: int):
    partner, accreditation = _accreditation_of(request, pk, accreditation_pk)
    _refuse_unless(permissions.can_change_accreditation(request.user, accreditation))
    form = DocumentForm(request.POST, request.FILES, prefix=f"document-{accreditation.pk}")
    status = 400
    if form.is_valid():
        try:
            services.accreditation_document_add(
                actor=request.user,
                accreditation=accreditation,
                file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except DomainError as error:
            status = refuse_on_form(form, error)
        else:
            messages.success(request, _("The document is attached."))
            return redirect(reverse("partners:partner_detail", args=[partner.pk]) + "#accreditations")
    return _detail_again(request, partner, status, failed=(accreditation.pk, "document", form))


@require_safe
def accreditation_document_download_view(request, pk: int, accreditation_pk: int, document_pk: int):
    """The file of an accreditation's document, to whoever may see the partner."""
    _partner, accreditation = _accreditation_of(request, pk, accreditation_pk)
    document = selectors.accreditation_document_get(request.user, accreditation, document_pk)
    return stored_file_response(
        document.file,
        name=f"accreditation-{accreditation.authority}-{accreditation.pk}-{document.pk}",
        content_type=document.content_type,
    )


def import_view(request):
    """The CSV import: the form with the columns' help, then the report."""
    _refuse_unless(permissions.can_manage_partners(request.user))
    form = ImportForm(request.POST or None, request.FILES or None)
    report, status = run_upload_import(
        request,
        form,
        importers.MAX_BYTES,
        lambda upload: importers.import_partners(actor=request.user, data=upload.read(), filename=upload.name),
    )
    context = {"form": form, "report": report, "columns": importers.COLUMNS}
    return render(request, "partners/partner_import.html", context, status=status)


@require_safe
def import_sample_view(request):
    _refuse_unless(permissions.can_manage_partners(request.user))
    from pathlib import Path

    path = Path(services.__file__).resolve().parent / "data" / "partners_sample.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename="partners_sample.csv", content_type="text/csv")
