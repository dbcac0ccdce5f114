"""Turns real IATI activities into Shafaf project drafts for the demo world.

An activity becomes a draft when it has a title, a recipient country and a DAC sector that are active
in Shafaf's codelists, and at least one date. What IATI does not say (the MOSA project model, the
beneficiary group and count) is derived from the sector and the text, deterministically.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..choices import BeneficiaryGroup, ProjectModel
from ..codelists import COUNTRIES, CURRENCIES, SECTORS
from ..models import HOME_COUNTRY
from .iati import Activity, iter_activities

TITLE_MAX = 300
DESCRIPTION_MAX = 4000
LOCATIONS_MAX = 5
# Sectors that say nothing specific; another sector of the same weight is preferred.
VAGUE_SECTORS = frozenset({"43010", "99810", "91010", "16050"})
# Water and sanitation works, shelter and housing, schools, clinics, reconstruction: built things.
CONSTRUCTION_SECTORS = frozenset(
    {"14020", "14021", "14022", "14030", "14031", "14032", "16030", "16040", "11120", "12230", "73010"}
)
DESCRIPTION_ORDER = ("1", "2", "3", "4")

_GROUP_WORDS = (
    (BeneficiaryGroup.ORPHANS, re.compile(r"\borphan", re.I)),
    (BeneficiaryGroup.WIDOWS, re.compile(r"\bwidow", re.I)),
    (BeneficiaryGroup.PEOPLE_WITH_DISABILITIES, re.compile(r"disabilit|disabled|handicap", re.I)),
    (BeneficiaryGroup.ELDERLY, re.compile(r"\belderly\b|older (?:people|persons|women|men)", re.I)),
    (BeneficiaryGroup.REFUGEES, re.compile(r"refugee|displaced|\bidps?\b|returnee|asylum", re.I)),
)
# (lowest, highest, step) of a plausible number of beneficiaries for each group.
BENEFICIARY_RANGES = {
    BeneficiaryGroup.ORPHANS: (40, 600, 10),
    BeneficiaryGroup.STUDENTS: (60, 2500, 20),
    BeneficiaryGroup.FAMILIES: (50, 3000, 50),
    BeneficiaryGroup.WIDOWS: (30, 400, 10),
    BeneficiaryGroup.REFUGEES: (500, 25000, 250),
    BeneficiaryGroup.PATIENTS: (300, 20000, 100),
    BeneficiaryGroup.PEOPLE_WITH_DISABILITIES: (40, 900, 10),
    BeneficiaryGroup.ELDERLY: (50, 1200, 10),
    BeneficiaryGroup.COMMUNITY: (1000, 60000, 500),
}
INTERNAL_OF = {
    ProjectModel.CONSTRUCTION_EXTERNAL: ProjectModel.CONSTRUCTION_INTERNAL,
    ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL: ProjectModel.SOCIAL_DEVELOPMENT_INTERNAL,
    ProjectModel.SPONSORSHIP_EXTERNAL: ProjectModel.SPONSORSHIP_INTERNAL,
    ProjectModel.RELIEF_CAMPAIGN_EXTERNAL: ProjectModel.SOCIAL_DEVELOPMENT_INTERNAL,
}


@dataclass
class ProjectDraft:
    """What `project_create` needs, less the charity, the implementing partner and the derived fields."""

    publisher: str
    fields: dict
    locations: list[dict]
    implementer_refs: tuple[str, ...] = ()
    text: str = field(default="", repr=False)  # English text the beneficiary group is read from

    @property
    def iati_identifier(self) -> str:
        return self.fields.get("iati_identifier", "")


# --- reading one activity --------------------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def _split(narratives) -> tuple[str, str]:
    """(Arabic text, other text): Arabic script goes to *_ar; English is preferred for *_en, then any other."""
    arabic = next((n.text for n in narratives if n.is_arabic), "")
    latin = [n for n in narratives if not n.is_arabic]
    english = next((n.text for n in latin if n.lang == "en"), "")
    return arabic, english or (latin[0].text if latin else "")


def _best_country(activity: Activity, active: set[str]) -> str:
    ranked = sorted(enumerate(activity.recipient_countries), key=lambda item: (-(item[1][1] or 0), item[0]))
    return next((code for _i, (code, _pct) in ranked if code in active), "")


def _best_sector(activity: Activity, active: set[str]) -> str:
    dac = [
        (index, code, pct)
        for index, (vocabulary, code, pct) in enumerate(activity.sectors)
        if vocabulary == "1" and len(code) == 5 and code in active
    ]
    if dac:
        ranked = sorted(
            dac, key=lambda item: (-(item[2] if item[2] is not None else 100), item[1] in VAGUE_SECTORS, item[0])
        )
        return ranked[0][1]
    for vocabulary, code in activity.transaction_sectors:
        if vocabulary == "1" and len(code) == 5 and code in active:
            return code
    return ""


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "")[:10])
    except ValueError:
        return None


def planned_dates(dates: dict[str, str]) -> tuple[dt.date, dt.date] | None:
    """Start from activity-date type 1 (planned) or 2 (actual), end from 3 or 4; a year when one is missing."""
    start = _date(dates.get("1")) or _date(dates.get("2"))
    end = _date(dates.get("3")) or _date(dates.get("4"))
    if start is None and end is None:
        return None
    if start is None:
        start = end - dt.timedelta(days=364)
    if end is None or end < start:
        end = start + dt.timedelta(days=364)
    return start, end


def _coordinate(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def _country_area(country: str) -> dict:
    item = COUNTRIES.get(country, {})
    return {"admin_area_ar": item.get("name_ar", ""), "admin_area_en": item.get("name_en", country)}


def _locations(activity: Activity, country: str) -> list[dict]:
    country_names = {COUNTRIES.get(country, {}).get("name_en", "").casefold()}
    found, seen = [], set()
    for location in activity.locations:
        name_ar, name_en = _split(location.names)
        name_ar, name_en = _truncate(name_ar, 200), _truncate(name_en, 200)
        if not name_ar and not name_en:
            if location.latitude is None:
                continue
            area = _country_area(country)
        elif not name_ar and name_en.casefold() in country_names:
            area = _country_area(country)  # the place is the whole country: use its Arabic name too
        else:
            area = {"admin_area_ar": name_ar, "admin_area_en": name_en}
        area["latitude"] = _coordinate(location.latitude)
        area["longitude"] = _coordinate(location.longitude)
        key = (area["admin_area_ar"], area["admin_area_en"], area["latitude"], area["longitude"])
        if key in seen:
            continue
        seen.add(key)
        found.append(area)
        if len(found) >= LOCATIONS_MAX:
            break
    return found or [_country_area(country)]


def draft_from_activity(activity: Activity) -> ProjectDraft | None:
    """The draft for one activity, or None when it lacks what a project needs."""
    title_ar, title_en = _split(activity.titles)
    country = _best_country(activity, COUNTRIES.active_codes())
    sector = _best_sector(activity, SECTORS.active_codes())
    dates = planned_dates(activity.dates)
    if not (title_ar or title_en) or not country or not sector or dates is None or len(activity.identifier) > 200:
        return None
    descriptions = sorted(
        enumerate(activity.descriptions),
        key=lambda item: (DESCRIPTION_ORDER.index(item[1][0]) if item[1][0] in DESCRIPTION_ORDER else 9, item[0]),
    )
    description_ar, description_en = _split([narrative for _i, (_type, narrative) in descriptions])
    currency = activity.default_currency if activity.default_currency in CURRENCIES.active_codes() else "USD"
    fields = {
        "title_ar": _truncate(title_ar, TITLE_MAX),
        "title_en": _truncate(title_en, TITLE_MAX),
        "description_ar": _truncate(description_ar, DESCRIPTION_MAX),
        "description_en": _truncate(description_en, DESCRIPTION_MAX),
        "sector": sector,
        "country": country,
        "planned_start": dates[0],
        "planned_end": dates[1],
        "currency": currency,
        "iati_identifier": activity.identifier,
    }
    implementers = tuple(org.ref for org in activity.participating_orgs if org.role == "4" and org.ref)
    # The beneficiary group is read from the title, the target-group description (type 3) and the start
    # of the general one: long descriptions mention every vulnerable group in passing.
    english = " ".join(
        [
            title_en,
            *(n.text for kind, n in activity.descriptions if kind == "3" and not n.is_arabic),
            *(n.text[:300] for kind, n in activity.descriptions if kind == "1" and n.lang == "en"),
        ]
    )
    return ProjectDraft(
        publisher=activity.reporting_org_ref or "?",
        fields=fields,
        locations=_locations(activity, country),
        implementer_refs=implementers,
        text=english[:5000],
    )


def select_drafts(path: str | Path, count: int) -> tuple[list[ProjectDraft], dict]:
    """Up to `count` drafts, taken in turn from each publisher (in file order) so that no single
    publisher fills the demo. Streams the file once; keeps at most `count` drafts per publisher."""
    by_publisher: OrderedDict[str, list[ProjectDraft]] = OrderedDict()
    seen: set[str] = set()
    stats = {"read": 0, "usable": 0}

    def wanted(publisher: str) -> bool:
        stats["read"] += 1
        return len(by_publisher.get(publisher or "?", ())) < count

    for activity in iter_activities(path, accept=wanted):
        if activity.identifier in seen:
            continue
        bucket = by_publisher.setdefault(activity.reporting_org_ref or "?", [])
        draft = draft_from_activity(activity)
        if draft is None:
            continue
        seen.add(activity.identifier)
        stats["usable"] += 1
        bucket.append(draft)
    chosen: list[ProjectDraft] = []
    depth = 0
    while len(chosen) < count and any(len(bucket) > depth for bucket in by_publisher.values()):
        for bucket in by_publisher.values():
            if depth < len(bucket) and len(chosen) < count:
                chosen.append(bucket[depth])
        depth += 1
    stats["publishers"] = len({draft.publisher for draft in chosen})
    return chosen, stats


# --- what IATI does not say ------------------------------------------------------------------------


def beneficiary_group_for(sector: str, text: str) -> str:
    for group, pattern in _GROUP_WORDS:
        if pattern.search(text or ""):
            return group
    if sector.startswith("11") or sector == "72012":
        return BeneficiaryGroup.STUDENTS
    if sector[:2] in {"12", "13"} or sector == "72011":
        return BeneficiaryGroup.PATIENTS
    if sector[:2] in {"72", "73", "16", "52"}:
        return BeneficiaryGroup.FAMILIES
    return BeneficiaryGroup.COMMUNITY


def beneficiary_count_for(group: str, rng: random.Random) -> int:
    low, high, step = BENEFICIARY_RANGES[BeneficiaryGroup(group)]
    return rng.randrange(low, high + 1, step)


def project_model_for(sector: str, group: str, country: str, rng: random.Random) -> str:
    if sector.startswith("72"):
        model = ProjectModel.RELIEF_CAMPAIGN_EXTERNAL
    elif sector in CONSTRUCTION_SECTORS:
        model = ProjectModel.CONSTRUCTION_EXTERNAL
    elif (
        group in {BeneficiaryGroup.ORPHANS, BeneficiaryGroup.WIDOWS}
        or (group == BeneficiaryGroup.STUDENTS and rng.random() < 0.3)
        or (group == BeneficiaryGroup.FAMILIES and rng.random() < 0.1)
    ):
        model = ProjectModel.SPONSORSHIP_EXTERNAL
    else:
        model = ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL
    return INTERNAL_OF[model] if country == HOME_COUNTRY else model


def complete(draft: ProjectDraft, rng: random.Random) -> dict:
    """The draft's fields with the beneficiary group and count and the project model filled in."""
    fields = dict(draft.fields)
    group = fields.get("beneficiary_group") or beneficiary_group_for(fields["sector"], draft.text)
    fields["beneficiary_group"] = group
    fields.setdefault("beneficiary_count", beneficiary_count_for(group, rng))
    fields.setdefault("project_model", project_model_for(fields["sector"], group, fields["country"], rng))
    return fields
