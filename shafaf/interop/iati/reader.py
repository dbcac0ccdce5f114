"""Streaming reader of IATI 2.0x activity files (safe lxml parsing, bounded memory).

Yields one ``ReadActivity`` per top-level ``<iati-activity>`` in file order, then drops it from the tree, so memory
does not grow with the file. Each carries:

* ``record``: the activity as ``shafaf.projects.demo.iati.Activity`` (what the project/finance mapping reads);
* ``fields``: the IatiActivity fields (``shafaf.interop.models``), every value the exact text of the file;
* ``line``: the line of its ``<iati-activity>`` tag; ``sha256``: of its canonical XML (lxml's serialisation of
  the element, with the namespaces in scope and the root's ``xml:lang`` it inherits), so a re-import can tell an
  unchanged activity without comparing fields.

No Django models here. A file that is not well-formed raises ``XmlRefused`` where the damage is found (the
importer runs in one transaction, so nothing read before it is kept); a file whose root is not
``<iati-activities>`` raises ``NotAnActivityFile``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from shafaf.interop.xmlsafe import XmlRefused, iterparse_safe
from shafaf.projects.demo.iati import Activity, NotAnActivityFile
from shafaf.projects.demo.iati import _activity as demo_activity

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ROOT = "iati-activities"
RECORD = "iati-activity"

__all__ = ["NotAnActivityFile", "ReadActivity", "XmlRefused", "iter_file", "read_element", "root_tag"]


@dataclass
class ReadActivity:
    identifier: str
    line: int
    sha256: str
    record: Activity
    fields: dict


def _text(element) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _attr(element, name: str) -> str:
    if element is None:
        return ""
    return (element.get(name) or "").strip()


def _narratives(element, lang: str) -> list[dict]:
    if element is None:
        return []
    found = []
    for narrative in element.iterchildren("narrative"):
        text = _text(narrative)
        if text:
            found.append({"lang": (narrative.get(XML_LANG) or lang or "").strip(), "text": text})
    return found


def _first_text(element, lang: str) -> str:
    names = _narratives(element, lang)
    return names[0]["text"] if names else ""


def _value(element) -> dict:
    value = element.find("value")
    return {
        "value": _text(value),
        "currency": _attr(value, "currency"),
        "value_date": _attr(value, "value-date"),
    }


def _period(element) -> dict:
    return {
        "period_start": _attr(element.find("period-start"), "iso-date"),
        "period_end": _attr(element.find("period-end"), "iso-date"),
    }


def _party(element, lang: str, activity_attr: str) -> dict:
    return {
        "ref": _attr(element, "ref"),
        "activity_id": _attr(element, activity_attr),
        "name": _first_text(element, lang),
    }


def _point(location) -> list[str] | None:
    raw = _text(location.find("point/pos")).split()
    return raw if len(raw) == 2 else None


def _last_updated(raw: str) -> dt.datetime | None:
    from django.utils.dateparse import parse_datetime

    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = dt.date.fromisoformat(raw[:10])
            value = dt.datetime(day.year, day.month, day.day)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _result(element, lang: str) -> dict:
    indicators = []
    for indicator in element.iterchildren("indicator"):
        baseline = indicator.find("baseline")
        indicators.append(
            {
                "measure": _attr(indicator, "measure"),
                "title": _first_text(indicator.find("title"), lang),
                "baseline": _attr(baseline, "value"),
                "periods": [
                    {
                        "start": _attr(period.find("period-start"), "iso-date"),
                        "end": _attr(period.find("period-end"), "iso-date"),
                        "target": _attr(period.find("target"), "value"),
                        "actual": _attr(period.find("actual"), "value"),
                    }
                    for period in indicator.iterchildren("period")
                ],
            }
        )
    return {"type": _attr(element, "type"), "title": _first_text(element.find("title"), lang), "indicators": indicators}


def read_element(element, *, root_lang: str = "") -> dict:
    """The IatiActivity fields of one ``<iati-activity>`` element (exact text; "" for what is absent)."""
    lang = (element.get(XML_LANG) or root_lang or "").strip()
    children = element.iterchildren
    return {
        "identifier": _text(element.find("iati-identifier")),
        "default_language": lang[:10],
        "default_currency": _attr(element, "default-currency")[:3],
        "hierarchy": _attr(element, "hierarchy")[:10],
        "last_updated": _last_updated(element.get("last-updated-datetime") or ""),
        "activity_status": _attr(element.find("activity-status"), "code")[:5],
        "activity_dates": [
            {"type": _attr(date, "type"), "iso_date": _attr(date, "iso-date")} for date in children("activity-date")
        ],
        "titles": [{"type": "", **name} for name in _narratives(element.find("title"), lang)],
        "descriptions": [
            {"type": _attr(description, "type"), **name}
            for description in children("description")
            for name in _narratives(description, lang)
        ],
        "participating_orgs": [
            {
                "role": _attr(org, "role"),
                "type": _attr(org, "type"),
                "ref": _attr(org, "ref"),
                "activity_id": _attr(org, "activity-id"),
                "names": _narratives(org, lang),
            }
            for org in children("participating-org")
        ],
        "recipient_countries": [
            {"code": _attr(country, "code"), "percentage": _attr(country, "percentage")}
            for country in children("recipient-country")
        ],
        "recipient_regions": [
            {
                "code": _attr(region, "code"),
                "vocabulary": _attr(region, "vocabulary"),
                "percentage": _attr(region, "percentage"),
            }
            for region in children("recipient-region")
        ],
        "sectors": [
            {
                "code": _attr(sector, "code"),
                "vocabulary": _attr(sector, "vocabulary"),
                "percentage": _attr(sector, "percentage"),
            }
            for sector in children("sector")
        ],
        "locations": [
            {
                "ref": _attr(location, "ref"),
                "names": _narratives(location.find("name"), lang),
                "point": _point(location),
                "admin": [
                    {
                        "vocabulary": _attr(admin, "vocabulary"),
                        "level": _attr(admin, "level"),
                        "code": _attr(admin, "code"),
                    }
                    for admin in location.iterchildren("administrative")
                ],
            }
            for location in children("location")
        ],
        "budgets": [
            {"type": _attr(budget, "type"), "status": _attr(budget, "status"), **_period(budget), **_value(budget)}
            for budget in children("budget")
        ],
        "planned_disbursements": [
            {"type": _attr(planned, "type"), **_period(planned), **_value(planned)}
            for planned in children("planned-disbursement")
        ],
        "transactions": [
            {
                "ref": _attr(transaction, "ref"),
                "type": _attr(transaction.find("transaction-type"), "code"),
                "date": _attr(transaction.find("transaction-date"), "iso-date"),
                **_value(transaction),
                "description": _first_text(transaction.find("description"), lang),
                "provider": _party(transaction.find("provider-org"), lang, "provider-activity-id"),
                "receiver": _party(transaction.find("receiver-org"), lang, "receiver-activity-id"),
            }
            for transaction in children("transaction")
        ],
        "results": [_result(result, lang) for result in children("result")],
        "document_links": [
            {
                "url": _attr(link, "url"),
                "format": _attr(link, "format"),
                "titles": _narratives(link.find("title"), lang),
                "categories": [_attr(category, "code") for category in link.iterchildren("category")],
                "language": _attr(link.find("language"), "code"),
            }
            for link in children("document-link")
        ],
        "related_activities": [
            {"type": _attr(related, "type"), "ref": _attr(related, "ref")} for related in children("related-activity")
        ],
    }


def root_tag(source) -> str:
    """The name of the document's root element, read from its first bytes (the rest is not parsed here)."""
    for _event, element in iterparse_safe(source, tag=None, events=("start",)):
        return element.tag if isinstance(element.tag, str) else ""
    return ""


def iter_file(path: str | Path, *, limit: int | None = None) -> Iterator[ReadActivity]:
    """The top-level activities of the file, in order (at most `limit`). Raises NotAnActivityFile when the root
    is not <iati-activities>, XmlRefused when the document is not well-formed or declares entities."""
    tag = root_tag(path)
    if tag != ROOT:
        raise NotAnActivityFile(tag or "?")
    count = 0
    root_lang = None
    for _event, element in iterparse_safe(path, tag=RECORD):
        parent = element.getparent()
        if parent is None or parent.getparent() is not None:
            continue  # an activity nested in another is read with it, not on its own
        if root_lang is None:
            root_lang = (parent.get(XML_LANG) or "").strip()
        # lxml's serialisation of the element (with the namespaces in scope) and the language it inherits: the
        # same activity text always gives the same bytes.
        canonical = (root_lang or "").encode() + b"\n" + etree.tostring(element, encoding="utf-8", with_tail=False)
        fields = read_element(element, root_lang=root_lang)
        record = demo_activity(element, (root_lang or "en").lower()[:2] or "en")
        item = ReadActivity(
            identifier=fields["identifier"],
            line=element.sourceline or 0,
            sha256=hashlib.sha256(canonical).hexdigest(),
            record=record,
            fields=fields,
        )
        element.clear(keep_tail=False)
        while element.getprevious() is not None:
            del parent[0]
        parent.remove(element)
        yield item
        count += 1
        if limit is not None and count >= limit:
            return
