"""CSV and Excel downloads of every list page.

One way everywhere: the list's own URL with `?format=csv` or `?format=xlsx`, so the download applies the user's
current filters (the same query string) and comes from the same selector as the page. Each list names the columns
it shows with `Column(name, header, value)`; a download holds exactly those columns, never a field the page does
not show. Headers are in the user's language (Arabic by default); a CSV starts with a byte-order mark so that
Excel shows Arabic; a workbook sheet is right to left for Arabic users. A text cell that a spreadsheet would take
for a formula (starting with = + - @, a tab or a carriage return) is written with a leading apostrophe.

A list view does:

    response = tables.export_or_none(request, filterset.qs, PROJECT_COLUMNS, "projects")
    if response is not None:
        return response

and its table template `{% load tables %}{% export_links %}` shows the two links.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from shafaf.core.money import Money

FORMATS = ("csv", "xlsx")
FORMAT_PARAMETER = "format"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1000
XLSX_CELL_LIMIT = 32767


@dataclass(frozen=True)
class Column:
    """One column of a download: `name` (stable, for code), `header` (translatable, shown to the user) and
    `value(row)`, which may return text, a number, a date, a bool or None."""

    name: str
    header: str | Promise
    value: Callable[[Any], Any]


def attr(path: str) -> Callable[[Any], Any]:
    """A value reading a dotted attribute (`"charity.name_ar"`); a callable at the end is called (get_X_display)."""
    parts = path.split(".")

    def read(row):
        value = row
        for part in parts:
            if value is None:
                return None
            value = getattr(value, part)
            if callable(value) and not isinstance(value, type):
                value = value()
        return value

    return read


def guard(text: str) -> str:
    """The text a spreadsheet shows as text, never runs as a formula."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def cell(value: Any) -> Any:
    """A value as a download cell: numbers stay numbers, dates become ISO text, everything else guarded text."""
    if value is None:
        return ""
    if isinstance(value, Money):  # its exact decimal amount; the list has a currency column beside it
        return value.amount
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):  # never money (money is integer minor units); kept for ratios and scores
        return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0, tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return guard("; ".join(str(item) for item in value))
    return guard(str(value))


def requested_format(request) -> str | None:
    value = request.GET.get(FORMAT_PARAMETER, "")
    return value if value in FORMATS else None


def _rows(rows: Iterable) -> Iterable:
    if isinstance(rows, QuerySet):
        return rows.iterator(chunk_size=CHUNK)
    return rows


def _headers(columns: list[Column]) -> list[str]:
    return [str(column.header) for column in columns]


class _Echo:
    def write(self, value):
        return value


def _csv_stream(rows: Iterable, columns: list[Column], language: str):
    """The CSV's lines, each written in the user's language (activated around each line only, never across a
    yield: the response is streamed after the view has returned)."""
    writer = csv.writer(_Echo())
    with translation.override(language):
        header = "\ufeff" + writer.writerow(_headers(columns))
    yield header
    iterator = iter(_rows(rows))
    while True:
        with translation.override(language):
            lines = []
            for row in itertools.islice(iterator, 200):
                lines.append(writer.writerow([cell(column.value(row)) for column in columns]))
        if not lines:
            return
        yield "".join(lines)


def _filename(filename: str, format: str) -> str:
    return f"{filename}-{timezone.localdate().isoformat()}.{format}"


def csv_response(rows: Iterable, columns: list[Column], filename: str) -> StreamingHttpResponse:
    language = translation.get_language() or "ar"
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in _csv_stream(rows, columns, language)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "csv")}"'
    return response


def xlsx_bytes(rows: Iterable, columns: list[Column], title: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or "data")[:31])
    if translation.get_language_bidi():
        sheet.sheet_view.rightToLeft = True
    bold = Font(bold=True)
    header = []
    for text in _headers(columns):
        item = WriteOnlyCell(sheet, value=text)
        item.font = bold
        header.append(item)
    sheet.append(header)
    for row in _rows(rows):
        values = []
        for column in columns:
            value = cell(column.value(row))
            if isinstance(value, str):
                value = value[:XLSX_CELL_LIMIT]
            values.append(value)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(rows: Iterable, columns: list[Column], filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(rows, columns, title=filename), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "xlsx")}"'
    return response


def export_response(request, rows: Iterable, columns: list[Column], filename: str, format: str):
    """The download of `rows` (a queryset already filtered for the user, or any iterable) in `format`."""
    if format == "csv":
        return csv_response(rows, columns, filename)
    if format == "xlsx":
        return xlsx_response(rows, columns, filename)
    raise ValueError(f"unknown export format {format!r}")


def export_or_none(request, rows: Iterable, columns: list[Column], filename: str):
    """The download when the request asks for one (`?format=csv|xlsx`), else None (render the page)."""
    format = requested_format(request)
    if format is None:
        return None
    return export_response(request, rows, columns, filename, format)


def export_filtered(request, filterset, columns: list[Column], filename: str, rows: Iterable | None = None):
    """export_or_none for a list with a FilterSet: no download while the filters are invalid (the page shows
    their errors instead), so that a download never holds more than the user asked for. `rows` defaults to the
    filterset's queryset (pass it when the page orders or annotates it further)."""
    if requested_format(request) is None or (filterset.is_bound and not filterset.is_valid()):
        return None
    return export_or_none(request, filterset.qs if rows is None else rows, columns, filename)


def export_urls(request) -> dict[str, str]:
    """The current page's query string (its filters, without the page number) with each format."""
    query = request.GET.copy()
    query.pop("page", None)
    for key in list(query):  # empty filters (a form's blank fields) filter nothing: kept out of the link
        values = [value for value in query.getlist(key) if value != ""]
        if values:
            query.setlist(key, values)
        else:
            del query[key]
    urls = {}
    for format in FORMATS:
        query[FORMAT_PARAMETER] = format
        urls[format] = f"{request.path}?{query.urlencode()}"
    return urls
