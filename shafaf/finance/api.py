"""/api/v1/contracts/ and /api/v1/disbursements/: the contracts signed with implementing partners and the
transfers under them, for the projects the user may see. Amounts are strings of decimal major units with their
currency ({"amount": "1250.500", "currency": "KWD"}), never floats. A refusal by the accreditation gate is a
409 whose `fields.partner` names every reason."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed
from shafaf.projects.selectors import project_get

from . import permissions, selectors, services
from .filters import ContractFilter, DisbursementFilter
from .models import Contract, Disbursement

AMOUNT_HELP = _('Decimal text in major units, with at most the currency\'s decimals: "1250.500" for KWD.')


class ContractSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", min_value=1, help_text=_("The licensed project."))
    partner = serializers.IntegerField(source="partner_id", read_only=True)
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)
    currency = serializers.CharField(
        max_length=3, required=False, help_text=_("ISO 4217 code; the project's currency when not given.")
    )
    file = serializers.FileField(
        write_only=True,
        required=False,
        help_text=_("The signed contract, PDF or image (multipart/form-data); it can also be uploaded later."),
    )
    disbursed = serializers.SerializerMethodField(help_text=_("Disbursed so far, in the contract's currency."))
    remaining = serializers.SerializerMethodField(help_text=_("What may still be disbursed under the contract."))
    has_document = serializers.BooleanField(read_only=True)
    document_url = serializers.SerializerMethodField()
    registered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "project",
            "partner",
            "number",
            "signed_on",
            "amount",
            "currency",
            "disbursed",
            "remaining",
            "file",
            "has_document",
            "sha256",
            "document_url",
            "registered_by",
            "registered_at",
        ]
        read_only_fields = ["id", "partner", "sha256", "registered_by", "registered_at"]
        validators = []  # the service checks the number's uniqueness, with a field error

    def to_representation(self, contract):
        data = super().to_representation(contract)
        data["amount"] = contract.amount.amount_text
        return data

    def get_disbursed(self, contract) -> str:
        return selectors.disbursed_total(contract).amount_text

    def get_remaining(self, contract) -> str:
        return selectors.contract_totals(contract).remaining.amount_text

    def get_document_url(self, contract) -> str | None:
        """Where a signed-in user who may see the contract downloads the signed copy (null until uploaded)."""
        if not contract.has_document:
            return None
        return reverse("finance:contract_download", args=[contract.project_id, contract.pk])


class ContractDocumentSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("The signed contract, PDF or image."))


class DisbursementSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="contract_id", min_value=1)
    project = serializers.IntegerField(source="project_id", read_only=True)
    partner = serializers.IntegerField(source="partner_id", read_only=True)
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)
    currency = serializers.CharField(read_only=True, help_text=_("The contract's currency."))
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Disbursement
        fields = [
            "id",
            "project",
            "contract",
            "partner",
            "amount",
            "currency",
            "paid_on",
            "reference",
            "is_settlement",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["id", "project", "partner", "currency", "is_settlement", "recorded_by", "recorded_at"]
        validators = []

    def to_representation(self, disbursement):
        data = super().to_representation(disbursement)
        data["amount"] = disbursement.amount.amount_text
        return data


def _body(request) -> dict:
    """The request's body as a mapping (a JSON list or scalar holds no field)."""
    return request.data if hasattr(request.data, "get") else {}


def _body_object(getter, field: str, message):
    """The object a request body names; a field error (not a missing URL) when it is unknown or unseen."""
    try:
        return getter()
    except Http404:
        raise ValidationError({field: [message]}) from None


@extend_schema(tags=["finance"])
@extend_schema_view(
    create=extend_schema(
        request={
            "application/json": ContractSerializer,
            "multipart/form-data": ContractSerializer,
        },
        responses={201: ContractSerializer},
        description=_(
            "Registers a contract with the project's implementing partner: the charity's administrators and "
            "finance officers, for a licensed project (approved or in execution). 409 when the accreditation gate "
            "refuses the partner on the signing date or today; `fields.partner` names each reason."
        ),
    ),
    document=extend_schema(
        request={"multipart/form-data": ContractDocumentSerializer},
        responses={200: ContractSerializer},
        description=_("Uploads the signed contract (PDF or image) of a contract registered without it; once only."),
    ),
)
class ContractViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Contracts with implementing partners, of the projects the user may see."""

    serializer_class = ContractSerializer
    filterset_class = ContractFilter
    ordering_fields = ["signed_on", "id"]
    ordering = ["-signed_on", "-id"]
    lookup_value_regex = "[0-9]+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.contract_list(self.request.user)

    def get_object(self):
        return selectors.contract_get(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        project = _body_object(
            lambda: project_get(request.user, _body(request).get("project")),
            "project",
            _("There is no such project, or you may not see it."),
        )
        if not permissions.is_finance_officer(request.user, project):
            raise NotAllowed(_("Only the charity's administrators and finance officers register contracts."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contract = services.contract_register(
            actor=request.user,
            project=project,
            number=data["number"],
            signed_on=data["signed_on"],
            amount=data["amount"],
            currency=data.get("currency"),
            file=data.get("file"),
        )
        contract = selectors.contract_get(request.user, contract.pk)
        return Response(self.get_serializer(contract).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def document(self, request, pk=None):
        contract = self.get_object()
        if not permissions.is_finance_officer(request.user, contract.project):
            raise NotAllowed(_("Only the charity's administrators and finance officers upload signed contracts."))
        body = ContractDocumentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.contract_attach_document(actor=request.user, contract=contract, file=body.validated_data["file"])
        contract = selectors.contract_get(request.user, contract.pk)
        return Response(ContractSerializer(contract, context=self.get_serializer_context()).data)


@extend_schema(tags=["finance"])
@extend_schema_view(
    create=extend_schema(
        description=_(
            "Records a transfer to the partner under a contract: the charity's administrators and finance "
            "officers, for a licensed project; never beyond the contract's amount. 409 when the accreditation gate "
            "refuses the partner on the payment date; a suspended partner is paid only to settle a contract signed "
            "before the suspension, with the signed contract uploaded, before the ministry's deadline."
        ),
        responses={201: DisbursementSerializer},
    ),
)
class DisbursementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Disbursements (transfers) to implementing partners, under the contracts the user may see."""

    serializer_class = DisbursementSerializer
    filterset_class = DisbursementFilter
    ordering_fields = ["paid_on", "id"]
    ordering = ["-paid_on", "-id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.disbursements_visible_to(self.request.user).select_related("recorded_by")

    def create(self, request, *args, **kwargs):
        contract = _body_object(
            lambda: selectors.contract_get(request.user, _body(request).get("contract")),
            "contract",
            _("There is no such contract, or you may not see it."),
        )
        if not permissions.is_finance_officer(request.user, contract.project):
            raise NotAllowed(_("Only the charity's administrators and finance officers record disbursements."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        disbursement = services.disbursement_record(
            actor=request.user,
            contract=contract,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data["reference"],
        )
        return Response(self.get_serializer(disbursement).data, status=status.HTTP_201_CREATED)
