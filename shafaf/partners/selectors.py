"""Every read of partners and accreditations, already filtered to what the user may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from shafaf.accounts.choices import Authority, OrganizationKind
from shafaf.accounts.models import Organization
from shafaf.core.ids import pk_or_404

from . import permissions
from .choices import BLOCKING_HIT_STATUSES, AccreditationStatus, HitStatus
from .gate import partner_accreditation_status, partner_gate_status  # the rulebook reads it from here
from .models import Accreditation, AccreditationDocument, Officer, PartnerName, Screening, ScreeningHit

__all__ = [
    "accreditation_get",
    "accreditations_visible_to",
    "partner_accreditation_status",
    "partner_counts",
    "partner_gate_status",
    "partner_get",
    "partner_list",
    "partners_visible_to",
]


def partners_visible_to(user, queryset=None):
    """Partners (organisations of kind partner) the user may see: all of them for the ministry, the auditors,
    the accreditation officers and the charities; its own for a partner's reporter; none for anyone else."""
    queryset = Organization.objects.filter(kind=OrganizationKind.PARTNER) if queryset is None else queryset
    if user is None or not user.is_authenticated or not permissions.can_view_partner_list(user):
        return queryset.none()
    if permissions.sees_every_partner(user):
        return queryset
    return queryset.filter(pk__in=permissions.own_partner_ids(user))


def accredited_on(day: dt.date) -> Q:
    """Partners holding an active accreditation by both ministries valid on `day` (scope not considered)."""

    def held(authority):
        return Exists(
            Accreditation.objects.filter(
                partner=OuterRef("pk"),
                authority=authority,
                status=AccreditationStatus.ACTIVE,
                valid_from__lte=day,
                valid_until__gte=day,
            )
        )

    return Q(held(Authority.MOFA)) & Q(held(Authority.MOSA))


def with_flags(queryset, day: dt.date | None = None):
    """Each partner annotated with `is_accredited` (both ministries, today) and `blocking_hits` (open or
    confirmed screening hits) and `is_screened`, in one query."""
    day = day or timezone.localdate()
    return queryset.annotate(
        is_accredited=accredited_on(day),
        blocking_hits=Count(
            "screening_hits", filter=Q(screening_hits__status__in=BLOCKING_HIT_STATUSES), distinct=True
        ),
        is_screened=Exists(Screening.objects.filter(partner=OuterRef("pk"))),
    )


def partner_list(user, queryset=None):
    return with_flags(partners_visible_to(user, queryset).select_related("partner_profile")).order_by("name_en", "pk")


def partner_counts(queryset) -> dict:
    """How many partners the (filtered) list holds, how many are accredited today and how many are blocked by
    screening."""
    day = timezone.localdate()
    base = queryset.model.objects.filter(pk__in=queryset.values("pk"))
    return base.aggregate(
        total=Count("pk"),
        accredited=Count("pk", filter=accredited_on(day)),
        blocked=Count(
            "pk",
            filter=Q(Exists(ScreeningHit.objects.filter(partner=OuterRef("pk"), status__in=BLOCKING_HIT_STATUSES))),
        ),
    )


def partner_get(user, pk) -> Organization:
    """The partner, or Http404 when there is none or the user may not see it."""
    return get_object_or_404(partners_visible_to(user).select_related("partner_profile"), pk=pk_or_404(pk))


def partner_names(partner):
    return PartnerName.objects.filter(partner=partner).order_by("kind", "name")


def partner_addresses(partner):
    return partner.partner_addresses.order_by("id")


def partner_officers(partner, *, include_inactive: bool = True):
    officers = Officer.objects.filter(partner=partner)
    if not include_inactive:
        officers = officers.filter(is_active=True)
    return officers.order_by("-is_active", "role", "name_en", "id")


def officer_get(user, partner, pk) -> Officer:
    return get_object_or_404(Officer.objects.filter(partner=partner), pk=pk_or_404(pk))


def accreditations_visible_to(user, queryset=None):
    queryset = Accreditation.objects.all() if queryset is None else queryset
    return queryset.filter(partner__in=partners_visible_to(user))


def accreditation_list(user, queryset=None):
    return (
        accreditations_visible_to(user, queryset)
        .select_related("partner", "recorded_by")
        .prefetch_related("documents")
        .order_by("-recorded_at", "-id")
    )


def partner_accreditations(partner):
    return (
        Accreditation.objects.filter(partner=partner)
        .select_related("recorded_by")
        .prefetch_related("documents")
        .order_by("authority", "-valid_until", "-id")
    )


def accreditation_get(user, pk) -> Accreditation:
    return get_object_or_404(accreditations_visible_to(user).select_related("partner", "recorded_by"), pk=pk_or_404(pk))


def accreditation_document_get(user, accreditation, pk) -> AccreditationDocument:
    return get_object_or_404(accreditation.documents.all(), pk=pk_or_404(pk))


def screening_summary(partner) -> dict:
    """The partner's latest screening and the number of its hits by status (for the partner's page)."""
    latest = Screening.objects.filter(partner=partner).order_by("-screened_at", "-id").first()
    counts = dict(ScreeningHit.objects.filter(partner=partner).values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "latest": latest,
        "open": counts.get(HitStatus.OPEN, 0),
        "confirmed": counts.get(HitStatus.CONFIRMED, 0),
        "cleared": counts.get(HitStatus.CLEARED, 0),
    }


def projects_implemented_by(partner_ids) -> list[int]:
    """The ids of the projects whose implementing partner is one of these (for the alerts to raise)."""
    from shafaf.projects.models import Project

    return list(
        Project.objects.filter(implementing_partner_id__in=list(partner_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
