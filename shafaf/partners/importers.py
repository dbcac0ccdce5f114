"""Bulk import of foreign partners from a CSV file or an Excel workbook, with a report row by row.

The file is read by `shafaf.interop.rows.read_table`: a CSV in UTF-8 (with or without a byte order mark) or
UTF-16 with its byte order mark, or the first sheet of an .xlsx workbook; its first row names the columns (in any
order, any case; unknown columns are reported and ignored). The report is a `shafaf.interop.rows.RowReport`
(row, column, value, code, message for each error), like every other table import of the platform:

    name_ar, name_en, country             the legal names in Arabic and Latin script, ISO country code (required)
    registration_agency                   IATI organisation registration agency code, e.g. GB-CHC, SD-COA
    registration_number                   the number in that register
    website                               http:// or https:// address
    aliases                               other names separated by "|"; "former:" or "acronym:" before a name
                                          says it is a former name or an acronym (an alias otherwise)
    address, city                         one address of the partner (in the partner's country)
    officer_role                          head, board_member, director or signatory
    officer_name_ar, officer_name_en      the officer's name in either script or both
    officer_nationality                   ISO country code
    officer_date_of_birth                 YYYY-MM-DD

One partner may take several rows: rows with the same registration number (or, without one, the same Latin
name and country) add their officer, aliases and address to the partner the first of them registers. Every
row is checked and imported on its own: a bad row is reported (row, column, message) and does not stop the
others; a partner already registered (same registration number, or same legal name in the same country) is
reported as a duplicate and left as it is. See shafaf/partners/data/partners_sample.csv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.interop.rows import RowError, RowReport, TableError, normalise_column, read_table, too_large_message

from . import permissions, services
from .choices import PartnerNameKind

PARTNER_COLUMNS = ("name_ar", "name_en", "country", "registration_agency", "registration_number", "website")
REQUIRED_COLUMNS = ("name_ar", "name_en", "country")
OFFICER_COLUMNS = (
    "officer_role",
    "officer_name_ar",
    "officer_name_en",
    "officer_nationality",
    "officer_date_of_birth",
)
COLUMNS = (*PARTNER_COLUMNS, "aliases", "address", "city", *OFFICER_COLUMNS)
MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024
ALIAS_PREFIXES = {"former": PartnerNameKind.FORMER, "acronym": PartnerNameKind.ACRONYM, "alias": PartnerNameKind.ALIAS}


@dataclass
class ImportReport(RowReport):
    """The platform's RowReport (read, imported, unchanged, errors, file_errors) with what a partners import adds:
    the partners it registered, the officers it added, the rows whose partner was already registered (counted in
    `unchanged`, each with its reason) and warnings about the file (ignored columns)."""

    partners_created: list = field(default_factory=list)  # Organization rows, in the file's order
    officers_added: int = 0
    duplicates: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.read

    @property
    def rows_imported(self) -> int:
        return self.imported

    def duplicate(self, row: int, message) -> None:
        self.duplicates.append(RowError(row=row, column="", message=str(message), code="duplicate"))
        self.unchanged += 1

    def errors_by_row(self) -> list[tuple[int, list[RowError]]]:
        rows: dict[int, list[RowError]] = {}
        for error in self.errors:
            rows.setdefault(error.row, []).append(error)
        return sorted(rows.items())

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "partners_created": [partner.pk for partner in self.partners_created],
            "officers_added": self.officers_added,
            "duplicates": [item.as_dict() for item in self.duplicates],
            "warnings": [str(message) for message in self.warnings],
        }


def _column_of(field_name: str) -> str:
    """The CSV column a service's field error is about."""
    if field_name.startswith("officers[") or field_name in ("role", "nationality", "date_of_birth"):
        name = field_name.rsplit(".", 1)[-1]
        return f"officer_{name}"
    if field_name.startswith("addresses["):
        name = field_name.rsplit(".", 1)[-1]
        return {"line": "address"}.get(name, name)
    if field_name.startswith("aliases"):
        return "aliases"
    if field_name == "line":
        return "address"
    return field_name


def _errors_of(error: DomainError, row: int, values: dict, *, officer_fields: bool = False) -> list[RowError]:
    code = str(error.code or "invalid")
    if not error.fields:
        return [RowError(row=row, column="", message=str(error.message), code=code)]
    found = []
    for name, messages in error.fields.items():
        column = _column_of(name)
        if officer_fields and name in ("name_ar", "name_en"):
            column = f"officer_{name}"
        for message in messages:
            found.append(
                RowError(row=row, column=column, message=str(message), value=values.get(column, ""), code=code)
            )
    return found


def _aliases(text: str) -> list[dict]:
    rows = []
    for part in (text or "").split("|"):
        part = part.strip()
        if not part:
            continue
        kind = PartnerNameKind.ALIAS
        head, sep, rest = part.partition(":")
        if sep and head.strip().lower() in ALIAS_PREFIXES and rest.strip():
            kind, part = ALIAS_PREFIXES[head.strip().lower()], rest.strip()
        rows.append({"kind": kind, "name": part})
    return rows


def _officer(values: dict) -> dict | None:
    if not any(values.get(column) for column in OFFICER_COLUMNS):
        return None
    return {
        "role": (values.get("officer_role") or "").strip().lower(),
        "name_ar": values.get("officer_name_ar") or "",
        "name_en": values.get("officer_name_en") or "",
        "nationality": values.get("officer_nationality") or "",
        "date_of_birth": (values.get("officer_date_of_birth") or "").strip() or None,
    }


def _address(values: dict) -> dict | None:
    if not (values.get("address") or "").strip():
        if (values.get("city") or "").strip():
            return {"line": "", "city": values.get("city"), "country": values.get("country") or ""}
        return None
    return {"line": values["address"], "city": values.get("city") or "", "country": values.get("country") or ""}


def _group_key(values: dict) -> tuple:
    number = " ".join((values.get("registration_number") or "").split())
    agency = (values.get("registration_agency") or "").strip().upper()
    if number:
        return ("registration", agency, number)
    return ("name", services.name_key(values.get("name_en") or ""), (values.get("country") or "").strip().upper())


def read_rows(data: bytes, filename: str = "") -> tuple[list[str], list[tuple[int, dict]], list[str]]:
    """(header, [(row number, {column: value})], file errors) of a CSV file's or an Excel workbook's bytes."""
    try:
        table = read_table(data, filename)
        header = [normalise_column(name) for name in table.header]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            return header, [], [_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)}]
        rows = []
        for number, values in table.rows:
            if len(rows) >= MAX_ROWS:
                return header, rows, [_("The file has more than %(limit)s rows: split it.") % {"limit": MAX_ROWS}]
            rows.append((number, values))
    except TableError as error:
        return [], [], [str(error)]
    return header, rows, []


def import_partners(
    *, actor, data: bytes, progress: Callable[[int, int], None] | None = None, filename: str = ""
) -> ImportReport:
    """Imports the partners of a CSV file or an Excel workbook (the module's docstring lists the columns) through
    the registry's services (each write audited, each new partner screened), row by row. Answers the report."""
    if not permissions.can_manage_partners(actor):
        raise NotAllowed(_("Only the ministry's administrators and accreditation officers import partners."))
    report = ImportReport(file=filename)
    if len(data) > MAX_BYTES:
        report.file_errors.append(too_large_message(MAX_BYTES))
        return report
    header, rows, file_errors = read_rows(data, filename)
    report.file_errors.extend(file_errors)
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        report.warnings.append(_("Columns ignored (unknown): %(columns)s.") % {"columns": ", ".join(unknown)})
    if file_errors and not rows:
        return report
    report.read = len(rows)
    # group key -> ("created", partner) | ("duplicate", row) | ("failed", row)
    groups: dict[tuple, tuple] = {}
    for done, (number, values) in enumerate(rows, start=1):
        key = _group_key(values)
        state = groups.get(key)
        if state is None or state[0] == "failed":
            if state is not None and not (values.get("name_ar") or values.get("name_en")):
                message = _("The partner of this row could not be registered (see row %(row)s).") % {"row": state[1]}
                report.add(number, "", message, code="partner_failed")
            else:
                outcome, partner = _register_row(actor, number, values, report)
                groups[key] = (outcome, partner if outcome == "created" else number)
        elif state[0] == "duplicate":
            message = _("The partner of this row is already registered (see row %(row)s).") % {"row": state[1]}
            report.duplicate(number, message)
        else:
            _continue_row(actor, number, values, state[1], report)
        if progress is not None:
            progress(done, len(rows))
    return report


def _register_row(actor, number: int, values: dict, report: ImportReport):
    """The first row of a partner: registers it (with the row's officer, aliases and address)."""
    partner_values = {name: values.get(name) or "" for name in PARTNER_COLUMNS}
    officer = _officer(values)
    address = _address(values)
    try:
        partner = services.partner_register(
            actor=actor,
            aliases=_aliases(values.get("aliases") or ""),
            addresses=[address] if address else [],
            officers=[officer] if officer else [],
            **partner_values,
        )
    except DomainError as error:
        if error.code == "duplicate":
            report.duplicate(number, error.message)
            return "duplicate", None
        report.errors.extend(_errors_of(error, number, values))
        return "failed", None
    report.partners_created.append(partner)
    report.officers_added += 1 if officer else 0
    report.imported += 1
    return "created", partner


def _continue_row(actor, number: int, values: dict, partner, report: ImportReport) -> None:
    """A further row of a partner this import registered: adds its officer, aliases and address, all or none."""
    officer = _officer(values)
    address = _address(values)
    aliases = _aliases(values.get("aliases") or "")
    try:
        with transaction.atomic():
            existing = {services.name_key(name) for name in partner.partner_names.values_list("name", flat=True)}
            for alias in aliases:
                if services.name_key(alias["name"]) not in existing:
                    services.partner_name_add(actor=actor, partner=partner, **alias)
                    existing.add(services.name_key(alias["name"]))
            if address is not None:
                address["country"] = address["country"] or partner.country
                services.partner_address_add(actor=actor, partner=partner, **address)
            if officer is not None:
                services.officer_add(actor=actor, partner=partner, **officer)
    except DomainError as error:
        report.errors.extend(_errors_of(error, number, values, officer_fields=officer is not None))
        return
    report.officers_added += 1 if officer else 0
    report.imported += 1
