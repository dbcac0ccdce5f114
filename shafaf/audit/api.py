import json

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from .chain import verify_against_checkpoint, verify_everything
from .filters import AuditEventFilter
from .forms import CheckpointForm
from .models import AuditEvent
from .selectors import can_browse_audit, events_visible_to


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor",
            "actor_username",
            "actor_role",
            "organization",
            "action",
            "subject_type",
            "subject_id",
            "subject_repr",
            "changes",
            "reason",
            "request_id",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


@extend_schema(tags=["audit"])
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail: every write, in a SHA-256 hash chain. Read-only for everyone."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["seq", "occurred_at"]
    ordering = ["-seq"]
    lookup_field = "seq"

    def get_queryset(self):
        return events_visible_to(self.request.user).order_by("-seq")

    def check_permissions(self, request):
        super().check_permissions(request)
        if not can_browse_audit(request.user):
            raise PermissionDenied()

    @extend_schema(
        parameters=[
            OpenApiParameter("count", int, description="with head_hash: a checkpoint kept outside, to check against"),
            OpenApiParameter("head_hash", str, description="the checkpoint's head hash (64 hex digits)"),
        ],
        responses=inline_serializer(
            "AuditChainStatus",
            {
                "ok": serializers.BooleanField(),
                "count": serializers.IntegerField(),
                "head_hash": serializers.CharField(),
                "problem": serializers.CharField(allow_null=True),
            },
        ),
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def verify(self, request):
        """Verifies the whole chain now; with `count` and `head_hash`, also against that checkpoint."""
        result = verify_everything()
        if result.ok and ("count" in request.query_params or "head_hash" in request.query_params):
            form = CheckpointForm(data={"text": json.dumps(dict(request.query_params.items()))})
            if not form.is_valid():
                raise ValidationError({"checkpoint": form.non_field_errors()})
            result = verify_against_checkpoint(form.cleaned_data["count"], form.cleaned_data["head_hash"])
        return Response(
            {
                "ok": result.ok,
                "count": result.count,
                "head_hash": result.head_hash,
                "problem": str(result.problem) if result.problem else None,
            }
        )
