"""/api/v1/expenditures/: the expenditures of the projects the user may see, and recording one (multipart, with
its invoice or receipt). Amounts are strings of decimal major units with their currency, never floats; each
converted amount carries the rate used and that rate's date. The same service and FilterSet as the pages."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed
from shafaf.core.money import Money
from shafaf.projects.selectors import project_get

from . import expenditures, permissions
from . import selectors_expenditures as selectors
from .api import AMOUNT_HELP, _body, _body_object
from .expenditures import ENTERED_EVIDENCE
from .filters import ExpenditureFilter
from .models import Expenditure


class ExpenditureSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", min_value=1, max_value=2**63 - 1)
    line = serializers.IntegerField(
        source="line_id", min_value=1, max_value=2**63 - 1, help_text=_("One of the project's budget lines.")
    )
    line_code = serializers.CharField(source="line.code", read_only=True)
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)
    currency = serializers.CharField(max_length=3, min_length=3, help_text=_("ISO 4217 code of the amount."))
    project_amount = serializers.SerializerMethodField(help_text=_("The amount in the project's currency."))
    project_currency = serializers.CharField(source="project.currency", read_only=True)
    rate = serializers.CharField(
        read_only=True, help_text=_("Units of the project's currency per unit of the amount's; empty when the same.")
    )
    rate_date = serializers.DateField(read_only=True, allow_null=True, help_text=_("The date of the rate used."))
    evidence_kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in ENTERED_EVIDENCE])
    file = serializers.FileField(write_only=True, help_text=_("The invoice or receipt: PDF or image (multipart)."))
    document_url = serializers.SerializerMethodField()
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Expenditure
        fields = [
            "id",
            "project",
            "line",
            "line_code",
            "amount",
            "currency",
            "project_amount",
            "project_currency",
            "rate",
            "rate_date",
            "spent_on",
            "place",
            "reference",
            "description",
            "evidence_kind",
            "file",
            "sha256",
            "document_url",
            "source",
            "batch",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["id", "sha256", "source", "batch", "recorded_by", "recorded_at"]
        validators = []

    def to_representation(self, expenditure):
        data = super().to_representation(expenditure)
        data["amount"] = expenditure.amount.amount_text
        return data

    def get_project_amount(self, expenditure) -> str:
        return Money(int(expenditure.project_amount_minor), expenditure.project.currency).amount_text

    def get_document_url(self, expenditure) -> str | None:
        """Where a signed-in user who may see the expenditure downloads its evidence (null without one)."""
        if not expenditure.file:
            return None
        return reverse("finance:expenditure_download", args=[expenditure.project_id, expenditure.pk])


@extend_schema(tags=["finance"])
@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": ExpenditureSerializer},
        responses={201: ExpenditureSerializer},
        description=_(
            "Records an expenditure against one of the project's budget lines, with its invoice or receipt: the "
            "charity's administrators and finance officers or the implementing partner's reporters, while the "
            "project is licensed and running. The amount is converted to the project's currency at the ministry's "
            "rate of its date; without a rate it is refused (400, on `currency`). Refused on a line whose deviation "
            "the ministry rejected."
        ),
    ),
)
class ExpenditureViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Expenditures of the projects the user may see."""

    serializer_class = ExpenditureSerializer
    filterset_class = ExpenditureFilter
    ordering_fields = ["spent_on", "id"]
    ordering = ["-spent_on", "-id"]
    lookup_value_regex = "[0-9]+"
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.expenditure_list(self.request.user)

    def get_object(self):
        return selectors.expenditure_get(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        project = _body_object(
            lambda: project_get(request.user, _body(request).get("project")),
            "project",
            _("There is no such project, or you may not see it."),
        )
        if not permissions.may_record_expenditure(request.user, project):
            raise NotAllowed(
                _(
                    "Only the charity's administrators and finance officers, and the implementing partner's "
                    "reporters, record this project's expenditures."
                )
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expenditure = expenditures.expenditure_record(
            actor=request.user,
            project=project,
            line=data["line_id"],
            amount=data["amount"],
            currency=data["currency"],
            spent_on=data["spent_on"],
            evidence_kind=data["evidence_kind"],
            file=data["file"],
            reference=data.get("reference", ""),
            place=data.get("place", ""),
            description=data.get("description", ""),
        )
        expenditure = selectors.expenditure_get(request.user, expenditure.pk)
        return Response(self.get_serializer(expenditure).data, status=status.HTTP_201_CREATED)
