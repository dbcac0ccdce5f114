"""shafaf.interop.rows: reading a table (CSV in UTF-8/UTF-16, semicolons, an .xlsx; from bytes or a file handle, read
as it goes) and the row-error report every table import shares."""

from __future__ import annotations

import base64
import datetime as dt
import io

import pytest
from django.utils import translation
from openpyxl import Workbook

from shafaf.interop.rows import RowError, RowReport, TableError, cell_text, read_table


def rows_of(table):
    return list(table.rows)


def test_utf8_with_bom_normalises_the_header_and_numbers_rows_like_a_spreadsheet():
    data = "\ufeffName AR, Amount \nجمعية,5\n\n,\nأخرى,7,extra\n".encode()
    table = read_table(data, "x.csv")
    assert table.header == ["Name AR", "Amount"] and table.kind == "csv"
    assert rows_of(table) == [
        (2, {"name_ar": "جمعية", "amount": "5"}),
        (5, {"name_ar": "أخرى", "amount": "7", "": "extra"}),
    ]


def test_utf16_with_its_mark_and_semicolons_are_read():
    data = "currency;rate\nUSD;0,3065\n".encode("utf-16")
    assert rows_of(read_table(data)) == [(2, {"currency": "USD", "rate": "0,3065"})]
    handle = io.BytesIO(data)
    assert rows_of(read_table(handle)) == [(2, {"currency": "USD", "rate": "0,3065"})]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        ("a,b\nCaf\xe9,1\n".encode("latin-1"), "encoding"),
        (b"a,b\nx\x00y,1\n", "not_text"),
        (b"a,A\n1,2\n", "duplicate_column"),
    ],
)
def test_a_file_that_is_not_a_table_is_refused_with_its_reason(data, code):
    with pytest.raises(TableError) as refused:
        rows_of(read_table(data))
    assert refused.value.code == code and str(refused.value)


def test_a_handle_is_read_as_it_goes_and_left_open():
    lines = ["code,amount"] + [f"L{n},{n}" for n in range(5000)]
    data = ("\n".join(lines) + "\n").encode()
    handle = io.BytesIO(data)
    table = read_table(handle, "big.csv", lists=True)
    first = next(table.rows)
    assert first == (2, ["L0", "0"])
    assert handle.tell() < len(data), "the rows are read as they are asked for, not all at once"
    assert sum(1 for _ in table.rows) == 4999
    assert not handle.closed


def test_an_encoding_problem_further_down_a_handle_is_raised_when_reached():
    data = b"a,b\n" + b"x,1\n" * 20000 + "Caf\xe9,2\n".encode("latin-1")
    table = read_table(io.BytesIO(data))
    with pytest.raises(TableError) as refused:
        rows_of(table)
    assert refused.value.code == "encoding" and "20002" in str(refused.value)


def test_an_xlsx_first_sheet_reads_cells_as_people_see_them():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Amount", "Date", "When", "Ratio", "Blank"])
    sheet.append(["A-1", 12.0, dt.datetime(2026, 3, 15), dt.datetime(2026, 3, 15, 9, 30), 0.1, None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["A-2", 3, dt.date(2026, 1, 2), None, 1.25, ""])
    workbook.create_sheet("ignored").append(["x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    for source in (buffer.getvalue(), io.BytesIO(buffer.getvalue())):
        table = read_table(source, "t.xlsx")
        assert table.kind == "xlsx"
        assert rows_of(table) == [
            (
                2,
                {
                    "code": "A-1",
                    "amount": "12",
                    "date": "2026-03-15",
                    "when": "2026-03-15 09:30:00",
                    "ratio": "0.1",
                    "blank": "",
                },
            ),
            (4, {"code": "A-2", "amount": "3", "date": "2026-01-02", "when": "", "ratio": "1.25", "blank": ""}),
        ]


def test_cell_text_never_shows_binary_noise():
    assert cell_text(0.1 + 0.2) == "0.30000000000000004"  # the float as stored, shortest exact repr
    assert cell_text(float("nan")) == "" and cell_text(True) == "True" and cell_text(None) == ""


def test_the_report_counts_rows_and_writes_its_errors_as_csv():
    report = RowReport(file="f.csv", read=3, imported=1, unchanged=1)
    report.add(3, "amount", "The amount must be more than zero.", value="-5", code="negative")
    report.add(3, "date", "Not a date.", value="x" * 500)
    report.file_errors.append("Something about the file.")
    assert report.failed and report.failed_rows == [3]
    data = report.as_dict()
    assert data["failed_rows"] == 1 and data["errors"][0] == {
        "row": 3,
        "column": "amount",
        "value": "-5",
        "code": "negative",
        "message": "The amount must be more than zero.",
    }
    assert len(data["errors"][1]["value"]) == 200
    lines = report.errors_csv().decode("utf-8-sig").splitlines()
    assert lines == [
        "row,column,value,code,message",
        "0,,,file,Something about the file.",
        "3,amount,-5,negative,The amount must be more than zero.",
        "3,date," + "x" * 200 + ",invalid,Not a date.",
    ]
    href = report.errors_csv_href()
    assert base64.b64decode(href.split(",", 1)[1]) == report.errors_csv()
    with translation.override("en"):
        assert str(RowError(row=3, column="amount", message="Bad.")) == "row 3, amount: Bad."
