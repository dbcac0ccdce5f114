"""The ministry's exchange rates: looking a rate up and converting with it.

A rate is the number of Kuwaiti dinars one unit of a currency buys on a date (ExchangeRate). A conversion uses
the rate of its date, or the latest one before it within FinanceSettings.rate_max_age_days; without one it is
refused with RateMissing, never guessed. Between two currencies other than the dinar the conversion crosses
through the dinar with both rates of the same date, and rounds once (ROUND_HALF_EVEN). Every converted figure
keeps the rate it used and that rate's date."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money, convert, convert_fraction, minor_digits

from .models import ExchangeRate, FinanceSettings

BASE_CURRENCY = "KWD"
ROUNDING = decimal.ROUND_HALF_EVEN
# A rate is kept to this many significant digits when two rates are crossed (the rates themselves are exact).
CROSS_RATE_DIGITS = 28


class RateMissing(DomainError):
    """No usable rate for a currency on a date."""

    def __init__(self, currency: str, on_date: dt.date, max_age_days: int):
        self.currency = currency
        self.on_date = on_date
        super().__init__(
            _(
                "There is no exchange rate for %(currency)s on %(date)s or in the %(days)s days before it; "
                "the ministry must enter one before this amount can be converted."
            )
            % {"currency": currency, "date": on_date.isoformat(), "days": max_age_days},
            code="rate_missing",
            fields={
                "currency": [
                    _("No exchange rate for %(currency)s on %(date)s.")
                    % {"currency": currency, "date": on_date.isoformat()}
                ]
            },
        )


@dataclass(frozen=True)
class RateQuote:
    currency: str
    rate: Decimal  # KWD per one unit of `currency`
    on_date: dt.date | None  # the date of the rate used; None for the dinar itself


@dataclass(frozen=True)
class Conversion:
    money: Money  # the converted amount
    rate: Decimal  # units of the target currency per unit of the source currency
    rate_date: dt.date | None  # the date of the rate(s) used; None when no conversion was needed

    @property
    def rate_text(self) -> str:
        return format(self.rate.normalize(), "f") if self.rate_date else ""


def settings() -> FinanceSettings:
    """The ministry's finance settings (the single row, created with the defaults when missing)."""
    found, _created = FinanceSettings.objects.get_or_create(pk=1)
    return found


def parse_rate(text) -> Decimal:
    """A rate as an exact positive Decimal; ValueError with a readable message otherwise. Floats refused."""
    if isinstance(text, float):
        raise TypeError("rates are never floats")
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(_("%(text)s is not a number.") % {"text": text})
    if not value.is_finite() or value <= 0:
        raise ValueError(_("A rate must be a positive number, not %(text)s.") % {"text": text})
    if value.as_tuple().exponent < -12 or value >= Decimal("1e9"):  # type: ignore[operator]
        raise ValueError(_("%(text)s is out of range for an exchange rate.") % {"text": text})
    return value


def rate_on(currency: str, on_date: dt.date, *, max_age_days: int | None = None) -> RateQuote:
    """The ministry's rate of `currency` (to KWD) on `on_date`, or the latest before it within the allowed age."""
    code = currency.strip().upper()
    minor_digits(code)  # UnknownCurrency for a code that is not ISO 4217
    if code == BASE_CURRENCY:
        return RateQuote(code, Decimal(1), None)
    if max_age_days is None:
        max_age_days = settings().rate_max_age_days
    found = (
        ExchangeRate.objects.filter(
            currency=code, on_date__lte=on_date, on_date__gte=on_date - dt.timedelta(days=max_age_days)
        )
        .order_by("-on_date")
        .values_list("rate", "on_date")
        .first()
    )
    if found is None:
        raise RateMissing(code, on_date, max_age_days)
    return RateQuote(code, Decimal(found[0]), found[1])


def cross_rate(source: RateQuote, target: RateQuote) -> Decimal:
    """Units of target's currency per unit of source's currency."""
    if target.rate == 1:
        return source.rate
    with decimal.localcontext() as context:
        context.prec = CROSS_RATE_DIGITS
        context.rounding = ROUNDING
        return source.rate / target.rate


def convert_on(
    money: Money, to_currency: str, on_date: dt.date, *, max_age_days: int | None = None, quote=None
) -> Conversion:
    """`money` in `to_currency` at the ministry's rates of `on_date` (ROUND_HALF_EVEN to a minor unit). `quote`
    replaces `rate_on` (same signature), e.g. by one that remembers the rates a bulk import has already read."""
    target = to_currency.strip().upper()
    if money.currency == target:
        return Conversion(money, Decimal(1), None)
    if max_age_days is None:
        max_age_days = settings().rate_max_age_days
    quote = quote or rate_on
    source_quote = quote(money.currency, on_date, max_age_days=max_age_days)
    target_quote = quote(target, on_date, max_age_days=max_age_days)
    if target_quote.rate == 1:
        converted = convert(money, target, source_quote.rate, rounding=ROUNDING)
        rate = source_quote.rate
    else:
        # Cross through the dinar exactly: amount × source_rate / target_rate, rounded once.
        numerator, denominator = source_quote.rate.as_integer_ratio()
        t_num, t_den = target_quote.rate.as_integer_ratio()
        converted = convert_fraction(money, target, numerator * t_den, denominator * t_num, rounding=ROUNDING)
        rate = cross_rate(source_quote, target_quote)
    dates = [d for d in (source_quote.on_date, target_quote.on_date) if d is not None]
    return Conversion(converted, rate, min(dates) if dates else on_date)
