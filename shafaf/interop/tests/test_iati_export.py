"""The IATI export (shafaf.interop.iati.writer, manage.py export_iati, the public files): what a charity
publishes validates against the official XSD, uses only active codes, carries both languages, and reveals
nothing but its published projects (never a donor)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from shafaf.interop.iati import codelists, schema, writer
from shafaf.interop.xmlsafe import parse_bytes
from shafaf.projects.models import Project
from tests.factories import budget, donor_of, licensed, make_project

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def export(charity, **kwargs) -> bytes:
    out = io.BytesIO()
    writer.write_activities(charity=charity, out=out, **kwargs)
    return out.getvalue()


def organisation(charity) -> bytes:
    out = io.BytesIO()
    writer.write_organisation(charity=charity, out=out)
    return out.getvalue()


@pytest.fixture
def published(world):
    """Charity A with one licensed project (budget, locations with a point) and one draft."""
    project = make_project(
        world.najat,
        world.charity_a,
        implementing_partner=world.partner,
        locations=[
            {
                "admin_area_ar": "ولاية الخرطوم",
                "admin_area_en": "Khartoum",
                "latitude": "15.5007",
                "longitude": "32.5599",
            }
        ],
    )
    budget(world, project)
    licensed(project)
    return project


def test_codelists_know_active_and_withdrawn_codes():
    assert "14030" in codelists.active_codes("Sector")
    assert "11321" not in codelists.active_codes("Sector")  # withdrawn 2019
    assert {"ar", "en"} <= codelists.active_codes("Language")
    assert "KWD" in codelists.active_codes("Currency")
    with pytest.raises(codelists.UnknownCodelist):
        codelists.active_codes("NoSuchList")


def test_the_vendored_codelists_are_the_official_ones():
    from pathlib import Path

    from django.conf import settings

    shared = Path(settings.BASE_DIR).parent / "shared" / "data" / "iati" / "codelists"
    if not shared.is_dir():
        pytest.skip("the shared IATI codelists are not beside the project")
    names = codelists.codelist_names()
    assert len(names) >= 30
    for name in names:
        official = shared / "embedded" / "xml" / f"{name}.xml"
        if not official.is_file():
            official = shared / "nonembedded" / "xml" / f"{name}.xml"
        assert (codelists.DIRECTORY / f"{name}.xml").read_bytes() == official.read_bytes(), name


def test_check_codes_file_streams_and_reads_the_root():
    data = (
        b'<iati-activities version="9.99">'
        + b'<iati-activity><activity-status code="2"/></iati-activity>' * 3
        + b'<iati-activity><activity-status code="77"/></iati-activity></iati-activities>'
    )
    problems = codelists.check_codes_file(io.BytesIO(data))
    assert len(problems) == 2
    assert 'version="9.99" is not an active code of Version' in problems[0]
    assert 'code="77" is not an active code of ActivityStatus' in problems[1]


def test_check_codes_names_each_code_that_is_not_active():
    root = parse_bytes(
        b'<iati-activities version="2.03"><iati-activity xml:lang="ENG" default-currency="XXQ">'
        b'<sector vocabulary="1" code="11321"/><sector vocabulary="99" code="anything"/>'
        b'<sector vocabulary="2" code="111"/><recipient-country code="SD"/>'
        b'<transaction><transaction-type code="3"/><value currency="usd">1</value></transaction>'
        b"</iati-activity></iati-activities>"
    )
    problems = codelists.check_codes(root)
    assert len(problems) == 4, problems
    joined = "\n".join(problems)
    assert 'xml:lang="ENG"' in joined and 'default-currency="XXQ"' in joined
    assert 'code="11321" is not an active code of Sector' in joined
    assert 'currency="usd"' in joined
    assert "anything" not in joined


def test_published_projects_export_valid_bilingual_and_coded(world, published):
    draft = Project.objects.exclude(pk=published.pk).filter(charity=world.charity_a).get()
    data = export(world.charity_a)
    assert schema.validate_activities(data) == []
    root = parse_bytes(data)
    assert codelists.check_codes(root) == []
    activities = root.findall("iati-activity")
    assert [a.findtext("iati-identifier") for a in activities] == [f"XM-SHAFAF-charity-a-{published.reference}"]
    assert draft.reference not in data.decode()
    activity = activities[0]
    titles = {n.get(XML_LANG): n.text for n in activity.find("title")}
    assert titles == {"ar": published.title_ar, "en": published.title_en}
    assert all(n.get(XML_LANG) in {"ar", "en"} for n in activity.iter("narrative"))
    assert activity.find("activity-status").get("code") == "2"
    assert activity.find("sector").get("code") == "14030"
    assert activity.find("recipient-country").get("code") == "SD"
    assert [Decimal(x) for x in activity.find("location/point/pos").text.split()] == [
        Decimal("15.5007"),
        Decimal("32.5599"),
    ]
    roles = {(o.get("role"), o.findtext("narrative")) for o in activity.findall("participating-org")}
    assert ("2", world.charity_a.name_ar) in roles and ("4", world.partner.name_ar) in roles
    budget_element = activity.find("budget")
    assert budget_element.get("type") == "1"
    assert budget_element.findtext("value") == "10500.000"
    assert budget_element.find("value").get("currency") == "KWD"
    assert [d.get("type") for d in activity.findall("activity-date")] == ["1", "3"]


def test_the_charitys_iati_ref_is_used_and_other_charities_are_not_exported(world, published):
    world.charity_a.iati_org_id = "KW-MOSA-123"
    world.charity_a.save(update_fields=["iati_org_id"])
    licensed(world.project_b)
    data = export(world.charity_a)
    root = parse_bytes(data)
    assert root.find("iati-activity/reporting-org").get("ref") == "KW-MOSA-123"
    assert root.findtext("iati-activity/iati-identifier") == f"KW-MOSA-123-{published.reference}"
    assert world.project_b.reference not in data.decode()
    assert world.charity_b.name_en not in data.decode()


def test_no_donor_identity_is_ever_exported(world, published):
    donor = donor_of(world, name_ar="متبرع سري جدا", name_en="Very Secret Donor")
    text = export(world.charity_a).decode() + organisation(world.charity_a).decode()
    assert donor.name_en not in text and donor.name_ar not in text
    assert world.donor_org.name_en not in text


def test_organisation_file_is_valid_and_sums_budgets(world, published):
    data = organisation(world.charity_a)
    assert schema.validate_organisations(data) == []
    root = parse_bytes(data)
    assert codelists.check_codes(root) == []
    org = root.find("iati-organisation")
    assert org.findtext("organisation-identifier") == "XM-SHAFAF-charity-a"
    assert {n.get(XML_LANG): n.text for n in org.find("name")} == {"ar": "جمعية النور الخيرية", "en": "Al-Noor Charity"}
    totals = [(t.find("period-start").get("iso-date"), t.findtext("value")) for t in org.findall("total-budget")]
    assert totals == [("2027-01-01", "10500.000")]
    assert org.find("recipient-country-budget/recipient-country").get("code") == "SD"


def test_an_activity_without_anything_published_still_validates(world):
    data = export(world.charity_b)
    root = parse_bytes(data)
    assert root.findall("iati-activity") == []
    # An empty activity file is not valid IATI (it needs one activity): the views answer 404 instead.
    assert schema.validate_activities(data) != []


# --- the command -------------------------------------------------------------------------------------------------


def test_the_command_writes_checked_files_with_progress(world, published, tmp_path):
    output, org_file = tmp_path / "activities.xml", tmp_path / "organisation.xml"
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export_iati",
        "--charity",
        "charity-a",
        "--output",
        str(output),
        "--organisation",
        str(org_file),
        stdout=out,
        stderr=err,
    )
    assert "1 activities of charity-a written" in out.getvalue()
    assert "activities written: 1/1 (100%)" in err.getvalue()
    assert schema.validate_activities(output) == [] and codelists.check_codes_file(output) == []
    assert schema.validate_organisations(org_file) == []
    assert codelists.check_codes_file(org_file, record="iati-organisation") == []
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_the_command_refuses_an_unknown_charity(world, tmp_path):
    with pytest.raises(CommandError, match="no-such"):
        call_command("export_iati", "--charity", "no-such", "--output", str(tmp_path / "x.xml"))
    with pytest.raises(CommandError):  # a partner is not a charity
        call_command("export_iati", "--charity", "partner", "--output", str(tmp_path / "x.xml"))
    assert list(tmp_path.iterdir()) == []


# --- the public files --------------------------------------------------------------------------------------------


def test_public_files_need_no_login_and_stream_valid_xml(world, published):
    client = Client()
    url = reverse("interop:iati-activities", kwargs={"charity": "charity-a"})
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("application/xml")
    body = b"".join(response.streaming_content)
    assert schema.validate_activities(body) == []
    assert parse_bytes(body).findtext("iati-activity/iati-identifier").endswith(published.reference)
    response = client.get(reverse("interop:iati-organisation", kwargs={"charity": "charity-a"}))
    assert response.status_code == 200 and schema.validate_organisations(response.content) == []


def test_public_files_answer_404_for_what_is_not_published(world, published):
    client = Client()
    for slug in ("charity-b", "no-such", "partner", "mosa"):  # nothing licensed / unknown / not charities
        for name in ("interop:iati-activities", "interop:iati-organisation"):
            assert client.get(reverse(name, kwargs={"charity": slug})).status_code == 404, (slug, name)
    world.charity_a.is_active = False
    world.charity_a.save(update_fields=["is_active"])
    assert client.get(reverse("interop:iati-activities", kwargs={"charity": "charity-a"})).status_code == 404
    assert client.post(reverse("interop:iati-activities", kwargs={"charity": "charity-b"})).status_code in (404, 405)


def test_many_projects_stream_in_pieces(world):
    for number in range(60):
        licensed(make_project(world.najat, world.charity_a, title_en=f"Well number {number}"))
    pieces = list(writer.iter_activities(charity=world.charity_a, chunk=25))
    assert len(pieces) >= 2 and b"</iati-activities>" not in pieces[0]  # written as it goes, not at once
    body = b"".join(pieces)
    assert schema.validate_activities(body) == []
    assert len(parse_bytes(body).findall("iati-activity")) == 60


# --- money, results, languages -----------------------------------------------------------------------------------


def test_disbursements_to_the_partner_are_published_and_donations_never(world):
    from django.utils import timezone, translation

    from shafaf.donations import services as donation_services
    from shafaf.donations.models import Channel, Purpose
    from shafaf.finance import services as finance_services
    from shafaf.finance.tests.helpers import license_project, register
    from tests.factories import approved_bank_account

    budget(world, world.project_a)
    project = license_project(world)
    contract = register(world, project, amount="1000.000")
    with translation.override("en"):
        finance_services.disbursement_record(
            actor=world.najat, contract=contract, amount="250.500", paid_on=dt.date(2026, 3, 1), reference="TR-77"
        )
        account = approved_bank_account(world)
        donor = donor_of(world, name_ar="سعاد المتبرعة", name_en="Suad Donor", email="suad@example.org")
        donation_services.donation_record(
            actor=world.najat,
            charity=world.charity_a,
            donor=donor,
            amount="40.000",
            currency="KWD",
            received_at=timezone.now() - dt.timedelta(hours=1),
            channel=Channel.KNET,
            bank_account=account,
            purpose=Purpose.PROJECT,
            project=project,
        )
    data = export(world.charity_a)
    assert schema.validate_activities(data) == [] and codelists.check_codes(parse_bytes(data)) == []
    transactions = parse_bytes(data).findall("iati-activity/transaction")
    assert [(t.find("transaction-type").get("code"), t.findtext("value"), t.get("ref")) for t in transactions] == [
        ("3", "250.500", "TR-77")
    ]
    receiver = transactions[0].find("receiver-org")
    assert {n.get(XML_LANG): n.text for n in receiver} == {"ar": "منظمة الأمل", "en": "Hope Organisation"}
    text = data.decode() + organisation(world.charity_a).decode()
    for secret in ("Suad", "سعاد", "suad@example.org", "40.000", account.iban):
        assert secret not in text, secret
    org = parse_bytes(organisation(world.charity_a)).find("iati-organisation")
    assert [e.findtext("value") for e in org.findall("total-expenditure")] == ["250.500"]


def test_strategy_indicators_are_published_as_results(world, published):
    from shafaf.strategy.models import Indicator, IndicatorTarget

    indicator = Indicator.objects.create(
        project=published,
        code="WELL-1",
        name_ar="عدد الأسر المستفيدة",
        name_en="Families served",
        unit="households",
        baseline_milli=0,
        baseline_date=dt.date(2026, 12, 1),
        created_by=world.najat,
    )
    IndicatorTarget.objects.create(
        indicator=indicator, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31), value_milli=500_000
    )
    data = export(world.charity_a)
    assert schema.validate_activities(data) == [] and codelists.check_codes(parse_bytes(data)) == []
    result = parse_bytes(data).find("iati-activity/result")
    assert result.get("type") == "1"
    element = result.find("indicator")
    assert element.get("measure") == "1"
    assert {n.get(XML_LANG): n.text for n in element.find("title")} == {
        "ar": "عدد الأسر المستفيدة",
        "en": "Families served",
    }
    assert (element.find("baseline").get("year"), element.find("baseline").get("value")) == ("2026", "0")
    period = element.find("period")
    assert (period.find("period-start").get("iso-date"), period.find("target").get("value")) == ("2027-01-01", "500")


def test_an_arabic_only_project_is_published_in_arabic(world):
    project = make_project(world.najat, world.charity_a, title_en="", description_en="", title_ar="كفالة أيتام في غزة")
    licensed(project)
    data = export(world.charity_a)
    assert schema.validate_activities(data) == []
    activity = parse_bytes(data).find("iati-activity")
    assert [(n.get(XML_LANG), n.text) for n in activity.find("title")] == [("ar", "كفالة أيتام في غزة")]
    assert activity.get(XML_LANG) == "ar"


def test_an_imported_activity_keeps_its_languages_and_publisher_fields(world):
    from shafaf.interop.models import IatiActivity

    licensed(world.project_b)
    IatiActivity.objects.create(
        project=world.project_b,
        charity=world.charity_b,
        identifier="XM-DAC-41114-PROJ-1",
        default_language="ENG",
        default_currency="USD",
        titles=[
            {"type": "", "lang": "ENG", "text": "Orphan sponsorship in Amman"},
            {"type": "", "lang": "fr", "text": "Parrainage d'orphelins à Amman"},
        ],
        sectors=[
            {"code": "11321", "vocabulary": "1", "percentage": "40"},
            {"code": "16010", "vocabulary": "", "percentage": "60"},
        ],
        recipient_regions=[{"code": "589", "vocabulary": "1", "percentage": ""}],
        document_links=[
            {
                "url": "https://example.org/r.pdf",
                "format": "APPLICATION/PDF",
                "titles": [],
                "categories": ["A01"],
                "language": "EN",
            }
        ],
        related_activities=[{"type": "1", "ref": "XM-DAC-41114-PARENT"}],
    )
    data = export(world.charity_b)
    assert schema.validate_activities(data) == [] and codelists.check_codes(parse_bytes(data)) == []
    activity = parse_bytes(data).find("iati-activity")
    assert activity.findtext("iati-identifier") == "XM-DAC-41114-PROJ-1"
    assert activity.get("default-currency") == "USD"
    titles = [(n.get(XML_LANG), n.text) for n in activity.find("title")]
    assert titles == [
        ("en", "Orphan sponsorship in Amman"),
        ("fr", "Parrainage d'orphelins à Amman"),
        ("ar", "كفالة أيتام في عمّان"),
    ]
    assert [s.get("code") for s in activity.findall("sector")] == ["16010"]  # 11321 was withdrawn in 2019
    assert activity.find("recipient-region").get("code") == "589"
    link = activity.find("document-link")
    assert (link.get("format"), link.find("language").get("code")) == ("application/pdf", "en")
    assert activity.find("related-activity").get("ref") == "XM-DAC-41114-PARENT"


def test_an_activity_that_would_not_validate_is_left_out_and_named(world, published, tmp_path):
    from shafaf.interop.models import IatiActivity

    other = licensed(make_project(world.najat, world.charity_a, title_en="Second well"))
    # xsd:int overflows: the schema refuses the whole activity, so the export must not publish it.
    IatiActivity.objects.create(
        project=other, charity=world.charity_a, identifier="XM-TEST-BROKEN", hierarchy="9999999999"
    )
    problems: list[str] = []
    out = io.BytesIO()
    assert writer.write_activities(charity=world.charity_a, out=out, problems=problems) == 1
    assert schema.validate_activities(out.getvalue()) == []
    assert len(problems) == 1 and problems[0].startswith("XM-TEST-BROKEN: ") and "hierarchy" in problems[0]
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "export_iati", "--charity", "charity-a", "--output", str(tmp_path / "a.xml"), stdout=stdout, stderr=stderr
    )
    assert "1 activities left out" in stdout.getvalue() and "XM-TEST-BROKEN" in stderr.getvalue()
