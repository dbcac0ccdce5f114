"""Writing a charity's published projects as IATI 2.03: an activity file and an organisation file.

``write_activities`` streams: the file is written with ``lxml.etree.xmlfile`` one ``<iati-activity>`` at a time,
the projects read in chunks, so memory does not grow with the number of projects. Each activity is built from the
platform's records (the project, its locations, budgets, tranches, disbursements and expenditures, its strategy
indicators), completed by what its ``IatiActivity`` holds when the project came from an IATI file (other
languages, participating organisations, regions, budgets and transactions as published, results, document links,
related activities), so that a file imported then exported keeps every field the platform models.

What is written is what IATI accepts: the elements in the schema's order, every narrative with its ``xml:lang``,
dates as ISO dates, amounts as exact decimals from integer minor units (never floats), and only active codes of
the official codelists (``codelists.py``): a language or file format in upper case is written in lower case, a
three-letter language code as its two-letter one, and an element whose code is not active (a withdrawn DAC
sector, say) is left out rather than published wrong.

No donor identity is ever written: donations are not transactions of the activity file, and no participating
organisation, provider or receiver is drawn from donors.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from lxml import etree

from shafaf.core.money import minor_digits
from shafaf.projects.choices import LICENSED_STATUSES, ProjectStatus
from shafaf.projects.models import Project, ProjectLocation

from .codelists import active_codes

VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# OrganisationType 21: international NGO (a Kuwaiti charity working abroad); 22: national NGO.
CHARITY_ORG_TYPE = "21"
PARTNER_ORG_TYPE = "22"
ROLE_FUNDING, ROLE_ACCOUNTABLE, ROLE_EXTENDING, ROLE_IMPLEMENTING = "1", "2", "3", "4"
CHUNK = 250  # projects read at a time: what the writer holds in memory
# The project's state as IATI's ActivityStatus.
ACTIVITY_STATUS = {
    ProjectStatus.APPROVED: "1",
    ProjectStatus.IN_EXECUTION: "2",
    ProjectStatus.COMPLETED: "3",
    ProjectStatus.CLOSED: "4",
    ProjectStatus.SUSPENDED: "6",
}
# Three-letter (ISO 639-2) codes publishers use in xml:lang, as IATI's two-letter Language codes.
LANGUAGE_ALIASES = {
    "ara": "ar",
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "por": "pt",
    "deu": "de",
    "ger": "de",
    "nld": "nl",
    "dut": "nl",
    "ita": "it",
    "rus": "ru",
    "tur": "tr",
    "urd": "ur",
    "fas": "fa",
    "per": "fa",
    "swe": "sv",
    "dan": "da",
    "nor": "no",
    "fin": "fi",
    "jpn": "ja",
    "zho": "zh",
    "chi": "zh",
}


class ExportInvalid(Exception):
    """What would be written does not validate against the official XSD (nothing is written)."""


# --- identifiers ------------------------------------------------------------------------------------------------------


def organisation_ref(charity) -> str:
    """The charity's IATI organisation identifier, or one in the private-use prefix XM- when it has none."""
    return (charity.iati_org_id or "").strip() or f"XM-SHAFAF-{charity.slug}"


def activity_identifier(project) -> str:
    """The IATI identifier of a project: the one it was imported with, else the charity's ref and its reference."""
    iati = _iati(project)
    if iati is not None and iati.identifier:
        return iati.identifier
    if project.iati_identifier:
        return project.iati_identifier
    return f"{organisation_ref(project.charity)}-{project.reference}"


def published_projects(charity):
    """The charity's published projects: licensed by the ministry (approved onward)."""
    return Project.objects.filter(charity=charity, status__in=LICENSED_STATUSES)


# --- normalising values -----------------------------------------------------------------------------------------------


def _iati(project):
    try:
        return project.iati
    except Exception:  # RelatedObjectDoesNotExist (or no interop row at all)
        return None


def language(code: str | None, default: str = "") -> str:
    """An ``xml:lang`` value as an active IATI Language code ("ENG" -> "en"), or ``default`` when it is none."""
    value = (code or "").strip().lower()
    value = LANGUAGE_ALIASES.get(value, value)
    if "-" in value or "_" in value:  # en-GB
        value = value.replace("_", "-").split("-")[0]
    return value if value in active_codes("Language") else default


def iso_date(value) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = (value or "").strip()[:10]
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def decimal_text(value) -> str | None:
    """An xsd:decimal as text: the file's own text when it is one, a number written with an exponent in plain
    digits, else None (not a number, infinite, NaN)."""
    text = ("" if value is None else str(value)).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return format(number, "f") if "e" in text.lower() else text


def minor_to_decimal(minor: int, currency: str) -> str:
    digits = minor_digits(currency)
    return format(Decimal(minor).scaleb(-digits), "f")


def _code(name: str, value) -> str | None:
    text = ("" if value is None else str(value)).strip()
    return text if text in active_codes(name) else None


def _lower_code(name: str, value) -> str | None:
    text = ("" if value is None else str(value)).strip()
    if text in active_codes(name):
        return text
    return text.lower() if text.lower() in active_codes(name) else None


def _sector_list(vocabulary: str) -> str | None:
    return {"1": "Sector", "2": "SectorCategory"}.get(vocabulary)


def _squeezed(text: str) -> str:
    return " ".join((text or "").split())


def _same_text(stored: str, mine: str) -> bool:
    """Whether the project's text is the stored narrative as the platform keeps it: spaces squeezed, and a text too
    long for its field cut (ending "…"); then the stored full text is published."""
    stored, mine = _squeezed(stored), _squeezed(mine)
    return stored == mine or (mine.endswith("…") and stored.startswith(mine[:-1].rstrip(" ,;:-")))


# --- building elements ------------------------------------------------------------------------------------------------


def _narratives(parent, items: Iterable[dict], default_lang: str) -> int:
    """Each {"lang", "text"} with a text as a ``<narrative>`` of ``parent`` with its ``xml:lang`` (the activity's
    language when it has none); answers how many were written."""
    written = 0
    for item in items:
        text = (item.get("text") or "").strip()
        if not text:
            continue
        element = etree.SubElement(parent, "narrative")
        element.set(XML_LANG, language(item.get("lang"), default_lang) or "en")
        element.text = text
        written += 1
    return written


class _Activity:
    """Builds one ``<iati-activity>`` element."""

    def __init__(self, project, *, default_lang: str):
        self.project = project
        self.iati = _iati(project)
        self.default_lang = default_lang

    def narratives(self, parent, items: Iterable[dict]) -> int:
        return _narratives(parent, items, self.default_lang)

    def _names(self, value) -> list[dict]:
        """A name as narratives: a list of {"lang","text"} or a plain string (in the activity's language)."""
        if not value:
            return []
        if isinstance(value, str):
            return [{"lang": self.default_lang, "text": value}]
        if isinstance(value, dict):
            return [value]
        return [item if isinstance(item, dict) else {"lang": self.default_lang, "text": str(item)} for item in value]

    def _bilingual(self, stored: list[dict], ar: str, en: str) -> list[dict]:
        """The stored narratives, with the project's Arabic and English texts in charge of those languages (a text
        the platform shortened to fit its field keeps the stored full text)."""
        out = []
        seen = set()
        for item in stored:
            lang = language(item.get("lang"), self.default_lang)
            text = item.get("text") or ""
            mine = {"ar": ar, "en": en}.get(lang)
            if mine and not _same_text(text, mine):
                text = mine
            if lang in {"ar", "en"}:
                seen.add(lang)
            out.append({"lang": lang, "text": text})
        for lang, text in (("ar", ar), ("en", en)):
            # A text the platform took from a narrative in another language is that narrative, not a new one.
            if any(_same_text(item["text"], text) for item in out):
                continue
            if lang not in seen and (text or "").strip():
                out.append({"lang": lang, "text": text})
        return out

    def build(self) -> etree._Element:
        project, iati = self.project, self.iati
        activity = etree.Element("iati-activity")
        # The publisher's own time for an imported activity (none when it gave none), else the project's last change.
        last_updated = iati.last_updated if iati is not None else project.updated_at
        if last_updated:
            activity.set("last-updated-datetime", last_updated.replace(microsecond=0).isoformat())
        activity.set(XML_LANG, self.default_lang)
        # An imported activity keeps the publisher's default (or none: its values then name their currencies).
        currency = _code("Currency", iati.default_currency if iati is not None else project.currency)
        if currency:
            activity.set("default-currency", currency)
        if iati and iati.hierarchy and iati.hierarchy.isdigit():
            activity.set("hierarchy", iati.hierarchy)

        etree.SubElement(activity, "iati-identifier").text = activity_identifier(project)
        charity = project.charity
        reporting = etree.SubElement(activity, "reporting-org", ref=organisation_ref(charity), type=CHARITY_ORG_TYPE)
        self.narratives(reporting, [{"lang": "ar", "text": charity.name_ar}, {"lang": "en", "text": charity.name_en}])

        title = etree.SubElement(activity, "title")
        stored_titles = list(iati.titles) if iati else []
        if not self.narratives(title, self._bilingual(stored_titles, project.title_ar, project.title_en)):
            self.narratives(title, [{"lang": "en", "text": project.reference}])

        self._descriptions(activity)
        self._participating_orgs(activity)

        status = (iati.activity_status if iati else "") or ACTIVITY_STATUS.get(project.status, "2")
        etree.SubElement(activity, "activity-status", code=_code("ActivityStatus", status) or "2")
        self._dates(activity)
        self._geography(activity)
        self._sectors(activity)
        self._budgets(activity)
        self._planned_disbursements(activity)
        self._transactions(activity)
        self._document_links(activity)
        for related in iati.related_activities if iati else []:
            ref, kind = (related.get("ref") or "").strip(), _code("RelatedActivityType", related.get("type"))
            if ref and kind:
                etree.SubElement(activity, "related-activity", ref=ref, type=kind)
        self._results(activity)
        return activity

    def _descriptions(self, activity) -> None:
        project, iati = self.project, self.iati
        stored = list(iati.descriptions) if iati else []
        by_type: dict[str, list[dict]] = defaultdict(list)
        for item in stored:
            by_type[(item.get("type") or "1").strip()].append(item)
        # In the file's order, the general description (type 1) completed by the project's Arabic and English.
        if "1" not in by_type:
            by_type = {"1": [], **by_type}
        groups = [
            (kind, self._bilingual(items, project.description_ar, project.description_en) if kind == "1" else items)
            for kind, items in by_type.items()
        ]
        written = 0
        for kind, items in groups:
            if not any((item.get("text") or "").strip() for item in items):
                continue
            description = etree.SubElement(activity, "description")
            if _code("DescriptionType", kind):
                description.set("type", kind)
            written += self.narratives(description, items)
        if not written:
            description = etree.SubElement(activity, "description", type="1")
            text = project.title_en or project.title_ar or project.reference
            self.narratives(description, [{"lang": "en" if project.title_en else "ar", "text": text}])

    def _participating_orgs(self, activity) -> None:
        project, iati = self.project, self.iati
        orgs = list(iati.participating_orgs) if iati and iati.participating_orgs else []
        if not orgs:
            charity = project.charity
            names = [{"lang": "ar", "text": charity.name_ar}, {"lang": "en", "text": charity.name_en}]
            orgs.append(
                {"role": ROLE_ACCOUNTABLE, "type": CHARITY_ORG_TYPE, "ref": organisation_ref(charity), "names": names}
            )
            partner = project.implementing_partner
            if partner is not None:
                orgs.append(
                    {
                        "role": ROLE_IMPLEMENTING,
                        "type": PARTNER_ORG_TYPE,
                        "ref": partner.iati_org_id,
                        "names": [{"lang": "ar", "text": partner.name_ar}, {"lang": "en", "text": partner.name_en}],
                    }
                )
        written = 0
        for org in orgs:
            role = _code("OrganisationRole", org.get("role"))
            if not role:
                continue
            element = etree.SubElement(activity, "participating-org")
            if (org.get("ref") or "").strip():
                element.set("ref", org["ref"].strip())
            if _code("OrganisationType", org.get("type")):
                element.set("type", org["type"].strip())
            element.set("role", role)
            if (org.get("activity_id") or "").strip():
                element.set("activity-id", org["activity_id"].strip())
            self.narratives(element, self._names(org.get("names")))
            written += 1
        if not written:  # the schema wants one: the charity, accountable
            element = etree.SubElement(
                activity, "participating-org", ref=organisation_ref(project.charity), role=ROLE_ACCOUNTABLE
            )
            self.narratives(element, [{"lang": "en", "text": project.charity.name_en}])

    def _dates(self, activity) -> None:
        project, iati = self.project, self.iati
        dates = []
        for item in iati.activity_dates if iati else []:
            kind, when = _code("ActivityDateType", item.get("type")), iso_date(item.get("iso_date"))
            if kind and when:
                dates.append((kind, when))
        if not dates:
            dates = [("1", iso_date(project.planned_start)), ("3", iso_date(project.planned_end))]
        for kind, when in dates:
            etree.SubElement(activity, "activity-date", type=kind, **{"iso-date": when})

    def _geography(self, activity) -> None:
        project, iati = self.project, self.iati
        # An imported activity's geography and sectors are the publisher's; when it gave them on its transactions
        # only (which the platform does not keep), the project's country and sector are published for the activity.
        countries = list(iati.recipient_countries) if iati is not None else []
        regions = list(iati.recipient_regions) if iati is not None else []
        if not countries and not regions and project.country:
            countries = [{"code": project.country, "percentage": ""}]
        for item in countries:
            code = _code("Country", (item.get("code") or "").upper())
            if code:
                element = etree.SubElement(activity, "recipient-country", code=code)
                percentage = decimal_text(item.get("percentage"))
                if percentage is not None:
                    element.set("percentage", percentage)
        for item in regions:
            vocabulary = (item.get("vocabulary") or "1").strip()
            if not _code("RegionVocabulary", vocabulary):
                continue
            code = (item.get("code") or "").strip()
            if not code or (vocabulary == "1" and not _code("Region", code)):
                continue
            element = etree.SubElement(activity, "recipient-region", code=code)
            if item.get("vocabulary"):
                element.set("vocabulary", vocabulary)
            percentage = decimal_text(item.get("percentage"))
            if percentage is not None:
                element.set("percentage", percentage)
        # An imported activity's locations are the publisher's (the place the platform derives for a project
        # published without any is not one); a project of the platform publishes its own.
        locations = list(iati.locations) if iati is not None else []
        if iati is None:
            identifier = activity_identifier(project)
            for number, place in enumerate(project._platform_locations, start=1):
                point = None
                if place.latitude is not None and place.longitude is not None:
                    point = [str(place.latitude), str(place.longitude)]
                names = [{"lang": "ar", "text": place.admin_area_ar}, {"lang": "en", "text": place.admin_area_en}]
                locations.append({"ref": f"{identifier}-L{number}", "names": names, "point": point, "admin": []})
        for item in locations:
            element = etree.SubElement(activity, "location")
            if (item.get("ref") or "").strip():
                element.set("ref", item["ref"].strip())
            names = self._names(item.get("names"))
            if any((name.get("text") or "").strip() for name in names):
                self.narratives(etree.SubElement(element, "name"), names)
            for admin in item.get("admin") or []:
                vocabulary = _code("GeographicVocabulary", admin.get("vocabulary"))
                code = (admin.get("code") or "").strip()
                if vocabulary and code:
                    sub = etree.SubElement(element, "administrative", vocabulary=vocabulary, code=code)
                    if str(admin.get("level") or "").strip().isdigit():
                        sub.set("level", str(admin["level"]).strip())
            point = item.get("point")
            if point and len(point) == 2:
                lat, lng = decimal_text(point[0]), decimal_text(point[1])
                if lat is not None and lng is not None:
                    pos = etree.SubElement(etree.SubElement(element, "point", srsName=SRS_NAME), "pos")
                    pos.text = f"{lat} {lng}"

    def _sectors(self, activity) -> None:
        project, iati = self.project, self.iati
        sectors = list(iati.sectors) if iati is not None else []
        if not sectors and project.sector:
            sectors = [{"code": project.sector, "vocabulary": "1", "percentage": ""}]
        for item in sectors:
            vocabulary = (item.get("vocabulary") or "1").strip()
            code = (item.get("code") or "").strip()
            if not code or not _code("SectorVocabulary", vocabulary):
                continue
            listed = _sector_list(vocabulary)
            if listed and not _code(listed, code):
                continue
            element = etree.SubElement(activity, "sector")
            if item.get("vocabulary"):
                element.set("vocabulary", vocabulary)
            element.set("code", code)
            percentage = decimal_text(item.get("percentage"))
            if percentage is not None:
                element.set("percentage", percentage)

    def _value(self, parent, value, currency, value_date, fallback_date) -> bool:
        text = decimal_text(value)
        when = iso_date(value_date) or fallback_date
        if text is None or when is None:
            return False
        element = etree.SubElement(parent, "value", **{"value-date": when})
        code = _code("Currency", currency)
        if code:
            element.set("currency", code)
        element.text = text
        return True

    def _budgets(self, activity) -> None:
        iati = self.iati
        budgets = list(iati.budgets) if iati and iati.budgets else self.project._platform_budgets
        for item in budgets:
            start, end = iso_date(item.get("period_start")), iso_date(item.get("period_end"))
            if not start or not end or decimal_text(item.get("value")) is None:
                continue
            element = etree.Element("budget")
            if _code("BudgetType", item.get("type")):
                element.set("type", item["type"])
            if _code("BudgetStatus", item.get("status")):
                element.set("status", item["status"])
            etree.SubElement(element, "period-start", **{"iso-date": start})
            etree.SubElement(element, "period-end", **{"iso-date": end})
            if self._value(element, item.get("value"), item.get("currency"), item.get("value_date"), start):
                activity.append(element)

    def _org_ref(self, parent, tag: str, org, id_attribute: str) -> None:
        if not org:
            return
        if isinstance(org, str):
            org = {"name": org}
        if not any(org.get(key) for key in ("ref", "activity_id", "name", "names")):
            return
        element = etree.SubElement(parent, tag)
        if (org.get("ref") or "").strip():
            element.set("ref", org["ref"].strip())
        if (org.get("activity_id") or "").strip():
            element.set(id_attribute, org["activity_id"].strip())
        if _code("OrganisationType", org.get("type")):
            element.set("type", org["type"])
        self.narratives(element, self._names(org.get("name") or org.get("names")))

    def _planned_disbursements(self, activity) -> None:
        iati = self.iati
        items = list(iati.planned_disbursements) if iati and iati.planned_disbursements else []
        items += self.project._platform_planned
        for item in items:
            start = iso_date(item.get("period_start"))
            if not start or decimal_text(item.get("value")) is None:
                continue
            element = etree.Element("planned-disbursement")
            if _code("BudgetType", item.get("type")):
                element.set("type", item["type"])
            etree.SubElement(element, "period-start", **{"iso-date": start})
            end = iso_date(item.get("period_end"))
            if end:
                etree.SubElement(element, "period-end", **{"iso-date": end})
            if not self._value(element, item.get("value"), item.get("currency"), item.get("value_date"), start):
                continue
            self._org_ref(element, "provider-org", item.get("provider"), "provider-activity-id")
            self._org_ref(element, "receiver-org", item.get("receiver"), "receiver-activity-id")
            activity.append(element)

    def _transactions(self, activity) -> None:
        iati = self.iati
        items = list(iati.transactions) if iati and iati.transactions else []
        items += self.project._platform_transactions
        for item in items:
            kind, when = _code("TransactionType", item.get("type")), iso_date(item.get("date"))
            if not kind or not when or decimal_text(item.get("value")) is None:
                continue
            element = etree.Element("transaction")
            if (item.get("ref") or "").strip():
                element.set("ref", item["ref"].strip())
            etree.SubElement(element, "transaction-type", code=kind)
            etree.SubElement(element, "transaction-date", **{"iso-date": when})
            self._value(element, item.get("value"), item.get("currency"), item.get("value_date"), when)
            description = self._names(item.get("description"))
            if any((d.get("text") or "").strip() for d in description):
                self.narratives(etree.SubElement(element, "description"), description)
            self._org_ref(element, "provider-org", item.get("provider"), "provider-activity-id")
            self._org_ref(element, "receiver-org", item.get("receiver"), "receiver-activity-id")
            activity.append(element)

    def _document_links(self, activity) -> None:
        for item in self.iati.document_links if self.iati else []:
            url = (item.get("url") or "").strip()
            file_format = _lower_code("FileFormat", item.get("format"))
            categories = [c for c in (_code("DocumentCategory", code) for code in _codes(item.get("categories"))) if c]
            if not url or not file_format or not categories:
                continue
            element = etree.SubElement(activity, "document-link", url=url, format=file_format)
            titles = self._names(item.get("titles"))
            title = etree.SubElement(element, "title")
            if not self.narratives(title, titles):
                self.narratives(title, [{"lang": "en", "text": url}])
            for code in categories:
                etree.SubElement(element, "category", code=code)
            for code in _codes(item.get("language")):
                lang = language(code)
                if lang:
                    etree.SubElement(element, "language", code=lang)

    def _start_year(self) -> str:
        dates = [iso_date(d.get("iso_date")) for d in (self.iati.activity_dates if self.iati else [])]
        dates = [d for d in dates if d] or [iso_date(self.project.planned_start)]
        return min(dates)[:4]

    def _results(self, activity) -> None:
        results = list(self.iati.results) if self.iati and self.iati.results else self.project._platform_results
        for result in results:
            kind = _code("ResultType", result.get("type"))
            indicators = [i for i in result.get("indicators") or [] if _code("IndicatorMeasure", i.get("measure"))]
            if not kind or not indicators:
                continue
            element = etree.SubElement(activity, "result", type=kind)
            title = etree.SubElement(element, "title")
            if not self.narratives(title, self._names(result.get("title"))):
                self.narratives(title, [{"lang": "en", "text": "Result"}])
            for indicator in indicators:
                sub = etree.SubElement(element, "indicator", measure=indicator["measure"])
                title = etree.SubElement(sub, "title")
                if not self.narratives(title, self._names(indicator.get("title"))):
                    self.narratives(title, [{"lang": "en", "text": "Indicator"}])
                baseline = indicator.get("baseline")
                if baseline:
                    if not isinstance(baseline, dict):
                        baseline = {"value": baseline}
                    # IATI wants the baseline's year: the stored one, else its date's, else the first period's.
                    year = str(baseline.get("year") or "").strip() or (iso_date(baseline.get("iso_date")) or "")[:4]
                    if not year:
                        starts = [iso_date(p.get("start")) for p in indicator.get("periods") or []]
                        year = next((start[:4] for start in starts if start), "") or self._start_year()
                    if year.isdigit() and len(year) == 4:
                        base = etree.SubElement(sub, "baseline", year=year)
                        if iso_date(baseline.get("iso_date")):
                            base.set("iso-date", iso_date(baseline.get("iso_date")))
                        if decimal_text(baseline.get("value")) is not None:
                            base.set("value", decimal_text(baseline.get("value")))
                for period in indicator.get("periods") or []:
                    start, end = iso_date(period.get("start")), iso_date(period.get("end"))
                    if not start or not end:
                        continue
                    node = etree.SubElement(sub, "period")
                    etree.SubElement(node, "period-start", **{"iso-date": start})
                    etree.SubElement(node, "period-end", **{"iso-date": end})
                    for tag in ("target", "actual"):
                        value = period.get(tag)
                        if isinstance(value, dict):
                            value = value.get("value")
                        if decimal_text(value) is not None:
                            etree.SubElement(node, tag, value=decimal_text(value))


SRS_NAME = "http://www.opengis.net/def/crs/EPSG/0/4326"


def _codes(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item.get("code") if isinstance(item, dict) else item) for item in value]


# --- reading the platform's records in chunks -------------------------------------------------------------------------


def _chunked_projects(queryset, chunk: int = CHUNK):
    """The projects with what the writer reads, a chunk at a time (bounded memory)."""
    from shafaf.finance.models import BudgetVersion, Disbursement, Expenditure, Tranche

    last = 0
    while True:  # keyset pages: nothing held grows with the number of projects
        part = list(queryset.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:chunk])
        if not part:
            return
        last = part[-1]
        projects = list(
            Project.objects.filter(id__in=part).order_by("id").select_related("charity", "implementing_partner", "iati")
        )
        places = defaultdict(list)
        for place in ProjectLocation.objects.filter(project_id__in=part).order_by("id"):
            places[place.project_id].append(place)
        versions = defaultdict(list)
        for version in (
            BudgetVersion.objects.filter(project_id__in=part)
            .exclude(source="iati")
            .order_by("project_id", "number")
            .prefetch_related("periods")
        ):
            versions[version.project_id].append(version)
        tranches = defaultdict(list)
        for tranche in Tranche.objects.filter(project_id__in=part).select_related("contract__partner").order_by("id"):
            tranches[tranche.project_id].append(tranche)
        disbursements = defaultdict(list)
        for item in Disbursement.objects.filter(project_id__in=part).select_related("partner").order_by("id"):
            disbursements[item.project_id].append(item)
        expenditures = defaultdict(list)
        for item in Expenditure.objects.filter(project_id__in=part).exclude(source="iati").order_by("id"):
            expenditures[item.project_id].append(item)
        indicators = _indicators(part)
        for project in projects:
            project._platform_locations = places[project.id]
            project._platform_budgets = _budgets_from(versions[project.id], project)
            project._platform_planned = [_tranche(t) for t in tranches[project.id]]
            project._platform_transactions = [_disbursement(d) for d in disbursements[project.id]] + [
                _expenditure(e) for e in expenditures[project.id]
            ]
            project._platform_results = indicators.get(project.id, [])
        yield from projects


def _partner(org) -> dict:
    return {
        "ref": org.iati_org_id,
        "activity_id": "",
        "type": PARTNER_ORG_TYPE,
        "name": [{"lang": "ar", "text": org.name_ar}, {"lang": "en", "text": org.name_en}],
    }


def _budgets_from(versions, project=None) -> list[dict]:
    """The original budget's periods (type 1) and, when revised, the latest revision's periods (type 2)."""
    if not versions:
        return []
    from shafaf.finance.models import BudgetStatus

    out = []
    chosen = [(versions[0], "1")]
    if len(versions) > 1:
        chosen.append((versions[-1], "2"))
    for version, kind in chosen:
        status = "2" if version.status == BudgetStatus.COMMITTED else "1"
        periods = [(p.start, p.end, p.amount_minor) for p in version.periods.all()]
        if not periods and project is not None:  # a budget entered by lines only: one for the project's span
            periods = [(project.planned_start, project.planned_end, version.total_minor)]
        for start, end, amount_minor in periods:
            out.append(
                {
                    "type": kind,
                    "status": status,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "value": minor_to_decimal(amount_minor, version.currency),
                    "currency": version.currency,
                    "value_date": start.isoformat(),
                }
            )
    return out


def _tranche(tranche) -> dict:
    return {
        "type": "1",
        "period_start": tranche.planned_on.isoformat(),
        "period_end": "",
        "value": minor_to_decimal(tranche.amount_minor, tranche.currency),
        "currency": tranche.currency,
        "value_date": tranche.planned_on.isoformat(),
        "receiver": _partner(tranche.contract.partner),
    }


def _disbursement(item) -> dict:
    return {
        "ref": item.reference,
        "type": "3",
        "date": item.paid_on.isoformat(),
        "value": minor_to_decimal(item.amount_minor, item.currency),
        "currency": item.currency,
        "value_date": item.paid_on.isoformat(),
        "description": "",
        "provider": None,
        "receiver": _partner(item.partner),
    }


def _expenditure(item) -> dict:
    return {
        "ref": item.reference,
        "type": "4",
        "date": item.spent_on.isoformat(),
        "value": minor_to_decimal(item.amount_minor, item.currency),
        "currency": item.currency,
        "value_date": item.spent_on.isoformat(),
        "description": item.description,
        "provider": None,
        "receiver": None,
    }


def _milli(value: int | None) -> str:
    return "" if value is None else format(Decimal(value).scaleb(-3).normalize(), "f")


def _indicators(project_ids) -> dict[int, list[dict]]:
    """The projects' strategy indicators as one IATI result (type 1, output) each project."""
    from shafaf.strategy.models import Indicator

    results: dict[int, list[dict]] = {}
    queryset = Indicator.objects.filter(project_id__in=project_ids).prefetch_related("targets", "values")
    for indicator in queryset.order_by("project_id", "id"):
        actuals = defaultdict(int)
        for value in indicator.values.all():
            actuals[(value.period_start, value.period_end)] += value.value_milli
        periods = [
            {
                "start": target.period_start.isoformat(),
                "end": target.period_end.isoformat(),
                "target": _milli(target.value_milli),
                "actual": _milli(actuals[(target.period_start, target.period_end)])
                if (target.period_start, target.period_end) in actuals
                else "",
            }
            for target in sorted(indicator.targets.all(), key=lambda t: t.period_start)
        ]
        baseline = None
        if indicator.baseline_milli is not None and indicator.baseline_date is not None:
            baseline = {
                "year": str(indicator.baseline_date.year),
                "iso_date": indicator.baseline_date.isoformat(),
                "value": _milli(indicator.baseline_milli),
            }
        entry = {
            "measure": "2" if indicator.unit == "percent" else "1",
            "title": [{"lang": "ar", "text": indicator.name_ar}, {"lang": "en", "text": indicator.name_en}],
            "baseline": baseline,
            "periods": periods,
        }
        project_results = results.setdefault(indicator.project_id, [{"type": "1", "title": [], "indicators": []}])
        project_results[0]["indicators"].append(entry)
    for project_results in results.values():
        project_results[0]["title"] = [
            {"lang": "ar", "text": "نتائج المشروع"},
            {"lang": "en", "text": "Project results"},
        ]
    return results


# --- the files ------------------------------------------------------------------------------------------------------


def _now() -> str:
    return timezone.now().replace(microsecond=0).isoformat()


class _Buffer:
    """A binary sink for ``etree.xmlfile`` whose content is taken away in pieces."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(bytes(data))

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def iter_activities(
    *,
    charity,
    projects=None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
    check: bool = True,
    problems: list[str] | None = None,
) -> Iterator[bytes]:
    """The IATI activity file of the charity's published projects (or ``projects``, a queryset of them) as pieces of
    bytes, a few activities at a time: for a streaming response, or ``write_activities``.

    With ``check`` (the default) each activity is validated against the official XSD as it is built (the schema's
    global ``iati-activity`` declaration, as ``schema.validate_activities`` checks each record): one that does not
    validate is left out of the file and named in ``problems`` with the schema's first message, so that what is
    published is always valid."""
    from .schema import activities_schema

    queryset = published_projects(charity) if projects is None else projects.filter(charity=charity)
    total = queryset.count()
    validator = activities_schema() if check else None
    done = written = 0
    sink = _Buffer()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("iati-activities", {"version": VERSION, "generated-datetime": _now()}):
            xf.write("\n")
            for project in _chunked_projects(queryset, chunk):
                done += 1
                iati = _iati(project)
                default_lang = language(iati.default_language if iati else "", "") or "ar"
                element = _Activity(project, default_lang=default_lang).build()
                if validator is not None and not validator.validate(element):
                    if problems is not None:
                        error = validator.error_log.last_error
                        problems.append(f"{activity_identifier(project)}: {error.message if error else 'invalid'}")
                else:
                    xf.write(element)
                    xf.write("\n")
                    written += 1
                    if written % 50 == 0:
                        xf.flush()
                        yield sink.take()
                if progress is not None and (done % chunk == 0 or done == total):
                    progress(written, total)
    if progress is not None and done == 0:
        progress(0, 0)
    yield sink.take()


def write_activities(
    *,
    charity,
    out,
    projects=None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
    check: bool = True,
    problems: list[str] | None = None,
) -> int:
    """Writes the charity's published projects (or ``projects``, a queryset of them) to the binary file-like
    ``out`` as one IATI 2.03 activity file (see ``iter_activities``); answers the number of activities written."""
    count = [0]

    def counting(done: int, total: int) -> None:
        count[0] = done
        if progress is not None:
            progress(done, total)

    pieces = iter_activities(
        charity=charity, projects=projects, progress=counting, chunk=chunk, check=check, problems=problems
    )
    for piece in pieces:
        out.write(piece)
    return count[0]


def write_organisation(*, charity, out) -> None:
    """Writes the charity as an IATI 2.03 organisation file: its identifier and names, and its published projects'
    budgets by year and currency (total, and by recipient country) and their spending by year and currency."""
    from shafaf.finance.models import BudgetPeriod, BudgetVersion, Disbursement, Expenditure

    ref = organisation_ref(charity)
    projects = {p.id: p for p in published_projects(charity).only("id", "country", "planned_start", "planned_end")}
    ids = list(projects)
    totals: dict[tuple[int, str], int] = defaultdict(int)
    countries: dict[tuple[str, int, str], int] = defaultdict(int)
    latest: dict[int, BudgetVersion] = {}
    for version in BudgetVersion.objects.filter(project_id__in=ids).order_by("project_id", "number"):
        latest[version.project_id] = version  # the last one wins
    periods = defaultdict(list)
    for row in BudgetPeriod.objects.filter(version__in=latest.values()).values("version_id", "start", "amount_minor"):
        periods[row["version_id"]].append((row["start"], row["amount_minor"]))
    for pid, version in latest.items():
        project = projects[pid]
        rows = periods.get(version.id) or [(project.planned_start, version.total_minor)]
        for start, amount_minor in rows:
            key = (start.year, version.currency)
            totals[key] += amount_minor
            countries[(project.country, *key)] += amount_minor
    spent: dict[tuple[int, str], int] = defaultdict(int)
    for row in Expenditure.objects.filter(project_id__in=ids).values("spent_on", "currency", "amount_minor"):
        spent[(row["spent_on"].year, row["currency"])] += row["amount_minor"]
    for row in Disbursement.objects.filter(project_id__in=ids).values("paid_on", "currency", "amount_minor"):
        spent[(row["paid_on"].year, row["currency"])] += row["amount_minor"]

    def period(parent, year: int, currency: str, minor: int) -> None:
        etree.SubElement(parent, "period-start", **{"iso-date": f"{year}-01-01"})
        etree.SubElement(parent, "period-end", **{"iso-date": f"{year}-12-31"})
        value = etree.SubElement(parent, "value", currency=currency, **{"value-date": f"{year}-01-01"})
        value.text = minor_to_decimal(minor, currency)

    organisation = etree.Element("iati-organisation")
    organisation.set("last-updated-datetime", _now())
    organisation.set(XML_LANG, "ar")
    organisation.set("default-currency", "KWD")
    etree.SubElement(organisation, "organisation-identifier").text = ref
    names = [{"lang": "ar", "text": charity.name_ar}, {"lang": "en", "text": charity.name_en}]
    _narratives(etree.SubElement(organisation, "name"), names, "ar")
    reporting = etree.SubElement(organisation, "reporting-org", ref=ref, type=CHARITY_ORG_TYPE)
    _narratives(reporting, names, "ar")
    for (year, currency), minor in sorted(totals.items()):
        if _code("Currency", currency):
            period(etree.SubElement(organisation, "total-budget", status="2"), year, currency, minor)
    for (country, year, currency), minor in sorted(countries.items()):
        if _code("Country", country) and _code("Currency", currency):
            element = etree.SubElement(organisation, "recipient-country-budget", status="2")
            etree.SubElement(element, "recipient-country", code=country)
            period(element, year, currency, minor)
    for (year, currency), minor in sorted(spent.items()):
        if _code("Currency", currency):
            period(etree.SubElement(organisation, "total-expenditure"), year, currency, minor)

    from .schema import organisations_schema

    validator = organisations_schema()
    if not validator.validate(organisation):
        error = validator.error_log.last_error
        raise ExportInvalid(f"{ref}: {error.message if error else 'invalid'}")
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("iati-organisations", {"version": VERSION, "generated-datetime": _now()}):
            xf.write("\n")
            xf.write(organisation)
            xf.write("\n")
