"""/api/v1/deviations/: budget deviations of the projects the user may see (the project's charity, the ministry,
auditors), with the charity's justification and the ministry's decision as actions. Amounts are strings of
decimal major units; a ratio is spent / budget with 4 decimals (null when the budget is zero)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed

from . import deviations, permissions, selectors_deviations
from .filters_deviations import DeviationFilter
from .models import Deviation


class DeviationSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", read_only=True)
    charity = serializers.IntegerField(source="project.charity_id", read_only=True)
    line = serializers.IntegerField(source="line_id", read_only=True, allow_null=True)
    line_code = serializers.SerializerMethodField()
    budget = serializers.SerializerMethodField(help_text=_("The budget of the line (or the total), major units."))
    spent = serializers.SerializerMethodField(help_text=_("The spending when last measured, major units."))
    ratio = serializers.SerializerMethodField(
        help_text=_('spent / budget with 4 decimals ("1.0734"); null when the budget is zero.')
    )
    approved_spent = serializers.SerializerMethodField()
    budget_version = serializers.IntegerField(source="budget_version.number", read_only=True)
    justified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Deviation
        fields = [
            "id",
            "project",
            "charity",
            "scope",
            "line",
            "line_code",
            "status",
            "currency",
            "budget",
            "spent",
            "ratio",
            "ratio_bp",
            "threshold_bp",
            "budget_version",
            "detected_at",
            "justification",
            "justified_by",
            "justified_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "approved_spent",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields

    def get_line_code(self, deviation) -> str | None:
        return deviation.line.code if deviation.line_id else None

    def _text(self, minor, currency) -> str:
        from shafaf.core.money import Money

        return Money(int(minor), currency).amount_text

    def get_budget(self, deviation) -> str:
        return self._text(deviation.budget_minor, deviation.currency)

    def get_spent(self, deviation) -> str:
        return self._text(deviation.spent_minor, deviation.currency)

    def get_ratio(self, deviation) -> str | None:
        value = deviations.ratio_decimal(deviation.spent_minor, deviation.budget_minor, 4)
        return None if value is None else format(value, "f")

    def get_approved_spent(self, deviation) -> str | None:
        if deviation.approved_spent_minor is None:
            return None
        return self._text(deviation.approved_spent_minor, deviation.currency)


class JustifySerializer(serializers.Serializer):
    text = serializers.CharField(
        min_length=deviations.MIN_JUSTIFICATION,
        max_length=5000,
        help_text=_("Why the spending passed the budget, at least 20 characters."),
    )


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[deviations.APPROVE, deviations.REJECT])
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text=_("Required when rejecting.")
    )


@extend_schema(tags=["finance"])
@extend_schema_view(
    justify=extend_schema(
        request=JustifySerializer,
        responses={200: DeviationSerializer},
        description=_(
            "The charity's written justification of an open or rejected deviation (its administrators and finance "
            "officers); the deviation then awaits the ministry's decision. 409 from any other state."
        ),
    ),
    decide=extend_schema(
        request=DecideSerializer,
        responses={200: DeviationSerializer},
        description=_(
            "The ministry's decision on a justified deviation (reviewers and administrators): approve, or reject with "
            "a note; a rejected deviation blocks spending on its line (every line for the total). 409 from any "
            "other state."
        ),
    ),
)
class DeviationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Budget deviations of the projects the user may see."""

    serializer_class = DeviationSerializer
    filterset_class = DeviationFilter
    ordering_fields = ["detected_at", "id"]
    ordering = ["-detected_at", "-id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors_deviations.deviation_list(self.request.user)

    def get_object(self):
        return selectors_deviations.deviation_get(self.request.user, self.kwargs["pk"])

    @action(detail=True, methods=["post"])
    def justify(self, request, pk=None):
        deviation = self.get_object()
        if not permissions.is_finance_officer(request.user, deviation.project):
            raise NotAllowed(_("Only the charity's administrators and finance officers justify its deviations."))
        body = JustifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deviation = deviations.deviation_justify(
            actor=request.user, deviation=deviation, text=body.validated_data["text"]
        )
        return Response(DeviationSerializer(self.get_object(), context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        deviation = self.get_object()
        if not permissions.can_decide_deviations(request.user):
            raise NotAllowed(_("Only the ministry's reviewers and administrators decide on deviations."))
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        deviations.deviation_decide(
            actor=request.user, deviation=deviation, decision=data["decision"], note=data.get("note", "")
        )
        return Response(DeviationSerializer(self.get_object(), context=self.get_serializer_context()).data)
