"""/api/v1/exchange-rates/: the ministry's exchange rates (KWD per one unit of a currency, exact decimal text),
filtered by currency and dates; the ministry's administrators POST one rate (an existing rate of that currency
and date is replaced when it differs, audited with the old and the new rate)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed

from . import permissions, rates_import, selectors_rates
from .filters import ExchangeRateFilter
from .models import ExchangeRate


class ExchangeRateSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(max_length=3, help_text=_("ISO 4217 code."))
    on_date = serializers.DateField(help_text=_("The date of the rate (YYYY-MM-DD)."))
    rate = serializers.CharField(
        max_length=40,
        help_text=_('Kuwaiti dinars per one unit of the currency: exact decimal text, at most 12 decimals ("0.3065").'),
    )
    source = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    entered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "on_date", "rate", "source", "entered_by", "entered_at"]
        read_only_fields = ["id", "entered_by", "entered_at"]
        validators = []  # an existing (currency, date) is replaced by the service, not refused

    def validate_currency(self, value):
        try:
            return rates_import.clean_currency(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error))

    def validate(self, data):
        try:
            rates_import.clean_rate(data.get("rate"), data.get("currency"))
        except ValueError as error:
            raise serializers.ValidationError({"rate": [str(error)]})
        return data


class _ReadersOnly:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not permissions.can_view_rates(request.user):
            raise NotAllowed(_("The exchange rates are read by the ministry, the auditors and the charities."))


@extend_schema(tags=["finance"])
@extend_schema_view(
    list=extend_schema(
        description=_(
            "The ministry's exchange rates, newest first within each currency; readable by the ministry, the "
            "auditors and the charities' members."
        )
    ),
    create=extend_schema(
        description=_(
            "Enters the ministry's rate of a currency on a date (ministry administrators only); an existing rate of "
            "that currency and date is replaced when it differs."
        ),
        responses={201: ExchangeRateSerializer},
    ),
)
class ExchangeRateViewSet(_ReadersOnly, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The ministry's exchange rates."""

    serializer_class = ExchangeRateSerializer
    filterset_class = ExchangeRateFilter
    ordering_fields = ["on_date", "currency", "id"]
    ordering = ["currency", "-on_date", "-id"]

    def get_queryset(self):
        return selectors_rates.rate_list()

    def create(self, request, *args, **kwargs):
        if not permissions.can_manage_rates(request.user):
            raise NotAllowed(_("Only the ministry's administrators keep the exchange rates."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rate = rates_import.rate_set(
            actor=request.user,
            currency=data["currency"],
            on_date=data["on_date"],
            rate=data["rate"],
            source=data.get("source", ""),
        )
        return Response(self.get_serializer(rate).data, status=status.HTTP_201_CREATED)
