from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.core.views import apply_domain_error, flash_saved, htmx_template

from . import permissions, selectors, services
from .filters import ProjectFilter
from .forms import LocationFormSet, ProjectForm
from .services import LOCATION_FIELDS


def project_list_view(request):
    filterset = ProjectFilter(request.GET or None, queryset=selectors.project_list(request.user))
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    template = htmx_template(request, "projects/project_list.html", "projects/_project_table.html")
    return render(
        request,
        template,
        {"filter": filterset, "page": page, "can_create": permissions.can_create_project(request.user)},
        status=200 if filterset.is_bound is False or filterset.is_valid() else 400,
    )


def project_detail_view(request, pk: int):
    project = selectors.project_get(request.user, pk)
    return render(
        request,
        "projects/project_detail.html",
        {"project": project, "can_edit": permissions.can_edit_project(request.user, project)},
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
            raise PermissionDenied
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
                project = services.project_update(
                    actor=request.user, project=project, locations=_location_rows(formset), **data
                )
            flash_saved(request)
            return redirect("projects:project_detail", pk=project.pk)
        except DomainError as error:
            apply_domain_error(form, error)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "projects/project_form.html", {"form": form, "formset": formset, "project": project}, status=status
    )
