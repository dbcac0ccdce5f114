"""The CSV import of partners: the sample file, bad rows, duplicates, the command and the page."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import NotAllowed
from shafaf.partners import importers
from shafaf.partners.models import Officer, PartnerName, PartnerProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SAMPLE = Path(importers.__file__).resolve().parent / "data" / "partners_sample.csv"
HEADER = "name_ar,name_en,country,registration_agency,registration_number,aliases,officer_role,officer_name_en\n"


def test_the_sample_file_imports_completely(world):
    report = importers.import_partners(actor=world.ministry_admin, data=SAMPLE.read_bytes())
    assert not report.failed, [str(e) for e in report.errors]
    assert report.rows_read == 7
    assert len(report.partners_created) == 4
    assert report.officers_added == 7
    nour = PartnerProfile.objects.get(registration_agency="SD-COA", registration_number="4417").organization
    assert Officer.objects.filter(partner=nour).count() == 3
    assert set(PartnerName.objects.filter(partner=nour).values_list("kind", "name")) == {
        ("acronym", "NDO"),
        ("former", "جمعية النور الخيرية"),
    }
    assert AuditEvent.objects.filter(action="partner.register").count() == 4
    # importing it again creates nothing: every partner is a duplicate
    again = importers.import_partners(actor=world.ministry_admin, data=SAMPLE.read_bytes())
    assert again.partners_created == [] and again.officers_added == 0
    assert len(again.duplicates) == 7
    assert not again.failed


def test_bad_rows_are_reported_and_good_rows_kept(world):
    data = (
        "\ufeff"
        + HEADER
        + "منظمة أ,Org A,SD,SD-COA,1,,head,Ali\n"  # row 2: good
        + "منظمة ب,Org B,XX,,,,,\n"  # row 3: unknown country
        + "منظمة ج,Org C,YE,ZZ-BAD,7,,,\n"  # row 4: unknown registration authority
        + ",,,SD-COA,1,Alias A,director,Omar\n"  # row 5: a second officer of Org A
        + "منظمة د,Org D,JO,,,,king,Sami\n"  # row 6: unknown officer role
        + "منظمة الأمل,Hope Organisation,SD,,,,,\n"  # row 7: already registered (the world's partner)
        + ",,,SD-COA,1,,director,\n"  # row 8: officer without a name
    ).encode()
    report = importers.import_partners(actor=world.accreditation_officer, data=data)
    assert report.failed
    assert report.rows_read == 7
    assert [p.name_en for p in report.partners_created] == ["Org A"]
    assert report.officers_added == 2
    assert report.failed_rows == [3, 4, 6, 8]
    # The platform's row-error format (shafaf.interop.rows): row, column, value, code, message.
    where = {(error.row, error.column): error for error in report.errors}
    assert set(where) >= {(3, "country"), (4, "registration_agency"), (6, "officer_role"), (8, "officer_name_en")}
    assert where[3, "country"].value == "XX" and "XX" in where[3, "country"].message
    assert where[4, "registration_agency"].value == "ZZ-BAD"
    assert str(where[3, "country"]).startswith("row 3, country:")
    csv_lines = report.errors_csv().decode("utf-8-sig").splitlines()
    assert csv_lines[0] == "row,column,value,code,message"
    assert any(line.startswith("3,country,XX,") for line in csv_lines), csv_lines
    assert [d.row for d in report.duplicates] == [7]
    assert report.unchanged == 1 and report.as_dict()["duplicates"][0]["code"] == "duplicate"
    org_a = PartnerProfile.objects.get(registration_number="1").organization
    assert sorted(Officer.objects.filter(partner=org_a).values_list("name_en", flat=True)) == ["Ali", "Omar"]
    assert PartnerName.objects.filter(partner=org_a, name="Alias A").exists()
    assert not PartnerProfile.objects.filter(registration_number="7").exists()


def test_file_level_problems(world):
    assert importers.import_partners(actor=world.ministry_admin, data=b"").file_errors
    assert importers.import_partners(actor=world.ministry_admin, data=b"name_en\nx\n").file_errors
    latin1 = "name_ar,name_en,country\nx,Caf\xe9,SD\n".encode("latin-1")
    report = importers.import_partners(actor=world.ministry_admin, data=latin1)
    assert "UTF-8" in report.file_errors[0]
    report = importers.import_partners(
        actor=world.ministry_admin, data="name_ar,name_en,country,colour\nمنظمة,Org,SD,blue\n".encode()
    )
    assert report.warnings and not report.failed and len(report.partners_created) == 1


def test_an_excel_workbook_imports_like_a_csv(world):
    from io import BytesIO

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "Name AR",
            "Name EN",
            "Country",
            "Registration Agency",
            "Registration Number",
            "Officer Role",
            "Officer Name EN",
        ]
    )
    sheet.append(["منظمة إكسل", "Excel Org", "SD", "SD-COA", 991, "head", "Huda"])
    sheet.append(["منظمة خطأ", "Bad Org", "XX", None, None, None, None])
    buffer = BytesIO()
    workbook.save(buffer)
    report = importers.import_partners(actor=world.ministry_admin, data=buffer.getvalue(), filename="p.xlsx")
    assert report.read == 2 and report.imported == 1 and report.file == "p.xlsx"
    assert [p.name_en for p in report.partners_created] == ["Excel Org"]
    assert PartnerProfile.objects.get(organization__name_en="Excel Org").registration_number == "991"
    assert [(error.row, error.column, error.value) for error in report.errors] == [(3, "country", "XX")]


def test_only_managers_import(world):
    with pytest.raises(NotAllowed):
        importers.import_partners(actor=world.najat, data=SAMPLE.read_bytes())


def test_the_command_prints_the_report_and_fails_on_bad_rows(world, tmp_path):
    out = StringIO()
    call_command("import_partners", str(SAMPLE), "--as", "mosa_admin", stdout=out, stderr=StringIO())
    assert "4 partners created" in out.getvalue() and "7/7 rows" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "منظمة,Org,XX,,,,,\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command("import_partners", str(bad), "--as", "mosa_admin", stdout=StringIO(), stderr=err)
    assert caught.value.code == 1
    assert "row 2, country" in err.getvalue()


def test_the_upload_page_shows_the_report(world, login):
    client = login(world.ministry_admin)
    assert client.get("/partners/import/").status_code == 200
    data = (HEADER + "منظمة أ,Org A,SD,,,,head,Ali\nمنظمة ب,Org B,XX,,,,,\n").encode()
    response = client.post("/partners/import/", {"file": SimpleUploadedFile("p.csv", data, "text/csv")})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="import-report"' in text and 'data-row="3"' in text
    import base64
    import re

    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', text).group(1)
    errors = base64.b64decode(href).decode("utf-8-sig").splitlines()
    assert errors[0] == "row,column,value,code,message" and errors[1].startswith("3,country,XX,")
    assert PartnerProfile.objects.filter(organization__name_en="Org A").exists()
    assert client.get("/partners/import/sample.csv").status_code == 200
    assert login(world.najat).get("/partners/import/").status_code == 403
