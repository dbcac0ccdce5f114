"""Money: an exact amount in integer minor units of one ISO 4217 currency (DESIGN.md §4, "money").

Rules this module enforces:

* An amount is an ``int`` of minor units (fils for KWD, cents for USD) and a currency code. A float
  is refused everywhere with ``TypeError``; ``Decimal``, ``int`` and ``str`` amounts are parsed exactly.
* The number of minor digits of each currency comes from ISO 4217 (``data/currency_minor_units.json``);
  an unknown code raises ``UnknownCurrency``. An amount with more decimals than its currency has is
  refused (``TooManyDecimals``) unless the caller names a rounding mode.
* ``+`` and ``-`` work between amounts of one currency only (``CurrencyMismatch`` otherwise); there is
  no ``*`` or ``/``: ``multiply``, ``divide`` and ``convert`` take a rounding mode, always by name.
* Every value fits a database ``BIGINT`` (``BigIntegerField``), so any ``Money`` can be stored.

Rounding modes are the ``decimal`` module's constants (``ROUND_HALF_UP``, ``ROUND_HALF_EVEN``, ...). All
arithmetic is done on exact integers and fractions, never subject to a ``decimal`` context's precision.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shafaf.core.exceptions import DomainError

__all__ = [
    "BIGINT_MAX",
    "BIGINT_MIN",
    "KWD_SYMBOL_AR",
    "ROUNDING_MODES",
    "CurrencyMismatch",
    "InvalidAmount",
    "Money",
    "MoneyError",
    "TooManyDecimals",
    "UnknownCurrency",
    "convert",
    "convert_fraction",
    "format_amount",
    "format_money",
    "known_currencies",
    "minor_digits",
    "parse_money",
    "round_ratio",
    "sum_money",
]

# The Arabic abbreviation of the Kuwaiti dinar (GLOSSARY.md: دينار كويتي (د.ك)).
KWD_SYMBOL_AR = "د.ك"

# Range of a signed 64-bit integer: PostgreSQL's and SQLite's BIGINT, Django's BigIntegerField.
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1

ROUNDING_MODES = frozenset(
    {
        decimal.ROUND_CEILING,
        decimal.ROUND_DOWN,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_UP,
        decimal.ROUND_05UP,
    }
)

# Minor units per currency: ISO 4217:2015, "Minor unit" column of list one (current currencies and
# funds) and list three (historic denominations). The table covers every code of the IATI Currency
# codelist the projects use; see the "_source" and "_notes" keys of the file.
_MINOR_UNITS_PATH = Path(__file__).resolve().parent / "data" / "currency_minor_units.json"

# Exponent bounds for Decimal inputs: enough for any real amount, rate or weight, and small enough
# that converting a hostile ``Decimal("1e-999999999")`` to an exact fraction cannot exhaust memory.
_MAX_DECIMAL_EXPONENT = 1000


def _(message: str) -> str:
    """Translate when Django is configured; plain English when this module is used on its own."""
    try:
        from django.utils.translation import gettext

        return gettext(message)
    except ImproperlyConfigured:
        return message


# --------------------------------------------------------------------------------------------------
# Errors


class MoneyError(DomainError):
    """An amount or currency that the money rules refuse."""

    def __init__(self, message, *, code: str = "invalid_money", fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)


class UnknownCurrency(MoneyError):
    def __init__(self, currency: object):
        self.currency = currency
        super().__init__(
            _("Unknown currency code: %(code)s.") % {"code": currency},
            code="unknown_currency",
        )


class CurrencyMismatch(MoneyError):
    """Arithmetic or comparison between amounts of two currencies: convert one of them first."""

    def __init__(self, left: str, right: str, operation: str = "combine"):
        self.left = left
        self.right = right
        self.operation = operation
        super().__init__(
            _("Amounts in %(left)s and %(right)s cannot be combined; convert one of them first.")
            % {"left": left, "right": right},
            code="currency_mismatch",
        )


class TooManyDecimals(MoneyError):
    def __init__(self, amount: object, currency: str, digits: int):
        self.amount = amount
        self.currency = currency
        self.digits = digits
        super().__init__(
            _("%(amount)s has more decimals than %(currency)s allows (%(digits)s).")
            % {"amount": amount, "currency": currency, "digits": digits},
            code="too_many_decimals",
        )


class InvalidAmount(MoneyError):
    def __init__(self, message, *, code: str = "invalid_amount"):
        super().__init__(message, code=code)


# --------------------------------------------------------------------------------------------------
# Currencies


@lru_cache(maxsize=1)
def _minor_units() -> dict[str, int]:
    data = json.loads(_MINOR_UNITS_PATH.read_text(encoding="utf-8"))
    return dict(data["minor_units"])


def known_currencies() -> frozenset[str]:
    """Every currency code whose minor units are known."""
    return frozenset(_minor_units())


def _normalise_code(currency: object) -> str:
    if not isinstance(currency, str):
        raise TypeError(f"currency must be an ISO 4217 code (str), not {type(currency).__name__}")
    code = currency.strip().upper()
    if code not in _minor_units():
        raise UnknownCurrency(currency)
    return code


def minor_digits(currency: str) -> int:
    """The number of minor digits of ``currency`` (KWD 3, USD 2, JPY 0); ``UnknownCurrency`` otherwise."""
    return _minor_units()[_normalise_code(currency)]


# --------------------------------------------------------------------------------------------------
# Exact arithmetic helpers


def _check_rounding(rounding: object) -> str:
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of the decimal module's ROUND_* modes, not {rounding!r}")
    return rounding  # type: ignore[return-value]


def round_ratio(num: int, den: int, rounding: str) -> int:
    """``num / den`` rounded to an integer with a ``decimal`` rounding mode, exactly (``den`` > 0): the one
    integer division with a named rounding that amounts, ratios and basis points all use."""
    return _round_ratio(num, den, _check_rounding(rounding))


def _round_ratio(num: int, den: int, rounding: str) -> int:
    """``num / den`` rounded to an integer with a ``decimal`` rounding mode, exactly (``den`` > 0)."""
    q, r = divmod(num, den)  # floor division: q = floor(num / den), 0 <= r < den
    if r == 0:
        return q
    positive = num > 0
    if rounding == decimal.ROUND_FLOOR:
        return q
    if rounding == decimal.ROUND_CEILING:
        return q + 1
    toward_zero = q if positive else q + 1
    away_from_zero = q + 1 if positive else q
    if rounding == decimal.ROUND_DOWN:
        return toward_zero
    if rounding == decimal.ROUND_UP:
        return away_from_zero
    if rounding == decimal.ROUND_05UP:
        return away_from_zero if abs(toward_zero) % 5 == 0 else toward_zero
    twice = 2 * r
    if twice < den:
        return q
    if twice > den:
        return q + 1
    if rounding == decimal.ROUND_HALF_UP:
        return away_from_zero
    if rounding == decimal.ROUND_HALF_DOWN:
        return toward_zero
    if rounding == decimal.ROUND_HALF_EVEN:
        return q if q % 2 == 0 else q + 1
    raise ValueError(f"unknown rounding mode {rounding!r}")  # pragma: no cover - _check_rounding first


def _decimal_ratio(value: Decimal) -> tuple[int, int]:
    """An exact ``(numerator, denominator)`` of a finite Decimal, denominator a power of ten."""
    if not value.is_finite():
        raise InvalidAmount(_("%(value)s is not a finite number.") % {"value": value})
    sign, digits, exponent = value.as_tuple()
    if not -_MAX_DECIMAL_EXPONENT <= exponent <= _MAX_DECIMAL_EXPONENT:  # type: ignore[operator]
        raise InvalidAmount(_("%(value)s is out of range.") % {"value": value}, code="amount_out_of_range")
    coefficient = int("".join(map(str, digits)) or "0")
    if sign:
        coefficient = -coefficient
    if exponent >= 0:  # type: ignore[operator]
        return coefficient * 10**exponent, 1  # type: ignore[operator]
    return coefficient, 10**-exponent  # type: ignore[operator]


def _number_ratio(value: object, what: str) -> tuple[int, int]:
    """int or Decimal as an exact fraction; float, bool and anything else refused with TypeError."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{what} must be an int or a Decimal, not {type(value).__name__}")
    if isinstance(value, int):
        return value, 1
    return _decimal_ratio(value)


_ARABIC_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬−",  # Arabic-Indic, extended Arabic-Indic, Arabic separators, minus sign
    "01234567890123456789.,-",
)
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)


def _clean_text(text: str) -> str:
    text = text.translate(_BIDI_MARKS).translate(_ARABIC_DIGITS)
    return " ".join(text.split())  # every kind of space (NBSP, narrow NBSP ...) to one ASCII space


def _parse_number(text: str) -> Decimal:
    cleaned = _clean_text(text)
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        raise InvalidAmount(_("%(text)s is not an amount.") % {"text": text})
    return Decimal(cleaned)


# --------------------------------------------------------------------------------------------------
# Money


class Money:
    """An immutable amount: ``minor`` integer units of ``currency`` (an ISO 4217 code).

    ``Money(1250500, "KWD")`` is 1,250.500 KWD; ``Money.of("1250.5", "KWD")`` is the same amount given
    in major units. Values are hashable and compare equal only with the same amount and currency.
    """

    __slots__ = ("currency", "minor")

    minor: int
    currency: str

    def __init__(self, minor: int, currency: str):
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError(
                f"Money(minor, currency) takes integer minor units, not {type(minor).__name__}; "
                "use Money.of(amount, currency) for an amount in major units (Decimal or str)"
            )
        code = _normalise_code(currency)
        if not BIGINT_MIN <= minor <= BIGINT_MAX:
            raise InvalidAmount(
                _("The amount is too large to be stored (%(minor)s minor units of %(currency)s).")
                % {"minor": minor, "currency": code},
                code="amount_out_of_range",
            )
        object.__setattr__(self, "minor", int(minor))
        object.__setattr__(self, "currency", code)

    # -- construction --------------------------------------------------------------------------------

    @classmethod
    def of(cls, amount: int | Decimal | str, currency: str, *, rounding: str | None = None) -> Money:
        """The amount given in major units: ``Money.of("0.100", "KWD")`` is 100 fils.

        ``amount`` is an ``int``, a finite ``Decimal`` or a plain decimal string (``"-1250.5"``;
        Arabic-Indic digits accepted, no grouping, no exponent). Floats raise ``TypeError``. More
        decimals than the currency has raise ``TooManyDecimals`` unless ``rounding`` names a mode;
        trailing zeros are not extra decimals (``Decimal("1.2500")`` is 1.250 KWD).
        """
        if isinstance(amount, float):
            raise TypeError("Money refuses floats: give the amount as a Decimal or a str")
        code = _normalise_code(currency)
        if isinstance(amount, str):
            amount = _parse_number(amount)
        num, den = _number_ratio(amount, "amount")
        scaled = num * 10 ** _minor_units()[code]
        if scaled % den == 0:
            return cls(scaled // den, code)
        if rounding is None:
            raise TooManyDecimals(amount, code, _minor_units()[code])
        return cls(_round_ratio(scaled, den, _check_rounding(rounding)), code)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """The amount in minor units, as stored (``BigIntegerField`` + currency code)."""
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_dict(cls, data: dict) -> Money:
        """The inverse of ``to_dict``: ``{"amount": "1250.500", "currency": "KWD"}``."""
        amount = data["amount"]
        if not isinstance(amount, str):
            raise TypeError("amount must be a str in a money dict")
        return cls.of(amount, data["currency"])

    # -- reading -------------------------------------------------------------------------------------

    @property
    def digits(self) -> int:
        """Minor digits of the currency (3 for KWD)."""
        return _minor_units()[self.currency]

    @property
    def amount(self) -> Decimal:
        """The exact amount in major units, with the currency's number of decimals: Decimal('1250.500')."""
        return Decimal(f"{self.minor}E-{self.digits}")

    @property
    def amount_text(self) -> str:
        """The amount in major units as plain text, never in exponent notation: "1250.500", "0.00000001"."""
        return format(self.amount, "f")

    def to_dict(self) -> dict[str, str]:
        """A JSON-safe form, the amount as a string (never a float): {"amount": "1250.500", "currency": "KWD"}."""
        return {"amount": self.amount_text, "currency": self.currency}

    def is_zero(self) -> bool:
        return self.minor == 0

    def is_positive(self) -> bool:
        return self.minor > 0

    def is_negative(self) -> bool:
        return self.minor < 0

    # -- immutability, identity -------------------------------------------------------------------------

    def __setattr__(self, name, value):
        raise AttributeError("Money is immutable")

    def __delattr__(self, name):
        raise AttributeError("Money is immutable")

    def __reduce__(self):
        return (Money, (self.minor, self.currency))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __eq__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor == other.minor and self.currency == other.currency

    def __hash__(self):
        return hash((Money, self.minor, self.currency))

    def __repr__(self):
        return f"Money.of({self.amount_text!r}, {self.currency!r})"

    def __str__(self):
        return f"{self.amount_text} {self.currency}"

    # -- arithmetic ----------------------------------------------------------------------------------

    def _same_currency(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency, operation)
        return other

    def __add__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self):
        return Money(-self.minor, self.currency)

    def __pos__(self):
        return self

    def __abs__(self):
        return Money(abs(self.minor), self.currency)

    def multiply(self, factor: int | Decimal, *, rounding: str) -> Money:
        """``self * factor``, rounded to a minor unit with the named mode: ``m.multiply(Decimal("0.075"),
        rounding=ROUND_HALF_UP)``. ``factor`` is an int or a Decimal, never a float."""
        num, den = _number_ratio(factor, "factor")
        return Money(_round_ratio(self.minor * num, den, _check_rounding(rounding)), self.currency)

    def divide(self, divisor: int | Decimal, *, rounding: str) -> Money:
        """``self / divisor`` rounded with the named mode. To share an amount without losing a minor unit,
        use ``shafaf.core.allocation`` instead."""
        num, den = _number_ratio(divisor, "divisor")
        if num == 0:
            raise ZeroDivisionError("Money divided by zero")
        if num < 0:
            num, den = -num, -den
        return Money(_round_ratio(self.minor * den, num, _check_rounding(rounding)), self.currency)

    # -- comparison (one currency only) ---------------------------------------------------------------

    def __lt__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor < other.minor

    def __le__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor <= other.minor

    def __gt__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor > other.minor

    def __ge__(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor >= other.minor


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    """The exact sum of ``amounts``, all in ``currency`` (``CurrencyMismatch`` otherwise); zero when empty."""
    total = Money.zero(currency)
    for amount in amounts:
        total += total._same_currency(amount, "add")
    return total


def convert(money: Money, to_currency: str, rate: int | Decimal, *, rounding: str) -> Money:
    """``money`` in ``to_currency`` at ``rate``, rounded to a minor unit of ``to_currency`` with the named mode.

    ``rate`` is the price of one major unit of ``money.currency`` in major units of ``to_currency``
    (KWD per USD to convert dollars to dinars), a positive int or Decimal. The arithmetic is exact;
    only the final rounding loses anything. Keeping the rate and its date is the caller's job.
    """
    if not isinstance(money, Money):
        raise TypeError(f"convert takes Money, not {type(money).__name__}")
    target = _normalise_code(to_currency)
    num, den = _number_ratio(rate, "rate")
    if num <= 0:
        raise InvalidAmount(_("An exchange rate must be positive, not %(rate)s.") % {"rate": rate}, code="invalid_rate")
    _check_rounding(rounding)
    if target == money.currency:
        if num != den:
            raise InvalidAmount(
                _("The rate from %(currency)s to itself must be 1, not %(rate)s.") % {"currency": target, "rate": rate},
                code="invalid_rate",
            )
        return money
    return convert_fraction(money, target, num, den, rounding=rounding)


def convert_fraction(money: Money, to_currency: str, numerator: int, denominator: int, *, rounding: str) -> Money:
    """``money`` in ``to_currency`` at the exact rate ``numerator / denominator`` (major units of ``to_currency``
    per major unit of ``money.currency``, both positive ints), rounded once with the named mode. Used to cross
    two rates without rounding the cross rate."""
    target = _normalise_code(to_currency)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (numerator, denominator)):
        raise InvalidAmount(_("An exchange rate must be positive."), code="invalid_rate")
    scaled = money.minor * numerator * 10 ** _minor_units()[target]
    return Money(_round_ratio(scaled, denominator * 10**money.digits, _check_rounding(rounding)), target)


# --------------------------------------------------------------------------------------------------
# Formatting and parsing


def _language(language: str | None) -> str:
    if language:
        return language
    try:
        from django.utils.translation import get_language

        return get_language() or "ar"
    except ImproperlyConfigured:
        return "ar"


def format_amount(money: Money) -> str:
    """The number alone, Western digits, "," grouping and "." decimals: ``-1,250.500``."""
    whole, fraction = divmod(abs(money.minor), 10**money.digits)
    text = f"{whole:,}"
    if money.digits:
        text += "." + str(fraction).rjust(money.digits, "0")
    return "-" + text if money.minor < 0 else text


def format_money(money: Money, language: str | None = None) -> str:
    """The amount for people: ``"1,250.500 د.ك"`` in Arabic, ``"KWD 1,250.500"`` in English.

    Digits are always Western, grouping ",", decimals "." and all the currency's minor digits are shown.
    Arabic puts the currency after the number, د.ك for the Kuwaiti dinar and the ISO code for others;
    a negative Arabic amount starts with LEFT-TO-RIGHT MARK + "-" (CLDR's minus sign for Arabic with
    Latin digits), so the sign stays with the number inside right-to-left text. ``language`` defaults to
    the active Django language (Arabic when none).
    """
    number = format_amount(money)
    if _language(language).lower().startswith("ar"):
        if money.minor < 0:
            number = "\u200e" + number
        symbol = KWD_SYMBOL_AR if money.currency == "KWD" else money.currency
        return f"{number} {symbol}"
    return f"{money.currency} {number}"


_MONEY_TEXT = re.compile(
    r"(?:(?P<before>[A-Za-z]{3}|د\.ك) ?)?"
    r"(?P<number>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"
    r"(?: ?(?P<after>[A-Za-z]{3}|د\.ك))?",
    re.ASCII,
)


def parse_money(text: str, currency: str | None = None, *, rounding: str | None = None) -> Money:
    """Read an amount as people write it; the inverse of ``format_money``.

    Accepts "KWD 1,250.500", "1,250.500 د.ك", "1250.5 KWD", Arabic-Indic digits and separators
    ("١٬٢٥٠٫٥ د.ك"), bidi marks and any spaces. The currency comes from the text or from ``currency``
    (both must agree when both are given). Grouping, when used, must be in threes. Decimals beyond the
    currency's are refused (``TooManyDecimals``) unless ``rounding`` names a mode.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_money reads a str, not {type(text).__name__}")
    cleaned = _clean_text(text)
    match = _MONEY_TEXT.fullmatch(cleaned)
    if not match or (match["before"] and match["after"]):
        raise InvalidAmount(_("%(text)s is not an amount.") % {"text": text})
    written = match["before"] or match["after"]
    if written == KWD_SYMBOL_AR:
        written = "KWD"
    codes = {_normalise_code(code) for code in (written, currency) if code}
    if not codes:
        raise InvalidAmount(_("%(text)s does not say its currency.") % {"text": text}, code="missing_currency")
    if len(codes) > 1:
        first, second = sorted(codes)
        raise CurrencyMismatch(first, second, "read")
    return Money.of(match["number"].replace(",", ""), codes.pop(), rounding=rounding)
