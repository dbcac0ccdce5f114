"""Indicator values as exact integers in thousandths (choices.SCALE) of their unit: parsing what people type
(Latin or Arabic-Indic digits, "." or the Arabic decimal separator "٫"), formatting for display, and the share
of a target reached. Pure functions: no database."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import SCALE, Unit

# The largest value kept: 10**15 thousandths (a trillion units), far beyond any real indicator.
MAX_MILLI = 10**15
PERCENT_MAX_MILLI = 100 * SCALE
DECIMALS = 3

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _normalise(text: str) -> str:
    text = str(text).translate(_DIGITS).strip()
    text = text.replace("٫", ".").replace("٬", "").replace(",", "").replace("\u066c", "")
    text = text.replace("\u00a0", "").replace(" ", "")
    if text.endswith("%"):
        text = text[:-1]
    return text


def parse_value(text: str | int | Decimal, *, unit: str) -> int:
    """The value in thousandths of the unit. Raises ValidationError (translated) for anything that is not a
    plain number with at most three decimals, for a negative value, a percentage beyond 100 and a number
    beyond 10**15 thousandths."""
    if isinstance(text, bool) or text is None:
        raise ValidationError(_("Enter a number."), code="invalid")
    if isinstance(text, float):
        text = repr(text)
    if isinstance(text, int):
        number = Decimal(text)
    elif isinstance(text, Decimal):
        number = text
    else:
        cleaned = _normalise(text)
        if not cleaned or not _NUMBER.match(cleaned):
            raise ValidationError(_("Enter a number, for example 1250 or 12.5."), code="invalid")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValidationError(_("Enter a number, for example 1250 or 12.5."), code="invalid") from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number, for example 1250 or 12.5."), code="invalid")
    if abs(number) > Decimal(MAX_MILLI) / SCALE:
        raise ValidationError(_("This number is too large."), code="too_large")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -DECIMALS:
        raise ValidationError(_("Use at most three decimals."), code="too_precise")
    milli = int(number * SCALE)
    if milli < 0:
        raise ValidationError(_("The value cannot be negative."), code="negative")
    if unit == Unit.PERCENT and milli > PERCENT_MAX_MILLI:
        raise ValidationError(_("A percentage cannot exceed 100."), code="percent_range")
    if milli > MAX_MILLI:
        raise ValidationError(_("This number is too large."), code="too_large")
    return milli


def to_decimal(value_milli: int) -> Decimal:
    """The exact decimal value of thousandths, without trailing zeros (12500 → 12.5)."""
    value = Decimal(value_milli) / SCALE
    normalised = value.normalize()
    return normalised.quantize(Decimal(1)) if normalised == normalised.to_integral() else normalised


def value_text(value_milli: int | None) -> str:
    """The plain text of a value ("1234.5"), as an input field or the API shows it ("" for None)."""
    if value_milli is None:
        return ""
    return format(to_decimal(value_milli), "f")


def format_value(value_milli: int | None, unit: str) -> str:
    """The value for display: "1,234.5", "75%", "—" when there is none."""
    if value_milli is None:
        return "—"
    text = format(to_decimal(value_milli), ",f")
    if unit == Unit.PERCENT:
        return f"{text}%"
    return text


def percent_bp(actual_milli: int | None, target_milli: int | None) -> int | None:
    """Basis points of the target reached (10000 = 100 %), rounded half-even; None without a target."""
    if actual_milli is None or not target_milli:
        return None
    return int((Decimal(actual_milli) * 10000 / Decimal(target_milli)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def mean_milli(values: list[int]) -> int | None:
    """The mean of values in thousandths, rounded half-even to a thousandth; None for no value."""
    if not values:
        return None
    return int((Decimal(sum(values)) / len(values)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
