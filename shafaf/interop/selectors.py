"""What the platform publishes as open data, and to whom: everything here is public, so every query is limited to
active charities and their published (licensed) projects; nothing about donors is read."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from shafaf.accounts.choices import OrganizationKind
from shafaf.accounts.models import Organization
from shafaf.projects.choices import LICENSED_STATUSES
from shafaf.projects.models import Project

DATA_LICENCE = {
    "name": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "code": "CC-BY-4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}


def publishing_charities() -> QuerySet[Organization]:
    """Active charities, each with the number of its published projects, of their contracts with implementing
    partners (one 360Giving grant each) and the last time one of those projects changed."""
    published = Q(projects__status__in=LICENSED_STATUSES)
    return (
        Organization.objects.filter(kind=OrganizationKind.CHARITY, is_active=True)
        .annotate(
            published_projects=Count("projects", filter=published, distinct=True),
            published_grants=Count("projects__contracts", filter=published, distinct=True),
            last_updated=Max("projects__updated_at", filter=published),
        )
        .order_by("name_en", "pk")
    )


def publishing_charity_get(slug: str) -> Organization:
    """An active charity by its slug, else Http404 (an inactive or unknown charity publishes nothing)."""
    charity = Organization.objects.filter(kind=OrganizationKind.CHARITY, is_active=True, slug=str(slug)).first()
    if charity is None:
        raise Http404
    return charity


def published_projects(charity: Organization) -> QuerySet[Project]:
    """The charity's projects that the ministry licensed (approved onward): the only ones published."""
    return Project.objects.filter(charity=charity, status__in=LICENSED_STATUSES).order_by("reference")


def published_checkpoints(limit: int = 5):
    """The audit chain's latest checkpoints (count, head hash, time): anyone holding one can later check that the
    history up to it was not rewritten. A checkpoint holds no event's content."""
    from shafaf.audit.models import AuditCheckpoint

    return list(AuditCheckpoint.objects.order_by("-count", "-id")[:limit])


def open_data_catalogue(*, absolute: Callable[[str], str]) -> dict:
    """What each active charity publishes, with absolute download addresses (`absolute(path)` makes one), the
    licence and the audit chain's published checkpoints. Built from public facts only: counts of licensed projects
    and of their partners' contracts, and the last time one of those projects changed."""
    from django.urls import reverse

    charities = []
    for charity in publishing_charities():
        files = {}
        if charity.published_projects:
            files["iati_activities"] = absolute(reverse("interop:iati-activities", args=[charity.slug]))
            files["iati_organisation"] = absolute(reverse("interop:iati-organisation", args=[charity.slug]))
        if charity.published_grants:
            files["giving_360"] = absolute(reverse("interop:360giving", args=[charity.slug]))
        charities.append(
            {
                "slug": charity.slug,
                "name_ar": charity.name_ar,
                "name_en": charity.name_en,
                "organisation_identifier": charity.iati_org_id or f"XM-SHAFAF-{charity.slug}",
                "published_projects": charity.published_projects,
                "published_grants": charity.published_grants,
                "last_updated": charity.last_updated,
                "iati_activities_url": files.get("iati_activities"),
                "iati_organisation_url": files.get("iati_organisation"),
                "giving_360_url": files.get("giving_360"),
            }
        )
    checkpoints = [
        {"count": item.count, "head_hash": item.head_hash, "created_at": item.created_at}
        for item in published_checkpoints()
    ]
    return {"licence": DATA_LICENCE, "charities": charities, "checkpoints": checkpoints}
