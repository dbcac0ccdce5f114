"""The ministry's portfolio, a project's earned value with its S-curve, and the financial statements of a project
and of a charity (page, Excel file, bilingual PDF). Reads only: nothing here writes or is audited."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe

from shafaf.accounts.models import Organization
from shafaf.interop.tables import Column, export_filtered, requested_format
from shafaf.projects.selectors import project_get

from . import permissions, portfolio, statements
from .earned_value import earned_value, s_curve

PORTFOLIO_PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _portfolio_columns() -> list[Column]:
    """The columns of the portfolio, as its table shows them (and its CSV/Excel downloads)."""
    from .templatetags.insight_tags import bp_percent, index_text

    return [
        Column("reference", _lazy("Project"), lambda row: row.project.reference),
        Column("title", _lazy("Title"), lambda row: row.project.title),
        Column("charity", _lazy("Charity"), lambda row: row.finance.charity.display_name()),
        Column("status", _lazy("Status"), lambda row: row.project.get_status_display()),
        Column("budget", _lazy("Budget"), lambda row: row.budget),
        Column("spent", _lazy("Spent"), lambda row: row.spent),
        Column("currency", _lazy("Currency"), lambda row: row.budget.currency),
        Column("ratio", _lazy("Spent / budget"), lambda row: bp_percent(row.finance.ratio_bp)),
        Column("cpi", "CPI", lambda row: index_text(row.earned.cpi)),
        Column("spi", "SPI", lambda row: index_text(row.earned.spi)),
        Column("open_deviations", _lazy("Deviations awaiting action"), lambda row: row.finance.open_deviations or 0),
    ]


@require_safe
def portfolio_view(request):
    user = request.user
    if not permissions.can_view_portfolio(user):
        raise PermissionDenied(_("The portfolio is for the ministry, auditors and charities."))
    filterset = portfolio.PortfolioFilter(request.GET or None, queryset=portfolio.portfolio_list(user), user=user)
    if requested_format(request) and (not filterset.is_bound or filterset.is_valid()):
        rows = portfolio.rows(filterset.qs, timezone.localdate())
        return export_filtered(request, filterset, _portfolio_columns(), "portfolio", rows=rows)
    valid = not filterset.is_bound or filterset.is_valid()
    page = Paginator(filterset.qs if valid else filterset.queryset.none(), PORTFOLIO_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": portfolio.rows(page.object_list, today),
        "today": today,
        "query": query.urlencode(),
    }
    return render(request, "finance/portfolio.html", context, status=200 if valid else 400)


def _statement_project(request, pk):
    project = project_get(request.user, pk)
    if not permissions.can_view_statement(request.user, project):
        # A partner's reporter sees the project it implements, not its finances: as if there were none (like the
        # deviations' pages).
        raise Http404
    return project


@require_safe
def earned_value_view(request, pk: int):
    project = _statement_project(request, pk)
    on_text = request.GET.get("on", "")
    on_date, status, error = timezone.localdate(), 200, ""
    if on_text:
        try:
            on_date = dt.date.fromisoformat(on_text)
        except ValueError:
            status, error = 400, _("Enter a valid date (YYYY-MM-DD).")
    result = earned_value(project, on_date)
    points = s_curve(project, today=on_date)
    chart = {
        "labels": [point.on_date.isoformat() for point in points],
        # Amounts as exact decimal text; the chart's script turns them into numbers only to draw them.
        "pv": [point.pv.amount_text for point in points],
        "ac": [point.ac.amount_text if point.ac is not None else None for point in points],
        "ev": [point.ev.amount_text if point.ev is not None else None for point in points],
        "currency": result.currency,
        "names": {"pv": _("Planned value"), "ac": _("Actual cost"), "ev": _("Earned value")},
        "rtl": get_language().startswith("ar"),
    }
    context = {
        "project": project,
        "result": result,
        "points": points,
        "chart": chart,
        "on_date": on_date,
        "on_error": error,
    }
    return render(request, "finance/earned_value.html", context, status=status)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def statement_view(request, pk: int):
    project = _statement_project(request, pk)
    statement = statements.project_statement(project)
    return render(request, "finance/statement_project.html", {"project": project, "statement": statement})


@require_safe
def statement_xlsx_view(request, pk: int):
    project = _statement_project(request, pk)
    content = statements.project_statement_xlsx(statements.project_statement(project), get_language() or "ar")
    return _download(content, XLSX, f"{project.reference}-statement.xlsx")


@require_safe
def statement_pdf_view(request, pk: int):
    project = _statement_project(request, pk)
    content = statements.project_statement_pdf(statements.project_statement(project))
    return _download(content, "application/pdf", f"{project.reference}-statement.pdf")


def _charity(request, slug: str) -> Organization:
    """The charity, or 404 when it does not exist or the user may not see its finances."""
    charity = get_object_or_404(Organization, slug=slug, kind="charity")
    if not permissions.can_view_charity_statement(request.user, charity):
        raise Http404
    return charity


@require_safe
def charity_statement_view(request, slug: str):
    charity = _charity(request, slug)
    statement = statements.charity_statement(charity)
    return render(request, "finance/statement_charity.html", {"charity": charity, "statement": statement})


@require_safe
def charity_statement_xlsx_view(request, slug: str):
    charity = _charity(request, slug)
    content = statements.charity_statement_xlsx(statements.charity_statement(charity), get_language() or "ar")
    return _download(content, XLSX, f"{charity.slug}-statement.xlsx")


@require_safe
def charity_statement_pdf_view(request, slug: str):
    charity = _charity(request, slug)
    content = statements.charity_statement_pdf(statements.charity_statement(charity))
    return _download(content, "application/pdf", f"{charity.slug}-statement.pdf")
