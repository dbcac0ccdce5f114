"""The official IATI codelists, and a check that every coded attribute of an IATI file uses an active code.

The lists are vendored in ``codelists/`` (IATI's own XML, CC BY 4.0, see its README). The XSD checks structure
only; this module is the codelist half of validating what we publish: ``check_codes(root)`` walks an
``<iati-activities>`` or ``<iati-organisations>`` tree and names every attribute whose value is not an active
code of its list (a withdrawn code counts as not active). Codes under a vocabulary we do not vendor (a
publisher's own sector vocabulary, say) are not judged.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from shafaf.interop.xmlsafe import safe_parser

DIRECTORY = Path(__file__).resolve().parent / "codelists"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class UnknownCodelist(LookupError):
    pass


@cache
def _items(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(active codes, all codes) of the vendored codelist ``name``."""
    path = DIRECTORY / f"{name}.xml"
    if not path.is_file():
        raise UnknownCodelist(name)
    root = etree.parse(str(path), safe_parser()).getroot()
    active, every = set(), set()
    for item in root.iter("codelist-item"):
        code = (item.findtext("code") or "").strip()
        if not code:
            continue
        every.add(code)
        if (item.get("status") or "active") != "withdrawn":
            active.add(code)
    return frozenset(active), frozenset(every)


def active_codes(name: str) -> frozenset[str]:
    """The active codes of the official codelist ``name`` (e.g. "Sector", "Currency")."""
    return _items(name)[0]


def is_active(name: str, code: str | None) -> bool:
    return bool(code) and code in active_codes(name)


def codelist_names() -> list[str]:
    return sorted(path.stem for path in DIRECTORY.glob("*.xml"))


# Which list each coded attribute uses: (element, attribute) -> list name, or a function of the element that answers
# the list name (None: a vocabulary we do not judge).
def _sector_list(element) -> str | None:
    return {"1": "Sector", "2": "SectorCategory"}.get(element.get("vocabulary") or "1")


def _region_list(element) -> str | None:
    return "Region" if (element.get("vocabulary") or "1") == "1" else None


def _aid_type_list(element) -> str | None:
    return "AidType" if (element.get("vocabulary") or "1") == "1" else None


CODED = {
    ("iati-activity", "default-currency"): "Currency",
    ("iati-organisation", "default-currency"): "Currency",
    ("iati-activities", "version"): "Version",
    ("iati-organisations", "version"): "Version",
    ("reporting-org", "type"): "OrganisationType",
    ("participating-org", "role"): "OrganisationRole",
    ("participating-org", "type"): "OrganisationType",
    ("provider-org", "type"): "OrganisationType",
    ("receiver-org", "type"): "OrganisationType",
    ("activity-status", "code"): "ActivityStatus",
    ("activity-date", "type"): "ActivityDateType",
    ("description", "type"): "DescriptionType",
    ("activity-scope", "code"): "ActivityScope",
    ("recipient-country", "code"): "Country",
    ("recipient-region", "code"): _region_list,
    ("recipient-region", "vocabulary"): "RegionVocabulary",
    ("sector", "code"): _sector_list,
    ("sector", "vocabulary"): "SectorVocabulary",
    ("location-reach", "code"): "GeographicLocationReach",
    ("location-id", "vocabulary"): "GeographicVocabulary",
    ("administrative", "vocabulary"): "GeographicVocabulary",
    ("exactness", "code"): "GeographicExactness",
    ("location-class", "code"): "GeographicLocationClass",
    ("feature-designation", "code"): "LocationType",
    ("collaboration-type", "code"): "CollaborationType",
    ("default-flow-type", "code"): "FlowType",
    ("flow-type", "code"): "FlowType",
    ("default-finance-type", "code"): "FinanceType",
    ("finance-type", "code"): "FinanceType",
    ("default-aid-type", "code"): _aid_type_list,
    ("aid-type", "code"): _aid_type_list,
    ("default-tied-status", "code"): "TiedStatus",
    ("tied-status", "code"): "TiedStatus",
    ("budget", "type"): "BudgetType",
    ("budget", "status"): "BudgetStatus",
    ("total-budget", "status"): "BudgetStatus",
    ("planned-disbursement", "type"): "BudgetType",
    ("value", "currency"): "Currency",
    ("transaction-type", "code"): "TransactionType",
    ("document-link", "format"): "FileFormat",
    ("category", "code"): "DocumentCategory",
    ("language", "code"): "Language",
    ("related-activity", "type"): "RelatedActivityType",
    ("result", "type"): "ResultType",
    ("indicator", "measure"): "IndicatorMeasure",
}


def _list_for(element, attribute: str) -> str | None:
    rule = CODED.get((element.tag, attribute))
    if rule is None or isinstance(rule, str):
        return rule
    return rule(element)


def check_codes(root) -> list[str]:
    """Every coded attribute (and every ``xml:lang``) of the IATI tree ``root`` whose value is not an active code of
    its official list, as "line N: <element> attribute="value" is not an active code of List"."""
    problems = []
    for element in root.iter(etree.Element):
        if not isinstance(element.tag, str):
            continue
        lang = element.get(XML_LANG)
        if lang is not None and lang.lower() not in active_codes("Language"):
            problems.append(
                f'line {element.sourceline}: <{element.tag}> xml:lang="{lang}" is not an active code of Language'
            )
        for attribute, value in element.attrib.items():
            name = _list_for(element, attribute)
            if name is not None and value not in active_codes(name):
                problems.append(
                    f'line {element.sourceline}: <{element.tag}> {attribute}="{value}" is not an active code of {name}'
                )
    return problems


def check_codes_file(source, *, record: str = "iati-activity", limit: int = 1000) -> list[str]:
    """``check_codes`` over a whole file (a path, bytes or a binary file), streamed one ``record`` at a time so that
    memory does not grow with the file; the root's own attributes are checked too. At most ``limit`` messages."""
    from shafaf.interop.xmlsafe import iterparse_safe

    problems: list[str] = []
    root_checked = False
    for _event, element in iterparse_safe(source, tag=record):
        parent = element.getparent()
        if not root_checked and parent is not None:
            shell = etree.Element(parent.tag, dict(parent.attrib))
            problems += [p.replace("line None", f"line {parent.sourceline}") for p in check_codes(shell)]
            root_checked = True
        if len(problems) < limit:
            problems += check_codes(element)
        element.clear(keep_tail=False)
        if parent is not None:
            parent.remove(element)
    return problems[:limit]
