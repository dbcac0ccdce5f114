"""Expenditures: money spent against a project's budget lines, with its evidence, in any currency, converted to the
project's currency at the ministry's rate of its date (the rate and the rate's date are kept).

Two ways in, one set of rules (`_Rules.check`):

* `expenditure_record` — one expenditure typed in a form or sent to the API, with its invoice or receipt
  uploaded (PDF or image, SHA-256 kept);
* `expenditures_import` — a spreadsheet (CSV, UTF-8 with or without BOM or UTF-16 with its BOM, comma or
  semicolon; or .xlsx), read by `shafaf.interop.rows.read_table`, of many rows, headers in English or Arabic. Each
  row is checked like a typed expenditure (without the document, but with its invoice or receipt number); the
  good rows are kept, each bad row is reported in the platform's row-error format (`shafaf.interop.rows.RowError`:
  row, column, value, code, message; FinanceImport.errors), and no row is ever half-written. The file is streamed,
  never read into memory at once; good rows are written in chunks of CHUNK_ROWS, each chunk in one database transaction:
  one bulk insert (COPY on PostgreSQL, one prepared INSERT run many times elsewhere), its ledger postings (COPY
  too on PostgreSQL), the roll-up moved by the chunk's sums per line (rollup.refresh_from_lines) and the
  FinanceImport's counts (a page polls them); the last chunk recomputes the roll-up from scratch (rollup.refresh)
  and detects the deviations, once, on the final figures (an import that stops midway does both for the chunks
  it wrote). The common row is checked
  by a fast path (_FastPath) that gives the same answer as the full rules; any row it does not recognise as
  plainly good goes through the full rules, which word the errors.

Ledger: a typed expenditure gets its own balanced transaction (ledger.post_expenditure: partner advance → the
line's expense). An import posts, per chunk, one transaction per date spent, with one debit per budget line (the
sum of that chunk's rows on that line and date) and one credit to the partner advance: every line's expense
account and the advance move by exactly the rows' amounts, with one transaction instead of one per row (source
"expenditure-import:<import id>")."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import operator
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import (
    BIGINT_MAX,
    Money,
    MoneyError,
    UnknownCurrency,
    convert_fraction,
    format_amount,
    minor_digits,
    parse_money,
    round_ratio,
)
from shafaf.interop.rows import RowError, TableError, read_table, too_large_message
from shafaf.projects.models import Project
from shafaf.projects.services import check_upload

from . import deviations, ledger, permissions, rates, rollup
from .models import (
    BudgetLine,
    EvidenceKind,
    Expenditure,
    ExpenditureSource,
    FinanceImport,
    LedgerEntry,
    LedgerTransaction,
)

logger = logging.getLogger(__name__)

# The evidence of an expenditure is a PDF or a scan or photo of the invoice or receipt.
EVIDENCE_CONTENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})
# Evidence an entered or imported expenditure may have ("reported" is for the IATI importer only).
ENTERED_EVIDENCE = (EvidenceKind.INVOICE, EvidenceKind.RECEIPT)
# An amount above a million million major units of its currency is a typing error, not an expenditure.
MAX_MAJOR_UNITS = 10**12
CHUNK_ROWS = 5000
# The per-row errors kept in FinanceImport.errors (rows_failed counts them all).
MAX_REPORTED_ERRORS = 1000
MAX_IMPORT_BYTES = 200 * 1024 * 1024
IMPORT_EXTENSIONS = (".csv", ".txt", ".xlsx")

REFERENCE_MAX = Expenditure._meta.get_field("reference").max_length
PLACE_MAX = Expenditure._meta.get_field("place").max_length
DESCRIPTION_MAX = Expenditure._meta.get_field("description").max_length

FIELDS = ("line", "amount", "currency", "spent_on", "reference", "place", "description", "evidence_kind")
REQUIRED_COLUMNS = ("line", "amount", "currency", "spent_on", "reference", "evidence_kind")


def _invalid(fields: dict[str, list[str]]) -> DomainError:
    return DomainError(_("Please correct the errors below."), code="invalid", fields=fields)


def not_active_refusal(project: Project) -> Conflict:
    return Conflict(
        _(
            "Expenditures are recorded only for a licensed project (approved or in execution); this project is "
            "“%(status)s”."
        )
        % {"status": project.get_status_display()},
        code="project_not_licensed",
    )


def _check_actor(actor, project: Project) -> None:
    if not permissions.may_record_expenditure(actor, project):
        raise NotAllowed(
            _(
                "Only the charity's administrators and finance officers, and the implementing partner's reporters, "
                "record this project's expenditures."
            )
        )
    if not permissions.project_accepts_money(project):
        raise not_active_refusal(project)


# ------------------------------------------------------------------------------------------------------------------
# Conversion with a cache (an import converts thousands of rows at a few dates)


@dataclass(frozen=True)
class Converted:
    money: Money  # in the project's currency
    rate_text: str  # "" when no conversion was needed
    rate_date: dt.date | None


@dataclass(frozen=True)
class ExactRate:
    """A conversion's exact rate, numerator / denominator (target major units per source major unit), with the
    rate text and rate date that are kept beside every converted figure."""

    numerator: int
    denominator: int
    rate_text: str
    rate_date: dt.date


class Converter:
    """rates.convert_on with the quotes of each (currency, date) looked up once: the same arithmetic (a rate to
    the dinar, or two rates crossed exactly through it, rounded once ROUND_HALF_EVEN), the same rate text and
    rate date (tests compare the two)."""

    def __init__(self, target: str):
        self.target = target
        self.target_digits = minor_digits(target)
        self.max_age_days = rates.settings().rate_max_age_days
        self._quotes: dict[tuple[str, dt.date], rates.RateQuote | rates.RateMissing] = {}
        self._rates: dict[tuple[str, dt.date], ExactRate] = {}

    def _quote(self, currency: str, on_date: dt.date) -> rates.RateQuote:
        key = (currency, on_date)
        found = self._quotes.get(key)
        if found is None:
            try:
                found = rates.rate_on(currency, on_date, max_age_days=self.max_age_days)
            except rates.RateMissing as missing:
                found = missing
            self._quotes[key] = found
        if isinstance(found, rates.RateMissing):
            raise found
        return found

    def rate(self, currency: str, on_date: dt.date) -> ExactRate:
        """The exact rate from `currency` (not the target) on a date; RateMissing when there is none."""
        key = (currency, on_date)
        found = self._rates.get(key)
        if found is None:
            source = self._quote(currency, on_date)
            target = self._quote(self.target, on_date)
            numerator, denominator = source.rate.as_integer_ratio()
            if target.rate == 1:
                rate = source.rate
            else:
                t_num, t_den = target.rate.as_integer_ratio()
                numerator, denominator = numerator * t_den, denominator * t_num
                rate = rates.cross_rate(source, target)
            dates = [d for d in (source.on_date, target.on_date) if d is not None]
            rate_date = min(dates) if dates else on_date
            text = rates.Conversion(Money(0, self.target), rate, rate_date).rate_text
            found = self._rates[key] = ExactRate(numerator, denominator, text, rate_date)
        return found

    def __call__(self, money: Money, on_date: dt.date) -> Converted:
        if money.currency == self.target:
            return Converted(money, "", None)
        exact = self.rate(money.currency, on_date)
        converted = convert_fraction(money, self.target, exact.numerator, exact.denominator, rounding=rates.ROUNDING)
        return Converted(converted, exact.rate_text, exact.rate_date)


# ------------------------------------------------------------------------------------------------------------------
# The rules


@dataclass
class Checked:
    """An expenditure that passed every rule, ready to be stored."""

    line: BudgetLine
    money: Money
    converted: Converted
    spent_on: dt.date
    evidence_kind: str
    reference: str
    place: str
    description: str


class _Rules:
    """The checks every expenditure passes, for one project, with what they look up cached."""

    def __init__(self, project: Project, *, today: dt.date | None = None):
        self.project = project
        self.today = today or timezone.localdate()
        self.converter = Converter(project.currency)
        self._lines_by_code: dict[str, BudgetLine] | None = None
        self._blocked: dict[int, str | None] = {}

    @property
    def lines_by_code(self) -> dict[str, BudgetLine]:
        if self._lines_by_code is None:
            lines = BudgetLine.objects.filter(project=self.project)
            self._lines_by_code = {line.code.strip().casefold(): line for line in lines}
        return self._lines_by_code

    def blocked(self, line: BudgetLine) -> str | None:
        if line.pk not in self._blocked:
            self._blocked[line.pk] = deviations.spending_blocked(self.project, line)
        return self._blocked[line.pk]

    def line_by_code(self, code: str) -> BudgetLine | None:
        return self.lines_by_code.get(code.strip().casefold())

    def check(
        self,
        *,
        line,
        amount,
        currency,
        spent_on,
        evidence_kind,
        reference,
        place,
        description,
        reference_required: bool,
    ) -> tuple[Checked | None, dict[str, list[str]]]:
        """(the checked expenditure, {}) or (None, {field: [messages]}) naming every problem found."""
        errors: dict[str, list[str]] = defaultdict(list)
        project = self.project

        # The budget line: one of this project's.
        if line is None or line == "":
            errors["line"].append(_("Choose the budget line."))
        elif not isinstance(line, BudgetLine) or line.project_id != project.pk:
            errors["line"].append(_("This is not a budget line of this project."))
        else:
            reason = self.blocked(line)
            if reason:
                errors["line"].append(str(reason))

        # The currency, then the amount exactly in it.
        code = currency.strip().upper() if isinstance(currency, str) else ""
        money = None
        if not code:
            errors["currency"].append(_("Give the currency (an ISO 4217 code such as KWD or USD)."))
        else:
            try:
                minor_digits(code)
            except MoneyError as error:
                errors["currency"].append(str(error.message))
                code = ""
        if code:
            money, problem = _amount(amount, code)
            if problem:
                errors["amount"].append(problem)
        elif amount is None or (isinstance(amount, str) and not amount.strip()):
            errors["amount"].append(_("Give the amount."))

        # The date: within the project's dates, not in the future.
        if not isinstance(spent_on, dt.date) or isinstance(spent_on, dt.datetime):
            errors["spent_on"].append(_("Give the date of the expenditure."))
            spent_on = None
        elif spent_on > self.today:
            errors["spent_on"].append(
                _("The date (%(date)s) is in the future: record an expenditure once it is made.")
                % {"date": spent_on.isoformat()}
            )
        elif not project.planned_start <= spent_on <= project.planned_end:
            errors["spent_on"].append(
                _("The date (%(date)s) is outside the project's dates, %(start)s to %(end)s.")
                % {
                    "date": spent_on.isoformat(),
                    "start": project.planned_start.isoformat(),
                    "end": project.planned_end.isoformat(),
                }
            )

        # The evidence.
        if evidence_kind not in ENTERED_EVIDENCE:
            errors["evidence_kind"].append(_("The evidence must be an invoice or a receipt."))
        reference = (reference or "").strip()
        if not reference and reference_required:
            errors["reference"].append(_("Give the invoice or receipt number."))
        elif len(reference) > REFERENCE_MAX:
            errors["reference"].append(_("At most %(count)s characters.") % {"count": REFERENCE_MAX})
        place = (place or "").strip()
        if len(place) > PLACE_MAX:
            errors["place"].append(_("At most %(count)s characters.") % {"count": PLACE_MAX})
        description = (description or "").strip()
        if len(description) > DESCRIPTION_MAX:
            errors["description"].append(_("At most %(count)s characters.") % {"count": DESCRIPTION_MAX})

        # The conversion to the project's currency, at the ministry's rate of the date.
        converted = None
        if money is not None and spent_on is not None and "spent_on" not in errors:
            try:
                converted = self.converter(money, spent_on)
            except rates.RateMissing as missing:
                errors["currency"].extend(str(message) for message in missing.fields.get("currency", [missing.message]))
            except MoneyError as error:
                errors["amount"].append(str(error.message))

        if errors:
            return None, dict(errors)
        return (
            Checked(
                line=line,
                money=money,
                converted=converted,
                spent_on=spent_on,
                evidence_kind=evidence_kind,
                reference=reference,
                place=place,
                description=description,
            ),
            {},
        )


def _amount(amount, currency: str) -> tuple[Money | None, str | None]:
    """The amount read exactly in `currency` (text in major units, Decimal, int or Money), or the problem."""
    if isinstance(amount, float):
        raise TypeError("amounts are never floats")
    try:
        if isinstance(amount, Money):
            if amount.currency != currency:
                return None, _("The amount is in %(other)s, not %(currency)s.") % {
                    "other": amount.currency,
                    "currency": currency,
                }
            money = amount
        elif isinstance(amount, str):
            if not amount.strip():
                return None, _("Give the amount.")
            try:
                money = parse_money(amount, currency)
            except UnknownCurrency:  # "12abc": letters after the number that are no currency
                return None, _("%(text)s is not an amount.") % {"text": amount}
        elif isinstance(amount, int | Decimal) and not isinstance(amount, bool):
            money = Money.of(amount, currency)
        else:
            return None, _("Give the amount.")
    except MoneyError as error:
        return None, str(error.message)
    if not money.is_positive():
        return None, _("The amount must be more than zero.")
    if money.minor > MAX_MAJOR_UNITS * 10**money.digits:
        return None, _("%(amount)s %(currency)s is beyond any plausible expenditure (at most %(max)s).") % {
            "amount": format_amount(money),
            "currency": currency,
            "max": f"{MAX_MAJOR_UNITS:,}",
        }
    return money, None


def _expenditure(project, checked: Checked, *, actor, source: str, batch=None) -> Expenditure:
    return Expenditure(
        project=project,
        line=checked.line,
        amount_minor=checked.money.minor,
        currency=checked.money.currency,
        project_amount_minor=checked.converted.money.minor,
        rate=checked.converted.rate_text,
        rate_date=checked.converted.rate_date,
        spent_on=checked.spent_on,
        place=checked.place,
        reference=checked.reference,
        description=checked.description,
        evidence_kind=checked.evidence_kind,
        source=source,
        batch=batch,
        recorded_by=actor,
    )


def _lock_active(project: Project) -> Project:
    """The project's row, locked (the roll-up is recomputed under it), still licensed and running."""
    locked = Project.objects.select_for_update().select_related("charity").get(pk=project.pk)
    if not permissions.project_accepts_money(locked):
        raise not_active_refusal(locked)
    return locked


# ------------------------------------------------------------------------------------------------------------------
# One expenditure


def expenditure_record(
    *,
    actor,
    project: Project,
    line,
    amount,
    currency: str,
    spent_on: dt.date,
    evidence_kind: str,
    file=None,
    reference: str = "",
    place: str = "",
    description: str = "",
) -> Expenditure:
    """Records an expenditure against one of the project's budget lines, with its invoice or receipt (`file`, PDF
    or image, required): by the charity's administrators and finance officers or the implementing partner's
    reporters, while the project is licensed and running. `amount` is major units in `currency` (text, Decimal,
    int) or Money; it is converted to the project's currency at the ministry's rate of `spent_on` (refused when
    there is none). Refused on a line whose deviation the ministry rejected. Posts to the ledger, refreshes the
    roll-up and opens a deviation the moment a threshold is crossed, all in one transaction."""
    _check_actor(actor, project)
    if isinstance(line, int) and not isinstance(line, bool):
        line = BudgetLine.objects.filter(pk=line, project=project).first() or -1
    rules = _Rules(project)
    checked, errors = rules.check(
        line=line,
        amount=amount,
        currency=currency,
        spent_on=spent_on,
        evidence_kind=evidence_kind,
        reference=reference,
        place=place,
        description=description,
        reference_required=False,
    )
    sha256 = ""
    if file is None:
        errors.setdefault("file", []).append(_("Attach the invoice or receipt (PDF or image)."))
    else:
        try:
            content_type, _size, sha256 = check_upload(file)
        except DomainError as error:
            errors.setdefault("file", []).extend(str(m) for m in error.fields.get("file", [error.message]))
        else:
            if content_type not in EVIDENCE_CONTENT_TYPES:
                errors.setdefault("file", []).append(
                    _("Upload the invoice or receipt as a PDF or an image (JPEG, PNG or WebP).")
                )
    if errors:
        raise _invalid(errors)

    expenditure = _expenditure(project, checked, actor=actor, source=ExpenditureSource.ENTERED)
    expenditure.sha256 = sha256
    expenditure.file.save(getattr(file, "name", "evidence.pdf"), file, save=False)
    try:
        with transaction.atomic():
            locked = _lock_active(project)
            reason = deviations.spending_blocked(locked, checked.line)
            if reason:
                raise _invalid({"line": [str(reason)]})
            expenditure.project = locked
            expenditure.save()
            ledger.post_expenditure(expenditure, actor)
            rollup.refresh(locked)
            deviations.deviations_detect(locked, actor=actor)
            audit.record(
                actor=actor,
                action="expenditure.record",
                subject=expenditure,
                organization=locked.charity,
                changes={
                    "project": [None, locked.pk],
                    "line": [None, checked.line.code],
                    "amount": [None, checked.money.to_dict()],
                    "project_amount": [None, checked.converted.money.to_dict()],
                    "rate": [None, checked.converted.rate_text or None],
                    "rate_date": [None, checked.converted.rate_date],
                    "spent_on": [None, checked.spent_on],
                    "evidence_kind": [None, checked.evidence_kind],
                    "reference": [None, checked.reference],
                    "sha256": [None, sha256],
                },
            )
    except Exception:
        if expenditure.file:
            expenditure.file.delete(save=False)
        raise
    return expenditure


# ------------------------------------------------------------------------------------------------------------------
# Spreadsheets: reading


def _fold(text: str) -> str:
    """A header or a word folded for matching: case, spaces, underscores, Arabic letter variants and tatweel."""
    text = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").replace("\u0640", "")
    text = re.sub(r"[\u064b-\u0652]", "", text)  # Arabic short vowels
    text = text.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "_": " ", "-": " "}))
    return " ".join(text.casefold().split())


HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "line": ("line code", "line", "budget line", "budget line code", "code", "رمز البند", "البند", "بند الميزانية"),
    "amount": ("amount", "المبلغ", "القيمة"),
    "currency": ("currency", "العملة"),
    "spent_on": ("date", "spent on", "التاريخ", "تاريخ الصرف"),
    "reference": (
        "reference",
        "invoice or receipt number",
        "invoice number",
        "receipt number",
        "المرجع",
        "رقم الفاتورة",
        "رقم الإيصال",
        "رقم الفاتورة أو الإيصال",
    ),
    "place": ("place", "المكان"),
    "description": ("description", "الوصف", "البيان"),
    "evidence_kind": ("evidence kind", "evidence", "نوع المستند", "نوع الإثبات", "المستند", "الإثبات"),
}
_HEADERS = {_fold(name): key for key, names in HEADER_NAMES.items() for name in names}
EVIDENCE_WORDS = {
    _fold(word): kind
    for kind, words in {
        EvidenceKind.INVOICE: ("invoice", "فاتورة"),
        EvidenceKind.RECEIPT: ("receipt", "إيصال", "وصل"),
    }.items()
    for word in words
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FileRefused(DomainError):
    """The file as a whole cannot be read (not the rows in it)."""

    def __init__(self, message):
        super().__init__(message, code="import_refused", fields={"file": [message]})


def _table_rows(handle, file_name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the numbered rows (blank ones skipped) of the spreadsheet, read as they come
    (shafaf.interop.rows.read_table on the open file); a file that cannot be read is refused whole."""
    try:
        table = read_table(handle, file_name, lists=True)
    except TableError as error:
        raise FileRefused(_refusal_text(error)) from None

    def rows():
        try:
            yield from table.rows
        except TableError as error:
            raise FileRefused(_refusal_text(error)) from None

    return table.header, rows()


def _refusal_text(error: TableError) -> str:
    if error.code in ("encoding", "not_text"):
        return _("The file is not UTF-8 text: save the spreadsheet as CSV UTF-8, or send it as .xlsx.")
    if error.code == "empty":
        return _("The file has no rows.")
    return str(error)


def _count_csv_rows(handle) -> int:
    """Lines in the file, less the header (an estimate for the progress bar: quoted line breaks count)."""
    handle.seek(0)
    count = 0
    last = b"\n"
    for block in iter(lambda: handle.read(1 << 20), b""):
        count += block.count(b"\n")
        last = block[-1:]
    handle.seek(0)
    if last != b"\n":
        count += 1
    return max(count - 1, 0)


def _kind_of(file_name: str, head: bytes) -> str:
    extension = PurePath(file_name or "").suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if extension != ".xlsx":
            raise FileRefused(_("This looks like an Excel workbook: its name must end in .xlsx."))
        return "xlsx"
    if extension == ".xlsx":
        raise FileRefused(_("The file's name ends in .xlsx but it is not an Excel workbook."))
    if extension not in (".csv", ".txt"):
        raise FileRefused(_("Send the expenditures as a CSV file (UTF-8) or an Excel workbook (.xlsx)."))
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (with its BOM) is read
        raise FileRefused(_("The file is not UTF-8 text: save the spreadsheet as CSV UTF-8, or send it as .xlsx."))
    return "csv"


def check_import_file(file) -> tuple[str, str]:
    """(kind "csv" or "xlsx", SHA-256) of an acceptable spreadsheet upload; FileRefused otherwise."""
    import hashlib

    if file is None:
        raise FileRefused(_("Choose a file."))
    size = getattr(file, "size", None)
    if size == 0:
        raise FileRefused(_("The file is empty."))
    if size is not None and size > MAX_IMPORT_BYTES:
        raise FileRefused(too_large_message(MAX_IMPORT_BYTES))
    file.seek(0)
    head = file.read(4096)
    if not head:
        raise FileRefused(_("The file is empty."))
    kind = _kind_of(getattr(file, "name", ""), head)
    digest = hashlib.sha256()
    file.seek(0)
    for block in iter(lambda: file.read(1 << 20), b""):
        digest.update(block)
    file.seek(0)
    return kind, digest.hexdigest()


# ------------------------------------------------------------------------------------------------------------------
# Spreadsheets: importing


@dataclass
class _Run:
    batch: FinanceImport
    actor: object
    project: Project
    rules: _Rules
    progress: Callable[[FinanceImport], None] | None
    pending: list[tuple] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    read: int = 0
    ok: int = 0
    failed: int = 0
    line_column: str = "line code"
    db_date: Callable = field(default_factory=lambda: _date_adapter())
    more_errors: int = 0
    finished: bool = False  # the last chunk written: roll-up recomputed, deviations detected
    ledger_transactions: int = 0
    ledger_entries: int = 0
    analyzed: dict[str, int] = field(default_factory=dict)

    def error(self, row: int, column: str, message, *, value: str = "", code: str = "invalid") -> None:
        if len(self.batch.errors) + len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row=row, column=column, message=str(message), value=value or "", code=code))
        else:
            self.more_errors += 1


def _parse_date(text: str) -> dt.date | str:
    """An ISO date (yyyy-mm-dd), or the problem."""
    if not text:
        return _("Give the date (yyyy-mm-dd).")
    candidate = text[:10] if len(text) > 10 and text[10:].strip(" T0:") == "" else text
    if _ISO_DATE.fullmatch(candidate):
        try:
            return dt.date.fromisoformat(candidate)
        except ValueError:
            return _("%(text)s is not a date of the calendar.") % {"text": text}
    return _("%(text)s is not a date written yyyy-mm-dd (for instance 2026-03-15): write every date that way.") % {
        "text": text
    }


def _header_map(header: list[str]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """(field → column index, field → the header as written, problems)."""
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    problems = []
    for index, name in enumerate(header):
        key = _HEADERS.get(_fold(name))
        if key is None:
            continue
        if key in columns:
            problems.append(_("Two columns are “%(name)s”.") % {"name": name})
            continue
        columns[key] = index
        names[key] = name.strip().lstrip("\ufeff")
    missing = [key for key in REQUIRED_COLUMNS if key not in columns]
    if missing:
        problems.append(
            _("Missing columns: %(columns)s. The first row must name the columns: %(expected)s.")
            % {
                "columns": ", ".join(HEADER_NAMES[key][0] for key in missing),
                "expected": ", ".join(HEADER_NAMES[key][0] for key in FIELDS),
            }
        )
    return columns, names, problems


def expenditures_import_start(*, actor, project: Project, file) -> FinanceImport:
    """Stores the spreadsheet and imports it in the background (a django-tasks task enqueued when the
    transaction commits); the FinanceImport's counts show the progress. For the pages and the API."""
    from django.core.files.storage import default_storage

    _check_actor(actor, project)
    kind, sha256 = check_import_file(file)
    file_name = PurePath(getattr(file, "name", "") or f"expenditures.{kind}").name[:255]
    stored = default_storage.save(f"imports/expenditures/{project.pk}/{sha256[:16]}.{kind}", file)
    try:
        with transaction.atomic():
            batch = _new_batch(actor, project, file_name, sha256)
            from .tasks_expenditures import import_expenditures

            batch_id = batch.pk
            transaction.on_commit(lambda: import_expenditures.enqueue(batch_id, stored))
    except Exception:
        default_storage.delete(stored)
        raise
    return batch


def _new_batch(actor, project, file_name: str, sha256: str) -> FinanceImport:
    batch = FinanceImport.objects.create(
        kind=FinanceImport.Kind.EXPENDITURES,
        project=project,
        charity_id=project.charity_id,
        file_name=file_name,
        sha256=sha256,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="expenditure.import_start",
        subject=batch,
        organization=project.charity,
        changes={"project": [None, project.pk], "file_name": [None, file_name], "sha256": [None, sha256]},
    )
    return batch


def expenditures_import(
    *, actor, project: Project, file, progress: Callable[[FinanceImport], None] | None = None
) -> FinanceImport:
    """Imports a spreadsheet of expenditures now (the command; tests): every good row kept, every bad one
    reported, the FinanceImport answered (status done, or failed when the file as a whole cannot be read)."""
    _check_actor(actor, project)
    kind, sha256 = check_import_file(file)
    file_name = PurePath(getattr(file, "name", "") or f"expenditures.{kind}").name[:255]
    with transaction.atomic():
        batch = _new_batch(actor, project, file_name, sha256)
    return run_import(batch, file, kind=kind, progress=progress)


def run_import(batch: FinanceImport, handle, *, kind: str, progress=None) -> FinanceImport:
    """Reads the file row by row and writes the good rows chunk by chunk (the task and expenditures_import)."""
    actor = batch.created_by
    # The project as it is now (its dates, state and currency), not as the caller last read it.
    project = Project.objects.select_related("charity").get(pk=batch.project_id)
    run = None
    try:
        _check_actor(actor, project)
        if kind == "csv":
            batch.rows_total = _count_csv_rows(handle)
        header, rows = _table_rows(handle, batch.file_name or f"expenditures.{kind}")
        run = _Run(batch=batch, actor=actor, project=project, rules=_Rules(project), progress=progress)
        _import_rows(run, header, rows, kind)
    except DomainError as refused:
        _detect_after_failure(batch, run)
        return _fail(batch, refused)
    except Exception:
        logger.exception("expenditure import %s failed", batch.pk)
        _detect_after_failure(batch, run)
        _fail(batch, DomainError(_("The import stopped on an unexpected error; the rows written so far are kept.")))
        raise
    return batch


def _detect_after_failure(batch: FinanceImport, run: _Run | None) -> None:
    """An import that stopped midway keeps the chunks it wrote: their roll-up is recomputed and the deviations
    detected on it, as the last chunk would have done (the chunks themselves leave detection to the end)."""
    if run is None or not run.ok or run.finished:
        return
    try:
        with transaction.atomic():
            project = Project.objects.select_for_update().select_related("charity").get(pk=run.project.pk)
            rollup.refresh(project)
            deviations.deviations_detect(project, actor=run.actor)
    except Exception:
        logger.exception("expenditure import %s: deviations not detected after the failure", batch.pk)


def _fail(batch: FinanceImport, error: DomainError) -> FinanceImport:
    message = str(error.message)
    FinanceImport.objects.filter(pk=batch.pk).update(
        status=FinanceImport.Status.FAILED,
        finished_at=timezone.now(),
        errors=[*batch.errors, RowError(row=0, column="", message=message, code=error.code or "file").as_dict()][
            : MAX_REPORTED_ERRORS + 1
        ],
    )
    batch.refresh_from_db()
    return batch


# The columns of a row the import inserts, in order (Expenditure's fields by their database columns).
INSERT_FIELDS = (
    "project",
    "line",
    "amount_minor",
    "currency",
    "project_amount_minor",
    "rate",
    "rate_date",
    "spent_on",
    "place",
    "reference",
    "description",
    "evidence_kind",
    "file",
    "sha256",
    "source",
    "iati_type",
    "batch",
    "recorded_by",
    "recorded_at",
)
_PLAIN_AMOUNT = re.compile(r" *(\d{1,16})(?:\.(\d{1,18}))? *", re.ASCII)


class _FastPath:
    """The import's per-row check for the common row: plain amounts, ISO dates, known codes. Anything unusual
    (and every row with a problem) goes to the full rules, which give the same answer slower, with the messages.
    What repeats from row to row (codes, currencies, dates, rates) is looked up once, by the cell's raw text."""

    def __init__(self, run: _Run, columns: dict[str, int], width: int):
        self.run = run
        # A missing optional column reads the empty cell appended after the row's last one.
        self.pick = operator.itemgetter(*(columns.get(key, width) for key in FIELDS))
        rules = run.rules
        self.project = rules.project
        self.target = rules.project.currency
        self.target_scale = 10**rules.converter.target_digits
        self.converter = rules.converter
        self.db_date = run.db_date
        self._lines: dict[str, BudgetLine | None] = {}
        self._currencies: dict[str, tuple[str, int, int, int] | None] = {}
        self._dates: dict[str, dt.date | None] = {}
        self._evidence: dict[str, str | None] = {}
        self._rates: dict[tuple[str, dt.date], ExactRate | None] = {}

    def line(self, text: str) -> BudgetLine | None:
        """The line of this code, unless a rejected deviation blocks it (the full rules then say so)."""
        if text not in self._lines:
            found = self.run.rules.line_by_code(text)
            self._lines[text] = found if found is not None and not self.run.rules.blocked(found) else None
        return self._lines[text]

    def currency(self, text: str) -> tuple[str, int, int, int] | None:
        """(code, minor digits, 10**digits, largest plausible amount in minor units)."""
        if text not in self._currencies:
            code = text.strip().upper()
            try:
                digits = minor_digits(code)
            except (MoneyError, TypeError):
                self._currencies[text] = None
            else:
                self._currencies[text] = (code, digits, 10**digits, MAX_MAJOR_UNITS * 10**digits)
        return self._currencies[text]

    def date(self, text: str) -> dt.date | None:
        if text not in self._dates:
            found = _parse_date(text.strip())
            project, today = self.project, self.run.rules.today
            ok = isinstance(found, dt.date) and project.planned_start <= found <= min(project.planned_end, today)
            self._dates[text] = found if ok else None
        return self._dates[text]

    def evidence(self, text: str) -> str | None:
        if text not in self._evidence:
            self._evidence[text] = EVIDENCE_WORDS.get(_fold(text))
        return self._evidence[text]

    def exact_rate(self, code: str, spent_on: dt.date) -> ExactRate | None:
        key = (code, spent_on)
        if key not in self._rates:
            try:
                self._rates[key] = self.converter.rate(code, spent_on)
            except rates.RateMissing:
                self._rates[key] = None
        return self._rates[key]

    def row(self, values: list[str]) -> tuple | None:
        """(line id, spent_on, amount in the project's currency, the row to insert), or None for the full rules.
        `values` has exactly the header's cells."""
        values.append("")
        code, amount, currency, date_text, reference, place, description, evidence = self.pick(values)
        line = self._lines.get(code) if code in self._lines else self.line(code)
        if line is None:
            return None
        found = self._currencies.get(currency) if currency in self._currencies else self.currency(currency)
        if found is None:
            return None
        code, digits, scale, largest = found
        match = _PLAIN_AMOUNT.fullmatch(amount)
        if match is None:
            return None
        whole, fraction = match.groups()
        if fraction is None:
            minor = int(whole) * scale
        elif len(fraction) > digits:
            return None
        else:
            minor = int(whole) * scale + int(fraction.ljust(digits, "0"))
        if not 0 < minor <= largest:
            return None
        spent_on = self._dates.get(date_text) if date_text in self._dates else self.date(date_text)
        kind = self._evidence.get(evidence) if evidence in self._evidence else self.evidence(evidence)
        reference, place, description = reference.strip(), place.strip(), description.strip()
        if spent_on is None or kind is None or not reference:
            return None
        if len(reference) > REFERENCE_MAX or len(place) > PLACE_MAX or len(description) > DESCRIPTION_MAX:
            return None
        if code == self.target:
            converted, rate_text, rate_date = minor, "", None
        else:
            exact = self.exact_rate(code, spent_on)
            if exact is None:
                return None
            converted = round_ratio(
                minor * exact.numerator * self.target_scale, exact.denominator * scale, decimal.ROUND_HALF_EVEN
            )
            if converted > BIGINT_MAX:
                return None
            rate_text, rate_date = exact.rate_text, self.db_date(exact.rate_date)
        return (
            line.pk,
            spent_on,
            converted,
            (minor, code, converted, rate_text, rate_date, self.db_date(spent_on), place, reference, description, kind),
        )


def _date_adapter() -> Callable[[dt.date | None], object]:
    """Dates as the database driver takes them in a bulk insert (psycopg: dates; SQLite: ISO text), each distinct
    date adapted once."""
    if connection.vendor == "postgresql":
        return lambda value: value
    adapted: dict = {}
    adapt = connection.ops.adapt_datefield_value

    def adapter(value):
        found = adapted.get(value)
        if found is None and value is not None:
            found = adapted[value] = adapt(value)
        return found

    return adapter


def _checked_row(checked: Checked, db_date) -> tuple:
    """A row accepted by the full rules, in the fast path's shape."""
    converted = checked.converted
    return (
        checked.line.pk,
        checked.spent_on,
        converted.money.minor,
        (
            checked.money.minor,
            checked.money.currency,
            converted.money.minor,
            converted.rate_text,
            db_date(converted.rate_date),
            db_date(checked.spent_on),
            checked.place,
            checked.reference,
            checked.description,
            checked.evidence_kind,
        ),
    )


def _import_rows(run: _Run, header: list[str], rows: Iterator[tuple[int, list[str]]], kind: str) -> None:
    batch = run.batch
    if kind == "xlsx":
        # openpyxl's read-only sheets know their size only when the file says it: progress counts rows read.
        batch.rows_total = 0
    columns, names, problems = _header_map(header)
    if problems:
        raise FileRefused(" ".join(problems))
    width = len(header)
    run.line_column = names["line"]
    fast = _FastPath(run, columns, width)
    pending = run.pending

    for number, values in rows:
        if len(values) < width:
            values = values + [""] * (width - len(values))
        found = fast.row(values) if len(values) == width else None
        if found is not None:
            pending.append((number, *found))
            run.read += 1
        elif any(value.strip() for value in values):
            run.read += 1
            if len(values) > width and any(value.strip() for value in values[width:]):
                extra = ",".join(value for value in values[width:] if value.strip())
                run.error(
                    number,
                    "",
                    _("This row has more cells than the header has columns."),
                    value=extra,
                    code="extra_cells",
                )
                run.failed += 1
            else:
                _import_row(run, number, values, columns, names)
        else:
            continue
        if run.read % CHUNK_ROWS == 0:
            _flush(run)
            pending = run.pending
            _refresh_statistics(run)
    _flush(run, final=True)


def _refresh_statistics(run: _Run) -> None:
    """PostgreSQL: ANALYZE the ledger's tables when their statistics say they hold fewer rows than this import
    alone has added to them (a young database, analyzed while its ledger was empty). A session plans its
    foreign-key checks once and keeps the plan: planned on a ledger believed empty, the check of each new entry's
    transaction scanned the whole table, and an import slowed down chunk after chunk (the commit of its 40th chunk
    took 0.7 s instead of 0.09 s). ANALYZE brings the statistics up to date and the checks are planned again: what
    autovacuum would do a minute later, as after any bulk load. At most a few times per import (each time the
    import has doubled what it wrote), never on a database whose statistics already know its ledger."""
    if connection.vendor != "postgresql":
        return
    added = {
        LedgerTransaction._meta.db_table: run.ledger_transactions,
        LedgerEntry._meta.db_table: run.ledger_entries,
    }
    if all(count <= run.analyzed.get(table, 0) * 2 for table, count in added.items()):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE oid = ANY(%s::regclass[])", [list(added)])
        believed = dict(cursor.fetchall())
        stale = [table for table, count in added.items() if count > 0 and believed.get(table, 0) < count]
        for table in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    for table in added:
        run.analyzed[table] = max(added[table], 1)


def _import_row(run: _Run, number: int, values, columns, names) -> None:
    """The full rules for one row: kept, or each problem reported with the row's number and the column."""

    def cell(key: str) -> str:
        index = columns.get(key)
        return values[index].strip() if index is not None and index < len(values) else ""

    rules = run.rules
    code = cell("line")
    line = rules.line_by_code(code) if code else None
    evidence_text = cell("evidence_kind")
    spent_on = _parse_date(cell("spent_on"))
    date_problem = spent_on if isinstance(spent_on, str) else None
    checked, errors = rules.check(
        line=line if line is not None else (code or None),
        amount=cell("amount"),
        currency=cell("currency"),
        spent_on=None if date_problem else spent_on,
        evidence_kind=EVIDENCE_WORDS.get(_fold(evidence_text), evidence_text or None),
        reference=cell("reference"),
        place=cell("place"),
        description=cell("description"),
        reference_required=True,
    )
    if checked is not None:
        run.pending.append((number, *_checked_row(checked, run.db_date)))
        return
    if date_problem:
        errors["spent_on"] = [date_problem]
    if code and line is None:
        errors["line"] = [_("This project has no budget line “%(code)s”.") % {"code": code}]
    if not evidence_text:
        errors["evidence_kind"] = [_("Give the evidence: invoice or receipt.")]
    run.failed += 1
    for key in FIELDS:
        for message in errors.get(key, []):
            run.error(number, names.get(key, HEADER_NAMES[key][0]), message, value=cell(key), code=key)


def _flush(run: _Run, *, final: bool = False) -> None:
    """Writes the pending good rows in one transaction: bulk insert, ledger, roll-up, counts; the last chunk also
    recomputes the roll-up and detects the deviations."""
    batch, project, actor = run.batch, run.project, run.actor
    pending, run.pending = run.pending, []
    with transaction.atomic():
        locked = _lock_active(project)
        if pending:
            # A deviation the ministry rejected meanwhile blocks its line from now on.
            lines = {line.pk: line for line in run.rules.lines_by_code.values()}
            blocked = {pk: deviations.spending_blocked(locked, lines[pk]) for pk in {row[1] for row in pending}}
            kept = []
            for row in pending:
                reason = blocked[row[1]]
                if reason:
                    run.failed += 1
                    run.error(row[0], run.line_column, str(reason), code="line_blocked")
                else:
                    kept.append(row)
            if kept:
                _write(run, locked, kept, lines)
        errors, run.errors = run.errors, []
        batch.errors = [*batch.errors, *(error.as_dict() for error in errors)]
        if final and run.more_errors:
            batch.errors.append(
                RowError(
                    row=0,
                    column="",
                    message=_("… and %(count)s more errors, not listed.") % {"count": run.more_errors},
                    code="more_errors",
                ).as_dict()
            )
        update = {
            "rows_done": run.read,
            "rows_ok": run.ok,
            "rows_failed": run.failed,
            "rows_total": max(batch.rows_total, run.read),
            "errors": batch.errors,
        }
        if final:
            rollup.refresh(locked)
            deviations.deviations_detect(locked, actor=actor)
            update.update(status=FinanceImport.Status.DONE, finished_at=timezone.now(), rows_total=run.read)
        FinanceImport.objects.filter(pk=batch.pk).update(**update)
        if final:
            audit.record(
                actor=actor,
                action="expenditure.import",
                subject=batch,
                organization=locked.charity,
                changes={"rows": [None, run.read], "rows_ok": [None, run.ok], "rows_failed": [None, run.failed]},
            )
    run.finished = final
    batch.refresh_from_db()
    if run.progress is not None:
        run.progress(batch)


def _insert(rows: list[tuple]) -> None:
    """Inserts expenditure rows (INSERT_FIELDS order) with one prepared statement (SQLite and the like;
    PostgreSQL takes them by COPY, _copy)."""
    meta = Expenditure._meta
    columns = [meta.get_field(name).column for name in INSERT_FIELDS]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    placeholders = ", ".join(["%s"] * len(columns))
    # Names from the model's metadata, values as parameters.
    sql = f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# COPY's text format: a backslash, tab, newline or carriage return in a value is written escaped.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _copy(model, fields: tuple[str, ...], lines: list[str]) -> None:
    """COPY rows already written in COPY's text format (one line each, tab-separated, escaped, \\N for NULL)
    into the model's table: PostgreSQL."""
    meta = model._meta
    quote = connection.ops.quote_name
    names = ", ".join(quote(meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
        copy.write("".join(lines))


def _copy_expenditures(project_id: int, batch_id: int, actor_id: int, now: dt.datetime, kept: list[tuple]) -> None:
    """The chunk's expenditures by COPY (INSERT_FIELDS order), each row written as COPY's text by hand: the same
    values psycopg's write_row would send, without its per-value dispatch."""
    head = f"{project_id}\t"
    tail = f"\t\t\t{ExpenditureSource.SPREADSHEET}\t\t{batch_id}\t{actor_id}\t{now.isoformat()}\n"
    dates: dict = {None: "\\N"}
    lines = []
    append = lines.append
    special = _COPY_SPECIAL.search
    for _number, line_id, _spent_on, _converted, values in kept:
        minor, code, converted, rate_text, rate_date, spent_on, place, reference, description, kind = values
        rate_day = dates.get(rate_date)
        if rate_day is None:
            rate_day = dates[rate_date] = rate_date.isoformat()
        day = dates.get(spent_on)
        if day is None:
            day = dates[spent_on] = spent_on.isoformat()
        # The currency code, the rate text and the evidence kind are the import's own (letters, digits, a dot).
        if special(f"{place}{reference}{description}"):
            place, reference, description = _copy_text(place), _copy_text(reference), _copy_text(description)
        append(
            f"{head}{line_id}\t{minor}\t{code}\t{converted}\t{rate_text}\t{rate_day}\t{day}\t{place}\t"
            f"{reference}\t{description}\t{kind}{tail}"
        )
    _copy(Expenditure, INSERT_FIELDS, lines)


def _copy_postings(postings: list[ledger.Posting], *, actor, now: dt.datetime) -> None:
    """ledger.post_many by COPY (PostgreSQL): the same checks (ledger.check_balanced, in the caller's
    transaction), the same rows; the transactions' ids are drawn from their sequence first, so that their entries
    can name them. The database checks the balance again at commit (migration 0004)."""
    if not connection.in_atomic_block:
        raise RuntimeError("the ledger is written inside the transaction of the change it records")
    if not postings:
        return
    for posting in postings:
        ledger.check_balanced(posting.entries)
    table = LedgerTransaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(postings)]
        )
        ids = [row[0] for row in cursor.fetchall()]
    user = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    created_by, created_at = "\\N" if user is None else str(user), now.isoformat()
    transactions, entries = [], []
    for pk, posting in zip(ids, postings, strict=True):
        transactions.append(
            f"{pk}\t{_copy_text(posting.kind)}\t{_copy_text(posting.memo[:500])}\t{_copy_text(posting.source[:100])}"
            f"\t{posting.occurred_on.isoformat()}\t{created_by}\t{created_at}\n"
        )
        for account, money in posting.entries:
            entries.append(f"{pk}\t{account.pk}\t{money.currency}\t{money.minor}\n")
    _copy(LedgerTransaction, ("id", "kind", "memo", "source", "occurred_on", "created_by", "created_at"), transactions)
    _copy(LedgerEntry, ("transaction", "account", "currency", "amount_minor"), entries)


def _write(run: _Run, project: Project, kept: list[tuple], lines: dict[int, BudgetLine]) -> None:
    """One chunk of good rows: the expenditures, their ledger postings (one transaction per date), the roll-up."""
    batch, actor = run.batch, run.actor
    now = timezone.now()
    if connection.vendor != "postgresql":
        now = connection.ops.adapt_datetimefield_value(now)
    source = ExpenditureSource.SPREADSHEET
    project_id, batch_id, actor_id = project.pk, batch.pk, actor.pk
    if connection.vendor == "postgresql":
        _copy_expenditures(project_id, batch_id, actor_id, now, kept)
    else:
        _insert(
            [
                (project_id, line_id, *values, "", "", source, "", batch_id, actor_id, now)
                for _number, line_id, _spent_on, _converted, values in kept
            ]
        )
    by_date: dict[dt.date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for _number, line_id, spent_on, converted, _values in kept:
        by_date[spent_on][line_id] += converted
    currency = project.currency
    advance = ledger.project_advance(project, currency)
    accounts = {}
    postings = []
    for spent_on, per_line in sorted(by_date.items()):
        entries = []
        for line_id, total in sorted(per_line.items()):
            if line_id not in accounts:
                accounts[line_id] = ledger.project_line(project, lines[line_id], currency)
            entries.append((accounts[line_id], Money(total, currency)))
        entries.append((advance, Money(-sum(per_line.values()), currency)))
        postings.append(
            ledger.Posting(
                "expenditure",
                spent_on,
                entries,
                memo=f"{project.reference} import {batch.pk} ({batch.file_name})"[:500],
                source=f"expenditure-import:{batch.pk}",
            )
        )
    if connection.vendor == "postgresql":
        _copy_postings(postings, actor=actor, now=now)
    else:
        ledger.post_many(postings, actor=actor)
    run.ledger_transactions += len(postings)
    run.ledger_entries += sum(len(posting.entries) for posting in postings)
    run.ok += len(kept)
    # The roll-up moves by the chunk's sums per line (no re-summing of the project's expenditures); the import's
    # last chunk recomputes it all and detects the deviations, once, on the final figures (_flush).
    per_line: dict[int, int] = defaultdict(int)
    for totals in by_date.values():
        for line_id, total in totals.items():
            per_line[line_id] += total
    for line_id, total in per_line.items():
        BudgetLine.objects.filter(pk=line_id).update(spent_minor=F("spent_minor") + total)
    rollup.refresh_from_lines(project)
