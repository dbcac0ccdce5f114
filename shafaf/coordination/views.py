"""The pages of coordination: the ministry's queue of overlap flags, one flag with both projects side by side and
the ministry's decision, a project's latest check (the panel of the project page) with "run the check again", the
coordination settings with the model versions, and the batch scans with their progress."""

from __future__ import annotations

import json
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shafaf.accounts.permissions import has_oversight, is_ministry
from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money, format_money
from shafaf.core.views import apply_domain_error, htmx_template, refuse_on_form
from shafaf.interop.tables import Column, attr, export_or_none
from shafaf.projects.selectors import project_get

from . import permissions, selectors, services
from .choices import CheckTrigger, Decision, FlagStatus, Level
from .filters import FlagFilter
from .forms import DECISION_FIELDS, CoordinationSettingsForm, DecisionForm, percent_text
from .models import ModelVersion, ScanRun

LEVEL_BADGES = {Level.LIKELY: "text-bg-danger", Level.POSSIBLE: "text-bg-warning"}
STATUS_BADGES = {
    FlagStatus.OPEN: "text-bg-warning",
    FlagStatus.DECIDED: "text-bg-success",
    FlagStatus.WITHDRAWN: "text-bg-secondary",
}
# The audit actions of a flag's history, as people read them.
HISTORY_LABELS = {
    "coordination.flag_open": gettext_lazy("Overlap found"),
    "coordination.flag_update": gettext_lazy("Found again with another score"),
    "coordination.flag_reopen": gettext_lazy("Reopened for a new decision"),
    "coordination.flag_decide": gettext_lazy("Decided"),
    "coordination.flag_withdraw": gettext_lazy("No longer an overlap"),
}


# --- shared pieces -------------------------------------------------------------------------------------------


def _english() -> bool:
    return (translation.get_language() or "ar").startswith("en")


# The weight the model writes at the end of its sentence ("… +7.9", "… ‎−1.7"): the page shows it in a badge instead.
_TRAILING_WEIGHT = re.compile(r"\s*[\u200e\u200f]?[+\-\u2212\u00b1]\d[\d,.]*\s*$")


def reason_rows(reasons) -> list[dict]:
    """The model's reasons for the page: the sentence in the page's language (without the weight it ends with),
    the signed weight and its colour."""
    english = _english()
    rows = []
    for reason in reasons or []:
        weight = float(reason.get("weight") or 0)
        rows.append(
            {
                "signal": reason.get("signal", ""),
                "level": reason.get("level", ""),
                "weight": weight,
                "weight_text": ("+" if weight > 0 else "−" if weight < 0 else "±") + f"{abs(weight):.1f}",
                "tone": "success" if weight > 0 else "danger" if weight < 0 else "secondary",
                "text": _TRAILING_WEIGHT.sub(
                    "", (reason.get("text_en") if english else reason.get("text_ar")) or reason.get("text_en", "")
                ),
            }
        )
    return rows


def _name(organization: dict | None) -> str:
    if not organization:
        return ""
    if _english():
        return organization.get("name_en") or organization.get("name_ar") or ""
    return organization.get("name_ar") or organization.get("name_en") or ""


def _money(minor, currency) -> str:
    if minor is None or not currency:
        return ""
    try:
        return format_money(Money(int(minor), currency))
    except DomainError:
        return ""


def _decorate_side(side: dict) -> dict:
    """Adds what the page shows of one project of a flag (names and amounts in the page's language)."""
    side = dict(side)
    side["title"] = (
        (side.get("title_en") if _english() else side.get("title_ar"))
        or side.get("title_ar")
        or (side.get("title_en") or "")
    )
    side["charity_name"] = _name(side.get("charity"))
    if side.get("full"):
        side["partner_name"] = _name(side.get("implementing_partner"))
        budget = side.get("budget") or {}
        side["budget_text"] = _money(budget.get("total_minor"), budget.get("currency"))
        kwd = budget.get("kwd_fils")
        side["budget_kwd_text"] = _money(kwd, "KWD") if kwd and budget.get("currency") != "KWD" else ""
        side["location_rows"] = [
            {
                "area": (location.get("admin_area_en") if _english() else location.get("admin_area_ar"))
                or location.get("admin_area_ar")
                or location.get("admin_area_en")
                or "",
                "point": (
                    f"{location['latitude']}, {location['longitude']}"
                    if location.get("latitude") is not None and location.get("longitude") is not None
                    else ""
                ),
            }
            for location in side.get("locations") or []
        ]
    return side


def _choice_label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else (value or "")


def side_rows(a: dict, b: dict) -> list[dict]:
    """The confidential-by-default facts of both projects, row by row (None: not shown to this user)."""
    from django.contrib.humanize.templatetags.humanize import intcomma

    from shafaf.projects.choices import BeneficiaryGroup, ProjectModel

    def dates(side):
        start, end = side.get("planned_start"), side.get("planned_end")
        return f"{start:%Y-%m-%d} → {end:%Y-%m-%d}" if start and end else "—"

    def places(side):
        texts = [
            " ".join(part for part in (row["area"], f"({row['point']})" if row["point"] else "") if part)
            for row in side.get("location_rows") or []
        ]
        return "; ".join(text for text in texts if text) or "—"

    def budget(side):
        text = side.get("budget_text") or "—"
        return f"{text} ({side['budget_kwd_text']})" if side.get("budget_kwd_text") else text

    facts = [
        ("partner", _("Implementing partner"), False, lambda side: side.get("partner_name") or "—"),
        ("locations", _("Locations"), False, places),
        ("model", _("MOSA project model"), False, lambda side: _choice_label(ProjectModel, side.get("project_model"))),
        (
            "group",
            _("Beneficiary group"),
            False,
            lambda side: _choice_label(BeneficiaryGroup, side.get("beneficiary_group")),
        ),
        (
            "beneficiaries",
            _("Number of beneficiaries"),
            True,
            lambda side: intcomma(side.get("beneficiary_count") or "—"),
        ),
        ("budget", _("Budget"), True, budget),
        ("dates", _("Planned dates"), True, dates),
    ]
    return [
        {
            "key": key,
            "label": label,
            "ltr": ltr,
            "values": [value(side) if side.get("full") else None for side in (a, b)],
        }
        for key, label, ltr, value in facts
    ]


def _decision_texts(view: dict) -> dict:
    texts = {}
    if view.get("decision") == Decision.DUPLICATE and view.get("duplicate_project"):
        for key in ("a", "b"):
            if view[key]["id"] == view["duplicate_project"]:
                texts["duplicate"] = view[key]["reference"]
    if view.get("decision") == Decision.JOINT:
        texts["share_a"] = percent_text(view.get("share_a_bp"))
        texts["share_b"] = percent_text(view.get("share_b_bp"))
        texts["joint_total"] = _money(view.get("joint_total"), view.get("joint_currency") or "KWD")
    return texts


def _history(user, flag) -> list[dict]:
    """The flag's audit events, oldest first, each once (the service records one per charity involved). Outside
    the ministry and auditors, a charity's member reads its own charity's events, and the name of who acted only
    when it is the ministry: never the name of another charity's member."""
    from shafaf.accounts.choices import MINISTRY_ROLES
    from shafaf.audit.selectors import events_about

    oversight = has_oversight(user)
    events = events_about(flag)
    if not oversight:
        events = events.filter(organization_id__in=permissions.own_charity_ids(user))
    rows, previous = [], None
    for event in events:
        key = (event.action, event.actor_id, event.reason, json.dumps(event.changes, sort_keys=True, default=str))
        if key == previous:  # the same event, recorded for the other charity
            continue
        previous = key
        shown = oversight or event.actor_role in MINISTRY_ROLES
        rows.append(
            {
                "action": event.action,
                "label": HISTORY_LABELS.get(event.action, event.action),
                "at": event.occurred_at,
                "actor": event.actor_username if shown else "",
                "reason": event.reason if oversight or event.action == "coordination.flag_decide" else "",
            }
        )
    return rows


# --- the queue -----------------------------------------------------------------------------------------------


def _queue_queryset(user, data, *, ministry: bool):
    """Every flag the user may see, open first (likely duplicates first, then by score), then the others. In the
    ministry's queue, flags within one charity only when asked for (`internal`)."""
    queryset = selectors.flag_list(user)
    if ministry and "internal" not in data:
        queryset = queryset.filter(internal=False)
    return selectors.queue_order(queryset)


def _decorate_flag(flag):
    flag.level_badge = LEVEL_BADGES.get(flag.level, "text-bg-secondary")
    flag.status_badge = STATUS_BADGES.get(flag.status, "text-bg-secondary")
    for key in ("project_a", "project_b"):
        project = getattr(flag, key)
        setattr(flag, f"{key}_charity_name", project.charity.display_name() if project.charity_id else "")
    return flag


def _charity_name(project) -> str:
    return project.charity.display_name() if project.charity_id else ""


def _flag_status(flag) -> str:
    if flag.decision:
        return f"{flag.get_status_display()} ({flag.get_decision_display()})"
    return str(flag.get_status_display())


# The columns of the coordination queue, as its table shows them (and its CSV/Excel downloads).
FLAG_COLUMNS = [
    Column("level", gettext_lazy("Level"), attr("get_level_display")),
    Column("internal", gettext_lazy("internal"), attr("internal")),
    Column("score", gettext_lazy("Score"), lambda flag: round(flag.score, 1)),
    Column("first_reference", gettext_lazy("First project"), attr("project_a.reference")),
    Column("first_title", gettext_lazy("First project's title"), attr("project_a.title")),
    Column("first_charity", gettext_lazy("First project's charity"), lambda flag: _charity_name(flag.project_a)),
    Column("first_country", gettext_lazy("First project's country"), attr("project_a.country")),
    Column("second_reference", gettext_lazy("Second project"), attr("project_b.reference")),
    Column("second_title", gettext_lazy("Second project's title"), attr("project_b.title")),
    Column("second_charity", gettext_lazy("Second project's charity"), lambda flag: _charity_name(flag.project_b)),
    Column("second_country", gettext_lazy("Second project's country"), attr("project_b.country")),
    Column("status", gettext_lazy("Status"), _flag_status),
    Column("last_found", gettext_lazy("Last found"), attr("last_found_at")),
]
SCAN_COLUMNS = [
    Column("scan", gettext_lazy("Scan"), attr("pk")),
    Column("engine", gettext_lazy("Engine"), attr("engine")),
    Column("started", gettext_lazy("Started"), attr("started_at")),
    Column("started_by", gettext_lazy("Started by"), lambda run: run.started_by and run.started_by.get_username()),
    Column("status", gettext_lazy("Status"), attr("get_status_display")),
    Column("progress", gettext_lazy("Progress"), attr("progress")),
    Column("projects", gettext_lazy("Projects scanned"), attr("records")),
    Column("pairs", gettext_lazy("Pairs found"), attr("pairs")),
    Column("likely", gettext_lazy("Likely duplicates"), attr("likely")),
    Column("new_pairs", gettext_lazy("New pairs"), attr("new_pairs")),
    Column("model_version", gettext_lazy("Model version"), lambda run: f"v{run.model_version.number}"),
]


@require_safe
def queue_view(request):
    user = request.user
    if not permissions.can_open_queue(user):
        raise PermissionDenied(_("The coordination queue is the ministry's and the charities'."))
    ministry_queue = permissions.can_view_queue(user)
    filterset = FlagFilter(request.GET or None, queryset=_queue_queryset(user, request.GET, ministry=ministry_queue))
    valid = not filterset.is_bound or filterset.is_valid()
    flags = filterset.qs if valid else selectors.flag_list(user).none()
    if valid and (response := export_or_none(request, flags, FLAG_COLUMNS, "coordination-flags")) is not None:
        return response
    page = Paginator(flags, 25).get_page(request.GET.get("page"))
    for flag in page:
        _decorate_flag(flag)
    context = {
        "filter": filterset,
        "page": page,
        "counts": selectors.queue_counts(user),
        "ministry_queue": ministry_queue,
        "can_change_settings": permissions.can_change_settings(user),
    }
    template = htmx_template(request, "coordination/queue.html", "coordination/_flag_table.html")
    return render(request, template, context, status=200 if valid else 400)


# --- one flag ------------------------------------------------------------------------------------------------


def _flag_context(request, flag, form=None) -> dict:
    user = request.user
    view = selectors.flag_view(user, flag)
    can_decide = bool(view.get("can_decide"))
    a, b = _decorate_side(view["a"]), _decorate_side(view["b"])
    return {
        "flag": flag,
        "view": view,
        "a": a,
        "b": b,
        "rows": side_rows(a, b),
        "own_project_id": next((side["id"] for side in (a, b) if side.get("full")), a["id"]),
        "reasons": reason_rows(view.get("reasons")),
        "level_badge": LEVEL_BADGES.get(view["level"], "text-bg-secondary"),
        "status_badge": STATUS_BADGES.get(view["status"], "text-bg-secondary"),
        "decision": _decision_texts(view),
        "history": _history(user, flag),
        "form": form if form is not None else (DecisionForm(flag=flag) if can_decide else None),
        "side_by_side": view.get("side_by_side", False),
    }


@require_safe
def flag_detail_view(request, pk: int):
    flag = selectors.flag_get(request.user, pk)
    return render(request, "coordination/flag_detail.html", _flag_context(request, flag))


def _apply_decision_error(form, error: DomainError) -> None:
    fields = {DECISION_FIELDS.get(name, name): list(value) for name, value in (error.fields or {}).items()}
    apply_domain_error(form, DomainError(error.message, code=error.code, fields=fields, status=error.status))


@require_POST
def flag_decide_view(request, pk: int):
    """The ministry's decision on an open flag (POST only). A page's form answers 302 to the flag, or the page again
    with the form's errors (400, 409 when the flag was decided meanwhile); an htmx form gets the decision section
    back with its errors, or a redirect to the decided flag."""
    user = request.user
    flag = selectors.flag_get(user, pk)
    if not is_ministry(user):
        raise PermissionDenied(_("Only the ministry's reviewers and administrators decide on overlaps."))
    form = DecisionForm(request.POST, flag=flag)
    status = 400
    if flag.status != FlagStatus.OPEN:
        status = 409
        form.add_error(
            None,
            _("This overlap is no longer awaiting a decision: %(status)s.") % {"status": flag.get_status_display()},
        )
    elif form.is_valid():
        try:
            services.flag_decide(actor=user, flag=flag, **form.service_arguments())
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied(error.message) from error
            _apply_decision_error(form, error)
            status = error.status
        else:
            messages.success(request, _("The decision is recorded. Both charities see it."))
            target = reverse("coordination:flag_detail", args=[flag.pk])
            if getattr(request, "htmx", False):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    flag = selectors.flag_get(user, pk)
    context = _flag_context(request, flag, form)
    if getattr(request, "htmx", False):
        # htmx swaps only successful answers: the form with its errors comes back as 200, its state in a header.
        response = render(request, "coordination/_decision_form.html", context)
        response["X-Shafaf-Status"] = str(status)
        return response
    return render(request, "coordination/flag_detail.html", context, status=status)


# --- a project's panel ---------------------------------------------------------------------------------------


def panel_context(user, project, *, error: str = "") -> dict:
    """The latest check of the project as the user may see it: the overlaps with other charities' projects
    (best first, each with its flag), the internal duplicates apart, and the flags no check of this project
    listed (found by a scan or by the other project's check)."""
    if not permissions.can_view_checks(user, project):
        return {"project": project, "coordination_visible": False}
    check = selectors.latest_check(user, project)
    flags = list(selectors.flags_of_project(user, project))
    by_other = {}
    for flag in flags:
        other = flag.project_b_id if flag.project_a_id == project.pk else flag.project_a_id
        by_other[other] = flag
    oversight = has_oversight(user)
    overlaps, internal, listed = [], [], set()
    for result in (check.results if check is not None else []) or []:
        other_pk = result.get("project")
        flag = by_other.get(other_pk)
        if flag is not None:
            view = selectors.flag_view(user, flag)
            side = _decorate_side(view["a"] if view["a"]["id"] == other_pk else view["b"])
            reasons = view["reasons"]
            listed.add(flag.pk)
        else:
            side = None
            reasons = [
                reason
                for reason in result.get("reasons") or []
                if oversight or result.get("internal") or reason.get("signal") not in selectors.CONFIDENTIAL_SIGNALS
            ]
        row = {
            "project_id": other_pk,
            "reference": side["reference"] if side else result.get("reference", ""),
            "title": side["title"] if side else "",
            "charity_name": side["charity_name"] if side else "",
            "score": result.get("score"),
            "level": result.get("level"),
            "level_label": Level(result["level"]).label if result.get("level") in Level.values else "",
            "level_badge": LEVEL_BADGES.get(result.get("level"), "text-bg-secondary"),
            "reasons": reason_rows(reasons),
            "flag": _decorate_flag(flag) if flag is not None else None,
        }
        (internal if result.get("internal") else overlaps).append(row)
    others = [_decorate_flag(flag) for flag in flags if flag.pk not in listed]
    return {
        "project": project,
        "coordination_visible": True,
        "coordination_check": check,
        "coordination_overlaps": overlaps,
        "coordination_internal": internal,
        "coordination_other_flags": others,
        "coordination_open": sum(1 for flag in flags if flag.status == FlagStatus.OPEN and not flag.internal),
        "can_run_coordination": permissions.can_run_check(user, project),
        "coordination_error": error,
    }


def _project_for_panel(request, pk: int):
    project = project_get(request.user, pk)
    if not permissions.can_view_checks(request.user, project):
        # A partner's reporter sees the project it implements, not its coordination: as if there were none.
        raise Http404
    return project


@require_safe
def project_panel_view(request, pk: int):
    """The project's latest coordination check alone (the panel the project page includes)."""
    project = _project_for_panel(request, pk)
    template = htmx_template(request, "coordination/project_check.html", "coordination/_project_panel.html")
    return render(request, template, panel_context(request.user, project))


@require_POST
def project_check_run_view(request, pk: int):
    """Runs the project's coordination check again (the ministry, or the project's charity)."""
    project = _project_for_panel(request, pk)
    if not permissions.can_run_check(request.user, project):
        raise PermissionDenied(_("Only the ministry and the project's charity run its coordination check."))
    error = ""
    try:
        check = services.coordination_check(actor=request.user, project=project, trigger=CheckTrigger.MANUAL)
    except DomainError as refused:
        if refused.status == 403:
            raise PermissionDenied(refused.message) from refused
        error = refused.message
    if getattr(request, "htmx", False):
        project = project_get(request.user, pk)
        return render(request, "coordination/_project_panel.html", panel_context(request.user, project, error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("The coordination check has run: %(overlaps)s overlaps with other charities, %(internal)s internal.")
            % {"overlaps": check.overlaps, "internal": check.internal},
        )
    return redirect(reverse("projects:project_detail", args=[project.pk]) + "#coordination")


# --- settings and scans --------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def settings_view(request):
    user = request.user
    if not has_oversight(user):
        raise PermissionDenied(_("The coordination settings are the ministry's."))
    row = selectors.current_settings()
    can_edit = permissions.can_change_settings(user)
    form = CoordinationSettingsForm(request.POST or None, initial=CoordinationSettingsForm.initial_from(row))
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Only the ministry's administrators change the coordination settings."))
        status = 400
        if form.is_valid():
            try:
                services.settings_update(actor=user, **form.cleaned_data)
            except DomainError as refused:
                status = refuse_on_form(form, refused)
            else:
                messages.success(request, _("The settings are saved. They apply from the next check and scan."))
                return redirect("coordination:settings")
    selectors.active_model()  # version 1 exists once the page is seen
    context = {
        "form": form,
        "row": row,
        "can_edit": can_edit,
        "versions": ModelVersion.objects.select_related("created_by").order_by("-number")[:50],
    }
    return render(request, "coordination/settings.html", context, status=status)


def _require_scans(request) -> None:
    """The ministry and auditors follow the scans; the ministry starts them."""
    if not has_oversight(request.user):
        raise PermissionDenied(_("The coordination scans are the ministry's."))


@require_safe
def scan_list_view(request):
    _require_scans(request)
    can_start = permissions.can_start_scan(request.user)
    runs = ScanRun.objects.select_related("model_version", "started_by").order_by("-started_at", "-id")
    if (response := export_or_none(request, runs, SCAN_COLUMNS, "coordination-scans")) is not None:
        return response
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    return render(request, "coordination/scan_list.html", {"page": page, "can_start": can_start})


@require_safe
def scan_progress_view(request, pk: int):
    """One scan's row (polled by htmx while it runs)."""
    _require_scans(request)
    run = ScanRun.objects.select_related("model_version", "started_by").filter(pk=pk).first()
    if run is None:
        raise Http404
    return render(request, "coordination/_scan_row.html", {"run": run})


@require_POST
def scan_start_view(request):
    _require_scans(request)
    if not permissions.can_start_scan(request.user):
        raise PermissionDenied(_("Only the ministry starts a coordination scan."))
    try:
        run = services.scan_start(actor=request.user)
    except DomainError as refused:
        if refused.status == 403:
            raise PermissionDenied(refused.message) from refused
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The scan has started (scan %(number)s).") % {"number": run.pk})
    return redirect("coordination:scan_list")
