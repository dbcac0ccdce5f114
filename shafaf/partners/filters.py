"""One FilterSet per list, shared by the pages and the API."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import Authority
from shafaf.accounts.models import Organization
from shafaf.core.filters import IdFilter, StyledFilterSet

from .choices import BLOCKING_HIT_STATUSES, AccreditationStatus, HitStatus
from .models import Accreditation, PartnerName, Screening, ScreeningHit
from .selectors import accredited_on


class ScreeningState:
    CLEAR = "clear"
    OPEN = "open"
    CONFIRMED = "confirmed"
    NOT_SCREENED = "not_screened"
    CHOICES = (
        (CLEAR, _("Screened, no standing hit")),
        (OPEN, _("Open hit awaiting a decision")),
        (CONFIRMED, _("Confirmed hit")),
        (NOT_SCREENED, _("Not screened yet")),
    )


YES_NO = (("yes", _("Yes")), ("no", _("No")))


class PartnerFilter(StyledFilterSet):
    q = django_filters.CharFilter(label=_("Name (Arabic or Latin script)"), method="search", max_length=200)
    country = django_filters.CharFilter(label=_("Country code"), method="filter_country", max_length=2)
    accredited = django_filters.ChoiceFilter(
        label=_("Accredited today by both ministries"), choices=YES_NO, method="filter_accredited"
    )
    screening = django_filters.ChoiceFilter(
        label=_("Screening"), choices=ScreeningState.CHOICES, method="filter_screening"
    )

    class Meta:
        model = Organization
        fields = ["q", "country", "accredited", "screening"]

    def search(self, queryset, name, value):
        value = " ".join((value or "").split())
        if not value:
            return queryset
        aliases = PartnerName.objects.filter(partner=OuterRef("pk"), name__icontains=value)
        return queryset.filter(
            Q(name_ar__icontains=value)
            | Q(name_en__icontains=value)
            | Q(partner_profile__registration_number__icontains=value)
            | Q(Exists(aliases))
        )

    def filter_country(self, queryset, name, value):
        value = (value or "").strip().upper()
        return queryset.filter(country=value) if value else queryset

    def filter_accredited(self, queryset, name, value):
        condition = accredited_on(timezone.localdate())
        if value == "yes":
            return queryset.filter(condition)
        if value == "no":
            return queryset.exclude(condition)
        return queryset

    def filter_screening(self, queryset, name, value):
        def hits(*statuses):
            return Exists(ScreeningHit.objects.filter(partner=OuterRef("pk"), status__in=statuses))

        screened = Exists(Screening.objects.filter(partner=OuterRef("pk")))
        if value == ScreeningState.OPEN:
            return queryset.filter(hits(HitStatus.OPEN))
        if value == ScreeningState.CONFIRMED:
            return queryset.filter(hits(HitStatus.CONFIRMED))
        if value == ScreeningState.NOT_SCREENED:
            return queryset.exclude(screened)
        if value == ScreeningState.CLEAR:
            return queryset.filter(screened).exclude(hits(*BLOCKING_HIT_STATUSES))
        return queryset


class AccreditationFilter(StyledFilterSet):
    partner = IdFilter(field_name="partner_id", label=_("Partner"))
    authority = django_filters.ChoiceFilter(label=_("Ministry"), choices=Authority.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AccreditationStatus.choices)

    class Meta:
        model = Accreditation
        fields = ["partner", "authority", "status"]
