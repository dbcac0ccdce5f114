"""Keeping the ministry's exchange rates: one rate entered by hand (rate_set) and a table imported with a
report of every refused row (rates_import).

The table is a CSV (UTF-8 with or without a byte-order mark, or UTF-16 with its byte-order mark) or an Excel
workbook's first sheet, read by ``shafaf.interop.rows.read_table``, with a header row
``currency,date,rate[,source]`` (or the Arabic ``العملة,التاريخ,السعر,المصدر``). A rate is the number of Kuwaiti
dinars one unit of the currency buys, as exact decimal text (at most 12 decimals, no exponent, Arabic-Indic digits
accepted); dates are ISO (YYYY-MM-DD).

Each row is kept or refused whole; a refused row is reported in the platform's row-error format
(``shafaf.interop.rows.RowError``: ``{"row", "column", "value", "code", "message"}``, the row number counting the
header as row 1, as a spreadsheet does; the column named as the file's header writes it). A (currency, date)
already known gets its rate replaced only when the new rate differs, and each replacement is audited with the old
and the new rate. The import is written in chunks, so that its progress (FinanceImport.rows_done) can be followed
while it runs; a chunk is atomic.

Only the ministry's administrators keep the rates (permissions.can_manage_rates). The command ``import_rates``
and the demo seed may load the shipped table as the system (actor None): no FinanceImport row is kept then (it
needs a user), the audit event records the load without an actor."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit.services import record
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.core.money import UnknownCurrency, minor_digits
from shafaf.interop.rows import RowError, RowReport, TableError, normalise_column, read_table

from . import permissions, rates
from .models import ExchangeRate, FinanceImport

SHIPPED_TABLE = Path(__file__).resolve().parent / "data" / "rates.csv"
MAX_DECIMALS = 12
MAX_RATE = Decimal("1e9")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ERRORS_KEPT = 1000
CHUNK = 2000

# Header names (lower-case, stripped) to columns.
HEADERS = {
    "currency": "currency",
    "العملة": "currency",
    "date": "date",
    "التاريخ": "date",
    "rate": "rate",
    "السعر": "rate",
    "المصدر": "source",
    "source": "source",
}
REQUIRED = ("currency", "date", "rate")

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"))
_PLAIN_RATE = re.compile(r"\+?(\d+)(?:\.(\d+))?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

Progress = Callable[[int, int], None]


def _clean(text: str | None) -> str:
    return " ".join((text or "").translate(_BIDI).translate(_DIGITS).split())


def _refuse_unless_allowed(actor) -> None:
    if actor is not None and not permissions.can_manage_rates(actor):
        raise NotAllowed(_("Only the ministry's administrators keep the exchange rates."))


# --- reading one value ----------------------------------------------------------------------------------------------


def clean_currency(text: str | None) -> str:
    """An ISO 4217 code the platform knows; ValueError with a readable message otherwise."""
    code = _clean(text).upper()
    if not code:
        raise ValueError(_("The currency is missing."))
    try:
        minor_digits(code)
    except UnknownCurrency:
        raise ValueError(_("%(code)s is not a known ISO 4217 currency code.") % {"code": code})
    return code


def clean_date(text: str | None) -> dt.date:
    value = _clean(text)
    if not value:
        raise ValueError(_("The date is missing."))
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(_("%(text)s is not an ISO date: write it as YYYY-MM-DD (2024-03-31).") % {"text": value})
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("%(text)s is not a date of the calendar.") % {"text": value})


def clean_rate(text: str | Decimal | None, currency: str | None = None) -> tuple[Decimal, str]:
    """The rate as an exact positive Decimal and its text as stored; ValueError with a readable message otherwise.
    The dinar's own rate must be 1."""
    if isinstance(text, float):
        raise TypeError("rates are never floats")
    value_text = format(text, "f") if isinstance(text, Decimal) else _clean(text)
    if not value_text:
        raise ValueError(_("The rate is missing."))
    match = _PLAIN_RATE.fullmatch(value_text)
    if not match:
        raise ValueError(
            _("%(text)s is not a rate: write a positive decimal number such as 0.306512.") % {"text": value_text}
        )
    if match.group(2) and len(match.group(2)) > MAX_DECIMALS:
        raise ValueError(
            _("%(text)s has more than %(digits)s decimals.") % {"text": value_text, "digits": MAX_DECIMALS}
        )
    try:
        value = Decimal(value_text.lstrip("+"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        raise ValueError(_("%(text)s is not a number.") % {"text": value_text})
    if value <= 0:
        raise ValueError(_("A rate must be more than zero, not %(text)s.") % {"text": value_text})
    if value >= MAX_RATE:
        raise ValueError(_("%(text)s is out of range for an exchange rate.") % {"text": value_text})
    if currency == rates.BASE_CURRENCY and value != 1:
        raise ValueError(_("The Kuwaiti dinar's rate is always 1, not %(text)s.") % {"text": value_text})
    stored = format(value, "f")
    if "." in stored:
        whole, fraction = stored.split(".")
        stored = f"{int(whole)}.{fraction}"
    return value, stored


# --- one rate -------------------------------------------------------------------------------------------------------


def rate_set(*, actor, currency: str, on_date: dt.date, rate, source: str = "") -> ExchangeRate:
    """Enters (or corrects) the ministry's rate of `currency` on `on_date`: KWD per one unit, exact decimal text or
    Decimal. An unchanged rate is left as it is (its source updated if given); a changed one is audited with the
    old and the new rate."""
    _refuse_unless_allowed(actor)
    errors: dict[str, list[str]] = {}
    code = ""
    try:
        code = clean_currency(currency)
    except ValueError as error:
        errors["currency"] = [str(error)]
    if not isinstance(on_date, dt.date) or isinstance(on_date, dt.datetime):
        errors["on_date"] = [_("Give the rate's date.")]
    value = stored = None
    try:
        value, stored = clean_rate(rate, code or None)
    except ValueError as error:
        errors["rate"] = [str(error)]
    if errors:
        raise DomainError(_("The rate was not saved."), code="invalid_rate", fields=errors)
    source = (source or "").strip()[:200]
    user = actor if actor is not None and actor.pk else None
    with transaction.atomic():
        existing = ExchangeRate.objects.select_for_update().filter(currency=code, on_date=on_date).first()
        if existing is None:
            found = ExchangeRate.objects.create(
                currency=code, on_date=on_date, rate=stored, source=source, entered_by=user, entered_at=timezone.now()
            )
            record(
                actor=actor,
                action="exchange_rate.created",
                subject=found,
                changes={"currency": code, "date": on_date.isoformat(), "rate": stored, "source": source},
            )
            return found
        if Decimal(existing.rate) == value:
            if source and source != existing.source:
                old_source = existing.source
                existing.source = source
                existing.save(update_fields=["source"])
                record(
                    actor=actor,
                    action="exchange_rate.changed",
                    subject=existing,
                    changes={"source": [old_source, source]},
                )
            return existing
        old = existing.rate
        existing.rate = stored
        existing.source = source or existing.source
        existing.entered_by = user
        existing.entered_at = timezone.now()
        existing.batch = None
        existing.save(update_fields=["rate", "source", "entered_by", "entered_at", "batch"])
        record(
            actor=actor,
            action="exchange_rate.changed",
            subject=existing,
            changes={"rate": [old, stored], "currency": code, "date": on_date.isoformat()},
        )
        return existing


# --- a table --------------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    currency: str
    on_date: dt.date
    value: Decimal
    text: str
    source: str


def _read_bytes(file, path) -> tuple[bytes, str]:
    if (file is None) == (path is None):
        raise TypeError("rates_import takes a file or a path, not both")
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise DomainError(
                _("The file %(name)s cannot be read: %(error)s") % {"name": path.name, "error": error.strerror},
                code="rates_file_unreadable",
                fields={"file": [_("The file cannot be read.")]},
            )
        name = path.name
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = Path(getattr(file, "name", "") or "rates.csv").name
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
            code="rates_file_too_large",
            fields={"file": [_("The file is larger than %(mb)s MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}]},
        )
    return data, name[:255]


# The file-level problems of shafaf.interop.rows.read_table, as this import's error codes.
TABLE_ERROR_CODES = {"encoding": "rates_file_encoding", "empty": "rates_file_empty", "not_text": "rates_file_encoding"}


def _refused(error: TableError) -> DomainError:
    message = str(error)
    if error.code == "encoding":
        message = _("The file is not UTF-8 text: save the spreadsheet as CSV UTF-8 or as an Excel workbook.")
    elif error.code == "empty":
        message = _("The file is empty.")
    code = TABLE_ERROR_CODES.get(error.code, "rates_file_unreadable")
    return DomainError(message, code=code, fields={"file": [message]})


def _columns(header: list[str]) -> dict[str, str]:
    """{column: the normalised header name holding it}."""
    columns: dict[str, str] = {}
    for name in header:
        key = HEADERS.get(_clean(name).lower())
        if key and key not in columns:
            columns[key] = normalise_column(name)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        message = _(
            "The first row must name the columns currency, date, rate and optionally source "
            "(or العملة، التاريخ، السعر، المصدر); missing: %(missing)s."
        ) % {"missing": ", ".join(missing)}
        raise DomainError(message, code="rates_file_header", fields={"file": [message]})
    return columns


def parse_table(data: bytes | str, filename: str = "") -> tuple[list[_Row], list[RowError], int]:
    """The good rows, the errors of the bad ones (RowError), and the number of data rows read (blank rows skipped).
    DomainError when the file cannot be read as a rates table at all."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        table = read_table(data, filename)
    except TableError as error:
        raise _refused(error) from None
    columns = _columns(table.header)
    written = {normalise_column(name): name for name in table.header}
    label = {key: written[name] for key, name in columns.items()}  # the column as the file's header writes it
    good: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, dt.date], _Row] = {}
    total = 0
    try:
        for number, values in table.rows:
            total += 1

            def cell(name: str, values=values) -> str:
                return values.get(columns[name], "") if name in columns else ""

            row_errors: list[RowError] = []

            def refuse(column: str, message, code: str, number=number, row_errors=row_errors) -> None:
                row_errors.append(
                    RowError(row=number, column=label[column], message=str(message), value=cell(column), code=code)
                )

            code = on_date = value = stored = None
            try:
                code = clean_currency(cell("currency"))
            except ValueError as error:
                refuse("currency", error, "currency")
            try:
                on_date = clean_date(cell("date"))
            except ValueError as error:
                refuse("date", error, "date")
            try:
                value, stored = clean_rate(cell("rate"), code)
            except ValueError as error:
                refuse("rate", error, "rate")
            if not row_errors:
                earlier = seen.get((code, on_date))
                if earlier is not None:
                    if earlier.value != value:
                        refuse(
                            "rate",
                            _("Row %(earlier)s already gives %(currency)s on %(date)s another rate (%(rate)s).")
                            % {"earlier": earlier.number, "currency": code, "date": on_date, "rate": earlier.text},
                            "conflicting_duplicate",
                        )
                    else:
                        continue  # the same rate twice: kept once
            if row_errors:
                errors.extend(row_errors)
                continue
            row = _Row(number, code, on_date, value, stored, _clean(cell("source"))[:200])
            seen[(code, on_date)] = row
            good.append(row)
    except TableError as error:
        raise _refused(error) from None
    return good, errors, total


def _store(rows: list[_Row], *, actor, batch: FinanceImport | None, default_source: str) -> tuple[int, int]:
    """Inserts the new rates and replaces the changed ones (bulk); (created, replaced)."""
    if not rows:
        return 0, 0
    user = actor if actor is not None and actor.pk else None
    currencies = sorted({row.currency for row in rows})
    first, last = min(row.on_date for row in rows), max(row.on_date for row in rows)
    existing = {
        (currency, on_date): found
        for currency, on_date, found in (
            (r.currency, r.on_date, r)
            for r in ExchangeRate.objects.filter(currency__in=currencies, on_date__range=(first, last)).only(
                "id", "currency", "on_date", "rate", "source"
            )
        )
    }
    wanted = {(row.currency, row.on_date) for row in rows}
    existing = {key: value for key, value in existing.items() if key in wanted}
    now = timezone.now()
    new, changed = [], []
    for row in rows:
        found = existing.get((row.currency, row.on_date))
        source = row.source or default_source
        if found is None:
            new.append(
                ExchangeRate(
                    currency=row.currency,
                    on_date=row.on_date,
                    rate=row.text,
                    source=source,
                    batch=batch,
                    entered_by=user,
                    entered_at=now,
                )
            )
        elif Decimal(found.rate) != row.value:
            changed.append((found, found.rate, row.text))
            found.rate = row.text
            found.source = source
            found.batch = batch
            found.entered_by = user
            found.entered_at = now
    ExchangeRate.objects.bulk_create(new, batch_size=1000)
    if changed:
        ExchangeRate.objects.bulk_update(
            [found for found, _old, _new in changed],
            ["rate", "source", "batch", "entered_by", "entered_at"],
            batch_size=500,
        )
        for found, old, new_text in changed:
            record(
                actor=actor,
                action="exchange_rate.changed",
                subject=found,
                changes={
                    "rate": [old, new_text],
                    "currency": found.currency,
                    "date": found.on_date.isoformat(),
                    "import": batch.pk if batch is not None else None,
                },
            )
    return len(new), len(changed)


def rates_import(*, actor, file=None, path=None, source: str = "", progress: Progress | None = None) -> FinanceImport:
    """Imports a CSV table of rates (see the module's documentation); returns the import with its counts and
    per-row errors. A file that cannot be read as such a table is refused whole (DomainError, nothing written).
    `actor` None is the system (the command without --user, the demo seed): no FinanceImport row is saved."""
    _refuse_unless_allowed(actor)
    data, name = _read_bytes(file, path)
    good, errors, total = parse_table(data, name)
    source = (source or "").strip()[:200]
    digest = hashlib.sha256(data).hexdigest()
    batch = FinanceImport(
        kind=FinanceImport.Kind.RATES,
        file_name=name,
        sha256=digest,
        rows_total=total,
        rows_failed=len({error.row for error in errors}),
        errors=[error.as_dict() for error in errors[:MAX_ERRORS_KEPT]],
        created_by=actor if actor is not None and actor.pk else None,
    )
    saved = batch.created_by_id is not None
    if saved:
        with transaction.atomic():
            batch.save()
            record(
                actor=actor,
                action="exchange_rates.import_started",
                subject=batch,
                changes={"file": name, "sha256": digest, "rows": total},
            )
    created = replaced = 0
    done_before = total - len(good)  # refused rows are read already
    try:
        for start in range(0, len(good), CHUNK):
            chunk = good[start : start + CHUNK]
            with transaction.atomic():
                made, changed = _store(chunk, actor=actor, batch=batch if saved else None, default_source=source)
                created += made
                replaced += changed
                batch.rows_done = done_before + start + len(chunk)
                batch.rows_ok = start + len(chunk)
                if saved:
                    FinanceImport.objects.filter(pk=batch.pk).update(rows_done=batch.rows_done, rows_ok=batch.rows_ok)
            if progress is not None:
                progress(batch.rows_done, total)
    except Exception:
        if saved:
            FinanceImport.objects.filter(pk=batch.pk).update(
                status=FinanceImport.Status.FAILED, finished_at=timezone.now()
            )
        raise
    batch.rows_done = total
    batch.rows_ok = total - batch.rows_failed  # a row repeating an earlier one with the same rate is kept (once)
    batch.status = FinanceImport.Status.DONE
    batch.finished_at = timezone.now()
    with transaction.atomic():
        summary = {
            "file": name,
            "sha256": digest,
            "rows": total,
            "kept": len(good),
            "refused": batch.rows_failed,
            "created": created,
            "replaced": replaced,
        }
        if saved:
            batch.save(update_fields=["rows_done", "rows_ok", "status", "finished_at"])
            record(actor=actor, action="exchange_rates.imported", subject=batch, changes=summary)
        else:
            record(actor=None, action="exchange_rates.imported", subject=rates.settings(), changes=summary)
    if progress is not None and not good:
        progress(total, total)
    batch.created_count = created
    batch.replaced_count = replaced
    batch.report = RowReport(
        file=name,
        read=total,
        imported=created + replaced,
        unchanged=len(good) - created - replaced,
        errors=errors,
    )
    return batch


def load_shipped_table(*, actor=None, progress: Progress | None = None) -> FinanceImport:
    """The demo/test rate table shipped with the project (shafaf/finance/data/rates.csv)."""
    return rates_import(actor=actor, path=SHIPPED_TABLE, progress=progress)
