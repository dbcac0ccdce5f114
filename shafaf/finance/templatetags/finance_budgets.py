"""Template helpers of the budget pages: amounts as "1,250.500 KWD" (Western digits, the currency's decimals)."""

from django import template

from shafaf.core.money import Money

from .. import selectors

register = template.Library()


@register.filter
def money_text(money) -> str:
    return selectors.money_text(money) if isinstance(money, Money) else ""


@register.filter
def signed_money_text(money) -> str:
    if not isinstance(money, Money):
        return ""
    return ("+" if money.minor > 0 else "") + money_text(money)


@register.simple_tag
def period_amount(period, currency: str) -> str:
    return money_text(Money(period.amount_minor, currency))


@register.simple_tag
def line_name(line, language: str | None = None) -> str:
    if (language or "ar").startswith("ar"):
        return line.name_ar or line.name_en
    return line.name_en or line.name_ar
