"""End-to-end, in headless Chromium and in Arabic: a charity's admin filters the projects list, downloads it as CSV
and Excel (Arabic headers, her filter, her charity only), then imports projects from a spreadsheet and downloads
the rows' errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from shafaf.projects.models import Project
from tests.e2e.test_browser import assert_no_problems, expect_language, sign_in
from tests.factories import World, make_project

pytestmark = pytest.mark.e2e


def test_download_the_filtered_list_and_import_projects_in_arabic(open_page, live_server, tmp_path):
    world = World()
    make_project(
        world.najat, world.charity_a, title_ar="كفالة أسر في اليمن", title_en="Families in Yemen", country="YE"
    )
    page = open_page(locale="ar-KW")
    sign_in(page, world.najat)
    page.goto("/projects/")
    expect_language(page, "ar")
    page.fill("#id_country", "YE")
    page.locator("#id_country").dispatch_event("change")
    expect(page.locator('[data-testid="export-csv"]')).to_have_attribute("href", "/projects/?country=YE&format=csv")
    with page.expect_download() as caught:
        page.click('[data-testid="export-csv"]')
    rows = list(csv.reader(io.StringIO(Path(caught.value.path()).read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "الرقم المرجعي" and [row[1] for row in rows[1:]] == ["كفالة أسر في اليمن"]
    with page.expect_download() as caught:
        page.click('[data-testid="export-xlsx"]')
    assert caught.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes()), read_only=True).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][0] == "الرقم المرجعي" and [row[1] for row in cells[1:]] == ["كفالة أسر في اليمن"]

    page.click('[data-testid="import-projects"]')
    expect(page).to_have_url(f"{live_server.url}/projects/import/")
    upload = tmp_path / "مشاريع.csv"
    upload.write_bytes(
        (
            "\ufeffexternal_reference,title_ar,project_model,sector,country,beneficiary_group,beneficiary_count,"
            "planned_start,planned_end\n"
            "W-1,بئر في دارفور,construction_external,14030,SD,families,200,2027-01-01,2027-06-30\n"
            "W-2,مدرسة,construction_external,11220,XX,students,80,2027-01-01,2027-06-30\n"
        ).encode()
    )
    page.set_input_files("#id_file", str(upload))
    page.click('[data-testid="import-form"] button[type="submit"]')
    report = page.locator('[data-testid="import-report"]')
    expect(report).to_be_visible()
    expect(page.locator('[data-testid="import-errors"] tr[data-row="3"]')).to_contain_text("XX")
    with page.expect_download() as caught:
        page.click('[data-testid="import-errors-csv"]')
    errors = Path(caught.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert errors[0] == "row,column,value,code,message" and errors[1].startswith("3,country,XX,")
    assert Project.objects.filter(charity=world.charity_a, title_ar="بئر في دارفور", status="draft").exists()
    assert_no_problems(page)
