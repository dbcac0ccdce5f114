"""The projects import page: a charity's staff upload a CSV file or an Excel workbook of projects (the columns are
listed on the page and in shafaf/projects/imports.py) and get the report, with its errors downloadable as a CSV."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from shafaf.accounts.models import Organization
from shafaf.core.forms import StyledFormMixin
from shafaf.core.views import run_upload_import

from . import imports, permissions


class ProjectImportForm(StyledFormMixin, forms.Form):
    charity = forms.ModelChoiceField(label=gettext_lazy("Charity"), queryset=Organization.objects.none())
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        help_text=gettext_lazy("UTF-8 CSV (with or without a byte order mark) or an .xlsx workbook's first sheet."),
    )

    def __init__(self, *args, charities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["charity"].queryset = charities
        if charities.count() == 1:
            self.fields["charity"].initial = charities.first()
            self.fields["charity"].widget = forms.HiddenInput()


@require_http_methods(["GET", "HEAD", "POST"])
def project_import_view(request):
    if not permissions.can_create_project(request.user):
        raise PermissionDenied(_("Only a charity's admins and staff import its projects."))
    charities = Organization.objects.filter(pk__in=permissions.charities_user_can_draft_for(request.user)).order_by(
        "name_en", "pk"
    )
    form = ProjectImportForm(request.POST or None, request.FILES or None, charities=charities)
    report, status = run_upload_import(
        request,
        form,
        imports.MAX_BYTES,
        lambda upload: imports.projects_import(
            actor=request.user, charity=form.cleaned_data["charity"], data=upload.read(), filename=upload.name
        ),
    )
    context = {"form": form, "report": report, "columns": imports.COLUMNS}
    return render(request, "projects/project_import.html", context, status=status)


@require_safe
def project_import_sample_view(request):
    if not permissions.can_create_project(request.user):
        raise PermissionDenied
    response = HttpResponse(imports.sample_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="projects_sample.csv"'
    return response
