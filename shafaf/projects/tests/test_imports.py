"""The projects import (shafaf/projects/imports.py): drafts of the charity from a CSV file or an Excel workbook,
each bad row reported in the platform's row-error format, idempotent by the charity's external reference; the page
and the command."""

from __future__ import annotations

import base64
import csv
import io
import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from openpyxl import Workbook

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import NotAllowed
from shafaf.projects import imports
from shafaf.projects.models import Project
from tests.factories import World, verified_login

HEADER = imports.COLUMN_NAMES


def row(**values) -> dict:
    base = {
        "external_reference": "HR-1",
        "title_ar": "بئر في القرية",
        "title_en": "Village well",
        "project_model": "construction_external",
        "sector": "14030",
        "country": "SD",
        "beneficiary_group": "families",
        "beneficiary_count": "300",
        "planned_start": "2027-01-01",
        "planned_end": "2027-06-30",
        "currency": "KWD",
        "admin_area_ar": "ولاية الخرطوم",
        "admin_area_en": "Khartoum",
        "latitude": "15.5",
        "longitude": "32.5",
    }
    base.update(values)
    return base


def to_csv(rows: list[dict], header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.fixture
def world(db):
    with translation.override("en"):
        return World()


def run(world, data: bytes, *, actor=None, charity=None, filename="projects.csv"):
    with translation.override("en"):
        return imports.projects_import(
            actor=actor or world.najat, charity=charity or world.charity_a, data=data, filename=filename
        )


MIXED = [
    row(),  # 2 good
    row(external_reference="HR-2", title_ar="", title_en="", project_model="various"),  # 3 no title
    row(external_reference="HR-3", project_model="castle", beneficiary_group="الأيتام"),  # 4 unknown model
    row(external_reference="HR-4", planned_start="31/01/2027"),  # 5 not ISO
    row(external_reference="HR-5", beneficiary_count="many"),  # 6 not a number
    row(external_reference="HR-6", country="XX"),  # 7 unknown country (the model's rules)
    row(external_reference="HR-1", title_en="Another"),  # 8 same reference as row 2
    row(
        external_reference="ED-7",
        project_model="Sponsorship (external)",
        beneficiary_group="Orphans",
        latitude="",
        longitude="",
        admin_area_ar="",
        admin_area_en="",
    ),  # 9 good, by labels, no location
    row(external_reference="ED-8", latitude="15.5", longitude=""),  # 10 half a GPS point
]


def test_good_rows_become_drafts_and_each_bad_row_is_reported(world):
    before = Project.objects.count()
    report = run(world, to_csv(MIXED))
    assert (report.read, report.imported, report.unchanged) == (9, 2, 0)
    assert report.failed_rows == [3, 4, 5, 6, 7, 8, 10]
    where = {(error.row, error.column): error for error in report.errors}
    assert (3, "title_ar") in where and where[4, "project_model"].value == "castle"
    assert where[4, "project_model"].code == "choice"
    assert (5, "planned_start") in where and where[5, "planned_start"].value == "31/01/2027"
    assert where[6, "beneficiary_count"].value == "many"
    assert (7, "country") in where and where[7, "country"].value == "XX"
    assert where[8, "external_reference"].code == "duplicate_in_file"
    assert (10, "longitude") in where
    created = Project.objects.filter(charity=world.charity_a).exclude(pk=world.project_a.pk)
    assert Project.objects.count() == before + 2
    well = created.get(iati_identifier="XM-SHAFAF-charity-a-HR-1")
    assert well.status == "draft" and well.beneficiary_count == 300 and well.created_by == world.najat
    assert list(well.locations.values_list("admin_area_en", flat=True)) == ["Khartoum"]
    sponsorship = created.get(iati_identifier="XM-SHAFAF-charity-a-ED-7")
    assert sponsorship.project_model == "sponsorship_external" and sponsorship.beneficiary_group == "orphans"
    assert (
        AuditEvent.objects.filter(action="project.create", subject_id__in=[str(well.pk), str(sponsorship.pk)]).count()
        == 2
    )
    batch = AuditEvent.objects.get(action="projects.imported")
    assert batch.changes["created"] == 2 and batch.changes["failed_rows"] == 7
    lines = report.errors_csv().decode("utf-8-sig").splitlines()
    assert lines[0] == "row,column,value,code,message" and lines[1].startswith("3,title_ar,")


def test_importing_again_changes_nothing_and_a_changed_draft_is_updated(world):
    rows = [row(), row(external_reference="HR-9", title_en="Second")]
    assert run(world, to_csv(rows)).imported == 2
    again = run(world, to_csv(rows))
    assert (again.imported, again.unchanged, again.errors) == (0, 2, [])
    assert Project.objects.filter(iati_identifier__startswith="XM-SHAFAF-charity-a-").count() == 2
    changed = run(world, to_csv([row(beneficiary_count="350"), rows[1]]))
    assert (changed.imported, changed.unchanged) == (1, 1)
    assert Project.objects.get(iati_identifier="XM-SHAFAF-charity-a-HR-1").beneficiary_count == 350


def test_a_submitted_project_is_not_changed_by_an_import(world):
    run(world, to_csv([row()]))
    project = Project.objects.get(iati_identifier="XM-SHAFAF-charity-a-HR-1")
    Project.objects.filter(pk=project.pk).update(status="submitted")
    report = run(world, to_csv([row(beneficiary_count="999")]))
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "external_reference", "not_editable")]
    assert Project.objects.get(pk=project.pk).beneficiary_count == 300


def test_references_belong_to_their_charity(world):
    run(world, to_csv([row()]))
    other = run(world, to_csv([row()]), actor=world.rahma, charity=world.charity_b)
    assert other.imported == 1
    assert set(Project.objects.filter(iati_identifier__endswith="-HR-1").values_list("charity__slug", flat=True)) == {
        "charity-a",
        "charity-b",
    }
    with pytest.raises(NotAllowed):
        run(world, to_csv([row(external_reference="X")]), actor=world.rahma, charity=world.charity_a)


def test_an_excel_workbook_with_arabic_headers_imports(world):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "المرجع",
            "العنوان_بالعربية",
            "نموذج المشروع",
            "القطاع",
            "الدولة",
            "فئة المستفيدين",
            "عدد المستفيدين",
            "تاريخ البدء",
            "تاريخ الانتهاء",
        ]
    )
    import datetime as dt

    sheet.append(
        [
            "X-1",
            "مشروع",
            "various",
            14030,
            "YE",
            "families",
            40,
            dt.datetime(2027, 3, 1),
            dt.date(2027, 9, 30),
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(world, buffer.getvalue(), filename="projects.xlsx")
    assert (report.imported, report.errors) == (1, []), report.errors
    project = Project.objects.get(iati_identifier="XM-SHAFAF-charity-a-X-1")
    assert (project.sector, str(project.planned_start), project.beneficiary_count) == ("14030", "2027-03-01", 40)


def test_file_level_problems_import_nothing(world):
    before = Project.objects.count()
    assert run(world, b"").file_errors
    assert run(world, b"external_reference,title_en\nA,B\n").file_errors  # required columns missing
    assert "UTF-8" in run(world, "external_reference,title_en\nA,Café\n".encode("cp1252")).file_errors[0]
    assert Project.objects.count() == before


def test_the_page_imports_and_offers_the_errors(world):
    client = Client()
    verified_login(client, world.najat)
    with translation.override("en"):
        assert client.get("/projects/import/").status_code == 200
        data = to_csv([row(), row(external_reference="HR-2", country="XX")])
        response = client.post(
            "/projects/import/", {"charity": world.charity_a.pk, "file": SimpleUploadedFile("p.csv", data)}
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="import-report"' in html and 'data-row="3"' in html
    encoded = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(encoded).decode("utf-8-sig").splitlines()[1].startswith("3,country,XX,")
    sample = client.get("/projects/import/sample.csv")
    assert sample.status_code == 200 and sample.content.startswith(b"\xef\xbb\xbf" + b"external_reference,")
    # The sample imports as it is.
    assert run(world, sample.content).imported == 2
    # Not for the ministry, nor for another charity's project list.
    reviewer = Client()
    verified_login(reviewer, world.reviewer)
    assert reviewer.get("/projects/import/").status_code == 403
    other = Client()
    verified_login(other, world.rahma)
    refused = other.post(
        "/projects/import/", {"charity": world.charity_a.pk, "file": SimpleUploadedFile("p.csv", data)}
    )
    assert (
        refused.status_code == 400
        and not Project.objects.filter(charity=world.charity_b, iati_identifier__contains="HR-").exists()
    )


def test_the_command_reports_and_fails_on_bad_rows(world, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(to_csv([row()]))
    out, err = StringIO(), StringIO()
    call_command("import_projects", str(good), "--charity", "charity-a", "--as", "najat", stdout=out, stderr=err)
    assert "1 imported" in out.getvalue() and "1/1 rows" in err.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([row(), row(external_reference="HR-3", country="XX")]))
    errors = tmp_path / "errors.csv"
    with pytest.raises(SystemExit) as caught:
        call_command(
            "import_projects",
            str(bad),
            "--charity",
            "charity-a",
            "--as",
            "najat",
            "--errors",
            str(errors),
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert caught.value.code == 1
    assert errors.read_bytes().decode("utf-8-sig").splitlines()[1].startswith("3,country,XX,")
