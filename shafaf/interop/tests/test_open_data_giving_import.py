"""360Giving import from the real publications in the shared data folder (most with real errors): good grants kept,
each bad one reported in the rows.RowReport format with its reason, nothing dropped silently, idempotent."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from shafaf.audit.models import AuditEvent
from shafaf.interop.giving import jsonexact
from shafaf.interop.giving.importer import AUDIT_ACTION, grants_import
from shafaf.interop.giving.models import ImportedGrant

GRANTS = Path(__file__).resolve().parents[4] / "shared" / "data" / "360giving" / "grants"
SAMPLE = GRANTS / "grantnav_sample_data_2016"
DATALOAD = GRANTS / "grantnav_dataload_test_data"

needs_data = pytest.mark.skipif(not GRANTS.is_dir(), reason="the shared data folder is not on this machine")


def _real(name: str) -> dict:
    return json.loads((GRANTS / name).read_text(encoding="utf-8"))


def _import(world, data: bytes, filename: str = "grants.json", **kwargs):
    return grants_import(actor=world.najat, charity=world.charity_a, data=data, filename=filename, **kwargs)


def _accounted(report) -> None:
    """Nothing dropped silently: every grant read is imported, already there, or has an error."""
    assert report.read == report.imported + report.unchanged + len(report.failed_rows)


@needs_data
@pytest.mark.parametrize(
    ("path", "good"),
    [
        ("grantnav_dataload_test_data/awefw001p00000zgyHZAAY.json", 154),  # a valid publication
        ("grantnav_sample_data_2016/baring.json", 0),  # dd/mm/yyyy award dates
        ("grantnav_sample_data_2016/indigo.json", 0),  # dates day-first, durations as "12 months"
        ("grantnav_sample_data_2016/ocf3.json", 0),  # day-first dates, links without a scheme
    ],
)
def test_real_publications(world, path, good):
    data = (GRANTS / path).read_bytes()
    total = len(json.loads(data)["grants"])
    report = _import(world, data, Path(path).name)
    assert not report.file_errors
    assert report.read == total
    assert report.imported == good
    assert len(report.failed_rows) == total - good
    _accounted(report)
    assert ImportedGrant.objects.filter(charity=world.charity_a).count() == good
    assert {error.row for error in report.errors} <= set(range(1, total + 1))


@needs_data
def test_a_mixed_file_keeps_the_good_grants_and_reports_each_bad_one(world):
    good = _real("grantnav_dataload_test_data/awefw001p00000zgyHZAAY.json")["grants"][:5]
    bad = _real("grantnav_sample_data_2016/baring.json")["grants"][:3]
    indigo = _real("grantnav_sample_data_2016/indigo.json")["grants"][:1]
    package = {"grants": [good[0], bad[0], good[1], bad[1], good[2], indigo[0], good[3], bad[2], good[4]]}
    report = _import(world, json.dumps(package).encode(), "mixed.json")
    assert report.read == 9
    assert report.imported == 5
    assert report.failed_rows == [2, 4, 6, 8]
    _accounted(report)
    # Baring's first grant: its award date is written day-first.
    award = [error for error in report.errors if error.row == 2 and error.column == "awardDate"]
    assert award and award[0].code == "format" and award[0].value == bad[0]["awardDate"]
    # Indigo's: its duration is text ("12 months") where the standard wants a number of months.
    duration = [error for error in report.errors if error.row == 6 and error.column == "plannedDates/0/duration"]
    assert duration and duration[0].code == "type" and duration[0].value == "12 months"
    # The report in the shared format, as a dict and as the downloadable CSV.
    as_dict = report.as_dict()
    assert as_dict["imported"] == 5 and as_dict["failed_rows"] == 4
    assert set(as_dict["errors"][0]) == {"row", "column", "value", "code", "message"}
    assert report.errors_csv().decode("utf-8-sig").splitlines()[0] == "row,column,value,code,message"
    # The kept grants, with their source, exact amounts and the grant as published.
    kept = ImportedGrant.objects.get(charity=world.charity_a, grant_id=good[2]["id"])
    assert kept.source_file == "mixed.json" and kept.source_row == 5
    assert kept.amount_awarded_minor == int(Decimal(str(good[2]["amountAwarded"])) * 100)
    assert kept.funding_org_id == good[2]["fundingOrganization"][0]["id"]
    assert jsonexact.loads(kept.data)["id"] == good[2]["id"]


@needs_data
def test_reimport_is_idempotent_and_updates_changed_grants(world):
    data = (DATALOAD / "awefw001p00000zgyHZAAY.json").read_bytes()
    first = _import(world, data, "a.json")
    assert first.imported == 154
    again = _import(world, data, "a.json")
    assert (again.imported, again.unchanged) == (0, 154)
    package = json.loads(data)
    package["grants"][0]["title"] = "A changed title"
    changed = _import(world, json.dumps(package).encode(), "a.json")
    assert (changed.imported, changed.unchanged) == (1, 153)
    assert ImportedGrant.objects.filter(charity=world.charity_a).count() == 154
    assert ImportedGrant.objects.get(grant_id=package["grants"][0]["id"]).title == "A changed title"
    # One audit event per file, not per grant.
    assert AuditEvent.objects.filter(action=AUDIT_ACTION).count() == 3


def _grant(number: int, **changes) -> dict:
    grant = {
        "id": f"360G-test-{number}",
        "title": "Community kitchen",
        "description": "Meals for families",
        "currency": "GBP",
        "amountAwarded": 1200.5,
        "awardDate": "2020-04-28",
        "recipientOrganization": [{"id": "GB-CHC-1", "name": "Kitchen"}],
        "fundingOrganization": [{"id": "GB-CHC-2", "name": "Funder"}],
    }
    grant.update(changes)
    return grant


def test_duplicates_decimals_and_missing_fields(world):
    package = {
        "grants": [
            _grant(1),
            _grant(1, title="same id again"),
            _grant(2, amountAwarded=10.125),  # GBP has two decimals
            _grant(3, id=""),
            {k: v for k, v in _grant(4).items() if k != "title"},
            _grant(5, title="with NUL\x00"),
            "not a grant",
            _grant(8, description="\ud800 lone surrogate"),
        ]
    }
    report = _import(world, json.dumps(package).encode())
    _accounted(report)
    assert report.imported == 1
    codes = {(error.row, error.column, error.code) for error in report.errors}
    assert (2, "id", "duplicate") in codes
    assert (3, "amountAwarded", "decimals") in codes
    assert (4, "id", "required") in codes
    assert (5, "title", "required") in codes
    assert (6, "", "nul") in codes
    assert (7, "", "type") in codes
    assert (8, "", "encoding") in codes
    assert ImportedGrant.objects.get().amount_awarded == "1200.5"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"grants": [', "not valid JSON"),
        (b'{"grant": []}', 'no "grants" list'),
        ('{"grants": ["Caf\u00e9"]}'.encode("latin-1"), "not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    ],
)
def test_unreadable_files_import_nothing(world, data, message):
    with translation.override("en"):
        report = _import(world, data)
    assert report.file_errors and message in report.file_errors[0]
    assert report.imported == 0
    assert not ImportedGrant.objects.exists()
    assert not AuditEvent.objects.filter(action=AUDIT_ACTION).exists()


def test_a_file_over_the_limit_is_refused_before_reading(world):
    report = _import(world, b'{"grants": []}' + b" " * 2048, max_bytes=1024)
    assert report.file_errors and not report.read


@needs_data
def test_flattened_csv_and_excel(world):
    """The flattened form (360Giving's spreadsheet template headers), as CSV and as Excel, with real grants."""
    from openpyxl import Workbook

    good = _real("grantnav_dataload_test_data/awefw001p00000zgyHZAAY.json")["grants"][:2]
    bad = _real("grantnav_sample_data_2016/baring.json")["grants"][0]
    header = [
        "Identifier",
        "Title",
        "Description",
        "Currency",
        "Amount Awarded",
        "Award Date",
        "Recipient Org:Identifier",
        "Recipient Org:Name",
        "Funding Org:Identifier",
        "Funding Org:Name",
        "Internal note",
    ]

    def line(grant):
        return [
            grant["id"],
            grant.get("title", ""),
            grant.get("description", ""),
            grant["currency"],
            str(grant.get("amountAwarded", "")),
            grant["awardDate"],
            grant["recipientOrganization"][0]["id"],
            grant["recipientOrganization"][0]["name"],
            grant["fundingOrganization"][0]["id"],
            grant["fundingOrganization"][0]["name"],
            "kept as published",
        ]

    rows = [header, line(good[0]), line(bad), line(good[1]), [*line(good[1])[:4], "12,000.5.0", *line(good[1])[5:]]]
    rows[4][0] = "360G-extra-1"
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    report = _import(world, buffer.getvalue().encode("utf-8-sig"), "grants.csv")
    _accounted(report)
    assert report.imported == 2
    assert report.failed_rows == [3, 5]
    columns = {(error.row, error.column, error.code) for error in report.errors}
    assert (3, "Award Date", "format") in columns  # the header as written, the spreadsheet's row number
    assert (5, "Amount Awarded", "type") in columns
    grant = jsonexact.loads(ImportedGrant.objects.get(grant_id=good[0]["id"]).data)
    assert grant["recipientOrganization"][0]["name"] == good[0]["recipientOrganization"][0]["name"]
    assert grant["Internal note"] == "kept as published"

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    again = _import(world, out.getvalue(), "grants.xlsx")
    assert (again.imported, again.unchanged, again.failed_rows) == (0, 2, [3, 5])


def test_table_without_identifier_column(world):
    with translation.override("en"):
        report = _import(world, b"Name,Amount\nx,1\n", "grants.csv")
    assert report.file_errors and "Identifier" in report.file_errors[0]


@needs_data
def test_command_reports_and_writes_the_errors_csv(world, tmp_path):
    errors = tmp_path / "errors.csv"
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "import_360giving",
        str(SAMPLE / "baring.json"),
        str(DATALOAD / "awefw001p00000zgyHZAAY.json"),
        "--charity",
        "charity-a",
        "--errors",
        str(errors),
        stdout=stdout,
        stderr=stderr,
    )
    out = stdout.getvalue()
    assert "baring.json: 53 rows read, 0 imported, 0 already there, 53 with errors." in out
    assert "awefw001p00000zgyHZAAY.json: 154 rows read, 154 imported" in out
    lines = errors.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,value,code,message"
    assert any(line.startswith("1,awardDate,17/03/2014,format,") for line in lines)
    assert ImportedGrant.objects.count() == 154


def test_command_fails_on_an_unreadable_file(world, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"grants": [')
    with pytest.raises(CommandError):
        call_command("import_360giving", str(broken), "--charity", "charity-a", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_360giving", str(broken), "--charity", "partner", stdout=io.StringIO())


def test_command_refuses_a_file_over_the_limit_without_reading_it(world, tmp_path, monkeypatch):
    from shafaf.interop.giving import importer

    big = tmp_path / "big.json"
    big.write_bytes(b'{"grants": []}' + b" " * 4096)
    monkeypatch.setattr(importer, "MAX_BYTES", 1024)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    stdout = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_360giving", str(big), "--charity", "charity-a", stdout=stdout)
    assert "the largest accepted is 0 MB" in stdout.getvalue()
