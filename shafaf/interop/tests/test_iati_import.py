"""shafaf.interop.iati.importer.import_file and manage.py import_iati: each activity's IATI record kept with its exact
text, idempotent re-imports (unchanged skipped, changed updated, never duplicated), one transaction (a file broken
part-way leaves nothing), problems with file, line and identifier, --validate refusing a file failing the XSD."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from shafaf.audit.chain import verify_chain
from shafaf.audit.models import AuditEvent
from shafaf.finance.iati_import import IatiFileError
from shafaf.finance.models import Expenditure
from shafaf.finance.tests.helpers_iati import load_rates_quickly
from shafaf.interop.iati import importer, reader
from shafaf.interop.iati.importer import SchemaRefused, import_file
from shafaf.interop.models import IatiActivity
from shafaf.projects.models import Project
from shafaf.strategy.models import Indicator

DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "iati_activities"
FOOD = DATA / "upstream_fixture_foodsecurity_dportal.xml"

ACTIVITY = """<iati-activity default-currency="USD" last-updated-datetime="2021-03-04T05:06:07Z" xml:lang="fr"
  hierarchy="1">
  <iati-identifier>{identifier}</iati-identifier>
  <reporting-org ref="XM-TEST" type="10"><narrative>Éditeur</narrative></reporting-org>
  <title><narrative>{title}</narrative><narrative xml:lang="ar">مساعدات غذائية طارئة</narrative></title>
  <description type="1"><narrative xml:lang="en">Food parcels for displaced families.</narrative></description>
  <description type="3"><narrative xml:lang="es">Familias desplazadas</narrative></description>
  <participating-org ref="XM-TEST" role="1" type="10" activity-id="XM-TEST-PARENT"><narrative>Éditeur</narrative>
  </participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2020-01-01"/>
  <activity-date type="3" iso-date="2021-12-31"/>
  <recipient-country code="SD" percentage="60.50"/>
  <recipient-region code="998" vocabulary="1" percentage="39.5"/>
  <location ref="L1"><name><narrative>Khartoum</narrative></name>
   <administrative vocabulary="G1" level="1" code="379252"/>
   <point srsName="http://www.opengis.net/def/crs/EPSG/0/4326"><pos>15.5007 32.5599</pos></point></location>
  <sector vocabulary="1" code="72040" percentage="100"/>
  <budget type="1" status="2"><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/>
   <value currency="USD" value-date="2020-01-01">1000.10</value></budget>
  <planned-disbursement type="1"><period-start iso-date="2020-01-01"/><period-end iso-date="2020-03-31"/>
   <value value-date="2020-01-01">250.000</value></planned-disbursement>
  <transaction ref="TX-1"><transaction-type code="4"/><transaction-date iso-date="2020-03-01"/>
   <value value-date="2020-03-01">{spent}</value><description><narrative>Parcels</narrative></description>
   <provider-org ref="XM-DONOR" provider-activity-id="XM-DONOR-1"><narrative>Donor</narrative></provider-org>
   <receiver-org ref="XM-NGO"><narrative>NGO</narrative></receiver-org></transaction>
  <document-link url="https://example.org/report.pdf" format="application/pdf">
   <title><narrative>Report</narrative></title><category code="A01"/><language code="fr"/></document-link>
  <related-activity type="1" ref="XM-TEST-PARENT"/>
  <result type="1"><title><narrative>Families reached</narrative></title>
   <indicator measure="1"><title><narrative>Households</narrative></title><baseline year="2019" value="0"/>
    <period><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/>
     <target value="500"/><actual value="480"/></period></indicator></result>
 </iati-activity>"""


def activity(identifier="XM-TEST-1", *, title="Aide alimentaire d'urgence", spent="400.25") -> str:
    return ACTIVITY.format(identifier=identifier, title=title, spent=spent)


def iati_file(tmp_path, *activities, name="test.xml", tail="</iati-activities>\n") -> Path:
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n' + "\n".join(activities) + tail,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def rated(world):
    load_rates_quickly()
    return world


def run(world, path, **options):
    return import_file(actor=world.najat, charity=world.charity_a, path=path, **options)


@pytest.mark.django_db
def test_every_field_of_the_activity_is_kept_as_the_exact_text_of_the_file(rated, tmp_path):
    path = iati_file(tmp_path, activity())
    report = run(rated, path)
    assert (report.read, report.created, report.updated, report.unchanged) == (1, 1, 0, 0)
    record = IatiActivity.objects.get()
    project = Project.objects.get(iati_identifier="XM-TEST-1")
    assert record.project == project and project.iati == record and record.charity == rated.charity_a
    assert (record.identifier, record.default_language, record.default_currency, record.hierarchy) == (
        "XM-TEST-1",
        "fr",
        "USD",
        "1",
    )
    assert record.last_updated == dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert record.activity_status == "2"
    assert record.activity_dates == [{"type": "1", "iso_date": "2020-01-01"}, {"type": "3", "iso_date": "2021-12-31"}]
    assert record.titles == [
        {"type": "", "lang": "fr", "text": "Aide alimentaire d'urgence"},
        {"type": "", "lang": "ar", "text": "مساعدات غذائية طارئة"},
    ]
    assert record.descriptions == [
        {"type": "1", "lang": "en", "text": "Food parcels for displaced families."},
        {"type": "3", "lang": "es", "text": "Familias desplazadas"},
    ]
    assert record.participating_orgs == [
        {
            "role": "1",
            "type": "10",
            "ref": "XM-TEST",
            "activity_id": "XM-TEST-PARENT",
            "names": [{"lang": "fr", "text": "Éditeur"}],
        }
    ]
    # Percentages and amounts as written (no float: "60.50" stays "60.50", "250.000" stays "250.000").
    assert record.recipient_countries == [{"code": "SD", "percentage": "60.50"}]
    assert record.recipient_regions == [{"code": "998", "vocabulary": "1", "percentage": "39.5"}]
    assert record.sectors == [{"code": "72040", "vocabulary": "1", "percentage": "100"}]
    assert record.locations == [
        {
            "ref": "L1",
            "names": [{"lang": "fr", "text": "Khartoum"}],
            "point": ["15.5007", "32.5599"],
            "admin": [{"vocabulary": "G1", "level": "1", "code": "379252"}],
        }
    ]
    assert record.budgets == [
        {
            "type": "1",
            "status": "2",
            "period_start": "2020-01-01",
            "period_end": "2020-12-31",
            "value": "1000.10",
            "currency": "USD",
            "value_date": "2020-01-01",
        }
    ]
    assert record.planned_disbursements == [
        {
            "type": "1",
            "period_start": "2020-01-01",
            "period_end": "2020-03-31",
            "value": "250.000",
            "currency": "",
            "value_date": "2020-01-01",
        }
    ]
    assert record.transactions == [
        {
            "ref": "TX-1",
            "type": "4",
            "date": "2020-03-01",
            "value": "400.25",
            "currency": "",
            "value_date": "2020-03-01",
            "description": "Parcels",
            "provider": {"ref": "XM-DONOR", "activity_id": "XM-DONOR-1", "name": "Donor"},
            "receiver": {"ref": "XM-NGO", "activity_id": "", "name": "NGO"},
        }
    ]
    assert record.results == [
        {
            "type": "1",
            "title": "Families reached",
            "indicators": [
                {
                    "measure": "1",
                    "title": "Households",
                    "baseline": "0",
                    "periods": [{"start": "2020-01-01", "end": "2020-12-31", "target": "500", "actual": "480"}],
                }
            ],
        }
    ]
    assert record.document_links == [
        {
            "url": "https://example.org/report.pdf",
            "format": "application/pdf",
            "titles": [{"lang": "fr", "text": "Report"}],
            "categories": ["A01"],
            "language": "fr",
        }
    ]
    assert record.related_activities == [{"type": "1", "ref": "XM-TEST-PARENT"}]
    # libxml2's line of the start tag, which ends on line 4 of the file.
    assert (record.source_file, record.source_line) == ("test.xml", 4)
    assert len(record.content_sha256) == 64 and record.imported_at is not None
    # The project side as the finance import maps it: Arabic and other-language titles, the money.
    assert project.title_ar == "مساعدات غذائية طارئة"
    assert Expenditure.objects.get(project=project).amount_minor == 40025


@pytest.mark.django_db
def test_a_real_file_keeps_its_records(rated):
    report = run(rated, FOOD)
    assert (report.read, report.created) == (7, 4)
    # The three regional programmes cannot be projects: each is a problem with its file, line and identifier.
    assert len(report.problems) == 3
    assert all(p.file == FOOD.name and p.line > 0 and p.identifier for p in report.problems)
    de = IatiActivity.objects.get(identifier="DE-1-202033942-0")
    assert de.source_line == 978
    assert de.titles[1] == {
        "type": "",
        "lang": "EN",
        "text": "Sustainable management of ecosystems in communities in the Department of Nippes",
    }
    assert de.locations[0]["point"] == ["18.54349", "-72.33881"]
    assert de.budgets[0]["value"] == "315000" and de.transactions[1]["value"] == "195021.39"
    assert de.participating_orgs[1] == {
        "role": "2",
        "type": "",
        "ref": "",
        "activity_id": "",
        "names": [{"lang": "DE", "text": "Katholische Zentralstelle für Entwicklungshilfe e.V. (KZE)"}],
    }


@pytest.mark.django_db
def test_a_second_import_skips_the_unchanged_and_updates_the_changed_never_duplicating(rated, tmp_path):
    path = iati_file(tmp_path, activity("XM-TEST-1"), activity("XM-TEST-2"))
    run(rated, path)
    first = {row.identifier: row for row in IatiActivity.objects.all()}
    events = AuditEvent.objects.count()

    again = run(rated, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert AuditEvent.objects.count() == events  # nothing written at all

    changed = iati_file(
        tmp_path, activity("XM-TEST-1"), activity("XM-TEST-2", title="Nouveau titre", spent="999"), name="v2.xml"
    )
    report = run(rated, changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert IatiActivity.objects.count() == 2 and Project.objects.filter(charity=rated.charity_a).count() == 3
    row = IatiActivity.objects.get(identifier="XM-TEST-2")
    assert row.project_id == first["XM-TEST-2"].project_id
    assert row.titles[0]["text"] == "Nouveau titre" and row.transactions[0]["value"] == "999"
    assert row.content_sha256 != first["XM-TEST-2"].content_sha256 and row.source_file == "v2.xml"
    assert row.project.title_en == "Nouveau titre"
    event = AuditEvent.objects.get(action="iati.update")
    assert event.subject_id == str(row.pk) and event.changes["project"]["title_en"][1] == "Nouveau titre"
    assert IatiActivity.objects.get(identifier="XM-TEST-1").updated_at == first["XM-TEST-1"].updated_at


@pytest.mark.django_db
def test_a_project_imported_before_the_records_existed_gets_its_record(rated, tmp_path):
    path = iati_file(tmp_path, activity("XM-TEST-1"))
    run(rated, path)
    project = Project.objects.get(iati_identifier="XM-TEST-1")
    IatiActivity.objects.all().delete()
    report = run(rated, path)
    assert (report.created, report.updated) == (0, 1)
    assert IatiActivity.objects.get().project == project
    assert Project.objects.filter(iati_identifier="XM-TEST-1").count() == 1


@pytest.mark.django_db
def test_the_same_identifier_twice_in_a_file_is_a_problem_not_a_duplicate(rated, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "WRITE_BATCH", 2)  # the copies fall in different batches
    path = iati_file(tmp_path, activity("XM-TEST-1"), activity("XM-TEST-2"), activity("XM-TEST-1", title="Copie"))
    with translation.override("en"):
        report = run(rated, path)
    assert report.created == 2 and IatiActivity.objects.count() == 2
    (problem,) = report.problems
    assert problem.identifier == "XM-TEST-1" and problem.line > 40 and "more than once" in problem.message
    assert IatiActivity.objects.get(identifier="XM-TEST-1").titles[0]["text"] != "Copie"


@pytest.mark.django_db
def test_a_file_broken_after_many_batches_leaves_nothing(rated, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "WRITE_BATCH", 2)
    good = [activity(f"XM-TEST-{n}") for n in range(5)]
    path = iati_file(tmp_path, *good, tail="<iati-activity><iati-identifier>X</iati-activity>")
    events = AuditEvent.objects.count()
    with translation.override("en"), pytest.raises(IatiFileError) as refused:
        run(rated, path)
    message = str(refused.value.message)
    broken = path.read_text(encoding="utf-8").count("\n") + 1  # the damage is on the last line
    assert f"not well-formed XML (line {broken}: " in message and "nothing was imported" in message
    assert not IatiActivity.objects.exists()
    assert not Project.objects.exclude(iati_identifier="").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_large_file_is_read_by_a_second_process_with_the_same_result(rated, tmp_path, monkeypatch):
    """A file above READ_AHEAD_BYTES is parsed by a forked reader while this process writes: the projects and
    records are those of an in-process read, and a file broken part-way is refused whole with its line."""
    good = [activity(f"XM-TEST-{n}", title=f"Aide {n}") for n in range(7)]
    path = iati_file(tmp_path, *good)
    monkeypatch.setattr(importer, "READ_AHEAD_BATCH", 3)  # several messages through the pipe
    read_in_process = [(item.identifier, item.line, item.sha256) for item in importer.read_activities(path)]
    monkeypatch.setattr(importer, "READ_AHEAD_BYTES", 0)
    read_ahead = [(item.identifier, item.line, item.sha256) for item in importer.read_activities(path)]
    assert read_ahead == read_in_process and len(read_ahead) == 7
    assert [item.identifier for item in importer.read_activities(path, limit=4)] == [f"XM-TEST-{n}" for n in range(4)]

    monkeypatch.setattr(importer, "WRITE_BATCH", 2)
    report = run(rated, path)
    assert (report.read, report.created) == (7, 7)
    assert sorted(IatiActivity.objects.values_list("identifier", flat=True)) == [f"XM-TEST-{n}" for n in range(7)]
    # The events written in bulk (their content hashed once, without model instances) verify as any others.
    imported = [str(pk) for pk in IatiActivity.objects.values_list("project_id", flat=True)]
    assert AuditEvent.objects.filter(action="project.create", subject_id__in=imported).count() == 7
    assert verify_chain().ok

    broken = iati_file(tmp_path, *good, name="broken.xml", tail="<iati-activity><iati-identifier>X</iati-activity>")
    events = AuditEvent.objects.count()
    with translation.override("en"), pytest.raises(IatiFileError) as refused:
        import_file(actor=rated.najat, charity=rated.charity_a, path=broken)
    line = broken.read_text(encoding="utf-8").count("\n") + 1
    assert f"not well-formed XML (line {line}: " in str(refused.value.message)
    assert AuditEvent.objects.count() == events and IatiActivity.objects.count() == 7


@pytest.mark.django_db
def test_validate_refuses_a_file_failing_the_schema_with_its_messages(rated, tmp_path):
    # Valid for the importer, but the XSD wants <reporting-org> before <title> and a version on the root.
    path = tmp_path / "invalid.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<iati-activities>\n'
        + activity().replace(
            '<reporting-org ref="XM-TEST" type="10"><narrative>Éditeur</narrative></reporting-org>', ""
        )
        + "\n</iati-activities>\n",
        encoding="utf-8",
    )
    with translation.override("en"), pytest.raises(SchemaRefused) as refused:
        run(rated, path, validate=True)
    messages = refused.value.messages
    assert any(m.startswith("line 2: ") and "'version' is required" in m for m in messages)
    assert any("reporting-org" in m for m in messages)
    assert not IatiActivity.objects.exists()
    # Without --validate the importer takes what it can.
    assert run(rated, path).created == 1

    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_iati", str(path), "--charity", "charity-b", "--validate", stdout=io.StringIO(), stderr=err)
    assert "does not conform to the IATI 2.03 schema" in str(failed.value)
    assert "schema: line 2: " in err.getvalue()
    assert not IatiActivity.objects.filter(charity=rated.charity_b).exists()


@pytest.mark.django_db
def test_the_command_lists_problems_with_file_line_and_identifier(rated, tmp_path):
    path = iati_file(tmp_path, activity("XM-TEST-1"), activity("XM-TEST-BAD", spent="a lot"))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_iati", str(path), "--charity", "charity-a", stdout=out, stderr=err)
    line = next(line for line in err.getvalue().splitlines() if "XM-TEST-BAD" in line)
    assert line.startswith("error: test.xml:") and "“a lot” is not an amount" in line
    assert "1 created, 0 updated, 0 unchanged" in out.getvalue()


def test_the_reader_streams_one_activity_at_a_time(tmp_path):
    path = iati_file(tmp_path, *[activity(f"XM-TEST-{n}") for n in range(30)])
    seen = []
    for item in reader.iter_file(path):
        # What was read before is gone from the tree: the parent holds nothing but the activity being read.
        seen.append(item.identifier)
    assert seen == [f"XM-TEST-{n}" for n in range(30)]
    assert len({item.sha256 for item in reader.iter_file(path)}) == 30
    assert [item.identifier for item in reader.iter_file(path, limit=3)] == ["XM-TEST-0", "XM-TEST-1", "XM-TEST-2"]


RESULTS = """<result type="1"><title><narrative>Water</narrative></title>
   <indicator measure="1"><title><narrative xml:lang="ar">عدد الآبار المحفورة</narrative></title>
    <baseline year="2019" value="2"/>
    <period><period-start iso-date="2020-01-01"/><period-end iso-date="2020-06-30"/><target value="10"/></period>
    <period><period-start iso-date="2020-07-01"/><period-end iso-date="2020-03-31"/><target value="12"/></period>
   </indicator>
   <indicator measure="2"><title><narrative>Schools with latrines</narrative></title>
    <period><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/><target value="150"/></period>
   </indicator>
   <indicator measure="5"><title><narrative>Community satisfaction</narrative></title></indicator>
  </result>
 </iati-activity>"""


@pytest.mark.django_db
def test_results_become_the_projects_indicators_and_what_cannot_is_reported(rated, tmp_path):
    """Quantitative result indicators become project indicators with their baselines and targets; a qualitative
    one stays in the IATI record; a target that cannot be one (periods out of order, 150 %) is reported."""
    text = activity().replace(" </iati-activity>", " " + RESULTS)
    path = iati_file(tmp_path, text)
    with translation.override("en"):
        report = run(rated, path)
    project = Project.objects.get(iati_identifier="XM-TEST-1")
    indicators = {item.code: item for item in Indicator.objects.filter(project=project)}
    assert set(indicators) == {"IATI-1", "IATI-2", "IATI-3"}
    households, wells, schools = indicators["IATI-1"], indicators["IATI-2"], indicators["IATI-3"]
    assert (households.name_en, households.unit, households.baseline_milli) == ("Households", "number", 0)
    assert [(t.period_start.isoformat(), t.value_milli) for t in households.targets.all()] == [("2020-01-01", 500_000)]
    assert (wells.name_ar, wells.name_en, wells.baseline_milli) == ("عدد الآبار المحفورة", "", 2_000)
    assert [t.value_milli for t in wells.targets.all()] == [10_000]  # the second period ends before it starts
    assert (schools.unit, schools.targets.count()) == ("percent", 0)
    messages = [problem.message for problem in report.problems]
    assert len(messages) == 2 and report.indicators == 3
    assert "IATI-2: the target 12 is not kept (its period is not a pair of dates in order)" in messages[0]
    assert "IATI-3: the target 150 is not kept" in messages[1]
    # The qualitative indicator and every actual stay in the record, which the export publishes as read.
    record = IatiActivity.objects.get(project=project)
    assert [indicator["measure"] for result in record.results for indicator in result["indicators"]] == [
        "1",
        "1",
        "2",
        "5",
    ]
    events = AuditEvent.objects.filter(
        action="strategy.indicator_create", subject_id__in=[str(i.pk) for i in indicators.values()]
    )
    assert events.count() == 3 and verify_chain().ok
