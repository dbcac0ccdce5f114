"""Importing 360Giving publications: a JSON data package, or its flattened form as a CSV or an Excel sheet.

Every grant is checked against the official 360Giving schema (with format checks: "05/06/2014" is not a date) and
against what the platform needs to keep it exactly (an amount that fits its currency's minor units, a known
currency, an identifier not repeated in the file). A valid grant is kept (`ImportedGrant`, with its file and row);
each invalid one is reported in the `rows.RowReport` format, one error per problem, with the grant's position (its
number in the file's `grants` list, the first being 1; or its spreadsheet row) and the field (its JSON path, or the
column's header). Nothing is dropped silently. Importing the same file again changes nothing (`unchanged`); a grant
whose content changed is updated, never added twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.money import known_currencies, minor_digits
from shafaf.interop.rows import RowReport, TableError, normalise_column, read_table

from . import jsonexact
from .models import ImportedGrant
from .validation import grant_problems, grant_schema

MAX_BYTES = 200 * 1024 * 1024
BATCH = 500
BIGINT_MAX = 2**63 - 1
AUDIT_ACTION = "giving.grants_imported"


class _Grant:
    __slots__ = ("columns", "grant", "row")

    def __init__(self, row: int, grant, columns: dict[str, str] | None = None):
        self.row = row
        self.grant = grant
        self.columns = columns  # JSON path -> header as written (flattened files only)


# ------------------------------------------------------------------------------------------------------------------
# Reading


def _is_json(data: bytes) -> bool:
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return start[:1] in (b"{", b"[")


def _json_grants(data: bytes, report: RowReport) -> Iterator[_Grant]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        report.file_errors.append(_("The file is not UTF-8 (line %(line)s has bytes that are not).") % {"line": line})
        return
    try:
        document = jsonexact.loads(text)
    except json.JSONDecodeError as error:
        report.file_errors.append(
            _("The file is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
            % {"error": error.msg, "line": error.lineno, "column": error.colno}
        )
        return
    except RecursionError:
        report.file_errors.append(_("The file is nested too deeply to be a 360Giving file."))
        return
    grants = document.get("grants") if isinstance(document, dict) else document
    if not isinstance(grants, list):
        report.file_errors.append(_('The file has no "grants" list: it is not a 360Giving data package.'))
        return
    for number, grant in enumerate(grants, start=1):
        yield _Grant(number, grant)


@cache
def _flat_columns() -> dict[str, tuple[tuple[str | int, ...], str]]:
    """The flattened form's columns, from the schema's own titles: "Amount Awarded" -> amountAwarded,
    "Recipient Org:Identifier" -> recipientOrganization/0/id, with the JSON type of each (to read numbers). The
    JSON paths themselves ("recipientOrganization/0/id") are accepted as headers too."""
    schema = grant_schema()
    definitions = schema["$defs"]

    def resolve(node: dict) -> dict:
        ref = node.get("$ref") or (node.get("items") or {}).get("$ref")
        if ref and ref.startswith("#/$defs/"):
            return definitions[ref.removeprefix("#/$defs/")]
        return node.get("items") or node

    def kind(node: dict) -> str:
        types = node.get("type", "string")
        types = types if isinstance(types, list) else [types]
        return "number" if "number" in types else "string"

    columns: dict[str, tuple[tuple[str | int, ...], str]] = {}
    for name, node in schema["properties"].items():
        title = node.get("title", name)
        target = resolve(node)
        if node.get("type") == "array" and target.get("type") == "object":
            for sub, subnode in target.get("properties", {}).items():
                if subnode.get("type") in ("object", "array"):
                    continue
                path = (name, 0, sub)
                columns[normalise_column(f"{title}:{subnode.get('title', sub)}")] = (path, kind(subnode))
                columns[normalise_column(f"{name}/0/{sub}")] = (path, kind(subnode))
        elif node.get("type") == "object" or target.get("type") == "object":
            for sub, subnode in target.get("properties", {}).items():
                if subnode.get("type") in ("object", "array"):
                    continue
                path = (name, sub)
                columns[normalise_column(f"{title}:{subnode.get('title', sub)}")] = (path, kind(subnode))
                columns[normalise_column(f"{name}/{sub}")] = (path, kind(subnode))
        elif node.get("type") != "array":
            columns[normalise_column(title)] = ((name,), kind(node))
            columns[normalise_column(name)] = ((name,), kind(node))
    return columns


def _number(text: str):
    try:
        value = Decimal(text.replace(",", "")) if text else None
    except InvalidOperation:
        return text  # left as written: the schema reports that it is not a number
    return value if value is not None and value.is_finite() else text


def _table_grants(data: bytes, filename: str, report: RowReport) -> Iterator[_Grant]:
    try:
        table = read_table(data, filename)
    except TableError as error:
        report.file_errors.append(str(error))
        return
    known = _flat_columns()
    headers = {normalise_column(name): name for name in table.header}
    if not any(name in known and known[name][0] == ("id",) for name in headers):
        report.file_errors.append(_('The table has no "Identifier" column: it is not a 360Giving grants table.'))
        return
    try:
        for number, cells in table.rows:
            grant: dict = {}
            columns: dict[str, str] = {}
            for name, text in cells.items():
                if text == "":
                    continue
                if name not in known:
                    grant[headers.get(name, name) or "extra"] = text  # kept as published, as 360Giving allows
                    continue
                path, kind = known[name]
                value = _number(text) if kind == "number" else text
                node = grant
                for position, key in enumerate(path[:-1]):
                    following = path[position + 1]
                    if isinstance(following, int):
                        node = node.setdefault(key, [{}])[0]
                    else:
                        node = node.setdefault(key, {}) if not isinstance(key, int) else node
                node[path[-1]] = value
                columns["/".join(str(part) for part in path)] = headers.get(name, name)
            yield _Grant(number, grant, columns)
    except TableError as error:
        report.file_errors.append(str(error))


# ------------------------------------------------------------------------------------------------------------------
# Checking


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse_date(text) -> dt.date | None:
    if not isinstance(text, str):
        return None
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    moment = parse_datetime(text)
    return moment.date() if moment else None


def _minor(amount, currency: str) -> int | None:
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        return None
    if Decimal(amount).adjusted() > 18:  # beyond any BigInteger: refused before building a huge integer
        return None
    scaled = Decimal(amount).scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def _column(item: _Grant, path: str) -> str:
    if item.columns is None:
        return path
    if path in item.columns:
        return item.columns[path]
    top = path.split("/")[0]
    for known_path, header in item.columns.items():
        if known_path.split("/")[0] == top and (path.startswith(known_path) or known_path.startswith(path)):
            return header
    title = grant_schema()["properties"].get(top, {}).get("title")
    return title or path


def _check(item: _Grant, report: RowReport, seen: dict[str, int]) -> dict | None:
    """The grant's fields to store, or None after reporting every reason it cannot be kept."""
    grant = item.grant
    if not isinstance(grant, dict):
        report.add(item.row, "", _("A grant must be a JSON object."), value=str(grant)[:200], code="type")
        return None
    before = len(report.errors)
    if any("\x00" in text for text in _strings(grant)):
        report.add(item.row, "", _("The grant holds NUL characters."), code="nul")
        return None
    if not all(_encodable(text) for text in _strings(grant)):
        report.add(
            item.row,
            "",
            _("The grant holds characters that are not valid Unicode (a lone surrogate)."),
            code="encoding",
        )
        return None
    for problem in grant_problems(grant):
        report.add(item.row, _column(item, problem.path), problem.message, value=problem.value, code=problem.code)
    identifier = grant.get("id")
    if isinstance(identifier, str) and not identifier.strip():
        report.add(item.row, _column(item, "id"), _("The grant has no identifier."), code="required")
    elif isinstance(identifier, str):
        identifier = identifier.strip()
        if len(identifier) > 255:
            report.add(
                item.row,
                _column(item, "id"),
                _("The identifier is longer than 255 characters."),
                value=identifier,
                code="max_length",
            )
        elif identifier in seen:
            report.add(
                item.row,
                _column(item, "id"),
                _("The same grant identifier is already on row %(row)s of this file.") % {"row": seen[identifier]},
                value=identifier,
                code="duplicate",
            )
        else:
            seen[identifier] = item.row
    if len(report.errors) > before:
        return None
    currency = grant["currency"]
    if currency not in known_currencies():
        report.add(item.row, _column(item, "currency"), _("Unknown currency."), value=currency, code="currency")
        return None
    minor = _minor(grant["amountAwarded"], currency)
    if minor is None or abs(minor) > BIGINT_MAX:
        report.add(
            item.row,
            _column(item, "amountAwarded"),
            _("The amount has more decimals than %(currency)s has, or is too large.") % {"currency": currency},
            value=str(grant["amountAwarded"]),
            code="decimals",
        )
        return None
    award_date = _parse_date(grant["awardDate"])
    if award_date is None:
        report.add(item.row, _column(item, "awardDate"), _("Not a date."), value=str(grant["awardDate"]), code="date")
        return None
    recipient = (grant.get("recipientOrganization") or [{}])[0]
    funder = grant["fundingOrganization"][0]
    planned = (grant.get("plannedDates") or [{}])[0]
    modified = parse_datetime(grant["dateModified"]) if isinstance(grant.get("dateModified"), str) else None
    text = jsonexact.dumps(grant, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    disbursed = grant.get("amountDisbursed")
    return {
        "grant_id": identifier,
        "title": grant["title"][:500],
        "description": grant["description"],
        "currency": currency,
        "amount_awarded_minor": minor,
        "amount_awarded": str(grant["amountAwarded"])[:60],
        "amount_disbursed": "" if disbursed is None else str(disbursed)[:60],
        "award_date": award_date,
        "planned_start": str(planned.get("startDate") or "")[:40],
        "planned_end": str(planned.get("endDate") or "")[:40],
        "recipient_org_id": str(recipient.get("id") or "")[:255],
        "recipient_org_name": str(recipient.get("name") or "")[:500],
        "funding_org_id": str(funder["id"])[:255],
        "funding_org_name": str(funder["name"])[:500],
        "date_modified": modified,
        "data": text,
        "content_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }


# ------------------------------------------------------------------------------------------------------------------
# Writing


def _write(*, actor, charity, filename: str, batch: list[tuple[int, dict]], report: RowReport) -> None:
    existing = {
        grant.grant_id: grant
        for grant in ImportedGrant.objects.filter(
            charity=charity, grant_id__in=[fields["grant_id"] for _r, fields in batch]
        )
    }
    now = timezone.now()
    created, updated = [], []
    for row, fields in batch:
        current = existing.get(fields["grant_id"])
        if current is None:
            created.append(
                ImportedGrant(
                    charity=charity,
                    source_file=filename[:255],
                    source_row=row,
                    imported_by=actor if actor is not None and actor.pk else None,
                    imported_at=now,
                    updated_at=now,
                    **fields,
                )
            )
        elif current.content_sha256 == fields["content_sha256"]:
            report.unchanged += 1
        else:
            for name, value in fields.items():
                setattr(current, name, value)
            current.source_file, current.source_row, current.updated_at = filename[:255], row, now
            updated.append(current)
    ImportedGrant.objects.bulk_create(created, batch_size=BATCH)
    if updated:
        ImportedGrant.objects.bulk_update(
            updated, [*batch[0][1].keys(), "source_file", "source_row", "updated_at"], batch_size=BATCH
        )
    report.imported += len(created) + len(updated)


def grants_import(
    *,
    actor,
    charity,
    data: bytes,
    filename: str,
    progress: Callable[[int, int], None] | None = None,
    max_bytes: int = MAX_BYTES,
) -> RowReport:
    """Imports the 360Giving file `data` (named `filename`) into `charity`'s grants, in one transaction with one
    audit event for the file. Returns the RowReport: the grants read, imported (new or changed), unchanged, and
    every refused grant's errors; `file_errors` (nothing imported) when the file cannot be read at all."""
    report = RowReport(file=filename)
    if len(data) > max_bytes:
        report.file_errors.append(
            _("The file is %(size)s MB; the largest accepted is %(limit)s MB.")
            % {"size": len(data) // (1024 * 1024), "limit": max_bytes // (1024 * 1024)}
        )
        return report
    grants = _json_grants(data, report) if _is_json(data) else _table_grants(data, filename, report)
    seen: dict[str, int] = {}
    kept: list[tuple[int, dict]] = []
    for item in grants:
        report.read += 1
        fields = _check(item, report, seen)
        if fields is not None:
            kept.append((item.row, fields))
        if progress and report.read % BATCH == 0:
            progress(report.read, 0)
    if report.file_errors:
        report.imported = report.unchanged = 0
        return report
    with transaction.atomic():
        for start in range(0, len(kept), BATCH):
            _write(actor=actor, charity=charity, filename=filename, batch=kept[start : start + BATCH], report=report)
            if progress:
                progress(min(start + BATCH, len(kept)), len(kept))
        audit.record(
            actor=actor,
            action=AUDIT_ACTION,
            subject=charity,
            organization=charity,
            changes={
                "file": filename,
                "sha256": hashlib.sha256(data).hexdigest(),
                "read": report.read,
                "imported": report.imported,
                "unchanged": report.unchanged,
                "refused": len(report.failed_rows),
            },
        )
    return report
