"""/api/v1/donations/, donors/, allocations/, bank-accounts/, campaigns/.

Amounts are strings of decimal major units with their currency ({"amount": "25.125", "currency": "KWD"}), never
floats. ``POST /api/v1/donations/`` honours an ``Idempotency-Key`` header: the same key with the same body returns
the first result (the same status and body, with ``Idempotent-Replayed: true``); with another body it is refused
(422, code ``idempotency_key_reused``); a retry never records a second donation, even when two arrive at once."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import NotAllowed
from shafaf.projects.models import Project

from . import permissions, selectors, services
from .filters import AllocationFilter, BankAccountFilter, CampaignFilter, DonationFilter, DonorFilter
from .models import Allocation, BankAccount, Campaign, Channel, Donation, Donor, DonorKind, Purpose

AMOUNT_HELP = _('Decimal text in major units, with at most the currency\'s decimals: "25.125" for KWD.')
ID_MAX = 2**63 - 1
IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=str(
        _(
            "A unique key per donation (a UUID, say; at most 200 characters). Sending the same key and body again "
            "returns the first result; the same key with another body is refused with 422."
        )
    ),
)


def _id_field(help_text, *, required=True, **kwargs):
    return serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=required, allow_null=not required, help_text=help_text, **kwargs
    )


def _not_found(field: str):
    return ValidationError({field: [_("There is no such item, or you may not see it.")]})


def _charity_for(user, charity_id):
    """The charity named in the body, or the user's only charity when none is named."""
    allowed = permissions.charities_user_records_for(user)
    if charity_id is None:
        if len(allowed) != 1:
            raise ValidationError({"charity": [_("Name the charity (you record donations for several or none).")]})
        charity_id = next(iter(allowed))
    if charity_id not in allowed and not user.is_superuser:
        raise NotAllowed(_("You cannot record donations for this charity."))
    # The organisations of the user's memberships, loaded with its API token (shafaf.api.authentication).
    loaded = getattr(user, "_shafaf_organizations", None) or {}
    charity = loaded.get(charity_id)
    if charity is not None and charity.kind == "charity":
        return charity
    try:
        return Organization.objects.get(pk=charity_id, kind="charity")
    except Organization.DoesNotExist:
        raise _not_found("charity") from None


def _plain_text(value, max_length: int, *, blank: bool = False) -> bool:
    """Text a CharField keeps as it is: no surrounding space, printable (no NUL or lone surrogate), short enough."""
    return (
        type(value) is str
        and (blank or value != "")
        and len(value) <= max_length
        and value == value.strip()
        and value.isprintable()
    )


def _plain_id(value, *, required: bool) -> bool:
    return (type(value) is int and 1 <= value <= ID_MAX) or (value is None and not required)


def donation_input(data) -> dict | None:
    """The validated data of DonationSerializer for a plain JSON body — the common case, without building the
    serializer — or None when anything in it is not plain (then the serializer validates it and words the errors).
    Gives exactly what DonationSerializer(data=data).validated_data would."""
    if type(data) is not dict:
        return None
    get = data.get
    try:
        if not (
            _plain_id(get("donor"), required=True)
            and _plain_id(get("bank_account"), required=True)
            and _plain_text(get("amount"), 40)
            and _plain_text(get("currency"), 3)
            and type(get("channel")) is str
            and get("channel") in Channel.values
            and type(get("purpose")) is str
            and get("purpose") in Purpose.values
            and type(get("received_at")) is str
        ):
            return None
        validated = {
            "donor": data["donor"],
            "amount": data["amount"],
            "currency": data["currency"],
            "received_at": serializers.DateTimeField().run_validation(data["received_at"]),
            "channel": data["channel"],
            "bank_account": data["bank_account"],
            "purpose": data["purpose"],
            "channel_ref": get("channel_ref", ""),
        }
    except ValidationError:
        return None
    if not _plain_text(validated["channel_ref"], 100, blank=True):
        return None
    for name in ("charity", "project", "campaign"):
        if name in data:
            if not _plain_id(data[name], required=False):
                return None
            validated[name] = data[name]
    if "anonymous" in data:
        if type(data["anonymous"]) is not bool:
            return None
        validated["anonymous"] = data["anonymous"]
    return validated


def _get(queryset, pk, field):
    if pk is None:
        return None
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise _not_found(field) from None


# --- donations -----------------------------------------------------------------------------------------------------


class DonationSerializer(serializers.ModelSerializer):
    charity = _id_field(_("The receiving charity; yours when you belong to one."), required=False)
    donor = _id_field(_("A donor of the charity."))
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)
    currency = serializers.CharField(max_length=3, help_text=_("ISO 4217 code, the bank account's currency."))
    channel = serializers.ChoiceField(choices=Channel.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    bank_account = _id_field(_("The charity's ministry-approved bank account."))
    project = _id_field(_("The licensed project (purpose “project”)."), required=False)
    campaign = _id_field(_("The campaign (purpose “campaign”)."), required=False)
    channel_ref = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    corrects = serializers.IntegerField(source="corrects_id", read_only=True, allow_null=True)

    class Meta:
        model = Donation
        fields = [
            "id",
            "charity",
            "donor",
            "kind",
            "corrects",
            "amount",
            "currency",
            "received_at",
            "channel",
            "bank_account",
            "purpose",
            "project",
            "campaign",
            "anonymous",
            "channel_ref",
            "entered_at",
            "entered_late",
            "reason",
            "receipt_number",
            "receipt_signature",
        ]
        read_only_fields = [
            "id",
            "kind",
            "corrects",
            "entered_at",
            "entered_late",
            "reason",
            "receipt_number",
            "receipt_signature",
        ]
        validators = []  # the service keeps keys and channel references unique, with the idempotency rules

    def to_representation(self, donation):
        return {
            "id": donation.pk,
            "charity": donation.charity_id,
            "donor": donation.donor_id,
            "kind": donation.kind,
            "corrects": donation.corrects_id,
            "amount": donation.amount.amount_text,
            "currency": donation.currency,
            "received_at": serializers.DateTimeField().to_representation(donation.received_at),
            "channel": donation.channel,
            "bank_account": donation.bank_account_id,
            "purpose": donation.purpose,
            "project": donation.project_id,
            "campaign": donation.campaign_id,
            "anonymous": donation.anonymous,
            "channel_ref": donation.channel_ref,
            "entered_at": serializers.DateTimeField().to_representation(donation.entered_at),
            "entered_late": donation.entered_late,
            "reason": donation.reason,
            "receipt_number": donation.receipt_number,
            "receipt_signature": donation.receipt_signature,
        }


class AmountSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)
    reason = serializers.CharField(max_length=2000)


class CorrectionSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=40, help_text=_('The signed difference, e.g. "-1.500".'))
    reason = serializers.CharField(max_length=2000)


class PartSerializer(serializers.Serializer):
    project = _id_field(_("A licensed project of the charity."))
    amount = serializers.CharField(max_length=40, required=False, help_text=AMOUNT_HELP)
    share = serializers.IntegerField(min_value=0, max_value=10**9, required=False)


class AllocateSerializer(serializers.Serializer):
    parts = PartSerializer(
        many=True,
        help_text=_("Either every part has an amount, or every part has a share (largest remainder)."),
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate_parts(self, parts):
        if not parts:
            raise serializers.ValidationError(_("There is nothing to allocate to."))
        if len(parts) > 200:
            raise serializers.ValidationError(_("At most 200 parts."))
        with_amount = ["amount" in part for part in parts]
        with_share = ["share" in part for part in parts]
        if not (all(with_amount) and not any(with_share)) and not (all(with_share) and not any(with_amount)):
            raise serializers.ValidationError(_("Give every part an amount, or every part a share."))
        return parts


class AllocationSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()
    allocated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Allocation
        fields = ["id", "donation", "project", "amount", "currency", "allocated_by", "allocated_at", "reason"]
        read_only_fields = fields

    def get_amount(self, allocation) -> str:
        return allocation.amount.amount_text


@extend_schema(tags=["donations"])
@extend_schema_view(
    create=extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: DonationSerializer},
        description=str(__doc__),
    ),
    refund=extend_schema(request=AmountSerializer, responses={201: DonationSerializer}),
    correct=extend_schema(request=CorrectionSerializer, responses={201: DonationSerializer}),
    allocate=extend_schema(request=AllocateSerializer, responses={201: AllocationSerializer(many=True)}),
    allocations=extend_schema(request=None, responses=AllocationSerializer(many=True)),
)
class DonationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Donations, refunds and corrections the user may see (the charity its own; the ministry and auditors all;
    a donor account those of its donor records), the latest first."""

    serializer_class = DonationSerializer
    filterset_class = DonationFilter
    ordering_fields = ["received_at", "entered_at", "id"]
    ordering = ["-received_at", "-id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.donations_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        data = donation_input(request.data)
        if data is None:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        user = request.user
        charity = _charity_for(user, data.get("charity"))
        request_hash = services.request_fingerprint(dict(request.data.items())) if key else ""
        # One query: the donation already recorded with the key, and the charity's donor, bank account, project
        # and campaign named in the body (what donors_visible_to and bank_accounts_visible_to give a user who
        # records the charity's donations).
        replay, donor, bank_account, project, campaign = selectors.donation_lookups(
            charity_id=charity.pk,
            idempotency_key=key,
            donor_id=data["donor"],
            bank_account_id=data["bank_account"],
            project_id=data.get("project"),
            campaign_id=data.get("campaign"),
        )
        if replay is not None:
            # The same key and body give the first answer whatever changed since.
            return self._created(services.replay_of(replay, request_hash))
        for name, pk, found in (
            ("donor", data["donor"], donor),
            ("bank_account", data["bank_account"], bank_account),
            ("project", data.get("project"), project),
            ("campaign", data.get("campaign"), campaign),
        ):
            if pk is not None and found is None:
                raise _not_found(name)
            if found is not None:
                found.charity = charity  # the same charity (the look-up asked for it): no lazy query later
        donation = services.donation_record(
            actor=user,
            charity=charity,
            donor=donor,
            amount=data["amount"],
            currency=data["currency"],
            received_at=data["received_at"],
            channel=data["channel"],
            bank_account=bank_account,
            purpose=data["purpose"],
            project=project,
            campaign=campaign,
            anonymous=data.get("anonymous", False),
            idempotency_key=key,
            request_hash=request_hash,
            channel_ref=data.get("channel_ref", ""),
            replay_checked=bool(key),
        )
        return self._created(donation)

    def _created(self, donation):
        response = Response(self.get_serializer(donation).data, status=status.HTTP_201_CREATED)
        if getattr(donation, "replayed", False):
            response["Idempotent-Replayed"] = "true"
        return response

    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """A refund of (part of) the donation: a new negative entry. Audited."""
        donation = self.get_object()
        if not permissions.can_refund_donation(request.user, donation):
            raise NotAllowed(_("You cannot refund this charity's donations."))
        body = AmountSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = services.donation_refund(actor=request.user, donation=donation, **body.validated_data)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        """A correction of the donation's amount: a new entry of the signed difference. Audited."""
        donation = self.get_object()
        if not permissions.can_correct_donation(request.user, donation):
            raise NotAllowed(_("You cannot correct this charity's donations."))
        body = CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = services.donation_correct(actor=request.user, donation=donation, **body.validated_data)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        """Allocates a general or campaign donation to projects by amounts or by shares. Audited."""
        donation = self.get_object()
        if not permissions.can_allocate(request.user, donation):
            raise NotAllowed(_("You cannot allocate this charity's donations."))
        body = AllocateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        parts = body.validated_data["parts"]
        projects = Project.objects.filter(charity_id=donation.charity_id)
        rows = [(_get(projects, part["project"], "parts"), part) for part in parts]
        if "amount" in parts[0]:
            made = services.allocate(
                actor=request.user,
                donation=donation,
                parts=[(project, part["amount"]) for project, part in rows],
                reason=body.validated_data["reason"],
            )
        else:
            made = services.allocate(
                actor=request.user,
                donation=donation,
                shares=[(project, part["share"]) for project, part in rows],
                reason=body.validated_data["reason"],
            )
        return Response(AllocationSerializer(made, many=True).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def allocations(self, request, pk=None):
        """The donation's allocation entries, oldest first."""
        donation = self.get_object()
        return Response(AllocationSerializer(selectors.allocations_of(donation), many=True).data)


# --- donors --------------------------------------------------------------------------------------------------------


class DonorSerializer(serializers.ModelSerializer):
    charity = _id_field(_("The charity; yours when you belong to one."), required=False, source="charity_id")
    kind = serializers.ChoiceField(choices=DonorKind.choices, default=DonorKind.PERSON)
    has_account = serializers.SerializerMethodField()

    class Meta:
        model = Donor
        fields = [
            "id",
            "charity",
            "kind",
            "name_ar",
            "name_en",
            "email",
            "phone",
            "consent_to_contact",
            "show_name_publicly",
            "external_ref",
            "has_account",
            "created_at",
        ]
        read_only_fields = ["id", "has_account", "created_at"]
        validators = []

    def get_has_account(self, donor) -> bool:
        return donor.user_id is not None


class DonorUpdateSerializer(DonorSerializer):
    charity = serializers.IntegerField(source="charity_id", read_only=True)
    kind = serializers.ChoiceField(choices=DonorKind.choices, required=False)


@extend_schema(tags=["donations"])
@extend_schema_view(partial_update=extend_schema(request=DonorUpdateSerializer, responses=DonorSerializer))
class DonorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Donors the user may see: the charity its own, the ministry and auditors all, a donor account its own."""

    serializer_class = DonorSerializer
    filterset_class = DonorFilter
    ordering_fields = ["name_en", "created_at", "id"]
    ordering = ["name_en", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.donors_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        charity = _charity_for(request.user, data.pop("charity_id", None))
        donor = services.donor_create(actor=request.user, charity=charity, **data)
        return Response(self.get_serializer(donor).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        donor = self.get_object()
        if not permissions.can_edit_donor(request.user, donor):
            raise NotAllowed(_("You cannot edit this donor."))
        serializer = DonorUpdateSerializer(donor, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k in services.DONOR_FIELDS}
        donor = services.donor_update(actor=request.user, donor=donor, **data)
        return Response(self.get_serializer(donor).data)


# --- allocations, bank accounts, campaigns -------------------------------------------------------------------------


@extend_schema(tags=["donations"])
class AllocationViewSet(viewsets.ReadOnlyModelViewSet):
    """Allocation entries of the donations the user may see."""

    serializer_class = AllocationSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["allocated_at", "id"]
    ordering = ["-allocated_at", "-id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.allocations_visible_to(self.request.user).select_related("allocated_by")


class BankAccountSerializer(serializers.ModelSerializer):
    charity = _id_field(_("The charity; yours when you belong to one."), required=False, source="charity_id")
    is_approved = serializers.BooleanField(read_only=True)

    class Meta:
        model = BankAccount
        fields = ["id", "charity", "bank_name", "iban", "currency", "is_approved", "approved_at", "is_active"]
        read_only_fields = ["id", "is_approved", "approved_at", "is_active"]
        validators = []


@extend_schema(tags=["donations"])
@extend_schema_view(approve=extend_schema(request=None, responses=BankAccountSerializer))
class BankAccountViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The charities' bank accounts for donations: registered by a charity, approved by the ministry."""

    serializer_class = BankAccountSerializer
    filterset_class = BankAccountFilter
    ordering_fields = ["bank_name", "id"]
    ordering = ["charity", "bank_name", "id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.bank_accounts_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        charity = _charity_for(request.user, data.pop("charity_id", None))
        account = services.bank_account_register(actor=request.user, charity=charity, **data)
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The ministry approves the account to receive donations. Audited."""
        account = self.get_object()
        if not permissions.can_approve_bank_account(request.user, account):
            raise NotAllowed(_("Only the ministry approves the bank accounts that receive donations."))
        account = services.bank_account_approve(actor=request.user, account=account)
        return Response(self.get_serializer(account).data)


class CampaignSerializer(serializers.ModelSerializer):
    charity = _id_field(_("The charity; yours when you belong to one."), required=False, source="charity_id")

    class Meta:
        model = Campaign
        fields = ["id", "charity", "name_ar", "name_en", "licence_number", "starts_on", "ends_on"]
        read_only_fields = ["id"]


@extend_schema(tags=["donations"])
class CampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The charities' licensed fund-raising campaigns."""

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["starts_on", "id"]
    ordering = ["-starts_on", "id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.campaigns_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        requested = data.pop("charity_id", None)
        allowed = permissions.charities_user_manages_money_for(request.user)
        if requested is None and len(allowed) == 1:
            requested = next(iter(allowed))
        if requested is None or (requested not in allowed and not request.user.is_superuser):
            raise NotAllowed(_("You cannot create campaigns for this charity."))
        charity = Organization.objects.filter(pk=requested, kind="charity").first()
        if charity is None:
            raise _not_found("charity")
        campaign = services.campaign_create(actor=request.user, charity=charity, **data)
        return Response(self.get_serializer(campaign).data, status=status.HTTP_201_CREATED)


__all__ = [
    "AllocationViewSet",
    "BankAccountViewSet",
    "CampaignViewSet",
    "DonationViewSet",
    "DonorViewSet",
]
