"""Bulk import of a charity's projects from a CSV file or an Excel workbook: each good row becomes a draft project of
the charity (through `services.project_create`, so validated and audited like a project typed in the form), each bad
row is reported in the platform's row-error format (`shafaf.interop.rows.RowReport`), and nothing is silently
dropped. The file is read by `shafaf.interop.rows.read_table` (CSV in UTF-8, with or without a byte-order mark, or
UTF-16 with its mark; or the first sheet of an .xlsx workbook); the header names the columns in any order and any
case, in English (below) or Arabic (ARABIC_HEADERS).

    external_reference   required: the charity's own reference of the project (its file number, its code). A row
                         whose reference the charity already imported is the same project: unchanged when it says
                         the same, updated when it changed and the project is still editable (a draft, or sent back
                         for changes), reported otherwise. The project keeps it in its IATI identifier,
                         "<the charity's IATI organisation identifier, or XM-SHAFAF-<slug>>-<external_reference>".
    title_ar, title_en   the title in Arabic and in English (at least one)
    description_ar, description_en
    project_model        the ministry's project model: its code (construction_external, sponsorship_internal, …)
                         or its name in Arabic or English
    sector               the five-digit DAC sector code (14030)
    country              the recipient country, ISO 3166-1 two-letter code (SD)
    beneficiary_group    its code (families, orphans, …) or its name in Arabic or English
    beneficiary_count    a whole number, at least 1
    planned_start, planned_end   YYYY-MM-DD
    currency             ISO 4217 code (KWD when empty)
    admin_area_ar, admin_area_en, latitude, longitude   one location of the project (optional)

A whole file is refused (nothing imported) when it cannot be read, lacks a required column, or is too large. The
import writes one audit event for the file ("projects.imported", with its counts and SHA-256) besides each
project's own "project.create"/"project.update".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shafaf.audit.services import record
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.interop.rows import RowReport, TableError, normalise_column, read_table, too_large_message

from . import permissions, services
from .choices import BeneficiaryGroup, ProjectModel
from .models import Project

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20000
REFERENCE_MAX = 100

# (column, is it required, what it holds) — the page and the command's help show this table.
COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("external_reference", True, gettext_lazy("The charity's own reference of the project (its file number).")),
    ("title_ar", False, gettext_lazy("The title in Arabic (a title in Arabic or English is required).")),
    ("title_en", False, gettext_lazy("The title in English.")),
    ("description_ar", False, gettext_lazy("The description in Arabic.")),
    ("description_en", False, gettext_lazy("The description in English.")),
    ("project_model", True, gettext_lazy("The ministry's project model: its code or its name.")),
    ("sector", True, gettext_lazy("The five-digit DAC sector code, such as 14030.")),
    ("country", True, gettext_lazy("The recipient country: ISO 3166-1 two-letter code (SD, YE, JO…).")),
    ("beneficiary_group", True, gettext_lazy("The beneficiary group: its code or its name.")),
    ("beneficiary_count", True, gettext_lazy("The number of beneficiaries, a whole number.")),
    ("planned_start", True, gettext_lazy("The planned start, YYYY-MM-DD.")),
    ("planned_end", True, gettext_lazy("The planned end, YYYY-MM-DD.")),
    ("currency", False, gettext_lazy("The budget's currency, ISO 4217 code (KWD when empty).")),
    ("admin_area_ar", False, gettext_lazy("One location: the administrative area in Arabic.")),
    ("admin_area_en", False, gettext_lazy("The administrative area in English.")),
    ("latitude", False, gettext_lazy("The location's latitude (decimal degrees).")),
    ("longitude", False, gettext_lazy("The location's longitude (decimal degrees).")),
)
COLUMN_NAMES = tuple(name for name, _required, _help in COLUMNS)
REQUIRED_COLUMNS = tuple(name for name, required, _help in COLUMNS if required)
ARABIC_HEADERS = {
    "المرجع": "external_reference",
    "المرجع_الخارجي": "external_reference",
    "العنوان_بالعربية": "title_ar",
    "العنوان_بالإنجليزية": "title_en",
    "الوصف_بالعربية": "description_ar",
    "الوصف_بالإنجليزية": "description_en",
    "نموذج_المشروع": "project_model",
    "القطاع": "sector",
    "الدولة": "country",
    "فئة_المستفيدين": "beneficiary_group",
    "عدد_المستفيدين": "beneficiary_count",
    "تاريخ_البدء": "planned_start",
    "تاريخ_الانتهاء": "planned_end",
    "العملة": "currency",
}
# The fields a row sets (the rest of the columns are the location and the reference).
FIELDS = tuple(name for name in services.PROJECT_FIELDS if name not in ("implementing_partner", "iati_identifier"))
LOCATION_COLUMNS = ("admin_area_ar", "admin_area_en", "latitude", "longitude")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")

Progress = Callable[[int, int], None]


def sample_csv() -> bytes:
    """A sample file with the columns and two rows (UTF-8 with a byte-order mark, so that Excel shows Arabic)."""
    lines = [
        ",".join(COLUMN_NAMES),
        "HR-2027-001,حفر بئر في قرية النور,Well in Al-Noor village,,,construction_external,14030,SD,families,500,"
        "2027-01-01,2027-12-31,KWD,ولاية الخرطوم,Khartoum,15.5007,32.5599",
        "ED-2027-014,كفالة طلاب,Student sponsorship,,,sponsorship_external,11220,JO,students,120,"
        "2027-02-01,2027-11-30,KWD,,,,",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def identifier_prefix(charity) -> str:
    """The start of the IATI identifiers of the charity's imported projects."""
    return (charity.iati_org_id or f"XM-SHAFAF-{charity.slug}").strip()


def identifier_of(charity, reference: str) -> str:
    return f"{identifier_prefix(charity)}-{reference}"


@dataclass
class _Parsed:
    reference: str
    fields: dict
    locations: list[dict] | None


def _choice(text: str, choices) -> str | None:
    """A choice's code from its code or its label in Arabic or English (case and spacing ignored)."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return None
    for value in choices.values:
        if wanted == value.casefold():
            return value
    for language in ("ar", "en"):
        with translation.override(language):
            for value, label in choices.choices:
                if wanted == " ".join(str(label).split()).casefold():
                    return value
    return None


def _date(text: str) -> dt.date:
    value = text.translate(_DIGITS).strip()
    if len(value) > 10 and value[10:].strip(" T0:") == "":
        value = value[:10]
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(_("%(text)s is not a date written YYYY-MM-DD (for instance 2027-03-15).") % {"text": text})
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("%(text)s is not a date of the calendar.") % {"text": text}) from None


def _parse(number: int, values: dict, report) -> _Parsed | None:
    """The row's reference, fields and location, or None after reporting each of its problems."""
    problems: list[tuple[str, str, str]] = []  # (column, code, message)

    def cell(name: str) -> str:
        return values.get(name, "")

    reference = " ".join(cell("external_reference").split())
    if not reference:
        problems.append(("external_reference", "required", _("Give the project's reference.")))
    elif len(reference) > REFERENCE_MAX:
        problems.append(
            ("external_reference", "too_long", _("At most %(count)s characters.") % {"count": REFERENCE_MAX})
        )
    fields: dict = {name: cell(name) for name in ("title_ar", "title_en", "description_ar", "description_en")}
    if not (fields["title_ar"] or fields["title_en"]):
        problems.append(("title_ar", "required", _("Give the title in Arabic or in English.")))
    for name, choices in (("project_model", ProjectModel), ("beneficiary_group", BeneficiaryGroup)):
        code = _choice(cell(name), choices)
        if code is None:
            if not cell(name):
                message = _("Give a value in the column %(column)s.")
            else:
                message = _("“%(text)s” is not one of: %(codes)s.")
            problems.append(
                (name, "choice", message % {"column": name, "text": cell(name), "codes": ", ".join(choices.values)})
            )
        fields[name] = code or ""
    fields["sector"] = cell("sector").translate(_DIGITS)
    fields["country"] = cell("country").upper()
    fields["currency"] = cell("currency").upper() or "KWD"
    count = cell("beneficiary_count").translate(_DIGITS).replace(",", "")
    if not count.isdigit():
        problems.append(("beneficiary_count", "number", _("Give the number of beneficiaries as a whole number.")))
    else:
        fields["beneficiary_count"] = int(count)
    for name in ("planned_start", "planned_end"):
        if not cell(name):
            problems.append((name, "required", _("Give the date (YYYY-MM-DD).")))
            continue
        try:
            fields[name] = _date(cell(name))
        except ValueError as error:
            problems.append((name, "date", str(error)))
    locations = None
    if any(cell(name) for name in LOCATION_COLUMNS):
        location = {"admin_area_ar": cell("admin_area_ar"), "admin_area_en": cell("admin_area_en")}
        for name in ("latitude", "longitude"):
            location[name] = cell(name).translate(_DIGITS) or None
        locations = [location]
    if problems:
        for column, code, message in problems:
            report.add(number, column, message, value=cell(column), code=code)
        return None
    return _Parsed(reference=reference, fields=fields, locations=locations)


def _column_of(field_name: str) -> str:
    """The file's column a service's field error is about."""
    if field_name.startswith("locations"):
        name = field_name.rsplit(".", 1)[-1].strip("[]0123456789")
        return name if name in LOCATION_COLUMNS else "admin_area_ar"
    if field_name in COLUMN_NAMES:
        return field_name
    if field_name == "iati_identifier":
        return "external_reference"
    return ""


def _refused(number: int, values: dict, error: DomainError, report) -> None:
    if not error.fields:
        report.add(number, "", error.message, code=str(error.code or "invalid"))
        return
    for name, messages in error.fields.items():
        column = _column_of(name)
        for message in messages:
            report.add(number, column, message, value=values.get(column, ""), code=str(error.code or "invalid"))


def _same(project: Project, parsed: _Parsed) -> bool:
    if any(getattr(project, name) != value for name, value in parsed.fields.items()):
        return False
    if parsed.locations is None:
        return True
    stored = [
        {
            "admin_area_ar": location.admin_area_ar,
            "admin_area_en": location.admin_area_en,
            "latitude": location.latitude,
            "longitude": location.longitude,
        }
        for location in project.locations.all()
    ]
    wanted = parsed.locations[0]
    if len(stored) != 1:
        return False
    have = stored[0]
    if (have["admin_area_ar"], have["admin_area_en"]) != (wanted["admin_area_ar"], wanted["admin_area_en"]):
        return False
    for name in ("latitude", "longitude"):
        if (have[name] is None) != (wanted[name] is None):
            return False
        if have[name] is not None and str(have[name]).rstrip("0").rstrip(".") != str(wanted[name]).rstrip("0").rstrip(
            "."
        ):
            return False
    return True


def projects_import(*, actor, charity, data: bytes, filename: str = "", progress: Progress | None = None) -> RowReport:
    """Imports the projects of the file as drafts of `charity` (the module's docstring lists the columns); answers
    the report. NotAllowed when the actor may not create the charity's projects."""
    if not permissions.can_create_project(actor, charity):
        raise NotAllowed(_("You cannot create projects for this charity."))
    report = RowReport(file=filename)
    if len(data) > MAX_BYTES:
        report.file_errors.append(too_large_message(MAX_BYTES))
        return report
    try:
        table = read_table(data, filename)
        written = {}
        for name in table.header:
            key = normalise_column(name)
            written[ARABIC_HEADERS.get(key, key)] = key
        missing = [name for name in REQUIRED_COLUMNS if name not in written]
        if missing:
            report.file_errors.append(_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)})
            return report
        rows = []
        for number, values in table.rows:
            if len(rows) >= MAX_ROWS:
                report.file_errors.append(_("The file has more than %(limit)s rows: split it.") % {"limit": MAX_ROWS})
                return report
            rows.append((number, {column: values.get(key, "") for column, key in written.items()}))
    except TableError as error:
        report.file_errors.append(str(error))
        return report
    report.read = len(rows)
    prefix = identifier_prefix(charity)
    existing = {
        project.iati_identifier: project
        for project in Project.objects.filter(charity=charity, iati_identifier__startswith=f"{prefix}-")
        .prefetch_related("locations")
        .order_by()
    }
    seen: dict[str, int] = {}
    created = updated = 0
    for done, (number, values) in enumerate(rows, start=1):
        parsed = _parse(number, values, report)
        if parsed is not None:
            identifier = identifier_of(charity, parsed.reference)
            if identifier in seen:
                report.add(
                    number,
                    "external_reference",
                    _("Row %(row)s already has this reference.") % {"row": seen[identifier]},
                    value=parsed.reference,
                    code="duplicate_in_file",
                )
            else:
                seen[identifier] = number
                outcome = _write(actor, charity, number, values, parsed, identifier, existing.get(identifier), report)
                created += outcome == "created"
                updated += outcome == "updated"
        if progress is not None:
            progress(done, len(rows))
    report.imported = created + updated
    with transaction.atomic():
        _record_file(actor, charity, data, filename, report, created, updated)
    return report


def _record_file(actor, charity, data: bytes, filename: str, report: RowReport, created: int, updated: int) -> None:
    record(
        actor=actor,
        action="projects.imported",
        subject=charity,
        organization=charity,
        changes={
            "file": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "rows": report.read,
            "created": created,
            "updated": updated,
            "unchanged": report.unchanged,
            "failed_rows": len(report.failed_rows),
        },
    )


def _write(actor, charity, number, values, parsed: _Parsed, identifier: str, project, report) -> str:
    try:
        if project is None:
            with transaction.atomic():
                services.project_create(
                    actor=actor,
                    charity=charity,
                    locations=parsed.locations or [],
                    iati_identifier=identifier,
                    **parsed.fields,
                )
            return "created"
        if _same(project, parsed):
            report.unchanged += 1
            return "unchanged"
        if not permissions.can_edit_project(actor, project):
            report.add(
                number,
                "external_reference",
                _("Project %(reference)s already has this reference and can no longer be changed by an import.")
                % {"reference": project.reference},
                value=parsed.reference,
                code="not_editable",
            )
            return "failed"
        with transaction.atomic():
            services.project_update(actor=actor, project=project, locations=parsed.locations, **parsed.fields)
        return "updated"
    except DomainError as error:
        _refused(number, values, error, report)
    except IntegrityError:  # another import of the same reference at the same moment
        report.add(
            number,
            "external_reference",
            _("Another import created this project at the same moment: import the file again."),
            value=parsed.reference,
            code="conflict",
        )
    return "failed"
