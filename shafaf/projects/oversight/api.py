"""/api/v1/alerts/ (the alerts the user may see, and their acknowledgement) and /api/v1/compliance/ (the
compliance class of each charity the user may see)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed
from shafaf.core.filters import IdFilter

from . import permissions, selectors, services
from .models import Alert, AlertStatus
from .rules import RULES
from .services import COMMENT_MAX_LENGTH


class AlertSerializer(serializers.ModelSerializer):
    project_reference = serializers.CharField(source="project.reference", read_only=True)
    rule_title = serializers.CharField(read_only=True)
    severity = serializers.CharField(read_only=True, help_text=_("warning or critical."))
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    message = serializers.CharField(read_only=True, help_text=_("In the language of the request."))
    facts = serializers.DictField(read_only=True, help_text=_("The facts the rule found."))
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    can_acknowledge = serializers.SerializerMethodField(help_text=_("Whether the user may acknowledge it now."))

    class Meta:
        model = Alert
        fields = [
            "id",
            "project",
            "project_reference",
            "rule",
            "rule_title",
            "severity",
            "owner",
            "owner_name",
            "message",
            "message_ar",
            "message_en",
            "facts",
            "raised_at",
            "status",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_comment",
            "resolved_at",
            "can_acknowledge",
        ]
        read_only_fields = fields

    def get_can_acknowledge(self, alert) -> bool:
        user = self.context["request"].user
        return alert.status == AlertStatus.OPEN and permissions.can_acknowledge(user, alert)


class AcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=COMMENT_MAX_LENGTH,
        help_text=_("Required: what you are doing about this alert."),
    )


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, label=_("status"))
    rule = django_filters.ChoiceFilter(choices=[(code, code) for code in RULES], label=_("rule"))
    project = IdFilter(field_name="project_id", label=_("project"))
    owner = IdFilter(field_name="owner_id", label=_("owner"))

    class Meta:
        model = Alert
        fields = ["status", "rule", "project", "owner"]


@extend_schema(tags=["alerts"])
@extend_schema_view(
    acknowledge=extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts about running projects, newest first: every alert for the ministry and the auditor, those of its
    projects for a charity. `?status=open` gives the open ones."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["raised_at", "id"]
    ordering = ["-raised_at", "-id"]
    lookup_value_regex = "[0-9]+"

    def check_permissions(self, request):
        super().check_permissions(request)
        if not permissions.can_view_alerts(request.user):
            raise PermissionDenied()

    def get_queryset(self):
        return selectors.alerts_visible_to(self.request.user).select_related("project", "owner", "acknowledged_by")

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledges an open alert with a comment (the owner's members or the ministry). Audited."""
        alert = self.get_object()
        # Refuse before reading the body: who may not acknowledge gets 403 whatever it sends.
        if not permissions.can_acknowledge(request.user, alert):
            raise NotAllowed(
                _("Only the organisation that must act on this alert, or the ministry, may acknowledge it.")
            )
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_acknowledge(
            actor=request.user, alert=alert, comment=serializer.validated_data["comment"]
        )
        return Response(AlertSerializer(alert, context=self.get_serializer_context()).data)


class FailedCheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text=_("In the language of the request."))
    message_ar = serializers.CharField()
    message_en = serializers.CharField()


class ProjectReasonSerializer(serializers.Serializer):
    project = serializers.IntegerField(source="project_id")
    reference = serializers.CharField()
    title = serializers.CharField()
    failed_checks = FailedCheckSerializer(many=True)


class ComplianceSerializer(serializers.Serializer):
    charity = serializers.IntegerField(source="charity.pk")
    charity_name = serializers.CharField(source="charity.__str__")
    compliance_class = serializers.ChoiceField(
        choices=[(value, str(label)) for value, label in selectors.ComplianceClass.LABELS.items()]
    )
    label = serializers.CharField()
    active_projects = serializers.IntegerField()
    checked_projects = serializers.IntegerField(help_text=_("Active projects the rulebook has checked."))
    failing_projects = serializers.IntegerField(help_text=_("Checked projects with a blocking failure."))
    share = serializers.FloatField(help_text=_("failing_projects / checked_projects."))
    failing = ProjectReasonSerializer(many=True)
    unchecked = ProjectReasonSerializer(many=True, help_text=_("Active projects the rulebook has not checked yet."))
    check_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Failed blocking check code: number of projects.")
    )


@extend_schema(tags=["compliance"])
@extend_schema_view(list=extend_schema(responses=ComplianceSerializer(many=True)))
class ComplianceViewSet(viewsets.ViewSet):
    """The compliance class of each charity (committed, partially compliant, non-compliant) with its reasons:
    every charity for the ministry and the auditor, its own for a charity's members."""

    serializer_class = ComplianceSerializer

    def check_permissions(self, request):
        super().check_permissions(request)
        if not permissions.can_view_compliance(request.user):
            raise PermissionDenied()

    def list(self, request):
        return Response(ComplianceSerializer(selectors.compliance_visible_to(request.user), many=True).data)
