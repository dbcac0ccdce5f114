"""Parsers for the sanctions list files: the UN Security Council Consolidated List (XML) and the US OFAC SDN list
(legacy CSV). Pure Python: the result is plain frozen dataclasses, which the partners app stores.

Both parsers are all-or-nothing: a file that is not what it claims to be raises ``SanctionsFileError`` with a
sentence that names the file and, where possible, the line or element at fault. No partial result is returned.

UN notes: ``ALIAS_NAME`` sometimes holds several names ("Qasim Soleimani; Qasem Sulaimani") or an Arabic name
followed by its transliterations in brackets ("حسن غول (Hassan Ghul; Hassan Gul)"). Such an alias is split into one
``ParsedName`` per name, each keeping the alias quality. In the 2026-02-27 list, 27 of the 2,752 non-empty aliases
are of that kind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import xml.etree.ElementTree as ET  # DOCTYPE and ENTITY declarations are refused before parsing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[int, int], None] | None


class SanctionsFileError(Exception):
    """A sanctions list file that cannot be read; the message is a sentence naming the problem."""


@dataclass(frozen=True)
class ParsedName:
    text: str
    kind: str  # "primary" | "alias" | "original_script" | "former"
    quality: str = ""  # UN alias QUALITY ("Good", "Low", "a.k.a.", "f.k.a.") or OFAC alt type ("aka", "fka", "nka")


@dataclass(frozen=True)
class ParsedEntry:
    entry_id: str
    entity_type: str  # "individual" | "entity"
    primary_name: str
    names: tuple[ParsedName, ...]
    dates_of_birth: tuple[str, ...]
    nationalities: tuple[str, ...]
    countries: tuple[str, ...]
    addresses: tuple[str, ...]
    programs: tuple[str, ...]
    listed_on: str = ""
    remarks: str = ""


@dataclass(frozen=True)
class ParsedList:
    source: str  # "un" | "ofac"
    published: str
    entries: tuple[ParsedEntry, ...]
    sha256: str


# --------------------------------------------------------------------------------------------------------------------
# shared helpers

_SPACES = re.compile(r"\s+")
_YEAR = re.compile(r"^\d{4}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_NON_LATIN_LETTER = re.compile(r"[\u0400-\u04FF\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_MAX_YEAR_RANGE = 30


def _clean(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


def _unique(values) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return tuple(seen)


def _year_range(first: str, last: str) -> list[str]:
    if not (_YEAR.match(first) and _YEAR.match(last)):
        return [year for year in (first, last) if _YEAR.match(year)]
    start, end = sorted((int(first), int(last)))
    if end - start > _MAX_YEAR_RANGE:
        return [str(start), str(end)]
    return [str(year) for year in range(start, end + 1)]


def _read_bytes(source, label: str) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SanctionsFileError(f"The file {label} does not exist.")
    except IsADirectoryError:
        raise SanctionsFileError(f"{label} is a folder, not a file.")
    except OSError as error:
        raise SanctionsFileError(f"The file {label} cannot be read: {error.strerror or error}.")


def _decode_utf8(raw: bytes, label: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise SanctionsFileError(
            f"The file {label} is not UTF-8 text: byte {error.start} (line {line}) cannot be decoded."
        )


# --------------------------------------------------------------------------------------------------------------------
# UN Security Council Consolidated List

_UN_ROOT = "CONSOLIDATED_LIST"
_ENUMERATOR = re.compile(r"(?:^|\s)[a-z]\)\s")  # "b) " in "Mohammad Sabet b) M. Javad Sabet"


def split_alias(text: str) -> list[str]:
    """Split one UN alias field into its names: on ";" and on brackets, dropping "(original script)" markers."""
    text = _clean(text)
    if not text:
        return []
    if ";" not in text and "(" not in text:
        return [text]
    text = re.sub(r"\(\s*original script\s*\)", " ", text, flags=re.IGNORECASE)
    text = _ENUMERATOR.sub(";", text)
    parts = re.split(r"[;()]", text)
    return list(_unique(_clean(part).strip(" ,") for part in parts))


def _un_text(record: ET.Element, tag: str) -> str:
    return _clean(record.findtext(tag))


def _un_dates_of_birth(record: ET.Element) -> tuple[str, ...]:
    dates: list[str] = []
    for node in record.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        date = _un_text(node, "DATE")
        year = _un_text(node, "YEAR")
        first, last = _un_text(node, "FROM_YEAR"), _un_text(node, "TO_YEAR")
        if date:
            match = _ISO_DATE.match(date)
            dates.append(date[:10] if match else date)
        if year:
            dates.append(year)
        if first or last:
            dates.extend(_year_range(first or last, last or first))
    return _unique(dates)


def _un_address(node: ET.Element) -> str:
    parts = [_un_text(node, tag) for tag in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")]
    line = ", ".join(part for part in parts if part)
    note = _un_text(node, "NOTE")
    if note:
        line = f"{line} ({note})" if line else note
    return line


def _un_entry(record: ET.Element, kind: str, position: int) -> ParsedEntry:
    tag = record.tag
    reference = _un_text(record, "REFERENCE_NUMBER")
    if not reference:
        data_id = _un_text(record, "DATAID") or "?"
        raise SanctionsFileError(
            f"{tag} number {position} (DATAID {data_id}) has no REFERENCE_NUMBER; the list cannot be loaded."
        )
    if kind == "individual":
        parts = [_un_text(record, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
        primary = " ".join(part for part in parts if part)
    else:
        primary = _un_text(record, "FIRST_NAME")
    if not primary:
        raise SanctionsFileError(f"{tag} {reference} has no name (FIRST_NAME is empty); the list cannot be loaded.")

    names = [ParsedName(primary, "primary")]
    for alias in record.findall(f"{tag}_ALIAS"):
        quality = _un_text(alias, "QUALITY")
        name_kind = "former" if quality.lower() == "f.k.a." else "alias"
        names.extend(ParsedName(text, name_kind, quality) for text in split_alias(alias.findtext("ALIAS_NAME") or ""))
    original = _un_text(record, "NAME_ORIGINAL_SCRIPT")
    if original:
        names.append(ParsedName(original, "original_script"))

    addresses = record.findall(f"{tag}_ADDRESS")
    return ParsedEntry(
        entry_id=reference,
        entity_type=kind,
        primary_name=primary,
        names=tuple(names),
        dates_of_birth=_un_dates_of_birth(record) if kind == "individual" else (),
        nationalities=_unique(_clean(v.text) for v in record.findall("NATIONALITY/VALUE")),
        countries=_unique(_un_text(node, "COUNTRY") for node in addresses),
        addresses=_unique(_un_address(node) for node in addresses),
        programs=_unique([_un_text(record, "UN_LIST_TYPE")]),
        listed_on=_un_text(record, "LISTED_ON")[:10],
        remarks=_un_text(record, "COMMENTS1"),
    )


def parse_un(path_or_bytes, *, progress: Progress = None) -> ParsedList:
    """Parse the UN Security Council Consolidated List XML (a path or the raw bytes)."""
    label = "(uploaded bytes)" if isinstance(path_or_bytes, bytes | bytearray | memoryview) else str(path_or_bytes)
    raw = _read_bytes(path_or_bytes, label)
    if not raw.strip():
        raise SanctionsFileError(f"The file {label} is empty.")
    text = _decode_utf8(raw, label)
    for declaration in ("<!DOCTYPE", "<!ENTITY"):
        if declaration in text:
            line = text.count("\n", 0, text.index(declaration)) + 1
            raise SanctionsFileError(
                f"The file {label} contains a {declaration} declaration (line {line}); "
                "such declarations are refused for safety."
            )
    try:
        root = ET.fromstring(raw)  # noqa: S314 - declarations refused above
    except ET.ParseError as error:
        line, column = error.position
        raise SanctionsFileError(
            f"The file {label} is not well-formed XML: {error.msg if hasattr(error, 'msg') else error} "
            f"(line {line}, column {column})."
        )
    if root.tag != _UN_ROOT:
        raise SanctionsFileError(
            f"The file {label} is not a UN consolidated list: the root element is <{root.tag}>, not <{_UN_ROOT}>."
        )
    records = [(node, "individual") for node in root.findall("INDIVIDUALS/INDIVIDUAL")]
    records += [(node, "entity") for node in root.findall("ENTITIES/ENTITY")]
    if not records:
        raise SanctionsFileError(f"The file {label} holds no INDIVIDUAL or ENTITY records.")
    total = len(records)
    entries = []
    seen: set[str] = set()
    for position, (record, kind) in enumerate(records, start=1):
        entry = _un_entry(record, kind, position)
        if entry.entry_id in seen:
            raise SanctionsFileError(f"The file {label} lists the reference {entry.entry_id} twice.")
        seen.add(entry.entry_id)
        entries.append(entry)
        if progress is not None and (position % 200 == 0 or position == total):
            progress(position, total)
    return ParsedList(
        source="un",
        published=_clean(root.get("dateGenerated")),
        entries=tuple(entries),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


# --------------------------------------------------------------------------------------------------------------------
# OFAC SDN, legacy CSV without header

_SDN_COLUMNS = 12  # ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag,
# Vess_owner, Remarks
_ALT_COLUMNS = 5  # ent_num, alt_num, alt_type, alt_name, alt_remarks
_ADD_COLUMNS = 6  # ent_num, add_num, address, city/state/postal code, country, add_remarks
_COMMENT_COLUMNS = 2  # ent_num, remarks continued
_MONTHS = {
    month: number
    for number, month in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
_DOB = re.compile(r"\bDOB\s+([^;]+)")
_DAY_MONTH_YEAR = re.compile(r"(?:(\d{1,2})\s+)?([A-Za-z]{3})[a-z]*\.?\s+(\d{4})")
_NATIONALITY = re.compile(r"\bnationality\s+([^;]+)", re.IGNORECASE)


def _ofac_files(path) -> tuple[Path, Path, Path, Path | None]:
    path = Path(path)
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.name.lower().endswith("sdn.csv"))
        plain = [p for p in candidates if p.name.lower() == "sdn.csv"]
        if plain:
            path = plain[0]
        elif len(candidates) == 1:
            path = candidates[0]
        elif not candidates:
            raise SanctionsFileError(f"The folder {path} holds no SDN file (a name ending in sdn.csv).")
        else:
            names = ", ".join(p.name for p in candidates)
            raise SanctionsFileError(f"The folder {path} holds several SDN files ({names}); name the one to load.")
    if not path.exists():
        raise SanctionsFileError(f"The file {path} does not exist.")
    if not path.name.lower().endswith("sdn.csv"):
        raise SanctionsFileError(f"The file {path} is not an OFAC SDN file: its name should end in sdn.csv.")
    prefix = path.name[: -len("sdn.csv")]
    alt, add = path.with_name(f"{prefix}alt.csv"), path.with_name(f"{prefix}add.csv")
    for companion, what in ((alt, "alternate names"), (add, "addresses")):
        if not companion.exists():
            raise SanctionsFileError(f"The {what} file {companion.name} is missing next to {path.name}.")
    comments = path.with_name(f"{prefix}sdn_comments.csv")
    return path, alt, add, comments if comments.exists() else None


def _ofac_rows(raw: bytes, path: Path, columns: int, *, required: bool) -> list[list[str]]:
    text = _decode_utf8(raw, str(path)).replace("\x1a", "")  # the files end with a DOS end-of-file mark
    if text.startswith("\ufeff"):
        text = text[1:]
    if required and not text.strip():
        raise SanctionsFileError(f"The file {path} is empty.")
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != columns:
                raise SanctionsFileError(
                    f"The file {path.name} line {reader.line_num} has {len(row)} columns, {columns} expected."
                )
            values = [cell.strip() for cell in row]
            values = ["" if value == "-0-" else value for value in values]
            if not values[0].isdigit():
                raise SanctionsFileError(
                    f"The file {path.name} line {reader.line_num}: the entry number {values[0]!r} is not a number."
                )
            rows.append(values)
    except csv.Error as error:
        raise SanctionsFileError(f"The file {path.name} line {reader.line_num} is not valid CSV: {error}.")
    if required and not rows:
        raise SanctionsFileError(f"The file {path} holds no entries.")
    return rows


def _ofac_dates_of_birth(remarks: str) -> tuple[str, ...]:
    dates: list[str] = []
    for match in _DOB.finditer(remarks):
        value = match.group(1).strip().rstrip(".")
        value = re.sub(r"^(circa|approximately|about)\s+", "", value, flags=re.IGNORECASE)
        pieces = [piece.strip() for piece in re.split(r"\s+to\s+", value)]
        parsed = [_ofac_date(piece) for piece in pieces]
        parsed = [date for date in parsed if date]
        if len(parsed) == 2 and len(pieces) == 2:
            first, last = parsed
            if len(first) == 4 and len(last) == 4:
                dates.extend(_year_range(first, last))
                continue
        dates.extend(parsed)
    return _unique(dates)


def _ofac_date(text: str) -> str:
    text = text.strip().rstrip(".")
    if _YEAR.match(text):
        return text
    match = _DAY_MONTH_YEAR.fullmatch(text)
    if match:
        day, month, year = match.groups()
        number = _MONTHS.get(month.lower())
        if number is None:
            return ""
        if day:
            return f"{year}-{number:02d}-{int(day):02d}"
        return year
    match = re.search(r"\b(\d{4})\b", text)
    return match.group(1) if match else ""


def parse_ofac(path, *, progress: Progress = None) -> ParsedList:
    """Parse an OFAC SDN set: the SDN CSV (or a folder holding it) with its alt/add (and optional comments) files."""
    sdn_path, alt_path, add_path, comments_path = _ofac_files(path)
    files = [(sdn_path, _SDN_COLUMNS, True), (alt_path, _ALT_COLUMNS, False), (add_path, _ADD_COLUMNS, False)]
    if comments_path is not None:
        files.append((comments_path, _COMMENT_COLUMNS, False))
    digest = hashlib.sha256()
    tables = []
    for file_path, columns, required in files:
        raw = _read_bytes(file_path, str(file_path))
        digest.update(raw)
        tables.append(_ofac_rows(raw, file_path, columns, required=required))
    sdn_rows, alt_rows, add_rows = tables[0], tables[1], tables[2]
    comment_rows = tables[3] if len(tables) > 3 else []

    aliases: dict[str, list[ParsedName]] = {}
    for row in alt_rows:
        kind = row[2].lower()
        if row[3]:
            aliases.setdefault(row[0], []).append(ParsedName(row[3], "former" if kind == "fka" else "alias", kind))
    addresses: dict[str, list[tuple[str, str]]] = {}
    for row in add_rows:
        line = ", ".join(part for part in (row[2], row[3], row[4]) if part)
        if row[5]:
            line = f"{line} ({row[5]})" if line else row[5]
        addresses.setdefault(row[0], []).append((line, row[4]))
    continued: dict[str, str] = {}
    for ent_num, text in comment_rows:
        continued[ent_num] = continued.get(ent_num, "") + text

    total = len(sdn_rows)
    entries = []
    seen: set[str] = set()
    for position, row in enumerate(sdn_rows, start=1):
        ent_num, name, sdn_type, program = row[0], row[1], row[2], row[3]
        if ent_num in seen:
            raise SanctionsFileError(f"The file {sdn_path.name} lists the entry number {ent_num} twice.")
        seen.add(ent_num)
        if not name:
            raise SanctionsFileError(f"The file {sdn_path.name}: entry {ent_num} has no name.")
        remarks = row[11] + continued.get(ent_num, "")
        entry_addresses = addresses.get(ent_num, [])
        entries.append(
            ParsedEntry(
                entry_id=ent_num,
                entity_type="individual" if sdn_type.lower() == "individual" else "entity",
                primary_name=name,
                names=(ParsedName(name, "primary"), *aliases.get(ent_num, [])),
                dates_of_birth=_ofac_dates_of_birth(remarks),
                nationalities=_unique(m.group(1).strip().rstrip(".") for m in _NATIONALITY.finditer(remarks)),
                countries=_unique(country for _, country in entry_addresses),
                addresses=_unique(line for line, _ in entry_addresses),
                programs=_unique(part.strip(" []") for part in program.split("] [")),
                remarks=remarks,
            )
        )
        if progress is not None and (position % 1000 == 0 or position == total):
            progress(position, total)
    return ParsedList(source="ofac", published="", entries=tuple(entries), sha256=digest.hexdigest())
