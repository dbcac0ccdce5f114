"""What each user may see of donors, donations and allocations.

The receiving charity sees its own (every member); the ministry and auditors see all; a donor account sees the
donations of the donor records linked to it (never another donor's); nobody else sees anything."""

from __future__ import annotations

from django.db.models import Q, Sum
from django.http import Http404

from shafaf.accounts.permissions import has_oversight

from .models import Allocation, BankAccount, Campaign, Donation, DonationImport, Donor
from .permissions import charities_user_records_for


def _charity_filter(user, field: str) -> Q | None:
    """None: everything (oversight); otherwise the Q of what the user's charities own."""
    if has_oversight(user) or user.is_superuser:
        return None
    return Q(**{f"{field}__in": charities_user_records_for(user)})


def donations_visible_to(user, queryset=None):
    queryset = Donation.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(donor__user=user))


def donation_get(user, pk) -> Donation:
    """The donation, if the user may see it (404 otherwise, so that its existence does not leak)."""
    try:
        return donations_visible_to(user).select_related("charity", "donor", "project", "campaign").get(pk=pk)
    except (Donation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def donor_accounts_donations(user):
    """The donations of the donor records linked to this account (the donor portal)."""
    if not user.is_authenticated:
        return Donation.objects.none()
    return Donation.objects.filter(donor__user=user).select_related("charity", "project", "campaign")


def donors_visible_to(user, queryset=None):
    queryset = Donor.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(user=user))


def donor_get(user, pk) -> Donor:
    try:
        return donors_visible_to(user).select_related("charity").get(pk=pk)
    except (Donor.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def allocations_visible_to(user, queryset=None):
    queryset = Allocation.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "donation__charity_id")
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(donation__donor__user=user))


def allocations_of(donation):
    """The allocation entries of one donation, oldest first (callers check the donation is visible)."""
    return Allocation.objects.filter(donation=donation).select_related("project").order_by("allocated_at", "id")


def allocation_totals_of(donation) -> list[dict]:
    """Per project: {"project_id", "total"} (minor units), net of taken-back entries, non-zero only."""
    rows = (
        Allocation.objects.filter(donation=donation)
        .values("project_id")
        .annotate(total=Sum("amount_minor"))
        .order_by("project_id")
    )
    return [row for row in rows if row["total"]]


def bank_accounts_visible_to(user, queryset=None):
    """A charity's bank accounts: its members, the ministry and auditors (donors do not see them)."""
    queryset = BankAccount.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    return queryset if condition is None else queryset.filter(condition)


def campaigns_visible_to(user, queryset=None):
    queryset = Campaign.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    return queryset if condition is None else queryset.filter(condition)


def imports_visible_to(user, queryset=None):
    queryset = DonationImport.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    return queryset if condition is None else queryset.filter(condition)
