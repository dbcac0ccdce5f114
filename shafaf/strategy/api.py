"""/api/v1/plans/, /api/v1/objectives/ and /api/v1/indicators/: the ministry's and the charities' strategic plans
with their versions, their objectives (each with the projects the user sees behind it, their money per currency
and the objective's indicators) and indicators (definition, unit, direction, roll-up rule, baseline, targets and,
on an indicator's own page, its roll-up per period).

Values are decimal text in the indicator's unit ("1250.5"), never floats; money is integer minor units with its
currency. Writes go through shafaf.strategy.services: a refused rule is a 400 naming the field, a version that is
not a draft a 409, what the user may see but not change a 403, and what it may not see a 404."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from shafaf.accounts.models import Organization
from shafaf.core.filters import IdFilter
from shafaf.projects.selectors import project_get

from . import selectors, services
from .choices import Aggregation, Direction, ObjectiveKind, Unit, VersionStatus
from .models import Indicator, IndicatorTarget, Objective, Plan, PlanVersion
from .values import value_text

VALUE_HELP = _('Decimal text in the indicator\'s unit, at most three decimals: "1250.5".')
ROLLUP_RULE = _(
    "For a period, each contributing indicator's value is its own values whose period ends within the period, "
    "combined by its own "
    "rule; the contributors' values are then combined by this indicator's rule (sum; average, rounded half-even "
    "to a thousandth; latest: the contributor reported last). Only values of accepted reports count as actual; "
    "values of submitted or returned reports are pending."
)


def _body(request) -> dict:
    return request.data if hasattr(request.data, "get") else {}


def _resolve(getter, value, field: str, message):
    """The object a request body names; a field error (not a missing URL) when it is unknown or unseen."""
    if value in (None, ""):
        return None
    try:
        return getter(value)
    except Http404:
        raise ValidationError({field: [message]}) from None


NOT_FOUND = _("There is no such object, or you may not see it.")
MAX_ID = 2**63 - 1  # a database id: anything larger names no row


# --- serializers ---------------------------------------------------------------------------------------------------


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanVersion
        fields = [
            "id",
            "number",
            "status",
            "period_start",
            "period_end",
            "note",
            "based_on",
            "created_at",
            "published_at",
            "superseded_at",
        ]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    organization = serializers.IntegerField(source="organization_id", min_value=1, max_value=MAX_ID)
    organization_name = serializers.SerializerMethodField()
    is_ministry_plan = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()
    version_in_force = serializers.SerializerMethodField()
    period_start = serializers.DateField(write_only=True, help_text=_("The first version's period."))
    period_end = serializers.DateField(write_only=True)
    note = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=4000)

    class Meta:
        model = Plan
        fields = [
            "id",
            "organization",
            "organization_name",
            "is_ministry_plan",
            "code",
            "name_ar",
            "name_en",
            "versions",
            "version_in_force",
            "period_start",
            "period_end",
            "note",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        validators = []  # the service checks the code's uniqueness, with a field error

    def get_organization_name(self, plan) -> str:
        return plan.organization.display_name()

    def get_is_ministry_plan(self, plan) -> bool:
        return plan.organization.kind == "authority"

    @extend_schema_field(VersionSerializer(many=True))
    def get_versions(self, plan):
        versions = sorted(plan.versions.all(), key=lambda v: -v.number)
        return VersionSerializer(versions, many=True).data

    def get_version_in_force(self, plan) -> int | None:
        return next((v.pk for v in plan.versions.all() if v.status == VersionStatus.PUBLISHED), None)


class NewDraftSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class PublishSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("The draft version to put in force."))


class ObjectiveMoneySerializer(serializers.Serializer):
    currency = serializers.CharField()
    budget_minor = serializers.IntegerField()
    disbursed_minor = serializers.IntegerField()
    spent_minor = serializers.IntegerField()
    projects = serializers.IntegerField()


class LinkedProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    charity = serializers.IntegerField()
    charity_name = serializers.CharField()


class IndicatorBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    aggregation = serializers.CharField()


class ObjectiveSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version_id", min_value=1, max_value=MAX_ID)
    plan = serializers.IntegerField(source="version.plan_id", read_only=True)
    version_status = serializers.CharField(source="version.status", read_only=True)
    parent = serializers.IntegerField(
        source="parent_id", min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    maps_to = serializers.IntegerField(
        source="maps_to_id",
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text=_("An objective of the ministry's plan in force that this one serves."),
    )
    origin = serializers.IntegerField(source="origin_id", read_only=True, allow_null=True)
    sdg_goal = serializers.IntegerField(min_value=1, max_value=17, required=False, allow_null=True)
    position = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    projects = serializers.SerializerMethodField(help_text=_("The projects you may see that serve this objective."))
    money = serializers.SerializerMethodField(help_text=_("Those projects' money, one row per currency."))
    indicators = serializers.SerializerMethodField()

    class Meta:
        model = Objective
        fields = [
            "id",
            "version",
            "plan",
            "version_status",
            "parent",
            "kind",
            "code",
            "title_ar",
            "title_en",
            "description_ar",
            "description_en",
            "position",
            "sdg_goal",
            "maps_to",
            "origin",
            "projects",
            "money",
            "indicators",
        ]
        read_only_fields = ["id", "plan", "version_status", "origin"]
        validators = []

    def _summary(self, objective) -> dict:
        summaries = self.context.setdefault("summaries", {})
        if objective.pk not in summaries:
            summaries.update(selectors.objectives_summary(self.context["request"].user, [objective]))
        return summaries[objective.pk]

    @extend_schema_field(LinkedProjectSerializer(many=True))
    def get_projects(self, objective):
        return [
            {
                "id": p.pk,
                "reference": p.reference,
                "title": p.title(),
                "charity": p.charity_id,
                "charity_name": p.charity.display_name(),
            }
            for p in self._summary(objective)["projects"]
        ]

    @extend_schema_field(ObjectiveMoneySerializer(many=True))
    def get_money(self, objective):
        return self._summary(objective)["money"]

    @extend_schema_field(IndicatorBriefSerializer(many=True))
    def get_indicators(self, objective):
        return [
            {"id": i.pk, "code": i.code, "name": i.name(), "unit": i.unit, "aggregation": i.aggregation}
            for i in sorted(objective.indicators.all(), key=lambda i: (i.code, i.pk))
        ]


class ObjectiveUpdateSerializer(ObjectiveSerializer):
    version = serializers.IntegerField(source="version_id", read_only=True)


class LinkSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    objectives = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=True, max_length=200
    )


class TargetSerializer(serializers.ModelSerializer):
    value = serializers.CharField(source="value_milli", max_length=40, help_text=VALUE_HELP)

    class Meta:
        model = IndicatorTarget
        fields = ["id", "period_start", "period_end", "value"]
        read_only_fields = ["id"]

    def to_representation(self, target):
        data = super().to_representation(target)
        data["value"] = value_text(target.value_milli)
        return data


class PeriodSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    target = serializers.CharField(allow_null=True)
    actual = serializers.CharField(allow_null=True, help_text=_("From accepted reports."))
    pending = serializers.CharField(allow_null=True, help_text=_("From reports not accepted yet."))
    contributors = serializers.IntegerField(help_text=_("Project indicators with an accepted value."))
    percent_bp = serializers.IntegerField(allow_null=True, help_text=_("Share of the target reached, basis points."))


class IndicatorSerializer(serializers.ModelSerializer):
    objective = serializers.IntegerField(
        source="objective_id", min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    project = serializers.IntegerField(
        source="project_id", min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    feeds = serializers.IntegerField(
        source="feeds_id",
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text=_("The objective's indicator this one rolls up into (same unit)."),
    )
    baseline = serializers.CharField(
        max_length=40, required=False, allow_blank=True, allow_null=True, help_text=VALUE_HELP
    )
    unit = serializers.ChoiceField(choices=Unit.choices)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    aggregation = serializers.ChoiceField(choices=Aggregation.choices, required=False, help_text=ROLLUP_RULE)
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "objective",
            "project",
            "code",
            "name_ar",
            "name_en",
            "definition_ar",
            "definition_en",
            "unit",
            "direction",
            "aggregation",
            "baseline",
            "baseline_date",
            "feeds",
            "targets",
        ]
        read_only_fields = ["id"]
        validators = []

    def to_representation(self, indicator):
        data = super().to_representation(indicator)
        data["baseline"] = value_text(indicator.baseline_milli) if indicator.baseline_milli is not None else None
        return data


class IndicatorDetailSerializer(IndicatorSerializer):
    rollup = serializers.SerializerMethodField(help_text=ROLLUP_RULE)

    class Meta(IndicatorSerializer.Meta):
        fields = [*IndicatorSerializer.Meta.fields, "rollup"]

    @extend_schema_field(PeriodSerializer(many=True))
    def get_rollup(self, indicator):
        return [
            {
                "period_start": row.period_start,
                "period_end": row.period_end,
                "target": value_text(row.target_milli) if row.target_milli is not None else None,
                "actual": value_text(row.actual_milli) if row.actual_milli is not None else None,
                "pending": value_text(row.pending_milli) if row.pending_milli is not None else None,
                "contributors": row.contributors,
                "percent_bp": row.percent_bp,
            }
            for row in selectors.indicator_rollup(indicator)
        ]


class IndicatorUpdateSerializer(IndicatorSerializer):
    objective = serializers.IntegerField(source="objective_id", read_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)


# --- filters -------------------------------------------------------------------------------------------------------


class PlanFilter(django_filters.FilterSet):
    organization = IdFilter(field_name="organization_id", label=_("organisation"))

    class Meta:
        model = Plan
        fields = ["organization"]


class ObjectiveFilter(django_filters.FilterSet):
    version = IdFilter(field_name="version_id", label=_("plan version"))
    plan = IdFilter(field_name="version__plan_id", label=_("plan"))
    parent = IdFilter(field_name="parent_id", label=_("part of"))
    maps_to = IdFilter(field_name="maps_to_id", label=_("serves the objective"))
    kind = django_filters.ChoiceFilter(choices=ObjectiveKind.choices, label=_("kind"))
    in_force = django_filters.BooleanFilter(method="filter_in_force", label=_("of versions in force"))

    class Meta:
        model = Objective
        fields = ["version", "plan", "parent", "maps_to", "kind", "in_force"]

    def filter_in_force(self, queryset, name, value):
        if value is None:
            return queryset
        condition = {"version__status": VersionStatus.PUBLISHED}
        return queryset.filter(**condition) if value else queryset.exclude(**condition)


class IndicatorFilter(django_filters.FilterSet):
    objective = IdFilter(field_name="objective_id", label=_("objective"))
    project = IdFilter(field_name="project_id", label=_("project"))
    feeds = IdFilter(field_name="feeds_id", label=_("feeds the indicator"))
    unit = django_filters.ChoiceFilter(choices=Unit.choices, label=_("unit"))

    class Meta:
        model = Indicator
        fields = ["objective", "project", "feeds", "unit"]


# --- viewsets ------------------------------------------------------------------------------------------------------


@extend_schema(tags=["strategy"])
@extend_schema_view(
    new_draft=extend_schema(request=NewDraftSerializer, responses={201: VersionSerializer}),
    publish=extend_schema(request=PublishSerializer, responses=VersionSerializer),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Strategic plans: the ministry's (every member of an organisation and donors read them) and each
    charity's (its members, the ministry and auditors), with their versions."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["code", "id"]
    ordering = ["organization_id", "code"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            selectors.plans_visible_to(self.request.user)
            .select_related("organization")
            .prefetch_related("versions")
            .order_by("organization_id", "code")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = Organization.objects.filter(pk=data.pop("organization_id"), is_active=True).first()
        if organization is None:
            raise ValidationError({"organization": [NOT_FOUND]})
        plan = services.plan_create(actor=request.user, organization=organization, **data)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], url_path="new-draft", url_name="new-draft")
    def new_draft(self, request, pk=None):
        """A new draft version copying the version in force (objectives, indicators, targets). Audited."""
        plan = self.get_object()
        serializer = NewDraftSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        version = services.version_new_draft(actor=request.user, plan=plan, note=serializer.validated_data["note"])
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Puts the plan's draft version in force; the version in force before it is superseded. Audited."""
        plan = self.get_object()
        serializer = PublishSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        version = plan.versions.filter(pk=serializer.validated_data["version"]).first()
        if version is None:
            raise ValidationError({"version": [_("This plan has no such version.")]})
        version = services.version_publish(actor=request.user, version=version)
        return Response(VersionSerializer(version).data)


@extend_schema(tags=["strategy"])
@extend_schema_view(
    partial_update=extend_schema(request=ObjectiveUpdateSerializer, responses=ObjectiveSerializer),
    link_project=extend_schema(
        request=LinkSerializer,
        responses=inline_serializer(
            "ProjectObjectivesSerializer",
            {
                "project": serializers.IntegerField(),
                "objectives": serializers.ListField(child=serializers.IntegerField()),
            },
        ),
    ),
)
class ObjectiveViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Objectives (pillars, goals, objectives) of the plan versions the user sees; each lists the projects the
    user sees behind it (linked to it, to one of its parts or to an objective serving it), their money per
    currency and its indicators."""

    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter
    ordering_fields = ["position", "code", "id"]
    ordering = ["version_id", "position", "code", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            selectors.objectives_visible_to(self.request.user).select_related("version").prefetch_related("indicators")
        )

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        items = page if page is not None else list(queryset)
        context = self.get_serializer_context()
        context["summaries"] = selectors.objectives_summary(request.user, items)
        data = self.get_serializer_class()(items, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def _references(self, data: dict, version=None) -> dict:
        user = self.request.user
        fields = {}
        for name in ("parent", "maps_to"):
            key = f"{name}_id"
            if key in data:
                value = data.pop(key)
                fields[name] = _resolve(lambda pk: selectors.objective_get(user, pk), value, name, NOT_FOUND)
        return {**data, **fields}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = _resolve(
            lambda pk: selectors.version_get(request.user, pk), data.pop("version_id"), "version", NOT_FOUND
        )
        objective = services.objective_create(actor=request.user, version=version, **self._references(data))
        return Response(self.get_serializer(self.get_queryset().get(pk=objective.pk)).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        objective = self.get_object()
        serializer = ObjectiveUpdateSerializer(objective, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self._references(dict(serializer.validated_data))
        objective = services.objective_update(actor=request.user, objective=objective, **fields)
        return Response(self.get_serializer(self.get_queryset().get(pk=objective.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.objective_delete(actor=request.user, objective=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["post"], url_path="link-project", url_name="link-project")
    def link_project(self, request):
        """Sets the objectives a project serves (the ministry's plan in force or its charity's). Audited."""
        serializer = LinkSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        user = request.user
        project = _resolve(lambda pk: project_get(user, pk), serializer.validated_data["project"], "project", NOT_FOUND)
        found = selectors.objectives_by_pk(user, serializer.validated_data["objectives"])
        missing = set(serializer.validated_data["objectives"]) - set(found)
        if missing:
            raise ValidationError({"objectives": [NOT_FOUND]})
        links = services.project_objectives_set(actor=user, project=project, objectives=list(found.values()))
        return Response({"project": project.pk, "objectives": sorted(link.objective_id for link in links)})


@extend_schema(tags=["strategy"])
@extend_schema_view(
    retrieve=extend_schema(responses=IndicatorDetailSerializer),
    partial_update=extend_schema(request=IndicatorUpdateSerializer, responses=IndicatorSerializer),
    targets=extend_schema(request=TargetSerializer, responses=TargetSerializer),
)
class IndicatorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Indicators of objectives and of projects: definition, unit, direction, roll-up rule, baseline and targets;
    an indicator's own page adds its roll-up per period (target, actual, pending)."""

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter
    ordering_fields = ["code", "id"]
    ordering = ["code", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.indicators_visible_to(self.request.user).prefetch_related("targets")

    def get_serializer_class(self):
        return IndicatorDetailSerializer if self.action == "retrieve" else IndicatorSerializer

    def _resolve_feeds(self, data: dict) -> dict:
        if "feeds_id" in data:
            user = self.request.user
            data["feeds"] = _resolve(
                lambda pk: selectors.indicator_get(user, pk), data.pop("feeds_id"), "feeds", NOT_FOUND
            )
        return data

    def create(self, request, *args, **kwargs):
        serializer = IndicatorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = request.user
        objective_id, project_id = data.pop("objective_id", None), data.pop("project_id", None)
        if (objective_id is None) == (project_id is None):
            message = _("Give an objective or a project, not both.")
            raise ValidationError({"objective": [message], "project": [message]})
        objective = _resolve(lambda pk: selectors.objective_get(user, pk), objective_id, "objective", NOT_FOUND)
        project = _resolve(lambda pk: project_get(user, pk), project_id, "project", NOT_FOUND)
        indicator = services.indicator_create(
            actor=user, objective=objective, project=project, **self._resolve_feeds(data)
        )
        return Response(IndicatorSerializer(self.get_queryset().get(pk=indicator.pk)).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        indicator = self.get_object()
        serializer = IndicatorUpdateSerializer(indicator, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = self._resolve_feeds(dict(serializer.validated_data))
        indicator = services.indicator_update(actor=request.user, indicator=indicator, **data)
        return Response(IndicatorSerializer(self.get_queryset().get(pk=indicator.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.indicator_delete(actor=request.user, indicator=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def targets(self, request, pk=None):
        """Sets the indicator's target for a period (replacing the one starting the same day). Audited."""
        indicator = self.get_object()
        serializer = TargetSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["value"] = data.pop("value_milli")
        target = services.target_set(actor=request.user, indicator=indicator, **data)
        return Response(TargetSerializer(target).data)
