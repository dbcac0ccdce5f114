from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from .chain import verify_everything
from .filters import AuditEventFilter
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
        """Verifies the whole chain now and says whether it is whole."""
        result = verify_everything()
        return Response(
            {
                "ok": result.ok,
                "count": result.count,
                "head_hash": result.head_hash,
                "problem": str(result.problem) if result.problem else None,
            }
        )
