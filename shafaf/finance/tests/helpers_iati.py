"""A deliberately separate, simple computation of which IATI activities spend more than their budgets: plain
xml.etree, Decimal and the ministry's rate table read straight from its CSV. It shares no code with
shafaf.finance.iati_import, rates or rollup, so that the test comparing them can fail.

Definition (issue 6, part 7):
- the project's currency is the activity's default-currency, else the currency of its first budget (then of its
  first disbursement or expenditure);
- budget = per period (start, end) the revised budgets (type 2) where there are any, else the original ones
  (type 1, or no type); spent = the sum of the transactions of type 3 (disbursement) and 4 (expenditure);
- amounts in the project's currency are summed exactly; amounts in another currency are converted at the rate
  of the period's start (budgets) or of the value-date, else the transaction-date (transactions): the rate of
  that day or the latest in the 31 days before it, through the dinar (amount × rate(from) / rate(to));
- budget and spent are each rounded once to the currency's minor unit (half-even), then compared.
Activities without any budget are left out (nothing to over-spend); so are those with a negative budget.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

# ISO 4217 minor units of the corpus's currencies, written out here on purpose (not read from shafaf.core.money).
DIGITS = {
    "AUD": 2,
    "BDT": 2,
    "CAD": 2,
    "CHF": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "KRW": 0,
    "KWD": 3,
    "MNT": 2,
    "NGN": 2,
    "NOK": 2,
    "NZD": 2,
    "SEK": 2,
    "USD": 2,
}
MAX_AGE = dt.timedelta(days=31)


class RateTable:
    def __init__(self, path: Path):
        rows = defaultdict(list)
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows[row["currency"].strip()].append((dt.date.fromisoformat(row["date"].strip()), Decimal(row["rate"])))
        self.dates = {code: [d for d, _r in sorted(items)] for code, items in rows.items()}
        self.rates = {code: [r for _d, r in sorted(items)] for code, items in rows.items()}

    def kwd(self, code: str, day: dt.date) -> Decimal:
        if code == "KWD":
            return Decimal(1)
        index = bisect.bisect_right(self.dates.get(code, []), day) - 1
        if index < 0 or day - self.dates[code][index] > MAX_AGE:
            raise LookupError(f"no rate for {code} on {day}")
        return self.rates[code][index]

    def to(self, value: Decimal, source: str, target: str, day: dt.date) -> Decimal:
        if source == target:
            return value
        return value * self.kwd(source, day) / self.kwd(target, day)


@dataclass
class Figures:
    identifier: str
    currency: str
    budget: int  # minor units
    spent: int
    converted: int = 0  # amounts converted from another currency (the importer rounds each: half a unit apiece)

    @property
    def over(self) -> bool:
        return self.spent > self.budget

    def beyond(self, threshold_bp: int) -> bool:
        return self.spent * 10000 > self.budget * (10000 + threshold_bp)


def _minor(value: Decimal, code: str) -> int:
    return int((value * Decimal(10) ** DIGITS[code]).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _day(text: str | None) -> dt.date:
    return dt.date.fromisoformat((text or "")[:10])


def activity_figures(path: Path, table: RateTable) -> dict[str, Figures]:
    found: dict[str, Figures] = {}
    for _event, element in ET.iterparse(str(path)):  # noqa: S314 - the shared data file
        if element.tag != "iati-activity":
            continue
        identifier = (element.findtext("iati-identifier") or "").strip()
        default = (element.get("default-currency") or "").strip()
        budgets = element.findall("budget")
        spending = [t for t in element.findall("transaction") if t.find("transaction-type").get("code") in ("3", "4")]
        values = [b.find("value") for b in budgets] + [t.find("value") for t in spending]
        currency = default or next((v.get("currency") for v in values if v.get("currency")), "USD")
        by_period: dict[tuple, dict[str, list]] = defaultdict(lambda: {"1": [], "2": []})
        negative = False
        for budget in budgets:
            value = budget.find("value")
            amount = Decimal(value.text.strip())
            negative |= amount < 0
            start = _day(budget.find("period-start").get("iso-date"))
            end = _day(budget.find("period-end").get("iso-date"))
            kind = "2" if budget.get("type") == "2" else "1"
            by_period[(start, end)][kind].append((amount, value.get("currency") or default or currency, start))
        if not budgets or negative:
            element.clear()
            continue
        budget_total = Decimal(0)
        converted = 0
        for kinds in by_period.values():
            for amount, code, start in kinds["2"] or kinds["1"]:
                budget_total += table.to(amount, code, currency, start)
                converted += code != currency
        spent_total = Decimal(0)
        for transaction in spending:
            value = transaction.find("value")
            date = transaction.find("transaction-date")
            day = _day(value.get("value-date") or (date.get("iso-date") if date is not None else None))
            code = value.get("currency") or default or currency
            spent_total += table.to(Decimal(value.text.strip()), code, currency, day)
            converted += code != currency
        found[identifier] = Figures(
            identifier, currency, _minor(budget_total, currency), _minor(spent_total, currency), converted
        )
        element.clear()
    return found


_SHIPPED_ROWS: list[tuple[str, dt.date, str, str]] | None = None


def load_rates_quickly() -> None:
    """The shipped rate table as rows, for tests that need the rates as data (the import service that loads it is
    tested in test_rates): one bulk insert of rows parsed once per test session, instead of the audited import."""
    from shafaf.finance.models import ExchangeRate
    from shafaf.finance.rates_import import SHIPPED_TABLE

    global _SHIPPED_ROWS
    if _SHIPPED_ROWS is None:
        with Path(SHIPPED_TABLE).open(encoding="utf-8") as handle:
            _SHIPPED_ROWS = [
                (row["currency"], dt.date.fromisoformat(row["date"]), row["rate"], row["source"])
                for row in csv.DictReader(handle)
            ]
    ExchangeRate.objects.bulk_create(
        [ExchangeRate(currency=c, on_date=d, rate=r, source=s) for c, d, r, s in _SHIPPED_ROWS],
        batch_size=2000,
        ignore_conflicts=True,
    )
