"""Reading the ministry's exchange rates and their imports (rates are public knowledge: whoever may read them,
permissions.can_view_rates, reads all of them)."""

from __future__ import annotations

from django.db.models import Max, Q
from django.http import Http404

from .models import ExchangeRate, FinanceImport


def rate_list():
    return ExchangeRate.objects.select_related("entered_by").order_by("currency", "-on_date", "-id")


def latest_rates() -> list[ExchangeRate]:
    """The latest rate of each currency (one query for the dates, one for the rows)."""
    last = ExchangeRate.objects.values("currency").annotate(last=Max("on_date")).order_by()
    condition = Q(pk__in=[])
    for row in last:
        condition |= Q(currency=row["currency"], on_date=row["last"])
    return list(ExchangeRate.objects.filter(condition).order_by("currency"))


def rate_imports(limit: int = 10):
    return FinanceImport.objects.filter(kind=FinanceImport.Kind.RATES).select_related("created_by")[:limit]


def rate_import_get(pk) -> FinanceImport:
    found = FinanceImport.objects.filter(kind=FinanceImport.Kind.RATES, pk=pk).select_related("created_by").first()
    if found is None:
        raise Http404
    return found
