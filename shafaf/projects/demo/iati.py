"""A streaming reader for IATI 2.0x activity files.

Reads one `<iati-activity>` at a time with `iterparse` and clears what it has read, so memory stays
bounded whatever the size of the file. Returns plain records; what they mean for Shafaf is decided
elsewhere (`demo/activities.py`). No Django here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text or ""))


@dataclass(frozen=True)
class Narrative:
    """A text and its language: the declared `xml:lang` (or the activity's), lower-case, two letters."""

    lang: str
    text: str

    @property
    def is_arabic(self) -> bool:
        # Some publishers tag English text as "AR": only Arabic script counts as Arabic.
        return has_arabic(self.text)


@dataclass(frozen=True)
class Location:
    names: tuple[Narrative, ...]
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class ParticipatingOrg:
    role: str
    ref: str
    names: tuple[Narrative, ...]


@dataclass(frozen=True)
class Budget:
    """One `<budget>`: IATI's type ("1" original, "2" revised; "1" when absent), status ("1" indicative,
    "2" committed; "1" when absent), its period and value. The value stays the exact text of the file."""

    type: str
    status: str
    period_start: str
    period_end: str
    value: str
    currency: str  # the value's own currency, "" when it takes the activity's default
    value_date: str


@dataclass(frozen=True)
class Transaction:
    """One `<transaction>`: its type code (IATI TransactionType: "3" disbursement, "4" expenditure, ...), the
    exact value text, its currency ("" for the activity's default), value-date, transaction-date and ref."""

    type: str
    value: str
    currency: str
    value_date: str
    transaction_date: str
    ref: str = ""
    description: str = ""


@dataclass
class Activity:
    identifier: str
    reporting_org_ref: str = ""
    reporting_org_names: tuple[Narrative, ...] = ()
    default_currency: str = ""
    titles: tuple[Narrative, ...] = ()
    # (description type, narrative); a missing type is IATI's default, "1" (general).
    descriptions: tuple[tuple[str, Narrative], ...] = ()
    # (code, percentage or None)
    recipient_countries: tuple[tuple[str, float | None], ...] = ()
    # (vocabulary, code, percentage or None); a missing vocabulary is IATI's default, "1" (DAC 5-digit).
    sectors: tuple[tuple[str, str, float | None], ...] = ()
    transaction_sectors: tuple[tuple[str, str], ...] = ()
    # activity-date type -> ISO date string, first seen wins
    dates: dict[str, str] = field(default_factory=dict)
    locations: tuple[Location, ...] = ()
    participating_orgs: tuple[ParticipatingOrg, ...] = ()
    # IATI ActivityStatus code ("1" pipeline, "2" implementation, "3" finalisation, "4" closed, ...); "" if absent.
    status: str = ""
    budgets: tuple[Budget, ...] = ()
    transactions: tuple[Transaction, ...] = ()


def _lang(element: ET.Element, default: str) -> str:
    return (element.get(XML_LANG) or default or "").strip().lower()[:2]


def _clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if "\n" not in text and "  " not in text and "\t" not in text and "\r" not in text:
        return text
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _narratives(element: ET.Element | None, default_lang: str) -> tuple[Narrative, ...]:
    if element is None:
        return ()
    found = []
    for narrative in element.findall("narrative"):
        text = _clean_text(narrative.text)
        if text:
            found.append(Narrative(_lang(narrative, default_lang), text))
    return tuple(found)


def _percentage(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _point(location: ET.Element) -> tuple[float | None, float | None]:
    raw = (location.findtext("point/pos") or "").split()
    if len(raw) != 2:
        return None, None
    try:
        latitude, longitude = float(raw[0]), float(raw[1])
    except ValueError:
        return None, None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    return latitude, longitude


def _reporting_ref(element: ET.Element) -> str:
    reporting = element.find("reporting-org")
    return (reporting.get("ref", "") if reporting is not None else "").strip()


def _attr(element: ET.Element | None, name: str) -> str:
    return (element.get(name) or "").strip() if element is not None else ""


def _budget(element: ET.Element) -> Budget:
    value = element.find("value")
    return Budget(
        type=(element.get("type") or "1").strip(),
        status=(element.get("status") or "1").strip(),
        period_start=_attr(element.find("period-start"), "iso-date"),
        period_end=_attr(element.find("period-end"), "iso-date"),
        value=(value.text or "").strip() if value is not None else "",
        currency=_attr(value, "currency").upper(),
        value_date=_attr(value, "value-date"),
    )


def _transaction(element: ET.Element, lang: str) -> Transaction:
    value = element.find("value")
    description = _narratives(element.find("description"), lang)
    return Transaction(
        type=_attr(element.find("transaction-type"), "code"),
        value=(value.text or "").strip() if value is not None else "",
        currency=_attr(value, "currency").upper(),
        value_date=_attr(value, "value-date"),
        transaction_date=_attr(element.find("transaction-date"), "iso-date"),
        ref=(element.get("ref") or "").strip(),
        description=description[0].text if description else "",
    )


def _activity(element: ET.Element, default_lang: str) -> Activity:
    lang = _lang(element, default_lang) or "en"
    reporting = element.find("reporting-org")
    dates: dict[str, str] = {}
    for date in element.findall("activity-date"):
        kind, iso = date.get("type", ""), (date.get("iso-date") or "").strip()
        if kind and iso and kind not in dates:
            dates[kind] = iso
    return Activity(
        identifier=_clean_text(element.findtext("iati-identifier")),
        reporting_org_ref=_reporting_ref(element),
        reporting_org_names=_narratives(reporting, lang),
        default_currency=(element.get("default-currency") or "").strip().upper(),
        titles=_narratives(element.find("title"), lang),
        descriptions=tuple(
            (description.get("type") or "1", narrative)
            for description in element.findall("description")
            for narrative in _narratives(description, lang)
        ),
        recipient_countries=tuple(
            ((country.get("code") or "").strip().upper(), _percentage(country.get("percentage")))
            for country in element.findall("recipient-country")
        ),
        sectors=tuple(
            (
                (sector.get("vocabulary") or "1").strip(),
                (sector.get("code") or "").strip(),
                _percentage(sector.get("percentage")),
            )
            for sector in element.findall("sector")
        ),
        transaction_sectors=tuple(
            ((sector.get("vocabulary") or "1").strip(), (sector.get("code") or "").strip())
            for sector in element.findall("transaction/sector")
        ),
        dates=dates,
        locations=tuple(
            Location(_narratives(location.find("name"), lang), *_point(location))
            for location in element.findall("location")
        ),
        participating_orgs=tuple(
            ParticipatingOrg(org.get("role", ""), (org.get("ref") or "").strip(), _narratives(org, lang))
            for org in element.findall("participating-org")
        ),
        status=_attr(element.find("activity-status"), "code"),
        budgets=tuple(_budget(budget) for budget in element.findall("budget")),
        transactions=tuple(_transaction(item, lang) for item in element.findall("transaction")),
    )


class NotAnActivityFile(ValueError):
    """The file's root element is not `<iati-activities>`."""


def iter_activities(
    path: str | Path, *, accept: Callable[[str], bool] | None = None, strict_root: bool = False
) -> Iterator[Activity]:
    """Yields the activities in the file, in file order. `accept(reporting_org_ref)`, when given, skips
    the activities of publishers it refuses before they are read in full (it is cheap; reading is not).
    With `strict_root`, a file whose root is not `<iati-activities>` raises NotAnActivityFile; a file that is
    not well-formed XML raises xml.etree.ElementTree.ParseError either way."""
    root = None
    default_lang = "en"
    for event, element in ET.iterparse(str(path), events=("start", "end")):  # noqa: S314 - the shared data files, not uploads
        if event == "start":
            if root is None:
                root = element
                if strict_root and element.tag != "iati-activities":
                    raise NotAnActivityFile(element.tag)
                default_lang = _lang(element, "en") or "en"
            continue
        if element.tag != "iati-activity":
            continue
        activity = None
        if accept is None or accept(_reporting_ref(element)):
            activity = _activity(element, default_lang)
        # Drop what has been read: the activity itself and the root's reference to it.
        element.clear()
        if root is not None:
            root.clear()
        if activity is not None and activity.identifier:
            yield activity
