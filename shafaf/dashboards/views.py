"""The dashboards: pages, their map's data and their Excel export. Reads only: nothing here writes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import export, figures, selectors
from .selectors import KINDS, PUBLIC

DETAIL_TABLES = ("overdue", "compliance", "objectives", "objective_money")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _language() -> str:
    return (get_language() or "ar")[:2]


def _scope(request, kind: str):
    if kind not in KINDS:
        raise Http404
    return selectors.scope_for(request.user, kind)


def _page(request, kind: str):
    scope = _scope(request, kind)
    result = figures.compute(scope, request.GET, details=False)
    rtl = _language() == "ar"
    query = request.GET.urlencode()
    base = figures.dashboard_url(kind)
    context = {
        "figures": result,
        "scope": scope,
        "filter": result.filterset,
        "tables": figures.tables(result),
        "chart": figures.chart_payload(result, rtl=rtl, language=_language()),
        "map_config": {
            "data": f"{base}map.json" + (f"?{query}" if query else ""),
            "boundaries": static("vendor/boundaries/countries-110m.geojson"),
            "tiles": settings.SHAFAF_MAP_TILES_URL,
            "attribution": settings.SHAFAF_MAP_TILES_ATTRIBUTION,
            "rtl": rtl,
            "label": _("Projects"),
        },
        "export_url": f"{base}export.xlsx" + (f"?{query}" if query else ""),
        "details_url": (f"{base}details/" + (f"?{query}" if query else "")) if result.has_details else "",
        "query": query,
        "base_url": base,
        "kinds": _kinds_for(request.user),
    }
    return render(request, "dashboards/dashboard.html", context, status=200 if result.valid else 400)


def _kinds_for(user) -> list[tuple[str, str]]:
    """The dashboards the user may switch between."""
    answer = []
    for kind in KINDS:
        try:
            selectors.scope_for(user, kind)
        except PermissionDenied:
            continue
        answer.append((figures.dashboard_url(kind), str(selectors.TITLES[kind])))
    return answer


def _map(request, kind: str):
    scope = _scope(request, kind)
    filterset, projects, valid = selectors.filtered(scope, request.GET)
    if not valid:
        return JsonResponse({"error": filterset.errors.get_json_data()}, status=400)
    links = figures.Links(scope, selectors.filter_params(filterset))
    countries = [
        {"code": bucket.key, "label": bucket.label, "count": bucket.count, "url": links.projects(country=bucket.key)}
        for bucket in selectors.projects_by(projects, "country")
    ]
    cells, points = selectors.map_cells(selectors.rows_scope(scope, projects, bool(links.params)))
    return JsonResponse({"countries": countries, "cells": cells, "points": points})


def _export(request, kind: str):
    scope = _scope(request, kind)
    result = figures.compute(scope, request.GET)
    if not result.valid:
        return HttpResponse(status=400)
    tables = figures.tables(result)
    wanted = request.GET.get("table", "")
    if wanted:
        tables = [table for table in tables if table.name == wanted]
        if not tables:
            raise Http404
    content = export.workbook(tables, rtl=_language() == "ar", filters=result.params)
    response = HttpResponse(content, content_type=XLSX)
    name = f"dashboard-{kind}" + (f"-{wanted}" if wanted else "")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def details_view(request, kind: str):
    """The overdue reports, the compliance classes and the progress of each objective: the part of the ministry's
    and a charity's dashboard loaded after the first paint (htmx), with the same filters."""
    if kind == PUBLIC:
        raise Http404
    scope = _scope(request, kind)
    result = figures.compute(scope, request.GET, main=False)
    if not result.has_details:
        raise Http404
    tables = [table for table in figures.tables(result) if table.name in DETAIL_TABLES]
    context = {"tables": tables, "query": request.GET.urlencode(), "base_url": figures.dashboard_url(kind)}
    return render(request, "dashboards/_details.html", context, status=200 if result.valid else 400)


@require_safe
def home_view(request):
    """/dashboard/: the dashboard of the user's role (the ministry's, its charity's or the donor's)."""
    kind = selectors.kind_for(request.user)
    if kind is None:
        raise PermissionDenied
    query = request.GET.urlencode()
    return redirect(figures.dashboard_url(kind) + (f"?{query}" if query else ""))


@require_safe
def dashboard_view(request, kind: str):
    if kind == PUBLIC:
        raise Http404
    return _page(request, kind)


@require_safe
def map_view(request, kind: str):
    if kind == PUBLIC:
        raise Http404
    return _map(request, kind)


@require_safe
def export_view(request, kind: str):
    if kind == PUBLIC:
        raise Http404
    return _export(request, kind)


@login_not_required
@require_safe
def public_view(request):
    return _page(request, PUBLIC)


@login_not_required
@require_safe
def public_map_view(request):
    return _map(request, PUBLIC)


@login_not_required
@require_safe
def public_export_view(request):
    return _export(request, PUBLIC)
