"""One format for every table import's report: which rows were kept, and each bad row's number, column, value and
reason.

Every import of a table (projects, partners, exchange rates, expenditures, a channel's donation settlement file,
360Giving grants) reads its file with `read_table` and reports with a `RowReport`, so that a charity's staff see
the same columns whatever they imported, and can download the errors as a CSV beside their file:

    row,column,value,code,message
    7,amount,"-5",negative,The amount must be more than zero.

`row` is the line of the file as a spreadsheet numbers it (the header is row 1), `column` the header's name as
written in the file ("" for the whole row), `value` the cell's text (cut to 200 characters). Nothing is dropped
silently: a row is either kept, recognised as already imported (`unchanged`), or reported.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.utils.translation import gettext as _

VALUE_LIMIT = 200
ERROR_COLUMNS = ("row", "column", "value", "code", "message")


def too_large_message(limit_bytes: int) -> str:
    """What an import says of a file over its limit (its service and its page alike)."""
    return _("The file is too large: the limit is %(limit)s MB.") % {"limit": limit_bytes // 2**20}


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number: the header is row 1, the first data row 2; 0 for the whole file
    column: str  # the column's name as written in the file's header; "" for the whole row
    message: str
    value: str = ""
    code: str = "invalid"

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value[:VALUE_LIMIT],
            "code": self.code,
            "message": str(self.message),
        }

    def __str__(self) -> str:
        where = _("row %(row)s") % {"row": self.row} if self.row else _("the file")
        if self.column:
            where = f"{where}, {self.column}"
        return f"{where}: {self.message}"


@dataclass
class RowReport:
    """What an import did with a table: `read` data rows, of which `imported` were written, `unchanged` were already
    there (a re-import), and every other row has at least one RowError. `file_errors` are problems with the file
    as a whole (unreadable, wrong encoding, missing columns); when there are any, nothing was imported."""

    file: str = ""
    read: int = 0
    imported: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.file_errors)

    @property
    def failed_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors if error.row})

    def add(self, row: int, column: str, message, *, value: str = "", code: str = "invalid") -> None:
        self.errors.append(RowError(row=row, column=column, message=str(message), value=str(value or ""), code=code))

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "read": self.read,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "failed_rows": len(self.failed_rows),
            "errors": [error.as_dict() for error in self.errors],
            "file_errors": [str(message) for message in self.file_errors],
        }

    def errors_csv(self) -> bytes:
        """The errors as a CSV (UTF-8 with a byte-order mark, so that Excel shows Arabic), one line per error."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(ERROR_COLUMNS)
        for message in self.file_errors:
            writer.writerow([0, "", "", "file", str(message)])
        for error in self.errors:
            item = error.as_dict()
            writer.writerow([item[name] for name in ERROR_COLUMNS])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def errors_csv_href(self) -> str:
        """errors_csv() as a data: address, for a page's "download the errors" link that needs no stored file."""
        return "data:text/csv;charset=utf-8;base64," + base64.b64encode(self.errors_csv()).decode("ascii")

    def summary_lines(self) -> list[str]:
        lines = [
            _(
                "%(file)s: %(read)s rows read, %(imported)s imported, %(unchanged)s already there, "
                "%(failed)s with errors."
            )
            % {
                "file": self.file or "-",
                "read": self.read,
                "imported": self.imported,
                "unchanged": self.unchanged,
                "failed": len(self.failed_rows),
            }
        ]
        lines.extend(str(message) for message in self.file_errors)
        lines.extend(str(error) for error in self.errors)
        return lines


class TableError(Exception):
    """The file cannot be read as a table at all: the message says why (shown to the user as a file error); `code`
    says which kind of problem it is: "encoding", "empty", "unreadable" (a damaged workbook or a line that is not
    CSV), "not_text" (NUL characters) or "duplicate_column"."""

    def __init__(self, message, code: str = "unreadable"):
        super().__init__(message)
        self.code = code


@dataclass
class Table:
    header: list[str]  # the columns' names as written, stripped
    rows: Iterator[tuple[int, dict[str, str]]]  # (spreadsheet row number, {normalised column: cell text})
    kind: str  # "csv" or "xlsx"

    def columns(self) -> set[str]:
        return {normalise_column(name) for name in self.header}


def normalise_column(name: str) -> str:
    return " ".join(str(name or "").replace("\ufeff", "").split()).lower().replace(" ", "_")


def is_xlsx(data: bytes, filename: str = "") -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def decode_csv(data: bytes) -> str:
    """CSV text in UTF-8 (with or without a byte-order mark) or UTF-16 with its byte-order mark. Any other encoding is
    refused with a clear message rather than guessed, so that no Arabic name is silently garbled."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise TableError(
                _("The file says it is UTF-16 but byte %(at)s is not.") % {"at": error.start}, "encoding"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TableError(
            _(
                'The file is not UTF-8 (line %(line)s has bytes that are not): save it as "CSV UTF-8" or as an '
                "Excel workbook and import it again."
            )
            % {"line": line},
            "encoding",
        ) from None


def _encoding_refused(line: int) -> TableError:
    return TableError(
        _(
            'The file is not UTF-8 (line %(line)s has bytes that are not): save it as "CSV UTF-8" or as an '
            "Excel workbook and import it again."
        )
        % {"line": line},
        "encoding",
    )


def _csv_rows(lines: Iterator[str]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the rows of CSV text given line by line; the delimiter is a comma, or a semicolon when the
    header holds more semicolons than commas (spreadsheets saved with a comma as the decimal separator)."""
    first = next(lines, None)
    skipped = 0  # blank lines before the header: the rows keep the file's line numbers
    while first is not None and not first.strip():
        first = next(lines, None)
        skipped += 1
    if first is None:
        raise TableError(_("The file is empty or has no header row."), "empty")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise TableError(_("The header cannot be read: %(error)s") % {"error": error}) from None
    if not header or not any(cell.strip() for cell in header):
        raise TableError(_("The file is empty or has no header row."), "empty")

    def rows():
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise TableError(
                    _("Line %(line)s cannot be read: %(error)s") % {"line": reader.line_num, "error": error}
                ) from None
            yield reader.line_num + skipped, cells

    return [cell.strip() for cell in header], rows()


def _text_lines(text: str) -> Iterator[str]:
    if "\x00" in text:
        raise TableError(_("The file holds NUL characters: it is not a text table."), "not_text")
    return iter(io.StringIO(text, newline=""))


def _stream_lines(handle: BinaryIO) -> Iterator[str]:
    """The lines of a CSV file read from a binary handle as they come (never the whole file in memory), UTF-8 with or
    without a byte-order mark (each line decoded on its own, so that a bad byte is reported on its own line) or
    UTF-16 with its mark. The handle is left open."""
    handle.seek(0)
    head = handle.read(3)
    handle.seek(0)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        yield from _stream_utf16(handle)
        return
    if head == b"\xef\xbb\xbf":
        handle.read(3)
    number = 0
    while True:
        raw = handle.readline()
        if not raw:
            return
        number += 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _encoding_refused(number) from None
        if "\x00" in line:
            raise TableError(_("The file holds NUL characters: it is not a text table."), "not_text")
        yield line


def _stream_utf16(handle: BinaryIO) -> Iterator[str]:
    text = io.TextIOWrapper(handle, encoding="utf-16", errors="strict", newline="")
    try:
        while True:
            try:
                line = text.readline()
            except UnicodeDecodeError as error:
                raise TableError(
                    _("The file says it is UTF-16 but byte %(at)s is not.") % {"at": error.start}, "encoding"
                ) from None
            if not line:
                return
            yield line
    finally:
        text.detach()


def _xlsx_rows(source: BinaryIO) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise TableError(_("The Excel workbook cannot be opened: %(error)s") % {"error": error}) from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = next(values, None)
    if not header or not any(cell not in (None, "") for cell in header):
        raise TableError(_("The workbook's first sheet is empty or has no header row."), "empty")

    def rows():
        try:
            for number, cells in enumerate(values, start=2):
                yield number, [cell_text(cell) for cell in cells]
        finally:
            workbook.close()

    return [cell_text(cell).strip() for cell in header], rows()


def cell_text(cell) -> str:
    """A workbook cell as the text a person reads in it: whole numbers without ".0", other numbers by their shortest
    exact repr (never binary noise), a date at midnight as YYYY-MM-DD, other times in ISO form."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float):
        if cell != cell or cell in (float("inf"), float("-inf")):
            return ""
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    return str(cell)


def _is_xlsx_handle(handle: BinaryIO) -> bool:
    handle.seek(0)
    head = handle.read(4)
    handle.seek(0)
    if head != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(handle) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        handle.seek(0)


def read_table(data: bytes | BinaryIO, filename: str = "", *, lists: bool = False) -> Table:
    """The table in `data` (a CSV or an Excel workbook's first sheet): its header and an iterator of its data rows
    as (row number, {normalised column: stripped cell text}), blank rows skipped. Raises TableError when the file
    cannot be read as a table, or when two columns have the same name.

    `data` is the file's bytes, or a binary file handle (seekable) that is then read as the rows are iterated
    (bounded memory for large files; an encoding problem further down is raised, as a TableError, when reached).
    With `lists=True` the rows are (row number, [cell text as written]) in the header's order, for imports that
    address cells by position."""
    if isinstance(data, bytes | bytearray):
        if is_xlsx(bytes(data), filename):
            header, raw = _xlsx_rows(io.BytesIO(data))
            kind = "xlsx"
        else:
            header, raw = _csv_rows(_text_lines(decode_csv(bytes(data))))
            kind = "csv"
    elif _is_xlsx_handle(data):
        header, raw = _xlsx_rows(data)
        kind = "xlsx"
    else:
        header, raw = _csv_rows(_stream_lines(data))
        kind = "csv"
    names = [normalise_column(name) for name in header]
    seen: set[str] = set()
    for name, written in zip(names, header, strict=True):
        if name and name in seen:
            raise TableError(
                _("The column %(column)s appears twice in the header.") % {"column": written}, "duplicate_column"
            )
        seen.add(name)

    def cell_lists():
        for number, cells in raw:
            if any(cell.strip() for cell in cells):
                yield number, cells

    if lists:
        return Table(header=header, rows=cell_lists(), kind=kind)

    def rows():
        for number, cells in raw:
            if not any(str(cell).strip() for cell in cells):
                continue
            values = {
                name: (str(cells[index]).strip() if index < len(cells) else "") for index, name in enumerate(names)
            }
            if len(cells) > len(names) and any(str(cell).strip() for cell in cells[len(names) :]):
                values[""] = ",".join(str(cell) for cell in cells[len(names) :])  # cells beyond the header
            yield number, values

    return Table(header=header, rows=rows(), kind=kind)
