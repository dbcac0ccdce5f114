"""CSV and Excel downloads of list pages: the format, the guard against formulas, the user's language, the user's
filters, and tenant isolation (a charity's download never holds another charity's rows)."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from shafaf.interop import tables
from shafaf.interop.rows import read_table
from shafaf.interop.tables import Column


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode()), "a CSV download starts with a byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_that_look_like_formulas_are_prefixed(value, expected):
    assert tables.cell(value) == expected


def test_numbers_stay_numbers_and_none_is_empty():
    assert tables.cell(-5) == -5
    assert tables.cell(Decimal("-1.250")) == Decimal("-1.250")
    assert tables.cell(None) == ""


COLUMNS = [Column("name", "Name", lambda row: row["name"]), Column("n", "Count", lambda row: row["n"])]
ROWS = [{"name": "=cmd|' /C calc'!A0", "n": 3}, {"name": "جمعية", "n": -4}]


def test_csv_and_xlsx_hold_the_same_guarded_cells():
    request = RequestFactory().get("/x/", {"format": "csv"})
    rows = _csv(tables.export_or_none(request, ROWS, COLUMNS, "things"))
    assert rows == [["Name", "Count"], ["'=cmd|' /C calc'!A0", "3"], ["جمعية", "-4"]]
    request = RequestFactory().get("/x/", {"format": "xlsx"})
    response = tables.export_or_none(request, ROWS, COLUMNS, "things")
    assert response["Content-Type"] == tables.XLSX_CONTENT_TYPE
    assert 'filename="things-' in response["Content-Disposition"]
    assert _xlsx(response) == [["Name", "Count"], ["'=cmd|' /C calc'!A0", 3], ["جمعية", -4]]
    # What we write, our own imports read back.
    table = read_table(response.content, "things.xlsx")
    assert [values for _, values in table.rows] == [
        {"name": "'=cmd|' /C calc'!A0", "count": "3"},
        {"name": "جمعية", "count": "-4"},
    ]


def test_no_format_or_an_unknown_one_renders_the_page():
    assert tables.export_or_none(RequestFactory().get("/x/"), ROWS, COLUMNS, "t") is None
    assert tables.export_or_none(RequestFactory().get("/x/", {"format": "pdf"}), ROWS, COLUMNS, "t") is None


def test_export_urls_keep_the_filters_and_drop_the_page():
    request = RequestFactory().get("/projects/", {"status": "draft", "page": "3", "q": "مياه"})
    urls = tables.export_urls(request)
    assert urls["csv"].startswith("/projects/?")
    assert "status=draft" in urls["csv"] and "format=csv" in urls["csv"] and "page=" not in urls["csv"]
    assert "format=xlsx" in urls["xlsx"]


def test_arabic_workbook_is_right_to_left_and_english_is_not():
    with translation.override("ar"):
        sheet = load_workbook(io.BytesIO(tables.xlsx_bytes(ROWS, COLUMNS))).worksheets[0]
        assert sheet.sheet_view.rightToLeft
    with translation.override("en"):
        sheet = load_workbook(io.BytesIO(tables.xlsx_bytes(ROWS, COLUMNS))).worksheets[0]
        assert not sheet.sheet_view.rightToLeft


def test_a_long_csv_streams_every_row_in_the_users_language_without_leaking_it():
    rows = [{"name": f"n{i}", "n": i} for i in range(450)]
    columns = [Column("name", gettext_lazy("Name"), lambda row: row["name"]), COLUMNS[1]]
    with translation.override("en"):
        response = tables.export_or_none(RequestFactory().get("/x/", {"format": "csv"}), rows, columns, "t")
    with translation.override("ar"):
        lines = _csv(response)
        assert translation.get_language() == "ar", "streaming the download leaves the active language alone"
    assert lines[0][0] == "Name" and len(lines) == 451 and lines[-1] == ["n449", "449"]
