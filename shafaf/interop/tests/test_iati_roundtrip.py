"""The IATI round trip: the real activities in shared/data are imported into one charity, exported, checked
against the official XSD and codelists, imported again into another charity, and every field the platform models
is the same on both sides (IatiActivity's lists, the project's fields and its money).

What the export changes on purpose, and so what the comparison allows for: language codes are written as IATI's
active two-letter codes ("ENG" -> "en"), file formats in lower case, and an element whose code is not active in
the official codelists (a withdrawn DAC sector, say) is left out rather than published wrong."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from shafaf.finance.models import BudgetPeriod, Expenditure
from shafaf.finance.tests.helpers_iati import load_rates_quickly
from shafaf.interop.iati import codelists, importer, schema, writer
from shafaf.interop.models import IatiActivity
from shafaf.interop.xmlsafe import parse_bytes
from shafaf.projects.models import Project

DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "iati_activities"
FOOD = DATA / "upstream_fixture_foodsecurity_dportal.xml"
LINKED = DATA / "dportal_covid_linked_activities.xml"
COVID = DATA / "upstream_fixture_covid_dportal.xml"

pytestmark = pytest.mark.skipif(not FOOD.is_file(), reason="the shared IATI data is not beside the project")

SCALARS = ("identifier", "default_currency", "hierarchy", "last_updated", "activity_status")
# The record's lists: every other field the importer keeps (but the language, which the export may normalise).
LISTS = tuple(name for name in importer.RECORD_FIELDS if name not in SCALARS and name != "default_language")
PROJECT_FIELDS = (
    "title_ar",
    "title_en",
    "description_ar",
    "description_en",
    "sector",
    "country",
    "planned_start",
    "planned_end",
    "currency",
    "status",
    "iati_identifier",
)
THREE_LETTER = {"eng": "en", "fra": "fr", "spa": "es", "ara": "ar"}


@pytest.fixture
def rated(world):
    load_rates_quickly()
    return world


def _lang(code: str) -> str:
    code = (code or "").strip().lower()
    return THREE_LETTER.get(code, code)


def _active(name: str, code) -> bool:
    return str(code or "").strip() in codelists.active_codes(name)


def normalised(activity: IatiActivity) -> dict:
    """The activity's modelled fields as the export is meant to publish them (see the module's docstring)."""
    default = _lang(activity.default_language) or "ar"

    def names(items):
        return [{**item, "lang": _lang(item.get("lang")) or default} for item in items if item.get("text")]

    out = {name: getattr(activity, name) for name in SCALARS}
    out["default_language"] = default
    out["activity_dates"] = activity.activity_dates
    out["titles"] = names(activity.titles)
    out["descriptions"] = [{**item, "type": item.get("type") or "1"} for item in names(activity.descriptions)]
    out["participating_orgs"] = [{**org, "names": names(org["names"])} for org in activity.participating_orgs]
    # Given on the transactions only (not kept): the project's country and sector are published for the activity.
    countries, sectors = activity.recipient_countries, activity.sectors
    if not countries and not activity.recipient_regions:
        countries = [{"code": activity.project.country, "percentage": ""}]
    if not sectors:
        sectors = [{"code": activity.project.sector, "vocabulary": "1", "percentage": ""}]
    out["recipient_countries"] = [c for c in countries if _active("Country", c["code"])]
    out["recipient_regions"] = [
        r for r in activity.recipient_regions if (r["vocabulary"] or "1") != "1" or _active("Region", r["code"])
    ]
    sector_list = {"1": "Sector", "2": "SectorCategory"}
    out["sectors"] = [
        s
        for s in sectors
        if (s["vocabulary"] or "1") not in sector_list or _active(sector_list[s["vocabulary"] or "1"], s["code"])
    ]
    out["locations"] = [{**loc, "names": names(loc["names"])} for loc in activity.locations]
    out["budgets"] = activity.budgets
    out["planned_disbursements"] = activity.planned_disbursements
    out["transactions"] = activity.transactions
    out["results"] = activity.results
    out["document_links"] = [
        {
            **link,
            "format": link["format"].lower(),
            "language": _lang(link["language"]),
            "titles": names(link["titles"]),
        }
        for link in activity.document_links
        if _active("FileFormat", link["format"].lower())
    ]
    out["related_activities"] = activity.related_activities
    return out


def money_of(project: Project) -> dict:
    return {
        "periods": sorted(
            BudgetPeriod.objects.filter(version__project=project).values_list(
                "version__number", "version__kind", "start", "end", "amount_minor", "version__currency"
            )
        ),
        "spending": sorted(
            Expenditure.objects.filter(project=project).values_list("iati_type", "spent_on", "amount_minor", "currency")
        ),
        "locations": sorted(project.locations.values_list("admin_area_ar", "admin_area_en", "latitude", "longitude")),
    }


def round_trip(world, tmp_path, source: Path, *, limit: int | None = None):
    first = importer.import_file(actor=world.najat, charity=world.charity_a, path=source, limit=limit)
    assert first.created > 0
    exported = io.BytesIO()
    count = writer.write_activities(
        charity=world.charity_a,
        out=exported,
        projects=Project.objects.filter(charity=world.charity_a, iati__isnull=False),
    )
    data = exported.getvalue()
    assert count == IatiActivity.objects.filter(charity=world.charity_a).count()
    assert schema.validate_activities(data) == []
    assert codelists.check_codes(parse_bytes(data)) == []
    path = tmp_path / "exported.xml"
    path.write_bytes(data)
    second = importer.import_file(actor=world.rahma, charity=world.charity_b, path=path)
    assert second.created == count
    return data


def assert_same(world):
    a = {x.identifier: x for x in IatiActivity.objects.filter(charity=world.charity_a).select_related("project")}
    b = {x.identifier: x for x in IatiActivity.objects.filter(charity=world.charity_b).select_related("project")}
    assert set(a) == set(b) and a
    for identifier, first in a.items():
        second = b[identifier]
        left, right = normalised(first), normalised(second)
        for field in left:
            assert left[field] == right[field], (identifier, field)
        for field in PROJECT_FIELDS:
            assert getattr(first.project, field) == getattr(second.project, field), (identifier, field)
        assert money_of(first.project) == money_of(second.project), identifier


def test_the_food_security_file_survives_a_round_trip(rated, tmp_path):
    data = round_trip(rated, tmp_path, FOOD)
    assert_same(rated)
    # Both languages when the project has them; the lists a publisher fills are really there.
    text = data.decode()
    assert 'xml:lang="ENG"' not in text and 'xml:lang="en"' in text
    kinds = Counter(element.tag for element in parse_bytes(data).iter() if isinstance(element.tag, str))
    for tag in ("budget", "transaction", "sector", "participating-org", "recipient-country", "activity-date"):
        assert kinds[tag] > 0, tag


def test_a_slice_of_the_linked_and_covid_files_survives_a_round_trip(rated, tmp_path):
    round_trip(rated, tmp_path, LINKED, limit=60)
    assert_same(rated)


def test_a_slice_of_the_covid_fixture_survives_a_round_trip(rated, tmp_path):
    data = round_trip(rated, tmp_path, COVID, limit=80)
    assert_same(rated)
    # Its document links' formats and languages are published as active codes, in lower case.
    root = parse_bytes(data)
    links = root.findall("iati-activity/document-link")
    assert links and all(link.get("format") == link.get("format").lower() for link in links)
