"""The spreadsheet import: mixed good and bad rows (CSV and .xlsx) keep exactly the good ones and report each bad
one by row, column and message; headers in English or Arabic; files that cannot be read refused as a whole;
chunks written all or nothing; the ledger and the roll-up right afterwards; the command and the task."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.finance import expenditures, ledger
from shafaf.finance.expenditures import expenditures_import, expenditures_import_start
from shafaf.finance.models import Expenditure, ExpenditureSource, FinanceImport, LedgerEntry, ProjectFinance

from .helpers import english
from .helpers_expenditures import SPENT, START, TODAY, csv_upload, line, rate, running_project, xlsx_upload

pytestmark = pytest.mark.django_db

HEADER = ["line code", "amount", "currency", "date", "reference", "place", "description", "evidence kind"]
D = SPENT.isoformat()
FUTURE = (TODAY + dt.timedelta(days=2)).isoformat()
BEFORE = (START - dt.timedelta(days=1)).isoformat()

# Rows 2..; the good ones are rows 2, 4, 8 and 11.
MIXED = [
    ["A", "100.500", "KWD", D, "INV-1", "Khartoum", "Cement", "invoice"],  # 2 good
    ["A", "0.0001", "KWD", D, "INV-2", "", "", "invoice"],  # 3 too many decimals
    ["B", "20.00", "USD", D, "R-3", "", "", "receipt"],  # 4 good (converted)
    ["Z", "5.000", "KWD", D, "INV-4", "", "", "invoice"],  # 5 unknown line
    ["A", "5.000", "XYZ", D, "INV-5", "", "", "invoice"],  # 6 unknown currency
    ["A", "5.000", "KWD", "15/03/2026", "INV-6", "", "", "invoice"],  # 7 not ISO
    ["b", "1.000", "kwd", D, "R-7", "", "", "Receipt"],  # 8 good (codes in any case)
    ["A", "-3.000", "KWD", D, "INV-8", "", "", "invoice"],  # 9 negative
    ["A", "3.000", "KWD", FUTURE, "INV-9", "", "", "invoice"],  # 10 future
    ["A", "3.000", "KWD", BEFORE, "", "", "", "invoice"],  # 11 before the project AND no reference: 2 errors
    ["A", "3.00", "EUR", D, "INV-11", "", "", "invoice"],  # 12 no EUR rate
    ["A", "3.000", "KWD", D, "INV-12", "", "", "bill"],  # 13 bad evidence
    ["A", "0.001", "USD", D, "INV-13", "", "", "invoice"],  # 14 too many decimals for USD
    ["A", "1000000000001", "KWD", D, "INV-14", "", "", "invoice"],  # 15 absurd
    ["A", "2.250", "KWD", D, "INV-15", "", "", "invoice"],  # 16 good
]
GOOD_ROWS_KWD = 100_500 + 6_100 + 1_000 + 2_250  # 20.00 USD at 0.305 = 6.100 KWD
EXPECTED_ERRORS = {
    (3, "amount"),
    (5, "line code"),
    (6, "currency"),
    (7, "date"),
    (9, "amount"),
    (10, "date"),
    (11, "date"),
    (11, "reference"),
    (12, "currency"),
    (13, "evidence kind"),
    (14, "amount"),
    (15, "amount"),
}


@pytest.fixture
def project(world):
    project = running_project(world)
    rate("USD", SPENT, "0.305")
    return project


def to_csv(rows, *, delimiter=",") -> str:
    return "\n".join(delimiter.join(row) for row in rows) + "\n"


def run(world, project, upload, actor=None) -> FinanceImport:
    with english():
        return expenditures_import(actor=actor or world.najat, project=project, file=upload)


def assert_mixed_result(batch, project):
    assert batch.status == FinanceImport.Status.DONE
    assert (batch.rows_total, batch.rows_done, batch.rows_ok, batch.rows_failed) == (15, 15, 4, 11)
    assert {(error["row"], error["column"]) for error in batch.errors} == EXPECTED_ERRORS
    kept = Expenditure.objects.filter(batch=batch)
    assert sorted(kept.values_list("reference", flat=True)) == ["INV-1", "INV-15", "R-3", "R-7"]
    assert all(e.source == ExpenditureSource.SPREADSHEET for e in kept)
    usd = kept.get(reference="R-3")
    assert (usd.amount_minor, usd.currency, usd.project_amount_minor, usd.rate, usd.rate_date) == (
        2000,
        "USD",
        6100,
        "0.305",
        SPENT,
    )
    assert line(project, "A").spent_minor == 100_500 + 2_250
    assert line(project, "B").spent_minor == 6_100 + 1_000
    assert ProjectFinance.objects.get(project=project).spent_minor == GOOD_ROWS_KWD
    assert ledger.trial_balance() == {"KWD": 0}
    assert ledger.balance(ledger.project_advance(project, "KWD")).minor == -GOOD_ROWS_KWD


def messages(batch) -> dict:
    return {(error["row"], error["column"]): error["message"] for error in batch.errors}


def test_mixed_csv_keeps_exactly_the_good_rows(world, project):
    batch = run(world, project, csv_upload(to_csv([HEADER, *MIXED])))
    assert_mixed_result(batch, project)
    text = messages(batch)
    assert "more decimals than KWD" in text[(3, "amount")]
    assert "more decimals than USD" in text[(14, "amount")]
    assert "no budget line “Z”" in text[(5, "line code")]
    assert "yyyy-mm-dd" in text[(7, "date")]
    assert "EUR" in text[(12, "currency")] and D in text[(12, "currency")]
    assert "outside the project's dates" in text[(11, "date")]
    assert "in the future" in text[(10, "date")]
    assert "beyond any plausible" in text[(15, "amount")]


def test_mixed_xlsx_keeps_exactly_the_good_rows(world, project):
    rows = [list(row) for row in MIXED]
    rows[0][3] = SPENT  # a real date cell
    rows[14][1] = 2.25  # a number cell: read as 2.25, exactly
    rows[0][1] = "100.500"
    batch = run(world, project, xlsx_upload([HEADER, *rows]))
    assert_mixed_result(batch, project)


def test_a_utf16_csv_reads_like_utf8(world, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = [["A", "1.500", "KWD", D, "F-1", "", "", "invoice"], ["B", "-2", "KWD", D, "F-2", "", "", "receipt"]]
    upload = SimpleUploadedFile("expenditures.csv", to_csv([HEADER, *rows]).encode("utf-16"), content_type="text/csv")
    batch = run(world, project, upload)
    assert (batch.status, batch.rows_ok, batch.rows_failed) == (FinanceImport.Status.DONE, 1, 1)
    assert [(e["row"], e["code"], e["value"]) for e in batch.errors] == [(3, "amount", "-2")]


def test_semicolons_bom_and_arabic_headers(world, project):
    header = ["رمز البند", "المبلغ", "العملة", "التاريخ", "رقم الفاتورة", "المكان", "الوصف", "نوع المستند"]
    rows = [
        ["A", "1.500", "KWD", D, "F-1", "الخرطوم", "إسمنت", "فاتورة"],
        ["B", "2.000", "KWD", D, "", "", "", "إيصال"],
    ]
    batch = run(world, project, csv_upload(to_csv([header, *rows], delimiter=";"), bom=True))
    assert (batch.rows_ok, batch.rows_failed) == (1, 1)
    # The platform's row-error format (shafaf.interop.rows.RowError): the cell's value and a code besides.
    assert batch.errors == [
        {
            "row": 3,
            "column": "رقم الفاتورة",
            "value": "",
            "code": "reference",
            "message": "Give the invoice or receipt number.",
        }
    ]
    kept = Expenditure.objects.get(batch=batch)
    assert (kept.place, kept.evidence_kind, kept.amount_minor) == ("الخرطوم", "invoice", 1500)


def test_blank_rows_are_skipped_and_extra_cells_reported(world, project):
    text = to_csv([HEADER, MIXED[0], [""] * 8, [*MIXED[-1], "surplus"]])
    batch = run(world, project, csv_upload(text))
    assert (batch.rows_total, batch.rows_ok, batch.rows_failed) == (2, 1, 1)
    assert batch.errors[0]["row"] == 4 and "more cells" in batch.errors[0]["message"]


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (lambda: csv_upload("amount,currency\n1,KWD\n"), "Missing columns"),
        (lambda: csv_upload(""), "empty"),
        (lambda: csv_upload("\n\n"), "no rows"),
    ],
)
def test_unreadable_files_fail_as_a_whole(world, project, upload, words):
    with english():
        try:
            batch = expenditures_import(actor=world.najat, project=project, file=upload())
        except DomainError as error:
            assert words in str(error.fields["file"])
            return
    assert batch.status == FinanceImport.Status.FAILED
    assert words in batch.errors[-1]["message"]
    assert Expenditure.objects.count() == 0


def test_not_utf8_is_refused(world, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = to_csv([HEADER, ["A", "1.000", "KWD", D, "فاتورة", "", "", "invoice"]]).encode("cp1256")
    batch = run(world, project, SimpleUploadedFile("x.csv", data))
    assert batch.status == FinanceImport.Status.FAILED and "UTF-8" in batch.errors[-1]["message"]
    assert Expenditure.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("x.pdf", b"%PDF-1.4 whatever", "CSV file"),
        ("x.csv", b"PK\x03\x04garbage", "must end in .xlsx"),
        ("x.xlsx", b"line code,amount\n", "not an Excel workbook"),
    ],
)
def test_wrong_kinds_of_file_refused(world, project, name, content, words):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with english(), pytest.raises(DomainError) as caught:
        expenditures_import(actor=world.najat, project=project, file=SimpleUploadedFile(name, content))
    assert words in str(caught.value.fields["file"])
    assert FinanceImport.objects.count() == 0


def test_broken_xlsx_fails(world, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    batch = run(world, project, SimpleUploadedFile("x.xlsx", b"PK\x03\x04" + b"\x00" * 100))
    assert batch.status == FinanceImport.Status.FAILED and ".xlsx" in batch.errors[-1]["message"]


def test_chunks_are_all_or_nothing_and_progress_is_kept(world, project, monkeypatch):
    monkeypatch.setattr(expenditures, "CHUNK_ROWS", 3)
    rows = [["A", "1.000", "KWD", D, f"R{n}", "", "", "receipt"] for n in range(7)]
    seen = []
    real_refresh = expenditures.rollup.refresh_from_lines
    calls = {"n": 0}

    def failing_refresh(project):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real_refresh(project)

    monkeypatch.setattr(expenditures.rollup, "refresh_from_lines", failing_refresh)
    with english(), pytest.raises(RuntimeError):
        expenditures_import(
            actor=world.najat,
            project=project,
            file=csv_upload(to_csv([HEADER, *rows])),
            progress=lambda batch: seen.append(batch.rows_done),
        )
    batch = FinanceImport.objects.get()
    # The first chunk is written whole, the second not at all: its expenditures, ledger and counts rolled back.
    assert Expenditure.objects.count() == 3
    assert LedgerEntry.objects.filter(transaction__source=f"expenditure-import:{batch.pk}").count() == 2
    assert (batch.status, batch.rows_done, batch.rows_ok) == (FinanceImport.Status.FAILED, 3, 3)
    assert seen == [3]
    assert ledger.trial_balance() == {"KWD": 0}


def test_progress_counts_per_chunk(world, project, monkeypatch):
    monkeypatch.setattr(expenditures, "CHUNK_ROWS", 2)
    rows = [["A", "1.000", "KWD", D, f"R{n}", "", "", "receipt"] for n in range(5)]
    rows[1][1] = "bad"
    seen = []
    with english():
        expenditures_import(
            actor=world.najat,
            project=project,
            file=csv_upload(to_csv([HEADER, *rows])),
            progress=lambda b: seen.append((b.rows_done, b.rows_ok, b.rows_failed, b.status)),
        )
    assert seen == [(2, 1, 1, "running"), (4, 3, 1, "running"), (5, 4, 1, "done")]


def test_blocked_line_rows_refused(world, project):
    rows = [["A", "1.000", "KWD", D, "R1", "", "", "receipt"], ["B", "1.000", "KWD", D, "R2", "", "", "receipt"]]

    def blocked(project, line):
        return "Spending on A is blocked." if line.code == "A" else None

    with mock.patch.object(expenditures.deviations, "spending_blocked", side_effect=blocked):
        batch = run(world, project, csv_upload(to_csv([HEADER, *rows])))
    assert (batch.rows_ok, batch.rows_failed) == (1, 1)
    assert batch.errors == [
        {"row": 2, "column": "line code", "value": "A", "code": "line", "message": "Spending on A is blocked."}
    ]


def test_who_may_import(world, project):
    with pytest.raises(NotAllowed):
        run(world, project, csv_upload(to_csv([HEADER, MIXED[0]])), actor=world.rahma)
    batch = run(world, project, csv_upload(to_csv([HEADER, MIXED[0]])), actor=world.partner_reporter)
    assert batch.rows_ok == 1
    assert FinanceImport.objects.count() == 1


def test_too_many_errors_are_capped(world, project, monkeypatch):
    monkeypatch.setattr(expenditures, "MAX_REPORTED_ERRORS", 3)
    rows = [["A", "x", "KWD", D, f"R{n}", "", "", "receipt"] for n in range(6)]
    batch = run(world, project, csv_upload(to_csv([HEADER, *rows])))
    assert batch.rows_failed == 6 and len(batch.errors) == 4
    assert "3 more errors" in batch.errors[-1]["message"]


def test_command_prints_progress_and_errors(world, project, tmp_path):
    path = tmp_path / "spent.csv"
    path.write_text(to_csv([HEADER, *MIXED]), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with english():
        call_command("import_expenditures", project.reference, str(path), "--user", "najat", stdout=out, stderr=err)
    assert "15 rows, 4 kept, 11 refused" in out.getvalue()
    assert "row 3, amount:" in out.getvalue()
    assert "rows: 15/15 read, 4 kept, 11 refused" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("import_expenditures", "PRJ-NOPE", str(path), "--user", "najat", stdout=out, stderr=err)
    with pytest.raises(CommandError):
        call_command("import_expenditures", project.reference, str(path), "--user", "nobody", stdout=out, stderr=err)


def test_start_stores_the_file_and_the_task_imports_it(world, project, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    with english(), django_capture_on_commit_callbacks(execute=True):
        batch = expenditures_import_start(
            actor=world.najat,
            project=project,
            file=xlsx_upload([HEADER, ["A", "1.000", "KWD", D, "R", "", "", "receipt"]]),
        )
    batch.refresh_from_db()
    assert (batch.status, batch.rows_ok, batch.rows_failed) == (FinanceImport.Status.DONE, 1, 0)
    assert not default_storage.exists(f"imports/expenditures/{project.pk}/{batch.sha256[:16]}.xlsx")


@pytest.mark.parametrize("project_currency", ["KWD", "USD"])
def test_fast_path_converts_exactly_like_convert_on(world, project_currency):
    """Imported rows (the fast path) are converted exactly as rates.convert_on converts, crossed rates included."""
    import random

    from shafaf.core.money import Money
    from shafaf.finance import rates
    from shafaf.projects.models import Project

    Project.objects.filter(pk=world.project_a.pk).update(currency=project_currency)
    world.project_a.refresh_from_db()
    project = running_project(world)
    rate("USD", SPENT, "0.30512")
    rate("EUR", SPENT - dt.timedelta(days=4), "0.33333")
    rate("JPY", SPENT, "0.0021")
    generator = random.Random(61)
    rows, amounts = [], []
    for n in range(300):
        currency = generator.choice(["KWD", "USD", "EUR", "JPY"])
        money = Money(generator.randint(1, 10**9), currency)
        amounts.append(money)
        rows.append(["A", money.amount_text, currency, D, f"R{n}", "", "", "receipt"])
    batch = run(world, project, csv_upload(to_csv([HEADER, *rows])))
    assert batch.rows_ok == 300
    by_reference = {e.reference: e for e in Expenditure.objects.filter(batch=batch)}
    for n, money in enumerate(amounts):
        stored = by_reference[f"R{n}"]
        expected = rates.convert_on(money, project_currency, SPENT)
        assert (stored.amount_minor, stored.currency) == (money.minor, money.currency)
        assert stored.project_amount_minor == expected.money.minor
        assert stored.rate == expected.rate_text
        assert stored.rate_date == (expected.rate_date if expected.rate_text else None)
    assert ledger.trial_balance() == {project_currency: 0}
