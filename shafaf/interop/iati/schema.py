"""Validating IATI 2.03 activity and organisation files against the official XSDs (vendored in ``xsd/``).

The file is streamed: each ``<iati-activity>`` (``<iati-organisation>``) is validated against the schema's global
declaration of that element as soon as it has been read, then dropped; the root element is validated at the end
with its attributes, its other children and the first record (which the schema requires), so memory does not
grow with the number of records and the verdict is the one validating the whole document gives. Messages are
libxml2's, each prefixed with the line it concerns: "line 12: Element 'title': This element is not expected."

The XSDs are parsed once per process with a parser that never touches the network (``xml.xsd`` is imported from
the same folder). A document that is not well-formed or declares entities is refused by ``shafaf.interop.xmlsafe``
and its reason is returned as the single message.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from shafaf.interop.xmlsafe import XmlRefused, iterparse_safe, safe_parser

XSD_DIR = Path(__file__).resolve().parent / "xsd"
ACTIVITIES_XSD = XSD_DIR / "iati-activities-schema.xsd"
ORGANISATIONS_XSD = XSD_DIR / "iati-organisations-schema.xsd"
MAX_MESSAGES = 1000  # a file broken everywhere is refused with its first thousand messages


@functools.cache
def _schema(path: Path) -> etree.XMLSchema:
    document = etree.parse(str(path), parser=safe_parser())
    return etree.XMLSchema(document)


def activities_schema() -> etree.XMLSchema:
    return _schema(ACTIVITIES_XSD)


def organisations_schema() -> etree.XMLSchema:
    return _schema(ORGANISATIONS_XSD)


def _messages(log) -> list[tuple[int, str]]:
    return [(error.line or 0, error.message) for error in log]


def _validate(source, *, schema: etree.XMLSchema, record: str, root_name: str) -> list[str]:
    found: list[tuple[int, str]] = []
    seen: set[tuple[int, str]] = set()

    def add(items):
        for item in items:
            if item not in seen:
                seen.add(item)
                found.append(item)

    root = None
    kept = None  # the first record, kept for the root's validation
    foreign_since_record = False
    try:
        for _event, element in iterparse_safe(source, tag=record):
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # nested out of place: the enclosing record's validation reports it
            if root is None:
                root = parent
            if len(found) < MAX_MESSAGES and not schema.validate(element):
                add(_messages(schema.error_log))
            if kept is None:
                kept = element
                continue
            # Anything but the kept record before this one is an element the schema allows only after the records.
            for sibling in element.itersiblings(preceding=True):
                if sibling is kept:
                    break
                if isinstance(sibling.tag, str) and sibling.tag != record and not foreign_since_record:
                    foreign_since_record = True
                    add([(element.sourceline or 0, f"Element '{record}': This element is not expected.")])
            element.clear(keep_tail=False)
            parent.remove(element)
    except XmlRefused as refused:
        return [f"line {refused.line or 0}: {refused.message}"]
    if root is None:
        root = _root_of(source)
        if root is None:
            return ["line 0: " + f"the document has no <{root_name}> root element."]
    if not schema.validate(root):
        add(_messages(schema.error_log))
    found.sort(key=lambda item: item[0])
    return [f"line {line}: {message}" for line, message in found[:MAX_MESSAGES]]


def _root_of(source):
    """The root element of a document without records (iterparse found none): parsed whole, it is small."""
    from shafaf.interop.xmlsafe import parse_bytes

    if isinstance(source, (str, Path)):
        data = Path(source).read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
    return parse_bytes(data)


def validate_activities(source) -> list[str]:
    """The XSD's messages for an IATI activities file (a path, bytes or a binary file); empty when it is valid."""
    return _validate(source, schema=activities_schema(), record="iati-activity", root_name="iati-activities")


def validate_organisations(source) -> list[str]:
    """The XSD's messages for an IATI organisations file (a path, bytes or a binary file); empty when it is valid."""
    return _validate(source, schema=organisations_schema(), record="iati-organisation", root_name="iati-organisations")
