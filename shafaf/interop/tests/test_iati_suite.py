"""IATI's own schema test suite (IATI/IATI-Schemas, tests/) against our validator and importer: every should-pass
activity file imports with ``validate=True``, every should-fail one is refused whole with the schema's messages and
leaves nothing behind; the organisation files validate (or not) as the suite says. Also: the vendored XSDs are the
shared official copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from shafaf.interop.iati import schema
from shafaf.interop.iati.importer import SchemaRefused, import_file
from shafaf.interop.models import IatiActivity
from shafaf.interop.xmlsafe import safe_parser
from shafaf.projects.models import Project

SHARED = Path(settings.BASE_DIR).parent / "shared" / "data" / "iati"
TESTS = SHARED / "schema_tests" / "tests"


def _files(*folders: str) -> list[Path]:
    found = []
    for folder in folders:
        found += sorted((TESTS / folder).rglob("*.xml"))
    return found


ACTIVITY_PASS = _files("activity-tests/should-pass", "should-pass/iati-activities")
ACTIVITY_FAIL = _files("activity-tests/should-fail", "should-fail/iati-activities")
ORGANISATION_PASS = _files("organisation-tests/should-pass", "should-pass/iati-organisations")
ORGANISATION_FAIL = _files("organisation-tests/should-fail", "should-fail/iati-organisations")

needs_suite = pytest.mark.skipif(not TESTS.is_dir(), reason="the shared IATI schema tests are not beside the project")


def _id(path: Path) -> str:
    return str(path.relative_to(TESTS))


@needs_suite
def test_the_suite_is_all_there():
    assert len(ACTIVITY_PASS) >= 58 and len(ACTIVITY_FAIL) >= 225


@pytest.mark.skipif(not (SHARED / "schema").is_dir(), reason="the shared IATI schemas are not beside the project")
def test_the_vendored_schemas_are_the_official_ones():
    for name in ("iati-activities-schema.xsd", "iati-organisations-schema.xsd", "iati-common.xsd", "xml.xsd", "COMMIT"):
        assert (schema.XSD_DIR / name).read_bytes() == (SHARED / "schema" / name).read_bytes(), name
    assert "CC BY 4.0" in (schema.XSD_DIR / "README.md").read_text(encoding="utf-8")


@needs_suite
@pytest.mark.django_db
@pytest.mark.parametrize("path", ACTIVITY_PASS, ids=_id)
def test_a_should_pass_file_imports(world, path):
    assert schema.validate_activities(path) == []
    report = import_file(actor=world.najat, charity=world.charity_a, path=path, validate=True)
    root = etree.parse(str(path), parser=safe_parser()).getroot()
    activities = list(root.findall("iati-activity"))
    assert report.read == len(activities)
    # Every activity is a project with its IATI record, or a problem naming it with its line.
    records = set(IatiActivity.objects.filter(charity=world.charity_a).values_list("identifier", flat=True))
    for activity in activities:
        identifier = (activity.findtext("iati-identifier") or "").strip()
        if identifier in records:
            continue
        assert any(p.line == activity.sourceline and p.identifier == identifier for p in report.problems), identifier
    assert report.created == len(records)
    assert Project.objects.filter(charity=world.charity_a, iati__isnull=False).count() == len(records)


@needs_suite
@pytest.mark.django_db
@pytest.mark.parametrize("path", ACTIVITY_FAIL, ids=_id)
def test_a_should_fail_file_is_refused_whole(world, path):
    before = Project.objects.count()
    with pytest.raises(SchemaRefused) as refused:
        import_file(actor=world.najat, charity=world.charity_a, path=path, validate=True)
    assert refused.value.messages
    assert all(message.startswith("line ") for message in refused.value.messages)
    assert Project.objects.count() == before and not IatiActivity.objects.exists()


@needs_suite
def test_the_streamed_verdict_is_the_whole_documents_and_its_messages_name_the_error():
    whole = schema.activities_schema()
    for path in ACTIVITY_PASS + ACTIVITY_FAIL:
        assert (schema.validate_activities(path) == []) == whole.validate(etree.parse(str(path), parser=safe_parser()))
    # A 2.03 case names its expected error in its file name (the suite's own convention).
    expected = {
        "err-not-iati-xml-missing-attribute": "is required but missing",
        "err-not-iati-xml-forbidden-attribute": "is not allowed",
        "err-not-iati-xml-incorrect-datatype": "is not a valid value of the atomic type",
    }
    for path in _files("should-fail/iati-activities"):
        reason = path.stem.split("_")[0]
        if reason in expected:
            assert any(expected[reason] in message for message in schema.validate_activities(path)), path.name


@needs_suite
@pytest.mark.parametrize("path", ORGANISATION_PASS, ids=_id)
def test_a_should_pass_organisation_file_is_valid(path):
    assert schema.validate_organisations(path) == []


@needs_suite
@pytest.mark.parametrize("path", ORGANISATION_FAIL, ids=_id)
def test_a_should_fail_organisation_file_is_not(path):
    assert schema.validate_organisations(path) != []
