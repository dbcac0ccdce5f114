"""Helpers shared by the sanctions import and screening tests: small UN list files written on the fly."""

from __future__ import annotations

from xml.sax.saxutils import escape

from shafaf.partners.sanctions import sanctions_import

UN_PATH = "../shared/data/sanctions/un/UN_consolidated.xml"
OFAC_PATH = "../shared/data/sanctions/ofac_sdn/sdn.csv"

# (reference, names..., ) of the default small list: a sanctioned "Hope Organisation" (the World's partner's
# name) and a sanctioned individual, plus an unrelated entry.
HOPE = ("QDe.900", "Hope Organisation", ["منظمة الأمل"])
FULANI = ("QDi.900", "Khalid Abdullah Al-Fulani", ["خالد عبدالله الفلاني"], "1970", "Sudan")
OTHER = ("QDe.901", "Northern Timber Trading Company", [])


def _aliases(tag: str, aliases) -> str:
    rows = "".join(
        f"<{tag}_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>{escape(alias)}</ALIAS_NAME></{tag}_ALIAS>"
        for alias in aliases
    )
    return rows or f"<{tag}_ALIAS><QUALITY/><ALIAS_NAME/></{tag}_ALIAS>"


def un_xml(individuals=(FULANI,), entities=(HOPE, OTHER), generated: str = "2026-01-01T00:00:00.000Z") -> bytes:
    people = []
    for reference, name, aliases, year, nationality in individuals:
        first, _, second = name.partition(" ")
        people.append(
            "<INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>{}</FIRST_NAME><SECOND_NAME>{}</SECOND_NAME>"
            "<UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>{}</REFERENCE_NUMBER>"
            "<LISTED_ON>2010-01-01</LISTED_ON><NATIONALITY><VALUE>{}</VALUE></NATIONALITY>{}"
            "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>{}</YEAR></INDIVIDUAL_DATE_OF_BIRTH>"
            "</INDIVIDUAL>".format(
                escape(first), escape(second), reference, nationality, _aliases("INDIVIDUAL", aliases), year
            )
        )
    bodies = []
    for reference, name, aliases in entities:
        bodies.append(
            "<ENTITY><DATAID>2</DATAID><FIRST_NAME>{}</FIRST_NAME><UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>"
            "<REFERENCE_NUMBER>{}</REFERENCE_NUMBER><LISTED_ON>2011-01-01</LISTED_ON>{}"
            "<ENTITY_ADDRESS><COUNTRY>Sudan</COUNTRY></ENTITY_ADDRESS></ENTITY>".format(
                escape(name), reference, _aliases("ENTITY", aliases)
            )
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<CONSOLIDATED_LIST dateGenerated="{generated}"><INDIVIDUALS>{"".join(people)}</INDIVIDUALS>'
        f"<ENTITIES>{''.join(bodies)}</ENTITIES></CONSOLIDATED_LIST>\n"
    ).encode()


def load_un(data: bytes | None = None, *, actor=None, rescreen: bool = False, **kwargs):
    """A small UN list loaded as the current version (no re-screening unless asked)."""
    return sanctions_import(
        actor=actor, source="un", path_or_file=data if data is not None else un_xml(**kwargs), rescreen=rescreen
    )
