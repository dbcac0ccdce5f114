"""The ministry's exchange rates: looking them up, converting with them, keeping them (one by hand, a CSV table),
who may, and the rates page and API in both languages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.core.money import Money
from shafaf.finance import permissions, rates, rates_import
from shafaf.finance.models import ExchangeRate, FinanceImport
from tests.factories import verified_login

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2019, 1, 7)
# The ECB's reference rates of 2 January 2019 (units per euro), as in the shipped table's source.
ECB_USD_2019_01_02 = Decimal("1.1397")
ECB_GBP_2019_01_02 = Decimal("0.90165")


def rate(currency, on_date, text, source="test"):
    return ExchangeRate.objects.create(currency=currency, on_date=on_date, rate=text, source=source)


def upload(text: str, name="rates.csv", bom=False) -> SimpleUploadedFile:
    data = text.encode("utf-8")
    return SimpleUploadedFile(name, (b"\xef\xbb\xbf" if bom else b"") + data, content_type="text/csv")


# --- lookup and conversion ------------------------------------------------------------------------------------------


def test_the_rate_of_the_date_is_used():
    rate("USD", MONDAY - dt.timedelta(days=1), "0.3020")
    rate("USD", MONDAY, "0.3031")
    quote = rates.rate_on("USD", MONDAY)
    assert quote.rate == Decimal("0.3031") and quote.on_date == MONDAY


def test_the_latest_rate_before_is_used_within_the_allowed_age():
    rate("EUR", MONDAY - dt.timedelta(days=3), "0.34")  # Friday's rate on Monday
    quote = rates.rate_on("eur", MONDAY)
    assert quote.currency == "EUR" and quote.rate == Decimal("0.34") and quote.on_date == MONDAY - dt.timedelta(days=3)


def test_a_rate_older_than_the_allowed_age_is_refused_naming_currency_and_date():
    settings = rates.settings()
    settings.rate_max_age_days = 5
    settings.save()
    rate("GBP", MONDAY - dt.timedelta(days=6), "0.38")
    with translation.override("en"), pytest.raises(rates.RateMissing) as refused:
        rates.rate_on("GBP", MONDAY)
    assert "GBP" in refused.value.message and "2019-01-07" in refused.value.message
    assert refused.value.code == "rate_missing"
    with pytest.raises(rates.RateMissing):
        rates.convert_on(Money(100, "GBP"), "KWD", MONDAY)
    assert rates.rate_on("GBP", MONDAY - dt.timedelta(days=1)).rate == Decimal("0.38")  # within 5 days of Sunday


def test_a_rate_after_the_date_is_never_used():
    rate("USD", MONDAY + dt.timedelta(days=1), "0.30")
    with pytest.raises(rates.RateMissing):
        rates.rate_on("USD", MONDAY)


def test_the_dinar_is_always_one_and_same_currency_needs_no_rate():
    assert rates.rate_on("KWD", MONDAY).rate == 1
    converted = rates.convert_on(Money(1_234, "KWD"), "KWD", MONDAY)
    assert converted.money == Money(1_234, "KWD") and converted.rate_date is None and converted.rate_text == ""


def test_a_conversion_records_its_rate_and_the_rate_date():
    rate("USD", MONDAY - dt.timedelta(days=3), "0.3033")
    converted = rates.convert_on(Money(10_000, "USD"), "KWD", MONDAY)  # 100.00 USD
    assert converted.money == Money(30_330, "KWD")
    assert converted.rate == Decimal("0.3033") and converted.rate_text == "0.3033"
    assert converted.rate_date == MONDAY - dt.timedelta(days=3)


def test_a_conversion_rounds_half_to_even():
    rate("USD", MONDAY, "0.3025")
    assert rates.convert_on(Money(1, "USD"), "KWD", MONDAY).money == Money(3, "KWD")  # 0.003025 → 0.003
    assert rates.convert_on(Money(10, "USD"), "KWD", MONDAY).money == Money(30, "KWD")  # 0.03025 → 0.030
    assert rates.convert_on(Money(30, "USD"), "KWD", MONDAY).money == Money(91, "KWD")  # 0.09075 → 0.091 (odd 90)


@pytest.fixture
def shipped_day():
    """The shipped table's USD and GBP rows of 2 January 2019."""
    wanted = {("USD", "2019-01-02"), ("GBP", "2019-01-02")}
    lines = rates_import.SHIPPED_TABLE.read_text(encoding="utf-8").splitlines()
    chosen = [lines[0]] + [line for line in lines[1:] if tuple(line.split(",")[:2]) in wanted]
    assert len(chosen) == 3
    admin = None
    rates_import.rates_import(actor=admin, file=upload("\n".join(chosen)))
    return dt.date(2019, 1, 2)


@pytest.mark.parametrize("pounds", ["1.00", "100.00", "12345.67", "98765432.10"])
def test_cross_rates_between_two_currencies_are_the_ecb_cross(shipped_day, pounds):
    money = Money.of(pounds, "GBP")
    converted = rates.convert_on(money, "USD", shipped_day)
    ecb = Decimal(pounds) * ECB_USD_2019_01_02 / ECB_GBP_2019_01_02
    assert abs(converted.money.amount - ecb) <= Decimal("0.01")
    assert converted.rate_date == shipped_day
    assert abs(converted.rate - ECB_USD_2019_01_02 / ECB_GBP_2019_01_02) < Decimal("1e-9")


def test_the_shipped_table_anchors_the_dollar_and_covers_the_demo_years(shipped_day):
    assert rates.rate_on("USD", shipped_day).rate == Decimal("0.303")
    text = rates_import.SHIPPED_TABLE.read_text(encoding="utf-8")
    assert rates_import.SHIPPED_TABLE.stat().st_size < 2 * 1024 * 1024
    for currency in (
        "USD",
        "EUR",
        "GBP",
        "KRW",
        "SEK",
        "CHF",
        "CAD",
        "CZK",
        "AUD",
        "NOK",
        "DKK",
        "NZD",
        "BDT",
        "NGN",
        "MNT",
    ):
        assert f"\n{currency},2019-" in text and f"\n{currency},2027-12-01," in text, currency
    assert "approximation, not ECB" in text and "demo: last known rate carried forward" in text


# --- keeping the rates ----------------------------------------------------------------------------------------------


def test_only_the_ministrys_administrators_keep_the_rates(world):
    assert permissions.can_manage_rates(world.ministry_admin)
    for user in (world.reviewer, world.najat, world.staff_a, world.auditor, world.donor, world.partner_reporter):
        assert not permissions.can_manage_rates(user)
        with pytest.raises(NotAllowed):
            rates_import.rate_set(actor=user, currency="USD", on_date=MONDAY, rate="0.3")
        with pytest.raises(NotAllowed):
            rates_import.rates_import(actor=user, file=upload("currency,date,rate\nUSD,2019-01-07,0.3\n"))
    assert not ExchangeRate.objects.exists()
    readers = (world.reviewer, world.ministry_admin, world.auditor, world.najat, world.staff_b, world.mosa_officer)
    assert all(permissions.can_view_rates(user) for user in readers)
    assert not permissions.can_view_rates(world.donor) and not permissions.can_view_rates(world.partner_reporter)


def test_a_rate_entered_by_hand_is_audited_and_replaced_only_when_it_differs(world):
    first = rates_import.rate_set(actor=world.ministry_admin, currency="usd", on_date=MONDAY, rate="0.3030")
    assert (first.currency, first.rate, first.entered_by) == ("USD", "0.3030", world.ministry_admin)
    events = AuditEvent.objects.filter(subject_type="finance.exchangerate").count()
    same = rates_import.rate_set(actor=world.ministry_admin, currency="USD", on_date=MONDAY, rate=Decimal("0.303"))
    assert same.pk == first.pk and same.rate == "0.3030"
    assert AuditEvent.objects.filter(subject_type="finance.exchangerate").count() == events
    changed = rates_import.rate_set(actor=world.ministry_admin, currency="USD", on_date=MONDAY, rate="0.3041")
    assert changed.pk == first.pk and changed.rate == "0.3041"
    event = AuditEvent.objects.filter(action="exchange_rate.changed").latest("seq")
    assert event.changes["rate"] == ["0.3030", "0.3041"]


@pytest.mark.parametrize(
    ("currency", "value", "field"),
    [
        ("XYZ", "0.3", "currency"),
        ("USD", "0", "rate"),
        ("USD", "-0.3", "rate"),
        ("USD", "1e-3", "rate"),
        ("USD", "0.1234567890123", "rate"),
        ("USD", "abc", "rate"),
        ("KWD", "1.5", "rate"),
    ],
)
def test_a_bad_rate_is_refused_with_a_field_error(world, currency, value, field):
    with pytest.raises(DomainError) as refused:
        rates_import.rate_set(actor=world.ministry_admin, currency=currency, on_date=MONDAY, rate=value)
    assert field in refused.value.fields
    assert not ExchangeRate.objects.exists()


MIXED = (
    "currency,date,rate,source\n"
    "USD,2024-03-31,0.3065,CBK\n"  # 2 good
    "XYZ,2024-03-31,0.5,\n"  # 3 unknown currency
    "EUR,2024-02-30,0.33,\n"  # 4 not a date
    "EUR,31/03/2024,0.33,\n"  # 5 not ISO
    "EUR,2024-03-31,-0.33,\n"  # 6 not positive
    "EUR,2024-03-31,0.1234567890123,\n"  # 7 too many decimals
    "USD,2024-03-31,0.3070,\n"  # 8 duplicate with another rate
    "USD,2024-03-31,0.30650,\n"  # 9 duplicate with the same rate: kept once
    "KWD,2024-03-31,2,\n"  # 10 the dinar is 1
    "\n"
    "GBP,2024-03-31,٠٫٣٨٥,\n"  # 12 good, Arabic-Indic digits
    "EUR,2024-03-31,3.3e-1,\n"  # 13 exponent
    "CHF,2024-03-31,,\n"  # 14 missing rate
)


def test_an_import_keeps_the_good_rows_and_reports_each_bad_one(world):
    with translation.override("en"):
        batch = rates_import.rates_import(actor=world.ministry_admin, file=upload(MIXED), source="ministry bulletin")
    batch.refresh_from_db()
    assert batch.kind == FinanceImport.Kind.RATES and batch.status == FinanceImport.Status.DONE
    assert (batch.rows_total, batch.rows_ok, batch.rows_failed) == (12, 3, 9)
    by_row = {error["row"]: error for error in batch.errors}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 10, 13, 14]
    assert by_row[3]["column"] == "currency" and "XYZ" in by_row[3]["message"]
    assert by_row[4]["column"] == "date" and by_row[5]["column"] == "date" and "YYYY-MM-DD" in by_row[5]["message"]
    assert by_row[6]["column"] == "rate" and by_row[7]["column"] == "rate" and "12" in by_row[7]["message"]
    assert by_row[8]["column"] == "rate" and "Row 2" in by_row[8]["message"]
    assert by_row[10]["column"] == "rate" and by_row[13]["column"] == "rate" and by_row[14]["column"] == "rate"
    # The platform's row-error format (shafaf.interop.rows.RowError): the cell's value and a code besides.
    assert set(by_row[6]) == {"row", "column", "value", "code", "message"}
    assert (
        by_row[6]["value"] == "-0.33" and by_row[3]["value"] == "XYZ" and by_row[8]["code"] == "conflicting_duplicate"
    )
    assert batch.report.as_dict()["errors"] == batch.errors and batch.report.read == 12
    stored = {(r.currency, r.on_date.isoformat()): (r.rate, r.source, r.batch_id) for r in ExchangeRate.objects.all()}
    assert stored == {
        ("USD", "2024-03-31"): ("0.3065", "CBK", batch.pk),
        ("GBP", "2024-03-31"): ("0.385", "ministry bulletin", batch.pk),
    }


def test_an_import_with_arabic_headers_and_a_bom_replaces_only_changed_rates(world):
    rate("USD", dt.date(2024, 3, 31), "0.3065")
    rate("EUR", dt.date(2024, 3, 31), "0.33")
    text = (
        "العملة,التاريخ,السعر,المصدر\nUSD,2024-03-31,0.30650,بنك\nEUR,2024-03-31,0.331,بنك\nGBP,2024-04-01,0.39,بنك\n"
    )
    batch = rates_import.rates_import(actor=world.ministry_admin, file=upload(text, bom=True))
    assert (batch.rows_ok, batch.rows_failed, batch.created_count, batch.replaced_count) == (3, 0, 1, 1)
    assert ExchangeRate.objects.get(currency="USD").rate == "0.3065"  # the same number: left as it was
    assert ExchangeRate.objects.get(currency="EUR").rate == "0.331"
    change = AuditEvent.objects.get(action="exchange_rate.changed")
    assert change.changes["rate"] == ["0.33", "0.331"]


def test_a_utf16_csv_and_an_excel_workbook_import_like_a_utf8_csv(world):
    from io import BytesIO

    from openpyxl import Workbook

    text = "العملة,التاريخ,السعر\nUSD,2024-03-31,0.3065\n"
    batch = rates_import.rates_import(
        actor=world.ministry_admin, file=SimpleUploadedFile("r.csv", text.encode("utf-16"))
    )
    assert (batch.rows_ok, batch.rows_failed) == (1, 0)
    workbook = Workbook()
    workbook.active.append(["Currency", "Date", "Rate", "Source"])
    workbook.active.append(["EUR", "2024-03-31", "0.331", "CBK"])
    workbook.active.append(["GBP", "2024-03-31", "0,33", "CBK"])
    buffer = BytesIO()
    workbook.save(buffer)
    with translation.override("en"):
        batch = rates_import.rates_import(
            actor=world.ministry_admin, file=SimpleUploadedFile("rates.xlsx", buffer.getvalue())
        )
    assert (batch.rows_ok, batch.rows_failed) == (1, 1)
    assert [(e["row"], e["column"], e["value"]) for e in batch.errors] == [(3, "Rate", "0,33")]
    assert ExchangeRate.objects.get(currency="EUR").rate == "0.331"
    assert not ExchangeRate.objects.filter(currency="GBP").exists()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "rates_file_empty"),
        (b"date,rate\n2024-01-01,1\n", "rates_file_header"),
        # The table reader (shafaf.interop.rows) reads UTF-8 and UTF-16 with its mark; anything else is refused.
        (
            "currency,date,rate,source\nUSD,2024-01-01,0.3,Banque du Liban – café\n".encode("cp1252"),
            "rates_file_encoding",
        ),
        (b"currency,date,rate,rate\nUSD,2024-01-01,0.3,0.3\n", "rates_file_unreadable"),
    ],
)
def test_a_file_that_is_not_a_rates_table_is_refused_whole(world, content, code):
    with pytest.raises(DomainError) as refused:
        rates_import.rates_import(actor=world.ministry_admin, file=SimpleUploadedFile("x.csv", content))
    assert refused.value.code == code and "file" in refused.value.fields
    assert not ExchangeRate.objects.exists() and not FinanceImport.objects.exists()


def test_the_command_loads_the_shipped_table_quickly_and_again_changes_nothing(world):
    import time

    started = time.monotonic()
    out, err = io.StringIO(), io.StringIO()
    call_command("import_rates", stdout=out, stderr=err)
    assert time.monotonic() - started < 30  # a few seconds on a developer's machine; generous for CI
    total = ExchangeRate.objects.count()
    assert total > 12_000 and "100%" in err.getvalue() and "0 refused" in out.getvalue()
    assert rates.convert_on(Money(100_00, "USD"), "KWD", dt.date(2026, 6, 15)).money == Money(30_300, "KWD")
    out = io.StringIO()
    call_command("import_rates", "--user", world.ministry_admin.username, stdout=out, stderr=io.StringIO())
    assert "0 new, 0 replaced" in out.getvalue() and ExchangeRate.objects.count() == total
    assert FinanceImport.objects.filter(created_by=world.ministry_admin).count() == 1


# --- pages and API --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_rates_page_in_both_languages(world, client, language):
    rate("USD", MONDAY, "0.3031")
    rate("USD", MONDAY - dt.timedelta(days=1), "0.3020")
    rate("EUR", MONDAY, "0.3455")
    world.ministry_admin.language = language  # the profile carries the language
    world.ministry_admin.save(update_fields=["language"])
    verified_login(client, world.ministry_admin)
    response = client.get(reverse("finance:rates"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    assert ('dir="rtl"' in html) == (language == "ar")
    assert 'data-testid="rate-form"' in html and 'data-testid="rates-import-form"' in html
    latest = list(response.context["latest"])
    assert [(r.currency, r.rate) for r in latest] == [("EUR", "0.3455"), ("USD", "0.3031")]
    filtered = client.get(reverse("finance:rates"), {"currency": "usd", "date_to": "2019-01-06"})
    assert [r.rate for r in filtered.context["page"]] == ["0.3020"]


def test_readers_read_and_only_the_administrator_writes(world, client):
    for user, expected in (
        (world.reviewer, 200),
        (world.auditor, 200),
        (world.staff_b, 200),
        (world.donor, 403),
        (world.partner_reporter, 403),
    ):
        client.logout()
        verified_login(client, user)
        assert client.get(reverse("finance:rates")).status_code == expected
        data = {"currency": "USD", "on_date": "2019-01-07", "rate": "0.3"}
        assert client.post(reverse("finance:rate_create"), data).status_code == 403
        assert "nav-rates" in client.get(reverse("home")).content.decode() or user != world.reviewer
    assert not ExchangeRate.objects.exists()


def test_the_administrator_enters_a_rate_and_uploads_a_table(world, client):
    verified_login(client, world.ministry_admin)
    with translation.override("en"):
        bad = client.post(reverse("finance:rate_create"), {"currency": "USD", "on_date": "2019-01-07", "rate": "0.x"})
    assert bad.status_code == 400 and not ExchangeRate.objects.exists()
    good = client.post(reverse("finance:rate_create"), {"currency": "usd", "on_date": "2019-01-07", "rate": "0.3031"})
    assert good.status_code == 302 and ExchangeRate.objects.get().rate == "0.3031"
    response = client.post(reverse("finance:rates_import"), {"file": upload(MIXED)})
    batch = FinanceImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "finance:rates_import_detail", args=[batch.pk]
    )
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and detail.content.decode().count('data-testid="import-error"') == 9
    assert client.post(reverse("finance:rates_import"), {"file": upload("nothing\n")}).status_code == 400


def test_the_api_lists_rates_and_takes_one_from_the_administrator(world):
    rate("USD", MONDAY, "0.3031")
    api = APIClient()
    verified_login(api, world.najat)
    listed = api.get("/api/v1/exchange-rates/", {"currency": "USD"})
    assert listed.status_code == 200 and listed.json()["results"][0]["rate"] == "0.3031"
    assert (
        api.post("/api/v1/exchange-rates/", {"currency": "EUR", "on_date": "2019-01-07", "rate": "0.34"}).status_code
        == 403
    )
    api = APIClient()
    verified_login(api, world.ministry_admin)
    created = api.post(
        "/api/v1/exchange-rates/", {"currency": "EUR", "on_date": "2019-01-07", "rate": "0.34"}, format="json"
    )
    assert created.status_code == 201 and created.json()["rate"] == "0.34"
    refused = api.post(
        "/api/v1/exchange-rates/", {"currency": "EUR", "on_date": "2019-01-07", "rate": "0.1234567890123"}
    )
    assert refused.status_code == 400 and "rate" in refused.json()["error"]["fields"]
    api = APIClient()
    verified_login(api, world.donor)
    assert api.get("/api/v1/exchange-rates/").status_code == 403
