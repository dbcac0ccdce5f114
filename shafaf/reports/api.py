"""/api/v1/reports/: the progress reports of the projects the user may see; a charity's members create and
PATCH drafts; POST /api/v1/reports/{id}/submit/ (the charity), accept/ and return/ (the ministry)."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed
from shafaf.core.filters import IdFilter
from shafaf.projects.models import Project, ProjectDocument
from shafaf.projects.selectors import project_get
from shafaf.strategy.values import value_text

from . import permissions, selectors, services
from .choices import ReportStatus
from .models import ProgressReport
from .services import REVIEW_COMMENT_MAX_LENGTH


class IndicatorValuesField(serializers.Field):
    """{project indicator code: value text} in a request; the report's indicator values in a response."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Give a mapping of indicator codes to values."))
        result = {}
        for code, value in data.items():
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise serializers.ValidationError(
                    _("%(code)s: give the value as text or a number.") % {"code": str(code)[:40]}
                )
            result[str(code)] = str(value)
        return result

    def get_attribute(self, instance):
        return instance

    def to_representation(self, report):
        if not getattr(report, "pk", None):
            return []
        return [
            {
                "code": row.indicator.code,
                "value": value_text(row.value_milli),
                "unit": row.indicator.unit,
                "note": row.note,
            }
            for row in report.indicator_values.all()
        ]


class IndicatorValuesFieldExtension(OpenApiSerializerFieldExtension):
    target_class = IndicatorValuesField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": str(_("{project indicator code: value text}")),
            }
        return {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "value": {"type": "string"},
                    "unit": {"type": "string"},
                    "note": {"type": "string"},
                },
                "required": ["code", "value", "unit", "note"],
            },
        }


class ProgressReportSerializer(serializers.ModelSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    period_start = serializers.DateField(
        required=False, help_text=_("One of the schedule's open periods; the earliest when not given.")
    )
    evidence = serializers.PrimaryKeyRelatedField(
        queryset=ProjectDocument.objects.all(),
        many=True,
        required=False,
        help_text=_("Documents of the same project."),
    )
    indicator_values = IndicatorValuesField(
        required=False,
        help_text=_(
            "Written as {project indicator code: value text}; read as the list of the report's values "
            "(code, value, unit)."
        ),
    )
    phase_progress = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text=_("{phase id: percent} when it was submitted.")
    )
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "project",
            "period_start",
            "period_end",
            "due_date",
            "status",
            "narrative_ar",
            "narrative_en",
            "phase_progress",
            "indicator_values",
            "evidence",
            "submitted_by",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "period_end",
            "due_date",
            "status",
            "submitted_at",
            "reviewed_at",
            "review_comment",
            "created_at",
            "updated_at",
        ]
        validators = []  # one report per period: the service picks and checks the period


class ReportUpdateSerializer(ProgressReportSerializer):
    project = serializers.PrimaryKeyRelatedField(read_only=True)
    period_start = serializers.DateField(read_only=True)


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REVIEW_COMMENT_MAX_LENGTH,
        help_text=_("Required to return a report."),
    )


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices, label=_("status"))
    project = IdFilter(field_name="project_id", label=_("project"))

    class Meta:
        model = ProgressReport
        fields = ["status", "project"]


@extend_schema(tags=["reports"])
@extend_schema_view(
    partial_update=extend_schema(request=ReportUpdateSerializer, responses=ProgressReportSerializer),
    submit=extend_schema(request=None, responses=ProgressReportSerializer),
    accept=extend_schema(request=ReviewSerializer, responses=ProgressReportSerializer),
    return_report=extend_schema(request=ReviewSerializer, responses=ProgressReportSerializer),
)
class ProgressReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Progress reports of the projects the user may see, the latest period first."""

    serializer_class = ProgressReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["period_start", "due_date", "id"]
    ordering = ["-period_start", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            selectors.reports_visible_to(self.request.user)
            .select_related("submitted_by", "reviewed_by")
            .prefetch_related("evidence", "indicator_values__indicator")
        )

    def create(self, request, *args, **kwargs):
        try:
            project = project_get(request.user, request.data.get("project"))
        except Http404:
            # The body names the project: an unknown (or unseen) one is a field error, not a missing URL.
            raise ValidationError({"project": [_("There is no such project, or you may not see it.")]}) from None
        if not permissions.can_create_report(request.user, project):
            raise NotAllowed(_("You cannot write a progress report for this project."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("project")
        report = services.report_create(actor=request.user, project=project, **data)
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        report = self.get_object()
        if not permissions.can_edit_report(request.user, report):
            raise NotAllowed(_("This report cannot be edited now."))
        serializer = ReportUpdateSerializer(report, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        report = services.report_update(actor=request.user, report=report, **serializer.validated_data)
        return Response(self.get_serializer(report).data)

    def _review(self, request, service):
        report = self.get_object()
        if not permissions.can_review_reports(request.user):
            raise NotAllowed(_("Only the ministry reviews progress reports."))
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = service(actor=request.user, report=report, comment=serializer.validated_data["comment"])
        return Response(self.get_serializer(report).data)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """The charity submits a draft or returned report to the ministry. Audited."""
        report = self.get_object()
        if not permissions.can_write_reports(request.user, report.project):
            raise NotAllowed(_("Only the project's charity submits its progress reports."))
        report = services.report_submit(actor=request.user, report=report)
        return Response(self.get_serializer(report).data)

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The ministry accepts a submitted report. Audited."""
        return self._review(request, services.report_accept)

    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_report(self, request, pk=None):
        """The ministry returns a submitted report with a comment (required). Audited."""
        return self._review(request, services.report_return)
