"""The ministry's exchange-rates page: the rates filtered by currency and dates, the latest rate of each currency,
a form to enter one rate and a CSV upload with the report of its refused rows. Read by the ministry, the auditors
and the charities' members; written by the ministry's administrators only."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST, require_safe

from shafaf.core.exceptions import DomainError
from shafaf.core.views import htmx_template, refuse_on_form
from shafaf.interop.tables import Column, attr, export_filtered

from . import permissions, rates_import, selectors_rates
from .filters import ExchangeRateFilter
from .forms_rates import RateForm, RateImportForm


def _require_reader(user) -> None:
    if not permissions.can_view_rates(user):
        raise PermissionDenied(_("The exchange rates are read by the ministry, the auditors and the charities."))


def _require_manager(user) -> None:
    if not permissions.can_manage_rates(user):
        raise PermissionDenied(_("Only the ministry's administrators keep the exchange rates."))


def _render_page(request, *, rate_form=None, import_form=None, status=200):
    user = request.user
    filterset = ExchangeRateFilter(request.GET or None, queryset=selectors_rates.rate_list())
    valid = not filterset.is_bound or filterset.is_valid()
    page = Paginator(filterset.qs if valid else filterset.queryset.none(), 50).get_page(request.GET.get("page"))
    can_manage = permissions.can_manage_rates(user)
    context = {
        "filter": filterset,
        "page": page,
        "latest": selectors_rates.latest_rates(),
        "imports": selectors_rates.rate_imports() if can_manage else [],
        "can_manage": can_manage,
        "rate_form": rate_form or (RateForm() if can_manage else None),
        "import_form": import_form or (RateImportForm() if can_manage else None),
        "query": request.GET.urlencode() if valid else "",
    }
    return render(request, "finance/rates.html", context, status=status if valid else 400)


# The columns of the exchange rates list, as its table shows them (and its CSV/Excel downloads).
RATE_COLUMNS = [
    Column("currency", _lazy("Currency"), attr("currency")),
    Column("date", _lazy("Date"), attr("on_date")),
    Column("rate", _lazy("Rate (KWD per unit)"), attr("rate")),
    Column("source", _lazy("Source"), attr("source")),
]


@require_safe
def rates_view(request):
    _require_reader(request.user)
    filterset = ExchangeRateFilter(request.GET or None, queryset=selectors_rates.rate_list())
    if (response := export_filtered(request, filterset, RATE_COLUMNS, "exchange-rates")) is not None:
        return response
    return _render_page(request)


@require_POST
def rate_create_view(request):
    _require_manager(request.user)
    form = RateForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            rate = rates_import.rate_set(
                actor=request.user,
                currency=data["currency"],
                on_date=data["on_date"],
                rate=data["rate"],
                source=data.get("source", ""),
            )
        except DomainError as refused:
            status = refuse_on_form(form, refused)
        else:
            messages.success(
                request,
                _("The rate of %(currency)s on %(date)s is %(rate)s KWD.")
                % {"currency": rate.currency, "date": rate.on_date.isoformat(), "rate": rate.rate},
            )
            return redirect("finance:rates")
    return _render_page(request, rate_form=form, status=status)


@require_POST
def rates_import_view(request):
    _require_manager(request.user)
    form = RateImportForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            batch = rates_import.rates_import(
                actor=request.user, file=form.cleaned_data["file"], source=form.cleaned_data.get("source", "")
            )
        except DomainError as refused:
            status = refuse_on_form(form, refused)
        else:
            if batch.rows_failed:
                messages.warning(
                    request,
                    _("%(ok)s rows kept, %(failed)s refused: see the errors below.")
                    % {"ok": batch.rows_ok, "failed": batch.rows_failed},
                )
            else:
                messages.success(request, _("%(ok)s rows kept.") % {"ok": batch.rows_ok})
            return redirect("finance:rates_import_detail", batch.pk)
    return _render_page(request, import_form=form, status=status)


@require_safe
def rates_import_detail_view(request, import_pk: int):
    """An import's progress, counts and refused rows; while it runs, htmx reloads its status every second."""
    _require_reader(request.user)
    batch = selectors_rates.rate_import_get(import_pk)
    template = htmx_template(request, "finance/rates_import.html", "finance/_rates_import_status.html")
    return render(request, template, {"batch": batch, "errors": batch.errors[:1000]})
