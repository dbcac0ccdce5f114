"""The demo's foreign partners as the accreditation officers keep them: a registry record, a head and a
signatory, both ministries' accreditations, the UN sanctions list loaded, and everyone screened. A few
partners show what the gate refuses: one accredited by MoFA only, one suspended by MOSA with a settlement
deadline, and one whose director bears the name of a person on the UN list (an open hit for a reviewer).

Everything goes through the services, so the audit chain records it. Used by shafaf.projects.demo.seed."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

from shafaf.accounts.choices import Authority
from shafaf.accounts.models import Organization, User
from shafaf.core.exceptions import DomainError

from . import services
from .choices import OfficerRole, ScreeningTrigger

UN_LIST = Path("sanctions") / "un" / "UN_consolidated.xml"
VALID_FROM = dt.date(2025, 1, 1)
VALID_UNTIL = dt.date(2029, 12, 31)

# (Arabic, Latin) given names and family names for the partners' officers.
GIVEN = (
    ("سامي", "Sami"),
    ("ليلى", "Layla"),
    ("عمر", "Omar"),
    ("هدى", "Huda"),
    ("يوسف", "Yousef"),
    ("مريم", "Maryam"),
    ("خالد", "Khaled"),
    ("نور", "Nour"),
    ("طارق", "Tariq"),
    ("رنا", "Rana"),
    ("كريم", "Karim"),
    ("سلمى", "Salma"),
)
FAMILY = (
    ("حداد", "Haddad"),
    ("منصور", "Mansour"),
    ("عيسى", "Issa"),
    ("النجار", "Al-Najjar"),
    ("الخطيب", "Al-Khatib"),
    ("سليمان", "Suleiman"),
    ("داود", "Daoud"),
    ("جابر", "Jaber"),
    ("فرح", "Farah"),
    ("عوض", "Awad"),
)


def _person(rng: random.Random) -> tuple[str, str]:
    (given_ar, given_en), (family_ar, family_en) = rng.choice(GIVEN), rng.choice(FAMILY)
    return f"{given_ar} {family_ar}", f"{given_en} {family_en}"


def _registration(partner: Organization) -> tuple[str, str]:
    """The register and number from the partner's IATI organisation identifier (GB-CHC-202918), when the
    prefix is a known registration agency."""
    agencies = services.registration_agencies()
    ref = partner.iati_org_id or ""
    for cut in range(len(ref), 0, -1):
        if ref[cut - 1 : cut] == "-" and ref[: cut - 1] in agencies and ref[cut:]:
            return ref[: cut - 1], ref[cut:]
    return "", ""


def seed_partners(
    *,
    partners: list[Organization],
    load: dict[int, int],
    countries: dict[int, tuple[str, ...]],
    mofa_officer: User,
    mosa_officer: User,
    reviewer: User,
    data_dir: Path,
    rng: random.Random,
    say: Callable[[str], None],
    keep: set[int] = frozenset(),
) -> dict:
    """Registry records, officers and accreditations for `partners`; the UN list and the screening. `load` is
    the number of projects per partner: the partners that show a refusal are chosen among those with one or
    two projects, and never among `keep` (the demo partner reporter's)."""
    from .models import PartnerProfile

    summary = {"accredited": 0, "mofa_only": "", "suspended": "", "hit": "", "list": ""}
    for partner in partners:
        agency, number = _registration(partner)
        PartnerProfile.objects.get_or_create(
            organization=partner, defaults={"registration_agency": agency, "registration_number": number}
        )
        for role in (OfficerRole.HEAD, OfficerRole.SIGNATORY):
            name_ar, name_en = _person(rng)
            services.officer_add(
                actor=mofa_officer,
                partner=partner,
                role=role,
                name_ar=name_ar,
                name_en=name_en,
                nationality=partner.country or "",
                date_of_birth=dt.date(rng.randint(1955, 1990), rng.randint(1, 12), rng.randint(1, 28)),
            )
    small = [p for p in partners if 1 <= load.get(p.pk, 0) <= 2 and p.pk not in keep]
    rng.shuffle(small)
    mofa_only = small[0] if small else None
    suspended = small[1] if len(small) > 1 else None
    flagged = small[2] if len(small) > 2 else None
    for partner in partners:
        # MOSA limits the one suspended partner's accreditation to the countries it works in; the others
        # cover every country.
        scope = list(countries.get(partner.pk, ())) if partner is suspended else []
        for authority, officer in ((Authority.MOFA, mofa_officer), (Authority.MOSA, mosa_officer)):
            if partner is mofa_only and authority == Authority.MOSA:
                continue
            accreditation = services.accreditation_record(
                actor=officer,
                partner=partner,
                authority=authority,
                number=f"{authority}-{VALID_FROM.year}-{partner.pk:05d}",
                valid_from=VALID_FROM,
                valid_until=VALID_UNTIL,
                countries=scope,
            )
            if partner is suspended and authority == Authority.MOSA:
                services.accreditation_suspend(
                    actor=officer,
                    accreditation=accreditation,
                    reason="ملاحظات جوهرية في تقرير التدقيق المالي لعام 2025 بانتظار الرد.",
                    suspended_on=dt.date.today() - dt.timedelta(days=10),
                    settlement_deadline=dt.date.today() + dt.timedelta(days=50),
                )
        if partner is not mofa_only and partner is not suspended:
            summary["accredited"] += 1
    summary["mofa_only"] = mofa_only.name_en if mofa_only else ""
    summary["suspended"] = suspended.name_en if suspended else ""

    path = data_dir / UN_LIST
    if not path.is_file():
        say(f"partners: no UN list at {path}: nobody screened")
        return summary
    from .sanctions import sanctions_import
    from .screening import screen_all_partners, screen_partner

    version = sanctions_import(actor=mosa_officer, source="un", path_or_file=path, rescreen=False)
    published = (version.published or "")[:10] or f"{version.loaded_at:%Y-%m-%d}"
    summary["list"] = f"UN list of {published}: {version.entry_count} entries"
    say(f"partners: {summary['list']}")
    if flagged is not None:
        # A director who bears the Latin and Arabic name of a listed person (a name only: the reviewer decides).
        entries = version.entries.filter(entity_type="individual").exclude(names=[]).order_by("entry_id")
        listed = next((e for e in entries if any(n.get("kind") == "original_script" for n in e.names)), None)
        if listed is not None:
            original = next(n["text"] for n in listed.names if n.get("kind") == "original_script")
            try:
                services.officer_add(
                    actor=mofa_officer,
                    partner=flagged,
                    role=OfficerRole.DIRECTOR,
                    name_ar=original,
                    name_en=listed.primary_name.title(),
                    nationality=flagged.country or "",
                )
            except DomainError as error:
                say(f"partners: the flagged director was refused: {error.message}")
            else:
                screen_partner(actor=reviewer, partner=flagged, trigger=ScreeningTrigger.MANUAL)
                summary["hit"] = flagged.name_en
    screened = screen_all_partners(actor=None, trigger=ScreeningTrigger.LIST_UPDATE)
    say(f"partners: screened {screened}")
    return summary
