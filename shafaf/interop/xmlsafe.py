"""Parsing XML that comes from outside (uploads, publishers' files) without trusting it.

Every XML read in the interop code goes through here: lxml with a parser that never resolves entities, never
loads a DTD, never touches the network and refuses huge trees. A document that declares entities in a DOCTYPE
(the "billion laughs" and external-entity attacks) is refused before anything of it is used, as is a document
that is not well-formed. Nothing is ever fetched or expanded.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree


class XmlRefused(Exception):
    """The document cannot be read safely or is not well-formed XML; `message` says why (translated), `line`
    where when known."""

    def __init__(self, message: str, *, line: int | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.detail = detail or message  # the parser's own words, for a message that already says "not XML"

    def __str__(self) -> str:
        return self.message


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_pis": True,
    "collect_ids": False,
}


def safe_parser(**options) -> etree.XMLParser:
    """A new lxml parser that never resolves entities, loads DTDs or uses the network."""
    return etree.XMLParser(**{**_PARSER_OPTIONS, **options})


def _refuse_doctype(docinfo_or_tree) -> None:
    """Refuses a document whose DOCTYPE declares anything (entities, an external subset)."""
    docinfo = getattr(docinfo_or_tree, "docinfo", docinfo_or_tree)
    dtd = docinfo.internalDTD
    if dtd is not None and (dtd.entities() or dtd.elements()):
        raise XmlRefused(_("The document declares entities or a DTD, which are refused."))
    if docinfo.system_url or docinfo.public_id:
        raise XmlRefused(_("The document refers to an external DTD, which is refused."))


def _scan_prolog(head: bytes) -> None:
    """Refuses an entity declaration before the root element (cheap check on the first bytes, before parsing)."""
    upper = head.upper()
    at = upper.find(b"<!DOCTYPE")
    if at < 0:
        at = upper.find(b"<\x00!\x00D\x00O\x00C\x00T\x00Y\x00P\x00E\x00")  # UTF-16LE
        if at < 0:
            return
    if b"<!ENTITY" in upper or b"<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y\x00" in upper:
        raise XmlRefused(_("The document declares entities or a DTD, which are refused."))
    declaration = upper[at : at + 1024]
    end = min(i for i in (declaration.find(b">"), declaration.find(b"["), len(declaration)) if i >= 0)
    if b"SYSTEM" in declaration[:end] or b"PUBLIC" in declaration[:end]:
        raise XmlRefused(_("The document refers to an external DTD, which is refused."))


def _syntax_error(error: etree.XMLSyntaxError) -> XmlRefused:
    line = getattr(error, "lineno", None) or None
    message = (error.msg or str(error)).strip()
    return XmlRefused(
        _("The document is not well-formed XML (line %(line)s: %(error)s).") % {"line": line or "?", "error": message},
        line=line,
        detail=f"line {line or '?'}: {message}",
    )


def parse_bytes(data: bytes) -> etree._Element:
    """The root element of the document in `data`; raises XmlRefused for a DTD with declarations, an external
    entity or a document that is not well-formed."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    _scan_prolog(data[:65536])
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error) from None
    if root is None:
        raise XmlRefused(_("The document is empty."))
    _refuse_doctype(root.getroottree())
    _refuse_entity_references(root)
    return root


def _refuse_entity_references(root: etree._Element) -> None:
    for _node in root.iter(etree.Entity):
        raise XmlRefused(_("The document uses entities, which are refused."))


def _open(source):
    if isinstance(source, (str, os.PathLike)):
        return open(Path(source), "rb"), True  # closed by the caller
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source)), True
    return source, False


def iterparse_safe(source, *, tag, events=("end",)) -> Iterator[tuple[str, etree._Element]]:
    """Streams (event, element) for `tag` (a name or a tuple of names) from a path, bytes or a binary file, with
    the safe parser's options. The caller clears what it has read. Raises XmlRefused for a DTD with declarations,
    an entity reference or a document that is not well-formed (at the point it is found)."""
    handle, owned = _open(source)
    try:
        if hasattr(handle, "peek"):
            head = handle.peek(65536)[:65536]
        else:
            position = handle.tell() if handle.seekable() else None
            head = handle.read(65536) if position is not None else b""
            if position is not None:
                handle.seek(position)
        _scan_prolog(head)
        context = etree.iterparse(
            handle,
            events=events,
            tag=tag,
            **{k: v for k, v in _PARSER_OPTIONS.items() if k != "collect_ids"},
        )
        checked = False
        try:
            for event, element in context:
                if not checked:
                    _refuse_doctype(element.getroottree())
                    checked = True
                yield event, element
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error) from None
        if not checked and context.root is not None:
            _refuse_doctype(context.root.getroottree())
    finally:
        if owned:
            handle.close()
