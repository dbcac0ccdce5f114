"""Filters of the statements, the portfolio and the earned-value page: amounts and basis points as exact text."""

from django import template

from shafaf.core.money import Money

from ..selectors import money_text
from ..statements import percent_text

register = template.Library()


@register.filter
def money(value) -> str:
    """A Money as "1,250.500 KWD" (empty for None)."""
    return money_text(value) if isinstance(value, Money) else ""


@register.filter
def bp_percent(value) -> str:
    """Basis points as "104.50 %" (empty for None)."""
    return percent_text(value) if value is not None else ""


@register.filter
def index_text(value) -> str:
    """An index (CPI, SPI) as "1.25", or "—" when it cannot be computed."""
    return "—" if value is None else str(value)


@register.filter
def minor(value, currency) -> str:
    """Minor units of a currency as "1,250.500 KWD": {{ deviation.budget_minor|minor:deviation.currency }}."""
    if value is None or not currency:
        return ""
    return money_text(Money(int(value), currency))
