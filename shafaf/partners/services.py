"""Every write to the partner registry and the accreditations. Each is atomic, checked and audited; screening
runs after commit whenever a partner's names or officers change."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from shafaf.accounts.choices import Authority, OrganizationKind
from shafaf.accounts.models import Organization
from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.matching.normalize import clean, normalize_arabic, normalize_latin

from . import permissions
from .choices import AccreditationStatus, OfficerRole, PartnerNameKind, ScreeningTrigger
from .models import (
    Accreditation,
    AccreditationDocument,
    Officer,
    PartnerAddress,
    PartnerName,
    PartnerProfile,
)

AGENCIES_PATH = Path(__file__).resolve().parent / "data" / "OrganisationRegistrationAgency.xml"
PROFILE_FIELDS = ("registration_agency", "registration_number", "website", "notes")
ORGANIZATION_FIELDS = ("name_ar", "name_en", "country")
PARTNER_FIELDS = ORGANIZATION_FIELDS + PROFILE_FIELDS
OFFICER_FIELDS = ("role", "name_ar", "name_en", "nationality", "date_of_birth")
ADDRESS_FIELDS = ("line", "city", "country")
# The file types an accreditation's documents may be (shafaf.projects.services.check_upload's content types).
ACCREDITATION_DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
REASON_MAX_LENGTH = 4000


# --- codelists -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def registration_agencies() -> dict[str, dict]:
    """The IATI OrganisationRegistrationAgency codelist (a copy kept in shafaf/partners/data/), read once:
    {code: {"name": ..., "status": "active" | "withdrawn"}}."""
    root = ET.parse(AGENCIES_PATH).getroot()  # noqa: S314 - our own copy of the IATI codelist
    agencies = {}
    for item in root.iter("codelist-item"):
        code = (item.findtext("code") or "").strip()
        if not code:
            continue
        name = item.find("name")
        narrative = name.findtext("narrative") if name is not None else ""
        agencies[code] = {"name": (narrative or "").strip(), "status": item.get("status", "active")}
    return agencies


def agency_choices() -> list[tuple[str, str]]:
    return sorted(
        (code, f"{code} — {item['name']}")
        for code, item in registration_agencies().items()
        if item["status"] == "active"
    )


def agency_error(code: str) -> str | None:
    """Why the registration authority code is refused, or None when it is a known, active IATI code."""
    item = registration_agencies().get(code)
    if item is None:
        return _(
            "Unknown registration authority “%(code)s”: use an IATI organisation registration agency code, "
            "such as GB-CHC."
        ) % {"code": code}
    if item["status"] != "active":
        return _("The registration authority “%(code)s” is withdrawn from the IATI codelist.") % {"code": code}
    return None


def country_error(code: str) -> str | None:
    from shafaf.projects.codelists import COUNTRIES

    if code not in COUNTRIES:
        return _("Unknown country code “%(code)s”.") % {"code": code}
    return None


def project_model_error(code: str) -> str | None:
    from shafaf.projects.choices import ProjectModel

    if code not in ProjectModel.values:
        return _("Unknown project model “%(code)s”.") % {"code": code}
    return None


def name_key(text: str) -> str:
    """A name as compared for duplicates: cleaned, Arabic folded, Latin case-folded and without accents."""
    return normalize_latin(normalize_arabic(clean(text or "")))


# --- helpers -----------------------------------------------------------------------------------------------------


def _invalid(fields: dict) -> DomainError:
    return DomainError(_("Please correct the errors below."), code="invalid", fields=fields)


def _unknown(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")


def _require_manager(actor) -> None:
    if not permissions.can_manage_partners(actor):
        raise NotAllowed(_("Only the ministry's administrators and accreditation officers manage partners."))


def _screen_after_commit(*, actor, partner, trigger: str) -> None:
    """Screens the partner against the sanctions lists once the transaction commits. A failure of the screening
    is logged and does not undo the write that asked for it."""
    partner_pk, actor_pk = partner.pk, getattr(actor, "pk", None)

    def run():
        from .screening import screen_partner

        fresh = Organization.objects.get(pk=partner_pk)
        screen_partner(actor=actor if actor_pk else None, partner=fresh, trigger=trigger)

    transaction.on_commit(run, robust=True)


def _partner_snapshot(partner: Organization) -> dict:
    profile = getattr(partner, "partner_profile", None)
    data = {name: getattr(partner, name) for name in ORGANIZATION_FIELDS}
    for name in PROFILE_FIELDS:
        data[name] = getattr(profile, name) if profile is not None else ""
    return data


def _check_partner_values(values: dict) -> dict:
    """Cleans the registry values in place; returns {field: [messages]} for what is wrong."""
    errors: dict[str, list] = {}
    for name in ("name_ar", "name_en"):
        values[name] = clean(values.get(name) or "")
    values["country"] = (values.get("country") or "").strip().upper()
    values["registration_agency"] = (values.get("registration_agency") or "").strip().upper()
    values["registration_number"] = clean(values.get("registration_number") or "")
    values["website"] = (values.get("website") or "").strip()
    values["notes"] = (values.get("notes") or "").strip()
    if not values["name_ar"]:
        errors["name_ar"] = [_("Give the partner's legal name in Arabic.")]
    if not values["name_en"]:
        errors["name_en"] = [_("Give the partner's legal name in Latin script.")]
    for name, limit in (("name_ar", 300), ("name_en", 300), ("registration_number", 60), ("website", 200)):
        if len(values[name]) > limit:
            errors.setdefault(name, []).append(
                _("At most %(limit)s characters (it has %(length)s).") % {"limit": limit, "length": len(values[name])}
            )
    if not values["country"]:
        errors["country"] = [_("Say in which country the partner is registered.")]
    elif error := country_error(values["country"]):
        errors["country"] = [error]
    agency, number = values["registration_agency"], values["registration_number"]
    if agency and (error := agency_error(agency)):
        errors["registration_agency"] = [error]
    if number and not agency:
        errors.setdefault("registration_agency", []).append(_("Say which register the registration number is from."))
    if agency and not number:
        errors.setdefault("registration_number", []).append(_("Give the number in this register."))
    if values["website"]:
        try:
            URLValidator(schemes=["http", "https"])(values["website"])
        except ValidationError:
            errors["website"] = [_("Enter a web address beginning with http:// or https://.")]
    return errors


def find_duplicate(
    *,
    name_ar: str = "",
    name_en: str = "",
    country: str = "",
    registration_agency: str = "",
    registration_number: str = "",
    exclude_pk=None,
) -> tuple[Organization | None, str]:
    """A partner already registered under this registration number, or with the same legal name (in either
    script) in the same country: (partner, field) or (None, "")."""
    partners = Organization.objects.filter(kind=OrganizationKind.PARTNER)
    if exclude_pk is not None:
        partners = partners.exclude(pk=exclude_pk)
    if registration_number:
        same = (
            PartnerProfile.objects.filter(
                registration_agency=registration_agency, registration_number=registration_number
            )
            .exclude(organization_id=exclude_pk)
            .select_related("organization")
            .first()
        )
        if same is not None:
            return same.organization, "registration_number"
    keys = {key for key in (name_key(name_ar), name_key(name_en)) if key}
    if keys:
        for partner in partners.filter(country=country).only("pk", "name_ar", "name_en", "slug", "kind"):
            existing = {name_key(partner.name_ar), name_key(partner.name_en)}
            if keys & existing:
                return partner, "name_en" if name_key(name_en) in existing else "name_ar"
    return None, ""


def _duplicate_error(partner: Organization, field: str) -> Conflict:
    if field == "registration_number":
        message = _("A partner with this registration number is already registered: %(partner)s.")
    else:
        message = _("A partner with this name is already registered in this country: %(partner)s.")
    message = message % {"partner": partner}
    return Conflict(message, code="duplicate", fields={field: [message]})


def _unique_slug(name_en: str) -> str:
    base = (slugify(name_en)[:48] or "partner").strip("-") or "partner"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _iati_org_id(agency: str, number: str) -> str:
    return f"{agency}-{number}" if agency and number else ""


def _iati_taken(iati: str) -> Conflict:
    message = _("An organisation with the identifier %(id)s is already registered.") % {"id": iati}
    return Conflict(message, code="duplicate", fields={"registration_number": [message]})


# --- names, addresses, officers: building and checking --------------------------------------------------------


def _alias_rows(aliases) -> list[dict]:
    rows = []
    for item in aliases or ():
        if isinstance(item, str):
            rows.append({"kind": PartnerNameKind.ALIAS, "name": item})
        else:
            rows.append({"kind": item.get("kind") or PartnerNameKind.ALIAS, "name": item.get("name") or ""})
    return rows


def _check_alias(row: dict, prefix: str, errors: dict) -> None:
    row["name"] = clean(row.get("name") or "")
    if row.get("kind") not in PartnerNameKind.values:
        errors[f"{prefix}kind"] = [_("Choose a kind of name: also known as, former name or acronym.")]
    if not row["name"]:
        errors[f"{prefix}name"] = [_("Give the name.")]
    elif len(row["name"]) > 300:
        errors[f"{prefix}name"] = [_("At most %(limit)s characters.") % {"limit": 300}]


def _check_address(row: dict, prefix: str, errors: dict) -> None:
    row["line"] = clean(row.get("line") or "")
    row["city"] = clean(row.get("city") or "")
    row["country"] = (row.get("country") or "").strip().upper()
    if not row["line"]:
        errors[f"{prefix}line"] = [_("Give the address.")]
    elif len(row["line"]) > 300:
        errors[f"{prefix}line"] = [_("At most %(limit)s characters.") % {"limit": 300}]
    if len(row["city"]) > 120:
        errors[f"{prefix}city"] = [_("At most %(limit)s characters.") % {"limit": 120}]
    if not row["country"]:
        errors[f"{prefix}country"] = [_("Give the country of the address.")]
    elif error := country_error(row["country"]):
        errors[f"{prefix}country"] = [error]


def _check_officer(row: dict, prefix: str, errors: dict) -> None:
    row["name_ar"] = clean(row.get("name_ar") or "")
    row["name_en"] = clean(row.get("name_en") or "")
    row["nationality"] = (row.get("nationality") or "").strip().upper()
    if row.get("role") not in OfficerRole.values:
        errors[f"{prefix}role"] = [
            _("Choose the officer's role: head, board member, director or authorised signatory.")
        ]
    if not row["name_ar"] and not row["name_en"]:
        errors[f"{prefix}name_en"] = [_("Give the officer's name in Arabic, Latin script or both.")]
    for name in ("name_ar", "name_en"):
        if len(row[name]) > 200:
            errors[f"{prefix}{name}"] = [_("At most %(limit)s characters.") % {"limit": 200}]
    if row["nationality"] and (error := country_error(row["nationality"])):
        errors[f"{prefix}nationality"] = [error]
    born = row.get("date_of_birth")
    if born in ("", None):
        row["date_of_birth"] = None
    elif isinstance(born, str):
        try:
            row["date_of_birth"] = dt.date.fromisoformat(born)
        except ValueError:
            errors[f"{prefix}date_of_birth"] = [_("Enter the date as YYYY-MM-DD.")]
            return
    if row["date_of_birth"] is not None:
        if row["date_of_birth"] > timezone.localdate():
            errors[f"{prefix}date_of_birth"] = [_("A date of birth cannot be in the future.")]
        elif row["date_of_birth"].year < 1900:
            errors[f"{prefix}date_of_birth"] = [_("A date of birth before 1900 is not plausible.")]


def _officer_snapshot(officer: Officer) -> dict:
    return {name: getattr(officer, name) for name in (*OFFICER_FIELDS, "is_active")}


# --- the registry ------------------------------------------------------------------------------------------------


def partner_register(
    *,
    actor,
    name_ar: str,
    name_en: str,
    country: str,
    registration_agency: str = "",
    registration_number: str = "",
    website: str = "",
    notes: str = "",
    aliases: Iterable = (),
    addresses: Iterable = (),
    officers: Iterable = (),
) -> Organization:
    """A new foreign partner (an Organization of kind partner with its registry record), its aliases (strings,
    or dicts with kind and name), addresses (dicts with line, city, country) and officers (dicts with role,
    name_ar, name_en, nationality, date_of_birth). Refused when a partner with the same registration number, or
    the same legal name in the same country, is already registered (Conflict, code "duplicate"). Screened
    after commit (trigger "registration")."""
    _require_manager(actor)
    values = {
        "name_ar": name_ar,
        "name_en": name_en,
        "country": country,
        "registration_agency": registration_agency,
        "registration_number": registration_number,
        "website": website,
        "notes": notes,
    }
    errors = _check_partner_values(values)
    alias_rows = _alias_rows(aliases)
    address_rows = [dict(row) for row in addresses or ()]
    officer_rows = [dict(row) for row in officers or ()]
    for index, row in enumerate(alias_rows):
        _check_alias(row, f"aliases[{index}].", errors)
    for index, row in enumerate(address_rows):
        _check_address(row, f"addresses[{index}].", errors)
    for index, row in enumerate(officer_rows):
        _check_officer(row, f"officers[{index}].", errors)
    names = [name_key(row["name"]) for row in alias_rows]
    if len(set(names)) != len(names):
        errors.setdefault("aliases", []).append(_("The same name is given twice."))
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        duplicate, field = find_duplicate(
            **{k: values[k] for k in ("name_ar", "name_en", "country")},
            registration_agency=values["registration_agency"],
            registration_number=values["registration_number"],
        )
        if duplicate is not None:
            raise _duplicate_error(duplicate, field)
        iati = _iati_org_id(values["registration_agency"], values["registration_number"])
        if iati and Organization.objects.filter(iati_org_id=iati).exists():
            raise _iati_taken(iati)
        partner = Organization.objects.create(
            kind=OrganizationKind.PARTNER,
            slug=_unique_slug(values["name_en"]),
            name_ar=values["name_ar"],
            name_en=values["name_en"],
            country=values["country"],
            iati_org_id=iati,
        )
        PartnerProfile.objects.create(organization=partner, **{k: values[k] for k in PROFILE_FIELDS})
        PartnerName.objects.bulk_create(PartnerName(partner=partner, **row) for row in alias_rows)
        PartnerAddress.objects.bulk_create(PartnerAddress(partner=partner, **row) for row in address_rows)
        created = [Officer.objects.create(partner=partner, **row) for row in officer_rows]
        changes = audit.diff({}, values)
        if alias_rows:
            changes["aliases"] = [None, [f"{row['kind']}: {row['name']}" for row in alias_rows]]
        if address_rows:
            changes["addresses"] = [None, [", ".join(filter(None, row.values())) for row in address_rows]]
        if created:
            changes["officers"] = [None, [officer.pk for officer in created]]
        audit.record(actor=actor, action="partner.register", subject=partner, organization=partner, changes=changes)
        for officer in created:
            audit.record(
                actor=actor,
                action="officer.add",
                subject=officer,
                organization=partner,
                changes=audit.diff({}, _officer_snapshot(officer)),
            )
        _screen_after_commit(actor=actor, partner=partner, trigger=ScreeningTrigger.REGISTRATION)
    partner.refresh_from_db()
    return partner


def partner_update(*, actor, partner: Organization, **changes) -> Organization:
    """Changes a partner's legal names, country, registration, website or notes. A change of its names is
    screened after commit (trigger "change")."""
    _require_manager(actor)
    _unknown(changes, PARTNER_FIELDS)
    with transaction.atomic():
        partner = Organization.objects.select_for_update().get(pk=partner.pk, kind=OrganizationKind.PARTNER)
        profile = PartnerProfile.objects.filter(organization=partner).first()
        before = _partner_snapshot(partner)
        values = {**before, **changes}
        errors = _check_partner_values(values)
        if errors:
            raise _invalid(errors)
        after = {name: values[name] for name in PARTNER_FIELDS}
        diff = audit.diff(before, after)
        if not diff:
            return partner
        duplicate, field = find_duplicate(
            **{k: after[k] for k in ("name_ar", "name_en", "country", "registration_agency", "registration_number")},
            exclude_pk=partner.pk,
        )
        if duplicate is not None:
            raise _duplicate_error(duplicate, field)
        for name in ORGANIZATION_FIELDS:
            setattr(partner, name, after[name])
        iati = _iati_org_id(after["registration_agency"], after["registration_number"])
        if iati != partner.iati_org_id and (iati or "registration_number" in diff or "registration_agency" in diff):
            if iati and Organization.objects.filter(iati_org_id=iati).exclude(pk=partner.pk).exists():
                raise _iati_taken(iati)
            partner.iati_org_id = iati
        partner.save()
        if profile is None:
            profile = PartnerProfile(organization=partner)
        for name in PROFILE_FIELDS:
            setattr(profile, name, after[name])
        profile.save()
        audit.record(actor=actor, action="partner.update", subject=partner, organization=partner, changes=diff)
        if {"name_ar", "name_en", "country"} & set(diff):
            _screen_after_commit(actor=actor, partner=partner, trigger=ScreeningTrigger.CHANGE)
    partner.refresh_from_db()
    return partner


def partner_name_add(*, actor, partner: Organization, name: str, kind: str = PartnerNameKind.ALIAS) -> PartnerName:
    """A former name, alias or acronym of the partner (screened after commit like its legal names)."""
    _require_manager(actor)
    row = {"kind": kind, "name": name}
    errors: dict = {}
    _check_alias(row, "", errors)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        existing = {name_key(n) for n in PartnerName.objects.filter(partner=partner).values_list("name", flat=True)}
        if name_key(row["name"]) in existing:
            message = _("The partner already has this name.")
            raise DomainError(message, code="duplicate", fields={"name": [message]})
        partner_name = PartnerName.objects.create(partner=partner, **row)
        audit.record(
            actor=actor,
            action="partner.name_add",
            subject=partner_name,
            organization=partner,
            changes={"partner": [None, partner.pk], "kind": [None, row["kind"]], "name": [None, row["name"]]},
        )
        _screen_after_commit(actor=actor, partner=partner, trigger=ScreeningTrigger.CHANGE)
    return partner_name


def partner_name_remove(*, actor, partner_name: PartnerName) -> None:
    _require_manager(actor)
    with transaction.atomic():
        partner = partner_name.partner
        audit.record(
            actor=actor,
            action="partner.name_remove",
            subject=partner_name,
            organization=partner,
            changes={"kind": [partner_name.kind, None], "name": [partner_name.name, None]},
        )
        PartnerName.objects.filter(pk=partner_name.pk).delete()
        _screen_after_commit(actor=actor, partner=partner, trigger=ScreeningTrigger.CHANGE)


def partner_address_add(*, actor, partner: Organization, line: str, country: str, city: str = "") -> PartnerAddress:
    _require_manager(actor)
    row = {"line": line, "city": city, "country": country}
    errors: dict = {}
    _check_address(row, "", errors)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        address = PartnerAddress.objects.create(partner=partner, **row)
        audit.record(
            actor=actor,
            action="partner.address_add",
            subject=address,
            organization=partner,
            changes={"partner": [None, partner.pk], **audit.diff({}, row)},
        )
    return address


def partner_address_remove(*, actor, address: PartnerAddress) -> None:
    _require_manager(actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="partner.address_remove",
            subject=address,
            organization=address.partner,
            changes=audit.diff({name: getattr(address, name) for name in ADDRESS_FIELDS}, {}),
        )
        PartnerAddress.objects.filter(pk=address.pk).delete()


def officer_add(
    *,
    actor,
    partner: Organization,
    role: str,
    name_ar: str = "",
    name_en: str = "",
    nationality: str = "",
    date_of_birth: dt.date | str | None = None,
) -> Officer:
    """A new officer of the partner (screened after commit)."""
    _require_manager(actor)
    row = {
        "role": role,
        "name_ar": name_ar,
        "name_en": name_en,
        "nationality": nationality,
        "date_of_birth": date_of_birth,
    }
    errors: dict = {}
    _check_officer(row, "", errors)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        officer = Officer.objects.create(partner=partner, **row)
        audit.record(
            actor=actor,
            action="officer.add",
            subject=officer,
            organization=partner,
            changes={"partner": [None, partner.pk], **audit.diff({}, _officer_snapshot(officer))},
        )
        _screen_after_commit(actor=actor, partner=partner, trigger=ScreeningTrigger.CHANGE)
    return officer


def officer_update(*, actor, officer: Officer, **changes) -> Officer:
    """Changes an officer's role, names, nationality or date of birth (a change of names, nationality or date
    of birth is screened after commit)."""
    _require_manager(actor)
    _unknown(changes, OFFICER_FIELDS)
    with transaction.atomic():
        officer = Officer.objects.select_for_update().select_related("partner").get(pk=officer.pk)
        before = _officer_snapshot(officer)
        row = {**{name: before[name] for name in OFFICER_FIELDS}, **changes}
        errors: dict = {}
        _check_officer(row, "", errors)
        if errors:
            raise _invalid(errors)
        for name in OFFICER_FIELDS:
            setattr(officer, name, row[name])
        diff = audit.diff(before, _officer_snapshot(officer))
        if diff:
            officer.save()
            audit.record(
                actor=actor, action="officer.update", subject=officer, organization=officer.partner, changes=diff
            )
            if set(diff) - {"role"}:
                _screen_after_commit(actor=actor, partner=officer.partner, trigger=ScreeningTrigger.CHANGE)
    return officer


def officer_deactivate(*, actor, officer: Officer, reason: str = "") -> Officer:
    """The officer no longer holds the role (kept, with its screenings; no longer screened)."""
    _require_manager(actor)
    with transaction.atomic():
        officer = Officer.objects.select_for_update().select_related("partner").get(pk=officer.pk)
        if not officer.is_active:
            raise Conflict(_("This officer is already inactive."))
        officer.is_active = False
        officer.save(update_fields=["is_active", "updated_at"])
        audit.record(
            actor=actor,
            action="officer.deactivate",
            subject=officer,
            organization=officer.partner,
            changes={"is_active": [True, False]},
            reason=(reason or "").strip(),
        )
    return officer


# --- accreditations ------------------------------------------------------------------------------------------


def _accreditation_snapshot(accreditation: Accreditation) -> dict:
    return {
        name: getattr(accreditation, name)
        for name in (
            "partner_id",
            "authority",
            "number",
            "countries",
            "project_models",
            "valid_from",
            "valid_until",
            "status",
            "status_reason",
            "suspended_on",
            "settlement_deadline",
        )
    }


def _scope(values, check, field: str, errors: dict) -> list[str]:
    if isinstance(values, str):
        values = values.replace(";", ",").replace("|", ",").split(",")
    codes = []
    for value in values or ():
        code = str(value).strip()
        if field == "countries":
            code = code.upper()
        if code and code not in codes:
            codes.append(code)
    problems = [message for code in codes if (message := check(code))]
    if problems:
        errors[field] = problems
    return sorted(codes)


def _document_items(documents) -> list[tuple[str, object]]:
    """(title, file) pairs from files, (title, file) tuples or {"title", "file"} dicts."""
    items = []
    for item in documents or ():
        if isinstance(item, dict):
            items.append(((item.get("title") or "").strip(), item.get("file")))
        elif isinstance(item, tuple | list):
            items.append(((item[0] or "").strip(), item[1]))
        else:
            items.append(("", item))
    return [(title or getattr(file, "name", "") or _("Document"), file) for title, file in items]


def _check_document(file, field: str = "file") -> tuple[str, int, str]:
    from shafaf.projects.services import check_upload

    try:
        content_type, size, sha256 = check_upload(file)
    except DomainError as error:
        raise DomainError(error.message, code=error.code, fields={field: error.fields.get("file", [error.message])})
    if content_type not in ACCREDITATION_DOCUMENT_TYPES:
        message = _("An accreditation's documents are PDF files or images (JPEG, PNG or WebP).")
        raise DomainError(message, code="invalid", fields={field: [message]})
    return content_type, size, sha256


def _save_documents(*, actor, accreditation: Accreditation, items, checked) -> list[AccreditationDocument]:
    """Stores the files and their rows (inside the caller's transaction); the caller deletes the stored files if
    the transaction fails (returned, even partly, through `saved`)."""
    saved = []
    for (title, file), (content_type, size, sha256) in zip(items, checked, strict=True):
        document = AccreditationDocument(
            accreditation=accreditation,
            title=title[:300],
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_by=actor,
        )
        document.file.save(getattr(file, "name", "upload") or "upload", file, save=False)
        saved.append(document)
        document.save()
        audit.record(
            actor=actor,
            action="accreditation.document_add",
            subject=document,
            organization=accreditation.partner,
            changes={
                "accreditation": [None, accreditation.pk],
                "title": [None, document.title],
                "size": [None, size],
                "sha256": [None, sha256],
            },
        )
    return saved


def accreditation_record(
    *,
    actor,
    partner: Organization,
    authority: str,
    number: str,
    valid_from: dt.date,
    valid_until: dt.date,
    countries=(),
    project_models=(),
    documents=(),
) -> Accreditation:
    """One ministry's accreditation of the partner, by an accreditation officer of that ministry, active from
    the start. Its scope (countries, project models) is empty to cover everything. `documents`: uploaded PDF or
    image files (or (title, file) pairs)."""
    authority = (authority or "").strip().upper()
    if authority not in Authority.values:
        message = _("Choose the ministry: MOFA or MOSA.")
        raise DomainError(message, code="invalid", fields={"authority": [message]})
    if not permissions.can_record_accreditation(actor, authority):
        raise NotAllowed(
            _("Only an accreditation officer of %(authority)s records its accreditations.")
            % {"authority": Authority(authority).label}
        )
    if getattr(partner, "kind", None) != OrganizationKind.PARTNER:
        message = _("Only a foreign partner is accredited.")
        raise DomainError(message, code="invalid", fields={"partner": [message]})
    errors: dict[str, list] = {}
    number = clean(number or "")
    if not number:
        errors["number"] = [_("Give the accreditation number.")]
    elif len(number) > 60:
        errors["number"] = [_("At most %(limit)s characters.") % {"limit": 60}]
    if not valid_from:
        errors["valid_from"] = [_("Give the first day of validity.")]
    if not valid_until:
        errors["valid_until"] = [_("Give the last day of validity.")]
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = [_("The accreditation cannot end before it starts.")]
    countries = _scope(countries, country_error, "countries", errors)
    project_models = _scope(project_models, project_model_error, "project_models", errors)
    if errors:
        raise _invalid(errors)
    items = _document_items(documents)
    checked = [_check_document(file, "documents") for _title, file in items]
    saved: list[AccreditationDocument] = []
    try:
        with transaction.atomic():
            if Accreditation.objects.filter(authority=authority, number=number).exists():
                raise _number_taken(authority, number)
            accreditation = Accreditation.objects.create(
                partner=partner,
                authority=authority,
                number=number,
                countries=countries,
                project_models=project_models,
                valid_from=valid_from,
                valid_until=valid_until,
                status=AccreditationStatus.ACTIVE,
                status_changed_at=timezone.now(),
                recorded_by=actor,
            )
            audit.record(
                actor=actor,
                action="accreditation.record",
                subject=accreditation,
                organization=partner,
                changes=audit.diff({}, _accreditation_snapshot(accreditation)),
            )
            saved = _save_documents(actor=actor, accreditation=accreditation, items=items, checked=checked)
    except IntegrityError as error:
        for document in saved:
            document.file.delete(save=False)
        raise _number_taken(authority, number) from error
    except Exception:
        for document in saved:
            document.file.delete(save=False)
        raise
    return accreditation


def _number_taken(authority: str, number: str) -> DomainError:
    message = _("%(authority)s already has an accreditation numbered %(number)s.") % {
        "authority": Authority(authority).label,
        "number": number,
    }
    return DomainError(message, code="duplicate", fields={"number": [message]})


def _check_reason(reason: str, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        message = _("Give a reason: it is recorded and shown with the accreditation.")
        raise DomainError(message, code="reason_required", fields={"reason": [message]})
    if len(reason) > REASON_MAX_LENGTH:
        message = _("At most %(limit)s characters.") % {"limit": REASON_MAX_LENGTH}
        raise DomainError(message, code="invalid", fields={"reason": [message]})
    return reason


def _refuse_other_authority(actor, accreditation: Accreditation) -> None:
    if not permissions.can_change_accreditation(actor, accreditation):
        raise NotAllowed(
            _("Only an accreditation officer of %(authority)s changes its accreditations.")
            % {"authority": accreditation.get_authority_display()}
        )


def _change_status(
    *, actor, accreditation: Accreditation, action: str, sources, new_status: str, reason: str, **values
) -> Accreditation:
    """Moves the accreditation to `new_status` when its status (read under a row lock) is one of `sources`;
    Conflict otherwise. Writes the reason and the moment and records the audit event."""
    with transaction.atomic():
        accreditation = Accreditation.objects.select_for_update().select_related("partner").get(pk=accreditation.pk)
        if accreditation.status not in sources:
            raise Conflict(
                _("An accreditation that is “%(status)s” cannot be changed this way.")
                % {"status": accreditation.get_status_display()},
                code="invalid_transition",
            )
        before = _accreditation_snapshot(accreditation)
        accreditation.status = new_status
        accreditation.status_reason = reason
        accreditation.status_changed_at = timezone.now()
        for name, value in values.items():
            setattr(accreditation, name, value)
        accreditation.save()
        audit.record(
            actor=actor,
            action=f"accreditation.{action}",
            subject=accreditation,
            organization=accreditation.partner,
            changes=audit.diff(before, _accreditation_snapshot(accreditation)),
            reason=reason,
        )
    return accreditation


def accreditation_suspend(
    *,
    actor,
    accreditation: Accreditation,
    reason: str,
    suspended_on: dt.date | None = None,
    settlement_deadline: dt.date | None = None,
) -> Accreditation:
    """Suspends an active accreditation (from `suspended_on`, today by default). Until `settlement_deadline`,
    transfers that settle contracts signed before the suspension stay allowed (shafaf.partners.gate)."""
    _refuse_other_authority(actor, accreditation)
    reason = _check_reason(reason)
    suspended_on = suspended_on or timezone.localdate()
    if settlement_deadline is not None and settlement_deadline < suspended_on:
        message = _("The settlement deadline cannot come before the suspension.")
        raise DomainError(message, code="invalid", fields={"settlement_deadline": [message]})
    return _change_status(
        actor=actor,
        accreditation=accreditation,
        action="suspend",
        sources=(AccreditationStatus.ACTIVE,),
        new_status=AccreditationStatus.SUSPENDED,
        reason=reason,
        suspended_on=suspended_on,
        settlement_deadline=settlement_deadline,
    )


def accreditation_set_settlement_deadline(*, actor, accreditation: Accreditation, deadline: dt.date) -> Accreditation:
    """Sets (or moves) the settlement deadline of a suspended accreditation: its authority's officers or a
    ministry admin."""
    if not permissions.can_set_settlement_deadline(actor, accreditation):
        raise NotAllowed(_("Only the ministry sets the settlement deadline of a suspension."))
    if deadline is None:
        message = _("Give the settlement deadline.")
        raise DomainError(message, code="invalid", fields={"settlement_deadline": [message]})
    with transaction.atomic():
        accreditation = Accreditation.objects.select_for_update().select_related("partner").get(pk=accreditation.pk)
        if accreditation.status != AccreditationStatus.SUSPENDED:
            raise Conflict(_("Only a suspended accreditation has a settlement deadline."), code="invalid_transition")
        if deadline < accreditation.suspended_on:
            message = _("The settlement deadline cannot come before the suspension.")
            raise DomainError(message, code="invalid", fields={"settlement_deadline": [message]})
        before = _accreditation_snapshot(accreditation)
        accreditation.settlement_deadline = deadline
        accreditation.save(update_fields=["settlement_deadline"])
        changes = audit.diff(before, _accreditation_snapshot(accreditation))
        if changes:
            audit.record(
                actor=actor,
                action="accreditation.set_settlement_deadline",
                subject=accreditation,
                organization=accreditation.partner,
                changes=changes,
            )
    return accreditation


def accreditation_reinstate(*, actor, accreditation: Accreditation, reason: str) -> Accreditation:
    """A suspended accreditation becomes active again (refused once its validity has lapsed)."""
    _refuse_other_authority(actor, accreditation)
    reason = _check_reason(reason)
    if accreditation.valid_until < timezone.localdate():
        raise Conflict(
            _("This accreditation lapsed on %(date)s: record a new one instead.")
            % {"date": accreditation.valid_until.isoformat()},
            code="lapsed",
        )
    return _change_status(
        actor=actor,
        accreditation=accreditation,
        action="reinstate",
        sources=(AccreditationStatus.SUSPENDED,),
        new_status=AccreditationStatus.ACTIVE,
        reason=reason,
        suspended_on=None,
        settlement_deadline=None,
    )


def accreditation_revoke(*, actor, accreditation: Accreditation, reason: str) -> Accreditation:
    """Revokes an active, suspended or expired accreditation for good."""
    _refuse_other_authority(actor, accreditation)
    reason = _check_reason(reason)
    if accreditation.status == AccreditationStatus.REVOKED:
        raise Conflict(_("This accreditation is already revoked."), code="already_revoked")
    return _change_status(
        actor=actor,
        accreditation=accreditation,
        action="revoke",
        sources=(AccreditationStatus.ACTIVE, AccreditationStatus.SUSPENDED, AccreditationStatus.EXPIRED),
        new_status=AccreditationStatus.REVOKED,
        reason=reason,
        settlement_deadline=None,
    )


def accreditation_document_add(*, actor, accreditation: Accreditation, file, title: str = "") -> AccreditationDocument:
    """Attaches a PDF or an image to the accreditation (checked by content; its SHA-256 recorded)."""
    _refuse_other_authority(actor, accreditation)
    items = _document_items([((title or "").strip(), file)])
    checked = [_check_document(file)]
    saved: list[AccreditationDocument] = []
    try:
        with transaction.atomic():
            saved = _save_documents(actor=actor, accreditation=accreditation, items=items, checked=checked)
    except Exception:
        for document in saved:
            document.file.delete(save=False)
        raise
    return saved[0]


def accreditations_expire(*, today: dt.date | None = None) -> list[Accreditation]:
    """Active and suspended accreditations whose validity ended before `today` become expired (audited with no
    actor: the platform's nightly job). Returns them."""
    today = today or timezone.localdate()
    expired = []
    candidates = Accreditation.objects.filter(
        status__in=(AccreditationStatus.ACTIVE, AccreditationStatus.SUSPENDED), valid_until__lt=today
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            accreditation = Accreditation.objects.select_for_update().select_related("partner").get(pk=pk)
            if accreditation.status not in (AccreditationStatus.ACTIVE, AccreditationStatus.SUSPENDED):
                continue
            if accreditation.valid_until >= today:
                continue
            before = _accreditation_snapshot(accreditation)
            accreditation.status = AccreditationStatus.EXPIRED
            accreditation.status_reason = _("Lapsed on %(date)s.") % {"date": accreditation.valid_until.isoformat()}
            accreditation.status_changed_at = timezone.now()
            accreditation.settlement_deadline = None
            accreditation.save()
            audit.record(
                actor=None,
                action="accreditation.expire",
                subject=accreditation,
                organization=accreditation.partner,
                changes=audit.diff(before, _accreditation_snapshot(accreditation)),
                reason=accreditation.status_reason,
            )
            expired.append(accreditation)
    return expired


def expire_and_raise_alerts(*, today: dt.date | None = None) -> dict:
    """The nightly job: expires lapsed accreditations, then raises (or resolves) the alerts of the projects whose
    implementing partner was affected. Answers {"expired": [ids], "partners": [ids], "projects": [ids],
    "alerts": summary or None}."""
    from .selectors import projects_implemented_by

    expired = accreditations_expire(today=today)
    partner_ids = sorted({accreditation.partner_id for accreditation in expired})
    project_ids = projects_implemented_by(partner_ids) if partner_ids else []
    alerts = None
    if project_ids:
        from shafaf.projects.oversight.services import alerts_raise

        alerts = alerts_raise(today=today, project_ids=project_ids).as_dict()
    return {
        "expired": [accreditation.pk for accreditation in expired],
        "partners": partner_ids,
        "projects": project_ids,
        "alerts": alerts,
    }
