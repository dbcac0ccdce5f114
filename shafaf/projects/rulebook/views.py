from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shafaf.core.exceptions import DomainError
from shafaf.core.views import apply_domain_error
from shafaf.projects.selectors import project_get

from . import checks, permissions, selectors, services
from .forms import RuleSettingForm
from .models import Stage


def _row(check: checks.Check, setting, form=None) -> dict:
    return {
        "check": check,
        "setting": setting,
        "form": form,
        "available": check.interface_available(),
        "thresholds": [(t, setting.thresholds[t.key]) for t in check.thresholds],
    }


def rulebook_view(request):
    """Every check with its code, description, severity and thresholds; a ministry admin edits each."""
    if not permissions.can_view_rulebook(request.user):
        raise PermissionDenied
    editable = permissions.can_edit_rulebook(request.user)
    rows = []
    for code, setting in selectors.effective_settings().items():
        check = checks.REGISTRY[code]
        rows.append(_row(check, setting, RuleSettingForm(check=check, setting=setting) if editable else None))
    return render(request, "projects/rulebook/rulebook.html", {"rows": rows, "can_edit": editable})


def rule_setting_edit_view(request, code: str):
    """GET: one check's form on its own page; POST (also from the rulebook page's forms): saves it through
    rule_setting_update and goes back to the rulebook, or shows the form's errors (400)."""
    if not permissions.can_edit_rulebook(request.user):
        raise PermissionDenied
    check = checks.REGISTRY.get(code)
    if check is None:
        raise Http404
    setting = selectors.effective_setting(code)
    form = RuleSettingForm(request.POST or None, check=check, setting=setting)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_setting_update(
                actor=request.user,
                code=code,
                enabled=form.cleaned_data["enabled"],
                severity=form.cleaned_data["severity"],
                thresholds=form.threshold_values(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            fields = {key.removeprefix("thresholds."): value for key, value in error.fields.items()}
            apply_domain_error(form, DomainError(error.message, code=error.code, fields=fields))
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("rulebook:rulebook") + f"#rule-{code}")
    status = 400 if request.method == "POST" else 200
    return render(request, "projects/rulebook/rule_edit.html", {"row": _row(check, setting, form)}, status=status)


def project_checks_view(request, pk: int):
    """The latest run of a project's checks (the panel the project page includes), for whoever sees it."""
    project = project_get(request.user, pk)
    context = {
        "project": project,
        "rulebook_run": selectors.latest_run(project),
        "can_run_checks": permissions.can_run_checks(request.user, project),
    }
    return render(request, "projects/rulebook/project_checks.html", context)


@require_POST
def project_checks_run_view(request, pk: int):
    """Runs the project's checks now (stored as a nightly run) and shows the result."""
    project = project_get(request.user, pk)
    if not permissions.can_run_checks(request.user, project):
        raise PermissionDenied
    services.rulebook_run(actor=request.user, project=project, stage=Stage.NIGHTLY)
    if getattr(request, "htmx", False):
        context = {"project": project, "rulebook_run": selectors.latest_run(project), "can_run_checks": True}
        return render(request, "projects/_checks.html", context)
    messages.success(request, _("The checks have run."))
    return redirect("rulebook:project_checks", pk=project.pk)
