"""/api/v1/rule-settings/ (the ministry's settings of each check) and /api/v1/rulebook-runs/ (stored runs)."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed
from shafaf.core.filters import IdFilter

from . import checks, permissions, selectors, services
from .engine import EffectiveSetting
from .models import CheckResultRecord, RulebookRun, Severity, Stage

# --- rule settings -------------------------------------------------------------------------------------


class ThresholdSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=["integer", "boolean"])
    default = serializers.JSONField()
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)


class RuleSettingSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    stages = serializers.ListField(
        child=serializers.CharField(), help_text=_("The stages it runs at: submission, approval, nightly.")
    )
    enabled = serializers.BooleanField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    default_severity = serializers.CharField(help_text=_("The check's own severity: blocking or warning."))
    thresholds = serializers.DictField(child=serializers.JSONField(), help_text=_("The values in force."))
    threshold_fields = ThresholdSerializer(many=True)
    interface = serializers.CharField(help_text=_("The function of another app this check needs, if any."))
    available = serializers.BooleanField(
        help_text=_("False while the data this check needs is not kept on the platform: it then warns.")
    )
    customised = serializers.BooleanField(help_text=_("False while the check's defaults apply."))
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_blank=True)

    @staticmethod
    def represent(setting: EffectiveSetting) -> dict:
        check = setting.check
        return {
            "code": check.code,
            "title": str(check.title),
            "description": str(check.description),
            "stages": [stage for stage in Stage.values if stage in check.stages],
            "enabled": setting.enabled,
            "severity": setting.severity,
            "default_severity": check.severity,
            "thresholds": setting.thresholds,
            "threshold_fields": [t.describe() for t in check.thresholds],
            "interface": check.interface,
            "available": check.interface_available(),
            "customised": setting.customised,
            "updated_at": setting.updated_at,
            "updated_by": setting.updated_by,
        }


class RuleSettingUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    thresholds = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=_("Only the thresholds to change; each is checked against the check's bounds."),
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


@extend_schema(tags=["rulebook"])
@extend_schema_view(
    list=extend_schema(responses=RuleSettingSerializer(many=True)),
    retrieve=extend_schema(responses=RuleSettingSerializer),
    partial_update=extend_schema(request=RuleSettingUpdateSerializer, responses=RuleSettingSerializer),
)
class RuleSettingViewSet(viewsets.ViewSet):
    """The ministry's rulebook: every check, its severity and thresholds. The ministry and auditors read it;
    a ministry administrator changes a check with PATCH (audited)."""

    lookup_field = "code"
    lookup_value_regex = "[a-z0-9_]+"
    serializer_class = RuleSettingSerializer

    def check_permissions(self, request):
        super().check_permissions(request)
        if not permissions.can_view_rulebook(request.user):
            raise PermissionDenied()

    def list(self, request):
        settings = selectors.effective_settings().values()
        return Response(RuleSettingSerializer([RuleSettingSerializer.represent(s) for s in settings], many=True).data)

    def retrieve(self, request, code=None):
        if code not in checks.REGISTRY:
            raise Http404
        return Response(RuleSettingSerializer(RuleSettingSerializer.represent(selectors.effective_setting(code))).data)

    def partial_update(self, request, code=None):
        # Refuse before reading the body: a reader gets 403 whatever it sends.
        if not permissions.can_edit_rulebook(request.user):
            raise NotAllowed(_("Only a ministry administrator may change the rulebook."))
        if code not in checks.REGISTRY:
            raise Http404
        serializer = RuleSettingUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        setting = services.rule_setting_update(actor=request.user, code=code, **serializer.validated_data)
        return Response(RuleSettingSerializer(RuleSettingSerializer.represent(setting)).data)


# --- runs ----------------------------------------------------------------------------------------------


class CheckResultSerializer(serializers.ModelSerializer):
    blocking = serializers.BooleanField(read_only=True, help_text=_("Failed, and blocking."))
    message = serializers.CharField(read_only=True, help_text=_("In the language of the request."))
    facts = serializers.DictField(read_only=True, help_text=_("The facts the check used."))

    class Meta:
        model = CheckResultRecord
        fields = ["code", "severity", "passed", "blocking", "message", "message_ar", "message_en", "facts"]
        read_only_fields = fields


class RulebookRunSerializer(serializers.ModelSerializer):
    results = CheckResultSerializer(many=True, read_only=True)

    class Meta:
        model = RulebookRun
        fields = ["id", "project", "stage", "at", "actor", "passed", "blocking_failures", "warnings", "results"]
        read_only_fields = fields


class RulebookRunFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id", label=_("project"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("stage"))
    passed = django_filters.BooleanFilter(label=_("passed"))

    class Meta:
        model = RulebookRun
        fields = ["project", "stage", "passed"]


@extend_schema(tags=["rulebook"])
class RulebookRunViewSet(viewsets.ReadOnlyModelViewSet):
    """The stored runs of the rulebook with their results, newest first, for the projects the user may see.
    `?project=<id>` gives one project's runs."""

    serializer_class = RulebookRunSerializer
    filterset_class = RulebookRunFilter
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.run_list(self.request.user)
