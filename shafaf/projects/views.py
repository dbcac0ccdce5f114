from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST, require_safe

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.core.views import apply_domain_error, flash_saved, htmx_template, refuse_on_form, stored_file_response
from shafaf.interop.tables import Column, attr, export_filtered, requested_format

from . import permissions, selectors, services, workflow
from .filters import ProjectFilter
from .forms import DocumentForm, LocationFormSet, PhaseForm, PhaseProgressForm, ProjectForm, TransitionForm
from .rulebook import permissions as rulebook_permissions
from .rulebook import selectors as rulebook_selectors
from .services import LOCATION_FIELDS

# The columns of the projects list, as its table shows them (and its CSV/Excel downloads).
PROJECT_COLUMNS = [
    Column("reference", _lazy("Reference"), attr("reference")),
    Column("title", _lazy("Title"), attr("title")),
    Column("charity", _lazy("Charity"), lambda project: str(project.charity)),
    Column("country", _lazy("Country"), attr("country_label")),
    Column("project_model", _lazy("MOSA project model"), attr("get_project_model_display")),
    Column("beneficiaries", _lazy("Beneficiaries"), attr("beneficiary_count")),
    Column("status", _lazy("Status"), attr("get_status_display")),
]


def project_list_view(request):
    filterset = ProjectFilter(request.GET or None, queryset=selectors.project_list(request.user))
    if (response := export_filtered(request, filterset, PROJECT_COLUMNS, "projects")) is not None:
        return response
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    template = htmx_template(request, "projects/project_list.html", "projects/_project_table.html")
    return render(
        request,
        template,
        {"filter": filterset, "page": page, "can_create": permissions.can_create_project(request.user)},
        status=200 if filterset.is_bound is False or filterset.is_valid() else 400,
    )


DANGER_ACTIONS = frozenset({"reject", "cancel", "suspend"})
SUCCESS_ACTIONS = frozenset({"approve"})


def _action_forms(user, project, failed: str = "", form: TransitionForm | None = None) -> list[dict]:
    """One form per action the user may take now (the one that just failed keeps its input and errors)."""
    forms = []
    for name in permissions.allowed_transitions(user, project):
        transition = workflow.BY_ACTION[name]
        style = "danger" if name in DANGER_ACTIONS else "success" if name in SUCCESS_ACTIONS else "primary"
        forms.append(
            {
                "name": name,
                "transition": transition,
                "form": form if name == failed and form is not None else TransitionForm(action=name),
                "url": reverse(f"projects:{transition_url_name(name)}", args=[project.pk]),
                "style": style,
            }
        )
    return forms


def _detail_context(
    request,
    project,
    *,
    failed: str = "",
    form=None,
    error: DomainError | None = None,
    phase_form=None,
    document_form=None,
    progress_form=None,
) -> dict:
    user = request.user
    can_plan = permissions.can_plan_phases(user, project)
    can_progress = permissions.can_update_progress(user, project)
    can_add_document = permissions.can_add_document(user, project)
    phases = list(selectors.project_phases(project))
    if can_progress:
        for phase in phases:
            bound = progress_form is not None and progress_form.instance.pk == phase.pk
            phase.progress_form = progress_form if bound else PhaseProgressForm(instance=phase, prefix=f"p{phase.pk}")
    evidence_only = can_add_document and not permissions.is_charity_member(user, project)
    return {
        "phases": phases,
        "progress": services.project_progress(project),
        "can_plan": can_plan,
        "can_progress": can_progress,
        "phase_form": phase_form if phase_form is not None else (PhaseForm() if can_plan else None),
        "documents": selectors.project_documents(project),
        "can_add_document": can_add_document,
        "document_form": document_form
        if document_form is not None
        else (DocumentForm(project=project, evidence_only=evidence_only) if can_add_document else None),
        "max_document_mb": services.MAX_DOCUMENT_BYTES // (1024 * 1024),
        "project": project,
        "can_edit": permissions.can_edit_project(user, project),
        "action_forms": _action_forms(user, project, failed, form),
        "timeline": selectors.project_timeline(user, project),
        "error": error,
        "blocking_checks": (
            [*error.fields.get("rulebook", []), *error.fields.get("partner", [])] if error is not None else []
        ),
        "rulebook_run": rulebook_selectors.latest_run(project),
        "can_run_checks": rulebook_permissions.can_run_checks(user, project),
    }


def project_detail_view(request, pk: int):
    project = selectors.project_get(request.user, pk)
    return render(request, "projects/project_detail.html", _detail_context(request, project))


@require_safe
def project_revision_view(request, pk: int):
    """What changed in the project's latest revision: each changed field at the last approval and now."""
    project = selectors.project_get(request.user, pk)
    return render(
        request, "projects/project_revision.html", {"project": project, "diff": selectors.revision_diff(project)}
    )


def transition_url_name(action: str) -> str:
    """projects:project_start_review for "start-review"."""
    return f"project_{action.replace('-', '_')}"


def project_transition_view(action: str):
    """The view of POST /projects/<pk>/<action>/ for one workflow action (one URL per action, so that no
    catch-all pattern shadows another page under /projects/<pk>/)."""

    @require_POST
    def view(request, pk: int):
        return _transition(request, pk, action)

    view.__name__ = f"{transition_url_name(action)}_view"
    return view


def _transition(request, pk: int, action: str):
    """One workflow action from a page, through the same service as the API."""
    project = selectors.project_get(request.user, pk)
    form = TransitionForm(request.POST, action=action)
    try:
        if not form.is_valid():
            services.check_transition(actor=request.user, project=project, action=action)  # 403 and 409 first
            return _refused(request, project, action, form, None, status=400)
        project = services.project_transition(
            actor=request.user, project=project, action=action, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        for message in error.fields.get("reason", []):
            form.add_error("reason", message)
        return _refused(request, project, action, form, error, status=error.status)
    messages.success(
        request,
        _("Done: %(action)s. The project is now “%(status)s”.")
        % {"action": workflow.BY_ACTION[action].label, "status": project.get_status_display()},
    )
    return redirect("projects:project_detail", pk=project.pk)


def _refused(request, project, action: str, form, error: DomainError | None, *, status: int):
    """The project page again, as the project now is, saying why the action was refused (its form keeps what
    was typed)."""
    project = selectors.project_get(request.user, project.pk)
    context = _detail_context(request, project, failed=action, form=form, error=error)
    return render(request, "projects/project_detail.html", context, status=status)


REVIEW_COLUMNS = [
    *PROJECT_COLUMNS[:4],
    PROJECT_COLUMNS[6],
    Column("submitted", _lazy("Submitted"), lambda project: project.submitted_at and project.submitted_at.date()),
    Column("days_waiting", _lazy("Days waiting"), attr("days_waiting")),
    Column("risk", _lazy("Risk"), lambda project: project.risk.score),
    Column("risk_explanation", _lazy("Risk explanation"), lambda project: str(project.risk.explanation)),
]


def review_queue_view(request):
    """The ministry's queue of submissions: the riskiest first (selectors.rank_by_risk), then the longest
    waiting."""
    if not permissions.can_view_review_queue(request.user):
        raise PermissionDenied
    filterset = ProjectFilter(request.GET or None, queryset=selectors.review_queue(request.user))
    if requested_format(request) and (not filterset.is_bound or filterset.is_valid()):
        rows = selectors.rank_by_risk(filterset.qs)
        if (response := export_filtered(request, filterset, REVIEW_COLUMNS, "review-queue", rows)) is not None:
            return response
    page = Paginator(selectors.rank_by_risk(filterset.qs), 25).get_page(request.GET.get("page"))
    template = htmx_template(request, "projects/review_queue.html", "projects/_review_table.html")
    return render(
        request,
        template,
        {"filter": filterset, "page": page},
        status=200 if filterset.is_bound is False or filterset.is_valid() else 400,
    )


def _location_rows(formset) -> list[dict]:
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        if not any(data.get(name) not in (None, "") for name in LOCATION_FIELDS):
            continue
        rows.append(
            {
                name: data.get(name) if data.get(name) is not None else ("" if "area" in name else None)
                for name in LOCATION_FIELDS
            }
        )
    return rows


def project_form_view(request, pk: int | None = None):
    project = None
    if pk is not None:
        project = selectors.project_get(request.user, pk)
        if not permissions.can_edit_project(request.user, project):
            raise PermissionDenied(permissions.edit_refusal(request.user, project))
        charities = None
    else:
        if not permissions.can_create_project(request.user):
            raise PermissionDenied
        charities = Organization.objects.filter(pk__in=permissions.charities_user_can_draft_for(request.user)).order_by(
            "name_en"
        )
    initial_locations = [
        {name: getattr(location, name) for name in LOCATION_FIELDS}
        for location in (project.locations.all() if project else [])
    ]
    form = ProjectForm(request.POST or None, instance=project, charities=charities)
    formset = LocationFormSet(request.POST or None, initial=initial_locations, prefix="locations")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields if name != "charity"}
        try:
            if project is None:
                project = services.project_create(
                    actor=request.user, charity=form.cleaned_data["charity"], locations=_location_rows(formset), **data
                )
            else:
                status_before = project.status
                project = services.project_update(
                    actor=request.user, project=project, locations=_location_rows(formset), **data
                )
                if project.status != status_before:
                    messages.warning(
                        request, _("The project's scope changed, so it has gone back to the ministry for review.")
                    )
            flash_saved(request)
            return redirect("projects:project_detail", pk=project.pk)
        except DomainError as error:
            apply_domain_error(form, error)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "projects/project_form.html", {"form": form, "formset": formset, "project": project}, status=status
    )


# --- phases, progress and documents ------------------------------------------------------------------------


def _detail_again(request, project, status: int, **forms):
    project = selectors.project_get(request.user, project.pk)
    return render(request, "projects/project_detail.html", _detail_context(request, project, **forms), status=status)


def _save_then_back(request, project, form, save, *, anchor: str, form_name: str):
    """Runs `save` (a service call) when the form is valid, then goes back to that part of the project page;
    otherwise shows the page again with the form's errors. A service's 403 stays a 403."""
    if form.is_valid():
        try:
            save()
        except DomainError as error:
            refuse_on_form(form, error)
        else:
            flash_saved(request)
            return redirect(reverse("projects:project_detail", args=[project.pk]) + f"#{anchor}")
    return _detail_again(request, project, 400, **{form_name: form})


@require_POST
def phase_create_view(request, pk: int):
    project = selectors.project_get(request.user, pk)
    if not permissions.can_plan_phases(request.user, project):
        raise PermissionDenied(_("You cannot plan this project's phases."))
    form = PhaseForm(request.POST)

    def save():
        services.phase_create(actor=request.user, project=project, **form.cleaned_data)

    return _save_then_back(request, project, form, save, anchor="phases", form_name="phase_form")


@require_POST
def phase_progress_view(request, pk: int, phase_pk: int):
    project = selectors.project_get(request.user, pk)
    phase = get_object_or_404(project.phases.all(), pk=phase_pk)
    if not permissions.can_update_progress(request.user, project):
        raise PermissionDenied(_("You cannot report progress on this project now."))
    form = PhaseProgressForm(request.POST, instance=phase, prefix=f"p{phase.pk}")

    def save():
        data = form.cleaned_data
        services.phase_progress_update(
            actor=request.user, phase=phase, percent_complete=data["percent_complete"], status=data["status"]
        )

    return _save_then_back(request, project, form, save, anchor="phases", form_name="progress_form")


@require_POST
def document_add_view(request, pk: int):
    project = selectors.project_get(request.user, pk)
    if not permissions.can_add_document(request.user, project):
        raise PermissionDenied(_("You cannot add documents to this project now."))
    evidence_only = not permissions.is_charity_member(request.user, project)
    form = DocumentForm(request.POST, request.FILES, project=project, evidence_only=evidence_only)

    def save():
        data = dict(form.cleaned_data)
        upload = data.pop("file")
        services.document_add(actor=request.user, project=project, file=upload, **data)

    return _save_then_back(request, project, form, save, anchor="documents", form_name="document_form")


@require_safe
def document_download_view(request, pk: int, document_pk: int):
    """The file of a project's document, to whoever may see the project (MEDIA is never served directly)."""

    project = selectors.project_get(request.user, pk)
    document = selectors.document_get(request.user, project, document_pk)
    return stored_file_response(
        document.file, name=f"{project.reference}-{document.pk}", content_type=document.content_type
    )
