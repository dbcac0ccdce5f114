"""Financial statements of a project and of a charity: the page in Arabic and English, the Excel file read back
to the last fils, the bilingual PDF's text, who may see them, and bounded query counts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shafaf.core.money import Money
from shafaf.finance import statements
from shafaf.finance.models import BudgetVersion

from .helpers_insight import budget, contract_with_tranche, deviation, disburse, spend

pytestmark = pytest.mark.django_db

D = dt.date
TITLE_AR = "حفر بئر ارتوازي في قرية النور"


@pytest.fixture
def books(world):
    """Charity A's project: a budget of 1,000.000 KWD revised to 1,100.500 KWD, spending in KWD and USD, a tranche
    with two disbursements, and a line deviation justified and approved."""
    project = world.project_a
    budget(project, world.najat, {"PRG-1": 600_000, "ADM-1": 400_000})
    revised = budget(project, world.najat, {"PRG-1": 700_500, "ADM-1": 400_000}, number=2, reason="توسعة نطاق الحفر")
    spend(project, world.najat, "PRG-1", 250_125, on=D(2027, 2, 1))
    spend(project, world.najat, "PRG-1", 100, on=D(2027, 2, 2))  # 0.100 KWD, ten times
    for _ in range(9):
        spend(project, world.najat, "PRG-1", 100, on=D(2027, 2, 2), refresh=False)
    # 1,000.00 USD at 0.30625 KWD per USD = 306.250 KWD.
    spend(
        project, world.najat, "ADM-1", 100_000, currency="USD", project_amount_minor=306_250, rate="0.30625",
        on=D(2027, 3, 1),
    )  # fmt: skip
    contract, tranche = contract_with_tranche(project, world.partner, world.najat)
    disburse(project, contract, tranche, world.najat, amount_minor=150_000, reference="KFH-2027-0001")
    disburse(project, contract, tranche, world.najat, amount_minor=50_250, reference="KFH-2027-0002")
    deviation(
        project, revised, code="ADM-1", status="approved", justification="ارتفاع أسعار الوقود",
        decision_note="Approved: fuel prices rose.", decided_by=world.reviewer,
        decided_at=dt.datetime(2027, 3, 5, tzinfo=dt.UTC),
    )  # fmt: skip
    return project


def test_the_statement_sums_in_sql(books, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        statement = statements.project_statement(books)
        lines = {row.line.code: row for row in statement.lines}
    assert statement.budget == Money(1_100_500, "KWD")
    assert statement.spent == Money(250_125 + 1_000 + 306_250, "KWD")
    assert lines["PRG-1"].budget == Money(700_500, "KWD")
    assert lines["PRG-1"].spent == Money(251_125, "KWD")
    assert lines["PRG-1"].variance == Money(251_125 - 700_500, "KWD")
    assert lines["ADM-1"].spent == Money(306_250, "KWD")
    assert [version.number for version in statement.versions] == [1, 2]
    assert statement.revisions[0].reason == "توسعة نطاق الحفر"
    usd = [row for row in statement.by_currency_rate if row["currency"] == "USD"]
    assert usd == [
        {
            "currency": "USD",
            "rate": "0.30625",
            "count": 1,
            "amount": Money(100_000, "USD"),
            "project_amount": Money(306_250, "KWD"),
            "first_rate_date": D(2027, 3, 1),
            "last_rate_date": D(2027, 3, 1),
        }
    ]
    kwd_prg = [row for row in statement.by_line_currency if row["code"] == "PRG-1"]
    assert kwd_prg[0]["count"] == 11 and kwd_prg[0]["amount"] == Money(251_125, "KWD")
    (tranche,) = statement.tranches
    assert [item.reference for item in tranche.disbursements] == ["KFH-2027-0001", "KFH-2027-0002"]
    assert tranche.disbursed == Money(200_250, "KWD")
    assert tranche.remaining == Money(199_750, "KWD")


def test_query_count_does_not_grow_with_expenditures(books, world, django_assert_max_num_queries):
    for _ in range(30):
        spend(books, world.najat, "ADM-1", 1_000, on=D(2027, 4, 1), refresh=False)
    with django_assert_max_num_queries(9):
        statements.project_statement(books)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_page_in_both_languages(books, world, login, language, django_assert_max_num_queries):
    world.najat.language = language
    world.najat.save(update_fields=["language"])
    client = login(world.najat)
    url = reverse("finance:statement", args=[books.pk])
    with django_assert_max_num_queries(20):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    text = response.content.decode()
    assert f'lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}"' in text
    assert TITLE_AR in text and "Drilling an artesian well in Al-Noor village" in text
    assert "1,100.500 KWD" in text and "1,000.00 USD" in text and "0.30625" in text
    assert "KFH-2027-0002" in text and "توسعة نطاق الحفر" in text and "ارتفاع أسعار الوقود" in text
    # The line's name follows the page's language.
    assert ("Line 1" in text) == (language == "en") and ("بند 1" in text) == (language == "ar")


def test_the_page_is_for_the_charity_the_ministry_and_auditors(books, world, login):
    url = reverse("finance:statement", args=[books.pk])
    for user in (world.najat, world.staff_a, world.reviewer, world.ministry_admin, world.auditor):
        assert login(user).get(url).status_code == 200, user
    for user in (world.rahma, world.staff_b, world.donor):
        assert login(user).get(url).status_code == 404, user
    for name in ("statement_xlsx", "statement_pdf"):
        assert login(world.rahma).get(reverse(f"finance:{name}", args=[books.pk])).status_code == 404


def _cells(workbook, sheet_index: int) -> list[tuple]:
    return [tuple(row) for row in workbook.worksheets[sheet_index].iter_rows(values_only=True)]


def _exact(value, digits: int) -> Decimal:
    """An amount read back from the workbook, rounded to the currency's minor unit."""
    if isinstance(value, str):
        return Decimal(value)
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits))


def test_the_excel_file_gives_back_the_exact_amounts(books, world, login):
    response = login(world.reviewer).get(reverse("finance:statement_xlsx", args=[books.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1:] for row in _cells(workbook, 0) if row and row[0]}
    assert TITLE_AR in [value for values in summary.values() for value in values]
    lines_sheet = workbook.worksheets[2]
    rows = {row[0]: row for row in _cells(workbook, 2)[1:]}
    assert _exact(rows["PRG-1"][3], 3) == Decimal("700.500")
    assert _exact(rows["PRG-1"][4], 3) == Decimal("251.125")
    assert _exact(rows["PRG-1"][5], 3) == Decimal("-449.375")
    assert rows["PRG-1"][6] == "KWD"
    assert lines_sheet.cell(row=2, column=4).number_format == "#,##0.000"
    expenditures = _cells(workbook, 4)
    usd = next(row for row in expenditures if row[1] == "USD" and row[0] != "USD")
    assert _exact(usd[3], 2) == Decimal("1000.00") and _exact(usd[5], 3) == Decimal("306.250")
    deviations = _cells(workbook, 5)
    assert any("ارتفاع أسعار الوقود" in (cell or "") for row in deviations for cell in row if isinstance(cell, str))


def test_a_tenth_of_a_dinar_ten_times_is_exactly_one_dinar_in_excel(world):
    project = world.project_a
    budget(project, world.najat, {"PRG-1": 1_000})
    for _ in range(10):
        spend(project, world.najat, "PRG-1", 100, refresh=False)
    workbook = load_workbook(io.BytesIO(statements.project_statement_xlsx(statements.project_statement(project), "en")))
    rows = {row[0]: row for row in _cells(workbook, 2)[1:]}
    assert rows["PRG-1"][4] == 1  # 1.000 KWD, not 0.9999999999999999
    assert _exact(rows["PRG-1"][5], 3) == 0


def test_amounts_a_double_cannot_hold_are_written_as_exact_text():
    assert statements.excel_amount(Money(999_999_999_999_999, "KWD")) == Decimal("999999999999.999")
    assert statements.excel_amount(Money(1_234_567_890_123_456_789, "KWD")) == "1234567890123456.789"
    assert statements.number_format("KWD") == "#,##0.000"
    assert statements.number_format("USD") == "#,##0.00"
    assert statements.number_format("JPY") == "#,##0"


def test_excel_round_trip_of_large_and_awkward_amounts(tmp_path):
    from openpyxl import Workbook

    amounts = [Money(m, "KWD") for m in (1, 100, 999, 123_456_789_012_345, 999_999_999_999_999, -1, 10**18 + 7)]
    workbook = Workbook()
    sheet = statements._Sheet(workbook, "t", rtl=False)
    for amount in amounts:
        sheet.row(amount, amount.currency)
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    read = [row[0] for row in load_workbook(path).worksheets[-1].iter_rows(values_only=True)]
    assert [_exact(value, 3) for value in read] == [amount.amount for amount in amounts]
    assert isinstance(read[-1], str)  # beyond 15 digits: the exact text, not a rounded number


def test_the_pdf_is_bilingual_with_the_exact_amounts(books):
    statement = statements.project_statement(books)
    document = statements.pdf_document("finance/statement_project_body.html", {"statement": statement})
    text = statements.document_text(document)
    assert TITLE_AR in text
    assert "Drilling an artesian well in Al-Noor village" in text
    assert "1,100.500 KWD" in text and "1,000.00 USD" in text and "KFH-2027-0001" in text
    assert "Budget lines" in text  # the English part
    assert "ارتفاع أسعار الوقود" in text
    pdf = document.write_pdf()
    assert pdf.startswith(b"%PDF") and len(document.pages) >= 2
    fonts = {font.family_name if hasattr(font, "family_name") else str(font) for font in document.fonts.values()}
    assert fonts  # the shipped DejaVu font was embedded


def test_the_pdf_download(books, world, login):
    response = login(world.auditor).get(reverse("finance:statement_pdf", args=[books.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_charity_statement(books, world, login, django_assert_max_num_queries):
    BudgetVersion.objects.filter(project=world.project_b).delete()
    budget(world.project_b, world.rahma, {"PRG-1": 5_000})
    url = reverse("finance:charity_statement", args=[world.charity_a.slug])
    client = login(world.najat)
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert books.reference in text and world.project_b.reference not in text
    assert "1,100.500 KWD" in text and "توسعة نطاق الحفر" in text and "ارتفاع أسعار الوقود" in text
    assert login(world.reviewer).get(url).status_code == 200
    assert login(world.auditor).get(url).status_code == 200
    for user in (world.rahma, world.donor, world.partner_reporter):
        client = login(user)
        assert client.get(url).status_code == 404, user
        assert client.get(reverse("finance:charity_statement_xlsx", args=[world.charity_a.slug])).status_code == 404
        assert client.get(reverse("finance:charity_statement_pdf", args=[world.charity_a.slug])).status_code == 404
    assert login(world.najat).get(reverse("finance:charity_statement", args=["no-such"])).status_code == 404

    workbook = load_workbook(io.BytesIO(login(world.najat).get(url + "xlsx/").content))
    projects = _cells(workbook, 1)
    row = next(r for r in projects if r[0] == books.reference)
    assert row[1] == TITLE_AR
    assert _exact(row[3], 3) == Decimal("1100.500")
    pdf = login(world.najat).get(url + "pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_charity_pdf_text(books, world):
    statement = statements.charity_statement(world.charity_a)
    text = statements.document_text(
        statements.pdf_document("finance/statement_charity_body.html", {"statement": statement})
    )
    assert "جمعية النور الخيرية" in text and "Al-Noor Charity" in text
    assert "1,100.500 KWD" in text and TITLE_AR in text
