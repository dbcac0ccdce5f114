"""Every list page's CSV and Excel downloads: the same rows as the page (its selector and the user's filters), only
its columns, headers in the user's language, and never another charity's rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from shafaf.interop.rows import read_table
from tests.factories import World, approved_bank_account, donor_of, make_project, verified_login


@pytest.fixture
def world(db):
    with translation.override("en"):
        world = World()
        world.donor_a = donor_of(world, name_ar="متبرع النور", name_en="Noor Giver", user=False)
        world.donor_b = donor_of(world, world.charity_b, name_ar="متبرع الرحمة", name_en="Rahma Giver", user=False)
        world.account_a = approved_bank_account(world)
        world.account_b = approved_bank_account(world, world.charity_b)
        world.formula_project = make_project(
            world.najat, world.charity_a, title_ar='=HYPERLINK("http://evil")', title_en="@SUM(A1)"
        )
    return world


def client_of(user, language: str | None = None) -> Client:
    if language is not None:
        user.language = language
        user.save(update_fields=["language"])
    client = Client()
    verified_login(client, user)
    return client


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]


def test_projects_download_holds_only_the_users_charity_and_the_pages_columns(world):
    client = client_of(world.najat, "en")
    rows = csv_rows(client.get("/projects/", {"format": "csv"}))
    assert rows[0] == ["Reference", "Title", "Charity", "Country", "MOSA project model", "Beneficiaries", "Status"]
    references = {row[0] for row in rows[1:]}
    assert references == {world.project_a.reference, world.formula_project.reference}
    assert (
        world.project_b.reference
        not in b"".join(client.get("/projects/", {"format": "csv"}).streaming_content).decode()
    )
    workbook = xlsx_rows(client.get("/projects/", {"format": "xlsx"}))
    assert {row[0] for row in workbook[1:]} == references
    # The other charity sees its own, and not ours.
    other = csv_rows(client_of(world.rahma, "en").get("/projects/", {"format": "csv"}))
    assert {row[0] for row in other[1:]} == {world.project_b.reference}


def test_the_ministry_download_applies_the_filters_of_the_page(world):
    client = client_of(world.reviewer, "en")
    everything = csv_rows(client.get("/projects/", {"format": "csv"}))
    assert len(everything) == 4
    filtered = csv_rows(client.get("/projects/", {"format": "csv", "charity": world.charity_b.pk, "page": "7"}))
    assert [row[0] for row in filtered[1:]] == [world.project_b.reference]
    searched = csv_rows(client.get("/projects/", {"format": "xlsx", "country": "JO"} | {"format": "csv"}))
    assert [row[0] for row in searched[1:]] == [world.project_b.reference]


def test_invalid_filters_give_the_page_with_its_errors_not_a_download(world):
    response = client_of(world.reviewer, "en").get("/projects/", {"format": "csv", "status": "no-such-status"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_headers_are_arabic_for_an_arabic_user_and_cells_are_guarded(world):
    client = client_of(world.najat, "ar")
    rows = csv_rows(client.get("/projects/", {"format": "csv"}))
    assert rows[0] == [
        "الرقم المرجعي",
        "العنوان",
        "جمعية خيرية",
        "الدولة",
        "نموذج المشروع لدى الوزارة",
        "المستفيدون",
        "الحالة",
    ]
    assert '\'=HYPERLINK("http://evil")' in {row[1] for row in rows[1:]}
    workbook = load_workbook(io.BytesIO(client.get("/projects/", {"format": "xlsx"}).content)).worksheets[0]
    assert workbook.sheet_view.rightToLeft
    assert all(not str(cell.value or "").startswith("=") for row in workbook.iter_rows() for cell in row)
    english = csv_rows(client_of(world.najat, "en").get("/projects/", {"format": "csv"}))
    assert english[0][0] == "Reference"
    assert "'@SUM(A1)" in {row[1] for row in english[1:]}


def test_donors_and_bank_accounts_never_cross_charities(world):
    client = client_of(world.najat, "en")
    donors = csv_rows(client.get("/donations/donors/", {"format": "csv"}))
    assert donors[0][:3] == ["Name (Arabic)", "Name (English)", "Charity"]
    assert {row[1] for row in donors[1:]} == {"Noor Giver"}
    accounts = csv_rows(client.get("/donations/bank-accounts/", {"format": "csv"}))
    assert {row[2] for row in accounts[1:]} == {world.account_a.iban}
    other = client_of(world.rahma, "en")
    donors_b = xlsx_rows(other.get("/donations/donors/", {"format": "xlsx"}))
    assert {row[1] for row in donors_b[1:]} == {"Rahma Giver"}
    # The ministry sees both charities' bank accounts on its page, so in its download.
    ministry = csv_rows(client_of(world.ministry_admin, "en").get("/donations/bank-accounts/", {"format": "csv"}))
    assert {row[2] for row in ministry[1:]} == {world.account_a.iban, world.account_b.iban}


def test_a_project_scoped_list_of_another_charity_is_not_found(world):
    client = client_of(world.najat, "en")
    for path in ("contracts", "expenditures", "reports"):
        assert client.get(f"/projects/{world.project_b.pk}/{path}/", {"format": "csv"}).status_code == 404
        assert client.get(f"/projects/{world.project_a.pk}/{path}/", {"format": "csv"}).status_code == 200


def test_a_download_is_readable_by_the_platforms_own_table_reader(world):
    response = client_of(world.reviewer, "en").get("/projects/", {"format": "xlsx"})
    table = read_table(response.content, "projects.xlsx")
    assert table.columns() >= {"reference", "title", "charity", "status"}
    assert {values["reference"] for _, values in table.rows} == {
        world.project_a.reference,
        world.project_b.reference,
        world.formula_project.reference,
    }


LIST_PAGES = [
    ("reviewer", "/projects/"),
    ("reviewer", "/projects/review/"),
    ("reviewer", "/partners/"),
    ("reviewer", "/sanctions/"),
    ("reviewer", "/screening/hits/"),
    ("reviewer", "/alerts/"),
    ("reviewer", "/compliance/"),
    ("reviewer", "/finance/portfolio/"),
    ("auditor", "/audit/"),
    ("auditor", "/audit/checkpoints/"),
    ("reviewer", "/coordination/"),
    ("reviewer", "/coordination/scans/"),
    ("reviewer", "/finance/rates/"),
    ("reviewer", "/finance/deviations/"),
    ("reviewer", "/strategy/"),
    ("reviewer", "/strategy/objectives/without-projects/"),
    ("najat", "/donations/"),
    ("najat", "/donations/donors/"),
    ("najat", "/donations/bank-accounts/"),
    ("najat", "/donations/imports/"),
    ("najat", "/projects/{a}/contracts/"),
    ("najat", "/projects/{a}/expenditures/"),
    ("najat", "/projects/{a}/reports/"),
    ("najat", "/projects/{a}/deviations/"),
]


def test_every_list_page_offers_and_serves_both_downloads(world):
    clients = {}
    for persona, template in LIST_PAGES:
        path = template.format(a=world.project_a.pk)
        if persona not in clients:
            clients[persona] = client_of(getattr(world, persona), "en")
        client = clients[persona]
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        assert "format=csv" in html and "format=xlsx" in html, f"{path} links to its downloads"
        rows = csv_rows(client.get(path, {"format": "csv"}))
        assert rows and all(rows[0]), f"{path}: a header row with a name for every column"
        workbook = xlsx_rows(client.get(path, {"format": "xlsx"}))
        assert workbook[0] == rows[0], path
        assert len(workbook) == len(rows), path


def test_a_charity_admins_audit_download_holds_only_her_charitys_trail(world):
    from shafaf.audit.models import AuditEvent

    rows = csv_rows(client_of(world.najat, "en").get("/audit/", {"format": "csv"}))
    assert rows[0] == ["#", "Time", "Actor", "Role", "Action", "Subject", "Hash"]
    seqs = {int(row[0]) for row in rows[1:]}
    own = set(AuditEvent.objects.filter(organization=world.charity_a).values_list("seq", flat=True))
    theirs = set(AuditEvent.objects.filter(organization=world.charity_b).values_list("seq", flat=True))
    assert seqs == own and own and theirs and not seqs & theirs
    # The auditor's holds both.
    everything = csv_rows(client_of(world.auditor, "en").get("/audit/", {"format": "csv"}))
    assert {int(row[0]) for row in everything[1:]} >= own | theirs
