"""/api/v1/budget-versions/: the versions of the budgets of the projects the user may see, with their lines and
periods; POST saves a new version (the original, or a revision with its reason) through the same service as the
page. Money is {"amount": "1250.500", "currency": "KWD"}, the amount a string of major units, never a float."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed
from shafaf.core.money import Money
from shafaf.projects.selectors import project_get

from . import budgets, permissions, selectors_budgets
from .api import _body, _body_object
from .models import BudgetStatus, BudgetVersion, LineCategory

AMOUNT_HELP = _('Decimal text in major units of the project\'s currency: "1250.500" for KWD.')


class MoneySerializer(serializers.Serializer):
    amount = serializers.CharField(help_text=_("Decimal text in major units."))
    currency = serializers.CharField(help_text=_("ISO 4217 code."))


def _money(minor: int, currency: str) -> dict:
    return Money(int(minor), currency).to_dict()


class LineInSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text=_("Empty: the next number.")
    )
    category = serializers.ChoiceField(choices=LineCategory.choices)
    name_ar = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)


class PeriodInSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    amount = serializers.CharField(max_length=40, help_text=AMOUNT_HELP)


class LineOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    category = serializers.CharField()
    name_ar = serializers.CharField()
    name_en = serializers.CharField()
    amount = MoneySerializer()


class PeriodOutSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    amount = MoneySerializer()


class BudgetVersionSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", min_value=1)
    lines = LineInSerializer(many=True, write_only=True, help_text=_("Every line the version keeps."))
    periods = PeriodInSerializer(many=True, write_only=True, required=False)
    status = serializers.ChoiceField(choices=BudgetStatus.choices, required=False, default=BudgetStatus.INDICATIVE)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    total = serializers.SerializerMethodField()
    admin = serializers.SerializerMethodField()
    line_amounts = serializers.SerializerMethodField()
    period_amounts = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = BudgetVersion
        fields = [
            "id",
            "project",
            "number",
            "kind",
            "status",
            "reason",
            "currency",
            "total",
            "admin",
            "lines",
            "periods",
            "line_amounts",
            "period_amounts",
            "source",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "number", "kind", "currency", "source", "created_by", "created_at"]

    def get_total(self, version) -> MoneySerializer:
        return _money(version.total_minor, version.currency)

    def get_admin(self, version) -> MoneySerializer:
        return _money(version.admin_minor, version.currency)

    @extend_schema_field(LineOutSerializer(many=True))
    def get_line_amounts(self, version) -> list:
        """The lines with their amount in this version (0 for a line it leaves out), by code."""
        rows = sorted(version.line_amounts.all(), key=lambda row: (len(row.line.code), row.line.code))
        return [
            {
                "code": row.line.code,
                "category": row.line.category,
                "name_ar": row.line.name_ar,
                "name_en": row.line.name_en,
                "amount": _money(row.amount_minor, version.currency),
            }
            for row in rows
        ]

    @extend_schema_field(PeriodOutSerializer(many=True))
    def get_period_amounts(self, version) -> list:
        return [
            {"start": period.start, "end": period.end, "amount": _money(period.amount_minor, version.currency)}
            for period in sorted(version.periods.all(), key=lambda period: period.start)
        ]


@extend_schema(tags=["finance"])
@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("project", int, description=_("Only this project's versions."))],
    ),
    create=extend_schema(
        responses={201: BudgetVersionSerializer},
        description=_(
            "Saves a new version of a project's budget: the original (while the project is a draft or back for "
            "changes) or a revision (with its reason; also while the project is licensed and running), by the "
            "charity's administrators and finance officers. Bad amounts are field errors named "
            "`lines-<i>-amount`; nothing is saved then."
        ),
    ),
)
class BudgetVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The versions of the budgets of the projects the user may see, newest first."""

    serializer_class = BudgetVersionSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        queryset = selectors_budgets.budget_versions(self.request.user)
        project = self.request.query_params.get("project") if self.action == "list" else None
        if project is not None:
            try:
                queryset = queryset.filter(project_id=int(project))
            except (TypeError, ValueError):
                queryset = queryset.none()
        return queryset

    def get_object(self):
        return selectors_budgets.budget_version_get(self.request.user, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        project = _body_object(
            lambda: project_get(request.user, _body(request).get("project")),
            "project",
            _("There is no such project, or you may not see it."),
        )
        if not permissions.is_finance_officer(request.user, project):
            raise NotAllowed(_("Only the charity's administrators and finance officers enter the project's budget."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = budgets.budget_version_create(
            actor=request.user,
            project=project,
            lines=[dict(line) for line in data["lines"]],
            periods=[dict(period) for period in data.get("periods") or []],
            status=data.get("status") or BudgetStatus.INDICATIVE,
            reason=data.get("reason") or "",
        )
        version = selectors_budgets.budget_version_get(request.user, version.pk)
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)
