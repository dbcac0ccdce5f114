"""The screening pages: the sanctions lists and their versions, the upload of a new version, the hits queue,
a hit with the confirm / clear forms, and "screen now" for a partner."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shafaf.accounts.choices import OrganizationKind
from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.core.views import htmx_template, refuse_on_form
from shafaf.interop.tables import Column, attr, export_or_none

from . import permissions, screening
from .choices import ScreeningTrigger
from .forms_screening import DecisionForm, HitFilter, UploadForm, VersionFilter
from .sanctions import sanctions_import


def _require_view(request) -> None:
    if not permissions.can_view_screening(request.user):
        raise PermissionDenied


VERSION_COLUMNS = [
    Column("list", _lazy("List"), attr("get_source_display")),
    Column("published", _lazy("Published"), attr("published")),
    Column("entries", _lazy("Entries"), attr("entry_count")),
    Column("names", _lazy("Names"), attr("name_count")),
    Column("file", _lazy("File"), attr("file_name")),
    Column("sha256", "SHA-256", attr("sha256")),
    Column("loaded", _lazy("Loaded"), attr("loaded_at")),
    Column("loaded_by", _lazy("Loaded by"), lambda version: version.loaded_by and version.loaded_by.get_username()),
    Column("current", _lazy("Current"), lambda version: _("in use") if version.is_current else _("kept")),
]


def _hit_who(hit) -> str:
    if hit.officer:
        return f"{hit.officer} ({hit.officer.get_role_display()}, {hit.partner})"
    return str(hit.partner)


HIT_COLUMNS = [
    Column("status", _lazy("Status"), attr("get_status_display")),
    Column("partner_or_officer", _lazy("Partner or officer"), _hit_who),
    Column("name_screened", _lazy("Name screened"), attr("query")),
    Column("list", _lazy("List"), lambda hit: hit.version.source.upper()),
    Column("entry", _lazy("List entry"), attr("entry.entry_id")),
    Column("matched_name", _lazy("Matched name"), attr("matched_name")),
    Column("score", _lazy("Score"), lambda hit: round(hit.score, 2)),
    Column(
        "explanation",
        _lazy("Explanation"),
        lambda hit: hit.explanation_en if (get_language() or "").startswith("en") else hit.explanation_ar,
    ),
    Column("found", _lazy("Found"), attr("found_at")),
]


@require_safe
def version_list_view(request):
    """Every version of each list, the current ones first."""
    _require_view(request)
    filterset = VersionFilter(request.GET or None, queryset=screening.versions_visible_to(request.user))
    valid = not filterset.is_bound or filterset.is_valid()
    versions = filterset.qs.order_by("source", "-is_current", "-loaded_at", "-id") if valid else []
    if valid and (response := export_or_none(request, versions, VERSION_COLUMNS, "sanctions-lists")) is not None:
        return response
    page = Paginator(versions, 25).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "current": screening.current_versions(),
        "can_import": permissions.can_import_sanctions(request.user),
    }
    template = htmx_template(request, "partners/screening/version_list.html", "partners/screening/_version_table.html")
    return render(request, template, context, status=200 if valid else 400)


@require_safe
def version_detail_view(request, pk: int):
    _require_view(request)
    version = screening.version_get(request.user, pk)
    entries = Paginator(version.entries.order_by("entry_id"), 50).get_page(request.GET.get("page"))
    context = {
        "version": version,
        "entries": entries,
        "progress": screening.rescreen_progress(version) if version.is_current else None,
        "hit_count": version.hits.count(),
    }
    return render(request, "partners/screening/version_detail.html", context)


@require_safe
def version_progress_view(request, pk: int):
    """The re-screening's progress after the version was loaded (polled by htmx)."""
    _require_view(request)
    version = screening.version_get(request.user, pk)
    context = {"version": version, "progress": screening.rescreen_progress(version)}
    return render(request, "partners/screening/_rescreen_progress.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def upload_view(request):
    """Accreditation officers and ministry admins load a new version of a list; the file is parsed and stored
    now, every partner is re-screened in the background."""
    if not permissions.can_import_sanctions(request.user):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                version = sanctions_import(
                    actor=request.user, source=form.cleaned_data["source"], path_or_file=form.path_or_file()
                )
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(
                    request,
                    _("The list is loaded: %(entries)s entries, %(names)s names. Every partner is being re-screened.")
                    % {"entries": version.entry_count, "names": version.name_count},
                )
                return redirect("screening:version_detail", version.pk)
    return render(request, "partners/screening/upload.html", {"form": form}, status=status)


@require_safe
def hit_list_view(request):
    """The hits queue: open hits first, then the newest; filtered by status, list, partner and version."""
    _require_view(request)
    filterset = HitFilter(request.GET or None, queryset=screening.hits_visible_to(request.user))
    valid = not filterset.is_bound or filterset.is_valid()
    hits = filterset.qs if valid else screening.hits_visible_to(request.user).none()
    if valid and (response := export_or_none(request, hits, HIT_COLUMNS, "screening-hits")) is not None:
        return response
    page = Paginator(hits, 25).get_page(request.GET.get("page"))
    template = htmx_template(request, "partners/screening/hit_list.html", "partners/screening/_hit_table.html")
    return render(request, template, {"filter": filterset, "page": page}, status=200 if valid else 400)


def _hit_context(request, hit, form=None, failed: str = "") -> dict:
    return {
        "hit": hit,
        "entry": hit.entry,
        "can_decide": permissions.can_decide_hit(request.user, hit),
        "form": form or DecisionForm(),
        "failed": failed,
    }


@require_safe
def hit_detail_view(request, pk: int):
    _require_view(request)
    hit = screening.hit_get(request.user, pk)
    return render(request, "partners/screening/hit_detail.html", _hit_context(request, hit))


def hit_decision_view(decision: str):
    service = screening.hit_confirm if decision == "confirm" else screening.hit_clear

    @require_POST
    def view(request, pk: int):
        _require_view(request)
        hit = screening.hit_get(request.user, pk)
        if not permissions.can_decide_hit(request.user):
            raise PermissionDenied
        form = DecisionForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                service(actor=request.user, hit=hit, reason=form.cleaned_data["reason"])
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                done = {
                    "confirm": _("The hit is confirmed: the partner is blocked."),
                    "clear": _("The hit is cleared."),
                }
                messages.success(request, done[decision])
                return redirect("screening:hit_detail", hit.pk)
        hit = screening.hit_get(request.user, pk)
        return render(
            request, "partners/screening/hit_detail.html", _hit_context(request, hit, form, decision), status=status
        )

    view.__name__ = f"hit_{decision}_view"
    return view


hit_confirm_view = hit_decision_view("confirm")
hit_clear_view = hit_decision_view("clear")


@require_POST
def partner_screen_view(request, pk: int):
    """Screens a partner now (the ministry and accreditation officers), then goes back where the user was."""
    _require_view(request)
    partner = get_object_or_404(Organization, pk=pk, kind=OrganizationKind.PARTNER)
    if not permissions.can_screen(request.user):
        raise PermissionDenied
    try:
        screenings = screening.screen_partner(actor=request.user, partner=partner, trigger=ScreeningTrigger.MANUAL)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
    else:
        alerts = sum(1 for row in screenings if row.alert)
        if alerts:
            messages.warning(request, _("Screened: %(count)s possible matches need a decision.") % {"count": alerts})
        else:
            messages.success(request, _("Screened: no possible match."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("screening:hit_list") + f"?partner={partner.pk}"
    return redirect(target)
