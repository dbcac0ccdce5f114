"""A charity's grants to its implementing partners as a 360Giving 1.4.3 data package.

One grant per contract signed with the implementing partner of a published (licensed) project: awarded the
contract's amount on the day it was signed, disbursed the sum of the transfers made under it (each listed as a
disbursement transaction), for the project's planned dates, to the partner, from the charity. Donors never appear:
the package is built from the project, its contracts and disbursements only.

Amounts are written from integer minor units as exact decimals (`Decimal`, never a float), and every package is
validated against the official schema (with format checks) before it leaves the platform.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from shafaf.core.money import minor_digits
from shafaf.finance.models import Contract, Disbursement
from shafaf.interop import selectors
from shafaf.projects.codelists import COUNTRIES, SECTORS

from . import jsonexact
from .validation import VERSION, grant_schema, package_problems

SECTOR_VOCABULARY = "OECD DAC CRS purpose codes"


class GivingExportError(Exception):
    """The package does not validate against the 360Giving schema: nothing is published."""

    def __init__(self, problems: list[str], message: str = ""):
        self.problems = problems
        super().__init__(message or "; ".join(problems[:5]))


def decimal_amount(minor: int, currency: str) -> Decimal:
    """`minor` units of `currency` as an exact decimal with the currency's digits (1234500 KWD -> 1234.500)."""
    return Decimal(int(minor)).scaleb(-minor_digits(currency))


def org_identifier(organization) -> str:
    """The organisation's IATI/org-id identifier, or the platform's own for one that has none."""
    return organization.iati_org_id or f"XM-SHAFAF-{organization.slug}"


def grant_identifier(contract: Contract) -> str:
    return f"360G-shafaf-{contract.project.charity.slug}-{contract.project.reference}-{contract.pk}"


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _country_codes() -> frozenset[str]:
    location = grant_schema()["$defs"]["Location"]["properties"]["countryCode"]
    return frozenset(code for code in location.get("enum", []) if code)


def _grant(contract: Contract, *, base_url: str, data_source: str, countries: frozenset[str]) -> dict:
    project = contract.project
    charity = project.charity
    partner = contract.partner
    identifier = grant_identifier(contract)
    title = project.title_en or project.title_ar or project.reference
    description = project.description_en or project.description_ar or title
    disbursements = [item for item in contract.disbursements.all() if item.currency == contract.currency]
    moments = [project.updated_at, contract.registered_at, *(item.recorded_at for item in disbursements)]
    recipient = {"id": org_identifier(partner), "name": partner.name_en or partner.name_ar}
    if partner.country:
        recipient["addressCountry"] = COUNTRIES.label(partner.country, "en")
    grant = {
        "id": identifier,
        "title": title[:500],
        "description": description,
        "currency": contract.currency,
        "amountAwarded": decimal_amount(contract.amount_minor, contract.currency),
        "amountDisbursed": decimal_amount(sum(item.amount_minor for item in disbursements), contract.currency),
        "awardDate": contract.signed_on.isoformat(),
        "plannedDates": [{"startDate": project.planned_start.isoformat(), "endDate": project.planned_end.isoformat()}],
        "recipientOrganization": [recipient],
        "fundingOrganization": [{"id": org_identifier(charity), "name": charity.name_en or charity.name_ar}],
        "url": _absolute(base_url, reverse("donations:public_project", args=[project.reference])),
        "dateModified": max(moment for moment in moments if moment).astimezone(dt.UTC).isoformat(),
        "dataSource": data_source,
        "relatedActivity": [project.iati_identifier or f"{org_identifier(charity)}-{project.reference}"],
    }
    if project.country in countries:
        grant["beneficiaryLocation"] = [
            {"name": COUNTRIES.label(project.country, "en"), "countryCode": project.country}
        ]
    if project.sector:
        grant["classifications"] = [
            {"vocabulary": SECTOR_VOCABULARY, "code": project.sector, "title": SECTORS.label(project.sector, "en")}
        ]
    if disbursements:
        grant["disbursementTransaction"] = [
            {
                "id": f"{identifier}-D{item.pk}",
                "transactionDate": item.paid_on.isoformat(),
                "currency": item.currency,
                "value": decimal_amount(item.amount_minor, item.currency),
            }
            for item in sorted(disbursements, key=lambda item: (item.paid_on, item.pk))
        ]
    return grant


# Only what a grant is made of (fewer columns read and objects built for a charity with thousands of grants).
CONTRACT_FIELDS = (
    "project_id",
    "partner_id",
    "amount_minor",
    "currency",
    "signed_on",
    "registered_at",
    *(
        f"project__{name}"
        for name in (
            "reference",
            "charity_id",
            "title_ar",
            "title_en",
            "description_ar",
            "description_en",
            "sector",
            "country",
            "planned_start",
            "planned_end",
            "iati_identifier",
            "updated_at",
        )
    ),
    *(f"project__charity__{name}" for name in ("slug", "name_ar", "name_en", "iati_org_id")),
    *(f"partner__{name}" for name in ("slug", "name_ar", "name_en", "iati_org_id", "country")),
)


def grant_contracts(charity):
    """The contracts published as grants: those of the charity's published projects, in a stable order."""
    disbursements = Disbursement.objects.only("contract_id", "amount_minor", "currency", "paid_on", "recorded_at")
    return (
        Contract.objects.filter(project__in=selectors.published_projects(charity))
        .select_related("project", "project__charity", "partner")
        .only(*CONTRACT_FIELDS)
        .prefetch_related(Prefetch("disbursements", queryset=disbursements.order_by("paid_on", "pk")))
        .order_by("project__reference", "signed_on", "pk")
    )


def build_package(
    *, charity, base_url: str, progress: Callable[[int, int], None] | None = None, validate: bool = True
) -> dict:
    """The charity's 360Giving package (a dict; amounts are Decimals). Raises GivingExportError when the charity
    has no grant to publish (a package needs one) or when the package breaks the schema."""
    file_url = _absolute(base_url, reverse("interop:360giving", args=[charity.slug]))
    countries = _country_codes()
    contracts = grant_contracts(charity)
    total = contracts.count() if progress else 0
    grants = []
    for number, contract in enumerate(contracts.iterator(chunk_size=500), start=1):
        grants.append(_grant(contract, base_url=base_url, data_source=file_url, countries=countries))
        if progress and (number % 500 == 0 or number == total):
            progress(number, total)
    if not grants:
        raise GivingExportError(
            [], "The charity has no grant to publish: none of its licensed projects has a contract."
        )
    package = {
        "grants": grants,
        "version": VERSION,
        "title": f"{charity.name_en}: grants to implementing partners",
        "description": (
            f"Grants made by {charity.name_en} to the implementing partners of its licensed projects, "
            "published by the Shafaf platform."
        ),
        "identifier": f"shafaf-{charity.slug}-360giving",
        "modified": timezone.now().astimezone(dt.UTC).replace(microsecond=0).isoformat(),
        "publisher": {"name": charity.name_en or charity.name_ar, "identifier": org_identifier(charity)},
        "downloadURL": file_url,
        "accessURL": _absolute(base_url, reverse("interop:open-data")),
        "license": selectors.DATA_LICENCE["url"],
    }
    if validate:
        problems = package_problems(package)
        if problems:
            raise GivingExportError(problems)
    return package


def package_json(package: dict) -> str:
    return jsonexact.dumps(package, ensure_ascii=False, indent=1)
