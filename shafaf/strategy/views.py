"""The strategy pages: plans and their versions, objectives (with the projects, money and indicator values behind
them), indicators with their roll-up, the objectives with no project, and the project's objectives and
indicators. Every read goes through the selectors; every write through the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from shafaf.accounts.choices import Role
from shafaf.accounts.models import Organization
from shafaf.accounts.permissions import organization_ids_with_role
from shafaf.core.exceptions import DomainError
from shafaf.core.ids import pk_or_404
from shafaf.core.views import htmx_template, refuse_on_form
from shafaf.interop.tables import Column, export_or_none
from shafaf.projects.selectors import project_get
from shafaf.reports.selectors import reports_visible_to

from . import permissions, selectors, services, values
from .choices import Aggregation, VersionStatus
from .forms import (
    IndicatorForm,
    NewVersionForm,
    ObjectiveForm,
    PlanForm,
    ProjectObjectivesForm,
    TargetForm,
    VersionForm,
)
from .models import Indicator, IndicatorTarget, IndicatorValue, Objective

PROJECTS_PER_PAGE = 25


# --- helpers ---


def _done(request, target: str):
    """After a successful POST: a redirect, or for htmx an HX-Redirect (htmx would swap a followed redirect)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def _htmx_form(request, template: str, context: dict, status: int):
    """htmx swaps only successful answers: the form with its errors comes back as 200, its status in a header."""
    response = render(request, template, context)
    response["X-Shafaf-Status"] = str(status)
    return response


def _creatable_organizations(user):
    """The organisations the user may start a plan for: the ministry (its admins) and its charity (its admins)."""
    ids = organization_ids_with_role(user, Role.MINISTRY_ADMIN, Role.CHARITY_ADMIN)
    candidates = Organization.objects.filter(pk__in=ids).order_by("kind", "name_ar")
    return Organization.objects.filter(
        pk__in=[organization.pk for organization in candidates if permissions.can_create_plan(user, organization)]
    )


def _manage(user, plan) -> None:
    if not permissions.can_manage_plan(user, plan):
        raise PermissionDenied


def _rule_text(indicator: Indicator) -> str:
    rules = {
        Aggregation.SUM: _(
            "For each period, each contributing indicator's values in the period are combined by its own rule, "
            "then the contributors' values are added up."
        ),
        Aggregation.AVERAGE: _(
            "For each period, each contributing indicator's values in the period are combined by its own rule, "
            "then the mean of the contributors' values is taken, rounded half to even to a thousandth."
        ),
        Aggregation.LATEST: _(
            "For each period, each contributing indicator's values in the period are combined by its own rule, "
            "then the value of the contributor that reported last is kept."
        ),
    }
    return rules.get(indicator.aggregation, "")


def _rollup_rows(indicator: Indicator) -> list[dict]:
    rows = []
    for row in selectors.indicator_rollup(indicator):
        rows.append(
            {
                "row": row,
                "target": values.format_value(row.target_milli, indicator.unit),
                "actual": values.format_value(row.actual_milli, indicator.unit),
                "pending": values.format_value(row.pending_milli, indicator.unit),
                "percent": _percent_text(row.percent_bp),
            }
        )
    return rows


def _percent_text(bp: int | None) -> str:
    if bp is None:
        return "—"
    sign = "-" if bp < 0 else ""
    whole, rest = divmod(abs(bp), 100)
    return f"{sign}{whole}.{rest:02d}%"


def _chart(indicator: Indicator, rows: list[dict]) -> dict:
    """What the page's chart draws, read by strategy/indicator_chart.js from a json_script tag: exact decimal text,
    turned into numbers only to be drawn."""

    def text(milli):
        return None if milli is None else values.value_text(milli).replace(",", "")

    return {
        "labels": [f"{item['row'].period_start:%Y-%m}" for item in rows],
        "target": [text(item["row"].target_milli) for item in rows],
        "actual": [text(item["row"].actual_milli) for item in rows],
        "names": {"target": _("Target"), "actual": _("Actual (accepted)")},
        "unit": indicator.get_unit_display(),
        "rtl": get_language_bidi(),
    }


def _indicator_blocks(indicators) -> list[dict]:
    blocks = []
    for indicator in indicators:
        rows = _rollup_rows(indicator)
        blocks.append(
            {
                "indicator": indicator,
                "rows": rows,
                "chart": _chart(indicator, rows),
                "chart_id": f"indicator-chart-data-{indicator.pk}",
            }
        )
    return blocks


def _feeds_for_objective(user, objective: Objective | None):
    """An objective's indicator may feed an indicator of the objective it serves or of its parent."""
    if objective is None:
        return Indicator.objects.none()
    targets = [pk for pk in (objective.maps_to_id, objective.parent_id) if pk]
    return selectors.indicators_visible_to(user, Indicator.objects.filter(objective_id__in=targets)).order_by("code")


def _feeds_for_project(project):
    """A project's indicator feeds an indicator of one of the objectives the project serves."""
    objectives = selectors.project_objectives(project)
    return Indicator.objects.filter(objective__in=objectives).select_related("objective").order_by("code")


# --- plans ---


def _plan_version(row) -> str:
    text = f"v{row['version'].number}" if row["version"] else _("None yet")
    if row["draft"]:
        text = f"{text} ({_('Draft')} v{row['draft'].number})"
    return text


def _plan_period(row) -> str:
    version = row["version"] or row["draft"]
    return f"{version.period_start:%Y-%m-%d} → {version.period_end:%Y-%m-%d}" if version else ""


PLAN_COLUMNS = [
    Column("plan", _lazy("Plan"), lambda row: row["plan"].name),
    Column("code", _lazy("Code"), lambda row: row["plan"].code),
    Column("organisation", _lazy("Organisation"), lambda row: str(row["plan"].organization)),
    Column("version", _lazy("Version in force"), _plan_version),
    Column("period", _lazy("Period"), _plan_period),
    Column("objectives", _lazy("Objectives"), lambda row: row["objectives"]),
    Column("indicators", _lazy("Indicators"), lambda row: row["indicators"]),
    Column("projects", _lazy("Projects"), lambda row: row["projects"]),
]
OBJECTIVE_COLUMNS = [
    Column("plan", _lazy("Plan"), lambda objective: objective.version.plan.name),
    Column("organisation", _lazy("Organisation"), lambda objective: str(objective.version.plan.organization)),
    Column("code", _lazy("Code"), lambda objective: objective.code),
    Column("objective", _lazy("Objective"), lambda objective: objective.title),
    Column("kind", _lazy("Kind"), lambda objective: objective.get_kind_display()),
]


def plan_list_view(request):
    user = request.user
    plans = list(selectors.plans_visible_to(user).select_related("organization").order_by("organization__kind", "code"))
    rows = []
    for plan in plans:
        version = selectors.version_in_force(plan)
        draft = selectors.version_draft(plan)
        rows.append(
            {
                "plan": plan,
                "version": version,
                "draft": draft,
                "objectives": version.objectives.count() if version else 0,
                "indicators": Indicator.objects.filter(objective__version=version).count() if version else 0,
                "projects": selectors.version_projects(user, version).count() if version else 0,
            }
        )
    if (response := export_or_none(request, rows, PLAN_COLUMNS, "plans")) is not None:
        return response
    organizations = _creatable_organizations(user)
    form = None
    if organizations.exists():
        form = PlanForm(organizations=organizations, initial={"organization": organizations.first()})
    return render(request, "strategy/plan_list.html", {"rows": rows, "form": form})


def plan_create_view(request):
    user = request.user
    organizations = _creatable_organizations(user)
    if not organizations.exists():
        raise PermissionDenied
    form = PlanForm(request.POST or None, organizations=organizations)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                plan = services.plan_create(actor=user, **form.cleaned_data)
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("The plan is created with a first draft version."))
                return redirect("strategy:plan_detail", plan.pk)
    return render(request, "strategy/plan_form.html", {"form": form}, status=status)


def plan_detail_view(request, pk: int):
    user = request.user
    plan = selectors.plan_get(user, pk)
    versions = list(selectors.plan_versions(plan))
    in_force = selectors.version_in_force(plan)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    shown = in_force or draft
    asked = request.GET.get("version")
    if asked:
        shown = next((v for v in versions if str(v.pk) == asked), None)
        if shown is None:
            raise Http404
    can_manage = permissions.can_manage_plan(user, plan)
    context = {
        "plan": plan,
        "versions": versions,
        "in_force": in_force,
        "draft": draft,
        "shown": shown,
        "tree": selectors.objective_tree(shown) if shown else [],
        "can_manage": can_manage,
        "new_version_form": NewVersionForm() if can_manage and draft is None and in_force else None,
        "version_form": _version_form(draft) if can_manage and draft else None,
        "editable": can_manage and shown is not None and shown.status == VersionStatus.DRAFT,
    }
    return render(request, "strategy/plan_detail.html", context)


def _version_form(version, data=None) -> VersionForm:
    return VersionForm(
        data,
        initial={"period_start": version.period_start, "period_end": version.period_end, "note": version.note},
    )


@require_POST
def version_new_view(request, pk: int):
    user = request.user
    plan = selectors.plan_get(user, pk)
    _manage(user, plan)
    form = NewVersionForm(request.POST)
    if form.is_valid():
        try:
            version = services.version_new_draft(actor=user, plan=plan, note=form.cleaned_data["note"])
        except DomainError as error:
            refuse_on_form(form, error)
        else:
            messages.success(request, _("A new draft version is started from the version in force."))
            return redirect(f"{_plan_url(plan)}?version={version.pk}")
    for message in form.non_field_errors() + [m for field in form.errors.values() for m in field]:
        messages.error(request, message)
    return redirect("strategy:plan_detail", plan.pk)


def _plan_url(plan) -> str:
    return reverse("strategy:plan_detail", args=[plan.pk])


def version_edit_view(request, pk: int):
    user = request.user
    version = selectors.version_get(user, pk)
    _manage(user, version.plan)
    form = _version_form(version, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.version_update(actor=user, version=version, **form.cleaned_data)
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(f"{_plan_url(version.plan)}?version={version.pk}")
    context = {"version": version, "plan": version.plan, "form": form}
    return render(request, "strategy/version_form.html", context, status=status)


@require_POST
def version_publish_view(request, pk: int):
    user = request.user
    version = selectors.version_get(user, pk)
    _manage(user, version.plan)
    try:
        services.version_publish(actor=user, version=version)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
        for field_messages in (error.fields or {}).values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("The version is published: it is now in force."))
    return redirect(f"{_plan_url(version.plan)}?version={version.pk}")


# --- objectives ---


def _objective_form(user, version, data=None, *, objective=None, initial=None) -> ObjectiveForm:
    parents = Objective.objects.filter(version=version).order_by("position", "code")
    if objective is not None:
        parents = parents.exclude(pk=objective.pk)
    ministry = (
        selectors.mappable_objectives()
        .exclude(version=version)
        .select_related("version__plan")
        .order_by("position", "code")
    )
    return ObjectiveForm(data, parents=parents, ministry_objectives=ministry, initial=initial)


def objective_create_view(request, pk: int):
    user = request.user
    version = selectors.version_get(user, pk)
    _manage(user, version.plan)
    initial = {}
    if request.GET.get("parent"):
        initial["parent"] = request.GET["parent"]
    form = _objective_form(user, version, request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                objective = services.objective_create(actor=user, version=version, **form.cleaned_data)
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("The objective is added."))
                return redirect("strategy:objective_detail", objective.pk)
    context = {"version": version, "plan": version.plan, "form": form, "objective": None}
    return render(request, "strategy/objective_form.html", context, status=status)


def objective_edit_view(request, pk: int):
    user = request.user
    objective = selectors.objective_get(user, pk)
    version = objective.version
    _manage(user, version.plan)
    initial = {name: getattr(objective, name) for name in services.OBJECTIVE_FIELDS}
    form = _objective_form(user, version, request.POST or None, objective=objective, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.objective_update(actor=user, objective=objective, **form.cleaned_data)
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("strategy:objective_detail", objective.pk)
    context = {"version": version, "plan": version.plan, "form": form, "objective": objective}
    return render(request, "strategy/objective_form.html", context, status=status)


@require_POST
def objective_delete_view(request, pk: int):
    user = request.user
    objective = selectors.objective_get(user, pk)
    version = objective.version
    _manage(user, version.plan)
    try:
        services.objective_delete(actor=user, objective=objective)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
        return redirect("strategy:objective_detail", objective.pk)
    messages.success(request, _("The objective is deleted."))
    return redirect(f"{_plan_url(version.plan)}?version={version.pk}")


def objective_detail_view(request, pk: int):
    """The objective with the projects, the money and the indicator values behind it."""
    user = request.user
    objective = selectors.objective_get(user, pk)
    version = objective.version
    projects = selectors.objective_projects(user, objective).select_related("charity", "finance").order_by("pk")
    page = Paginator(projects, PROJECTS_PER_PAGE).get_page(request.GET.get("page"))
    mapped_from = (
        selectors.objectives_visible_to(user, objective.mapped_from.all())
        .select_related("version__plan__organization")
        .order_by("version__plan_id", "code")
    )
    indicators = selectors.objective_indicators(objective)
    context = {
        "objective": objective,
        "version": version,
        "plan": version.plan,
        "children": objective.children.order_by("position", "code"),
        "mapped_from": mapped_from,
        "page": page,
        "money": selectors.objective_money(user, objective),
        "indicator_blocks": _indicator_blocks(indicators),
        "can_manage": permissions.can_manage_plan(user, version.plan),
        "editable": permissions.can_manage_plan(user, version.plan) and version.status == VersionStatus.DRAFT,
    }
    template = htmx_template(request, "strategy/objective_detail.html", "strategy/_objective_projects.html")
    return render(request, template, context)


def objectives_without_projects_view(request):
    user = request.user
    if not (user.roles() & {Role.MINISTRY_REVIEWER, Role.MINISTRY_ADMIN, Role.AUDITOR}):
        raise PermissionDenied
    objectives = selectors.objectives_without_projects(user).select_related("version__plan__organization")
    if (response := export_or_none(request, objectives, OBJECTIVE_COLUMNS, "objectives-without-projects")) is not None:
        return response
    page = Paginator(objectives, 50).get_page(request.GET.get("page"))
    return render(request, "strategy/objectives_without_projects.html", {"page": page})


# --- indicators ---


# The stored fields an indicator form starts from (the baseline is shown as text, not in thousandths).
INDICATOR_FIELDS = tuple(name for name in services.INDICATOR_FIELDS if name not in ("baseline", "baseline_milli"))


def _indicator_initial(indicator: Indicator) -> dict:
    initial = {name: getattr(indicator, name) for name in INDICATOR_FIELDS}
    if indicator.baseline_milli is not None:
        initial["baseline"] = values.value_text(indicator.baseline_milli).replace(",", "")
    return initial


def _indicator_manage(user, indicator: Indicator) -> None:
    if indicator.project_id:
        if not permissions.can_manage_project_indicators(user, indicator.project):
            raise PermissionDenied
    else:
        _manage(user, indicator.objective.version.plan)


def indicator_create_view(request, pk: int):
    """A new indicator of an objective of a draft version."""
    user = request.user
    objective = selectors.objective_get(user, pk)
    _manage(user, objective.version.plan)
    form = IndicatorForm(request.POST or None, feeds=_feeds_for_objective(user, objective))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                indicator = services.indicator_create(actor=user, objective=objective, **form.service_fields())
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("The indicator is added."))
                return redirect("strategy:indicator_detail", indicator.pk)
    context = {"objective": objective, "project": None, "form": form, "indicator": None}
    return render(request, "strategy/indicator_form.html", context, status=status)


def project_indicator_create_view(request, pk: int):
    """A new indicator of a project, feeding (or not) an indicator of an objective the project serves."""
    user = request.user
    project = project_get(user, pk)
    if not permissions.can_manage_project_indicators(user, project):
        raise PermissionDenied
    form = IndicatorForm(request.POST or None, feeds=_feeds_for_project(project))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.indicator_create(actor=user, project=project, **form.service_fields())
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("The indicator is added."))
                return redirect(f"{_project_url(project)}#strategy")
    context = {"objective": None, "project": project, "form": form, "indicator": None}
    return render(request, "strategy/indicator_form.html", context, status=status)


def _project_url(project) -> str:
    return reverse("projects:project_detail", args=[project.pk])


def indicator_edit_view(request, pk: int):
    user = request.user
    indicator = selectors.indicator_get(user, pk)
    _indicator_manage(user, indicator)
    if indicator.project_id:
        feeds = _feeds_for_project(indicator.project)
    else:
        feeds = _feeds_for_objective(user, indicator.objective)
    form = IndicatorForm(
        request.POST or None, feeds=feeds.exclude(pk=indicator.pk), initial=_indicator_initial(indicator)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.indicator_update(actor=user, indicator=indicator, **form.service_fields())
            except DomainError as error:
                status = refuse_on_form(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("strategy:indicator_detail", indicator.pk)
    context = {"objective": indicator.objective, "project": indicator.project, "form": form, "indicator": indicator}
    return render(request, "strategy/indicator_form.html", context, status=status)


@require_POST
def indicator_delete_view(request, pk: int):
    user = request.user
    indicator = selectors.indicator_get(user, pk)
    _indicator_manage(user, indicator)
    objective, project = indicator.objective, indicator.project
    try:
        services.indicator_delete(actor=user, indicator=indicator)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
        return redirect("strategy:indicator_detail", indicator.pk)
    messages.success(request, _("The indicator is deleted."))
    if project is not None:
        return redirect(f"{_project_url(project)}#strategy")
    return redirect("strategy:objective_detail", objective.pk)


def _can_edit_indicator(user, indicator: Indicator) -> bool:
    if indicator.project_id:
        return permissions.can_manage_project_indicators(user, indicator.project)
    version = indicator.objective.version
    return permissions.can_manage_plan(user, version.plan) and version.status == VersionStatus.DRAFT


def _indicator_context(request, indicator: Indicator, target_form=None) -> dict:
    user = request.user
    rows = _rollup_rows(indicator)
    contributors = list(
        selectors.indicators_visible_to(user, indicator.contributors.all())
        .select_related("project__charity", "objective__version__plan")
        .order_by("code", "pk")
    )
    contributor_values = (
        IndicatorValue.objects.filter(indicator__in=contributors, report__in=reports_visible_to(user))
        .select_related("report", "indicator")
        .prefetch_related("evidence")
        .order_by("indicator_id", "period_start")
    )
    by_indicator: dict[int, list] = {}
    for value in contributor_values:
        value.text = values.format_value(value.value_milli, value.indicator.unit)
        by_indicator.setdefault(value.indicator_id, []).append(value)
    own_values = []
    if indicator.project_id:
        own_values = list(selectors.indicator_values_of(indicator).filter(report__in=reports_visible_to(user)))
        for value in own_values:
            value.text = values.format_value(value.value_milli, indicator.unit)
    can_edit = _can_edit_indicator(user, indicator)
    return {
        "own_values": own_values,
        "indicator": indicator,
        "objective": indicator.objective,
        "project": indicator.project,
        "baseline": values.format_value(indicator.baseline_milli, indicator.unit),
        "rule_text": _rule_text(indicator),
        "targets": [
            {"target": target, "text": values.format_value(target.value_milli, indicator.unit)}
            for target in indicator.targets.order_by("period_start")
        ],
        "rows": rows,
        "chart": _chart(indicator, rows),
        "chart_id": f"indicator-chart-data-{indicator.pk}",
        "contributors": [{"indicator": c, "values": by_indicator.get(c.pk, [])} for c in contributors],
        "can_edit": can_edit,
        "target_form": target_form or (TargetForm(unit=indicator.unit) if can_edit else None),
    }


def indicator_detail_view(request, pk: int):
    indicator = selectors.indicator_get(request.user, pk)
    return render(request, "strategy/indicator_detail.html", _indicator_context(request, indicator))


@require_POST
def target_set_view(request, pk: int):
    user = request.user
    indicator = selectors.indicator_get(user, pk)
    _indicator_manage(user, indicator)
    form = TargetForm(request.POST, unit=indicator.unit)
    status = 400
    if form.is_valid():
        try:
            services.target_set(actor=user, indicator=indicator, **form.cleaned_data)
        except DomainError as error:
            status = refuse_on_form(form, error)
        else:
            messages.success(request, _("The target is saved."))
            return _done(request, reverse("strategy:indicator_detail", args=[indicator.pk]))
    context = _indicator_context(request, indicator, target_form=form)
    if getattr(request, "htmx", False):
        return _htmx_form(request, "strategy/_target_form.html", context, status)
    return render(request, "strategy/indicator_detail.html", context, status=status)


def target_delete_view(request, pk: int):
    user = request.user
    target = get_object_or_404(IndicatorTarget.objects.select_related("indicator"), pk=pk_or_404(pk))
    indicator = selectors.indicator_get(user, target.indicator_id)
    _indicator_manage(user, indicator)
    try:
        services.target_delete(actor=user, target=target)
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
    else:
        messages.success(request, _("The target is deleted."))
    return redirect("strategy:indicator_detail", indicator.pk)


# --- the project's side ---


def linkable_objectives(user, project):
    """The objectives a project may serve (the ministry's plans in force and its charity's), as the user sees them."""
    return selectors.objectives_visible_to(user, selectors.linkable_objectives(project)).order_by(
        "version__plan__organization__kind", "version__plan_id", "position", "code"
    )


def project_section_context(user, project, *, objectives_form=None) -> dict:
    can_link = permissions.can_link_objectives(user, project)
    indicators = list(selectors.project_indicators(project).select_related("feeds"))
    for indicator in indicators:
        indicator.baseline_text = values.format_value(indicator.baseline_milli, indicator.unit)
    objectives = list(selectors.project_objectives(project).select_related("version__plan"))
    if can_link and objectives_form is None:
        objectives_form = ProjectObjectivesForm(
            objectives=linkable_objectives(user, project), initial={"objectives": objectives}
        )
    return {
        "project": project,
        "strategy_visible": True,
        "strategy_objectives": objectives,
        "strategy_indicators": indicators,
        "can_link_objectives": can_link,
        "objectives_form": objectives_form if can_link else None,
        "can_manage_indicators": permissions.can_manage_project_indicators(user, project),
    }


@require_POST
def project_objectives_view(request, pk: int):
    user = request.user
    project = project_get(user, pk)
    if not permissions.can_link_objectives(user, project):
        raise PermissionDenied
    form = ProjectObjectivesForm(request.POST, objectives=linkable_objectives(user, project))
    status = 400
    if form.is_valid():
        try:
            services.project_objectives_set(
                actor=user, project=project, objectives=list(form.cleaned_data["objectives"])
            )
        except DomainError as error:
            status = refuse_on_form(form, error)
        else:
            if getattr(request, "htmx", False):  # the section again, with the objectives saved
                return render(request, "strategy/_project_section.html", project_section_context(user, project))
            messages.success(request, _("The project's objectives are saved."))
            return redirect(f"{_project_url(project)}#strategy")
    context = project_section_context(user, project, objectives_form=form)
    if getattr(request, "htmx", False):
        return _htmx_form(request, "strategy/_project_section.html", context, status)
    return render(request, "strategy/project_objectives_page.html", context, status=status)
