from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError, NotAllowed

from . import permissions, selectors, services
from .filters import ProjectFilter
from .models import Project, ProjectLocation


class ProjectLocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProjectLocation
        fields = ["admin_area_ar", "admin_area_en", "latitude", "longitude"]


class ProjectSerializer(serializers.ModelSerializer):
    locations = ProjectLocationSerializer(many=True, required=False)
    charity = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(kind="charity"),
        required=False,
        help_text=_("Needed only when you work for more than one charity."),
    )
    implementing_partner = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(kind="partner"), required=False, allow_null=True
    )
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "reference",
            "charity",
            "status",
            "title_ar",
            "title_en",
            "description_ar",
            "description_en",
            "project_model",
            "sector",
            "country",
            "beneficiary_group",
            "beneficiary_count",
            "planned_start",
            "planned_end",
            "currency",
            "implementing_partner",
            "iati_identifier",
            "locations",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "reference", "status", "created_at", "updated_at"]
        validators = []

    def get_allowed_actions(self, project) -> list[str]:
        user = self.context["request"].user
        return ["edit"] if permissions.can_edit_project(user, project) else []


@extend_schema(tags=["projects"])
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Charity projects. Charities see their own; the ministry and auditors see all."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    ordering_fields = ["created_at", "planned_start", "reference"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.project_list(self.request.user).prefetch_related("locations").order_by("-created_at", "-id")

    def get_object(self):
        project = selectors.project_get(self.request.user, self.kwargs["pk"])
        # Refuse before reading the body, so a user who may see but not edit gets 403 whatever it sends.
        if self.action in ("update", "partial_update") and not permissions.can_edit_project(self.request.user, project):
            raise NotAllowed(_("You cannot edit this project."))
        return project

    def create(self, request, *args, **kwargs):
        if not permissions.can_create_project(request.user):
            raise NotAllowed(_("You cannot create projects for this charity."))
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        charity = data.pop("charity", None)
        locations = data.pop("locations", None)
        if charity is None:
            allowed = permissions.charities_user_can_draft_for(self.request.user)
            if len(allowed) != 1:
                raise DomainError(
                    _("Say which charity the project belongs to."),
                    code="invalid",
                    fields={"charity": [_("This field is required.")]},
                )
            charity = Organization.objects.get(pk=next(iter(allowed)))
        serializer.instance = services.project_create(
            actor=self.request.user, charity=charity, locations=locations, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "charity" in data and data.pop("charity") != serializer.instance.charity:
            raise DomainError(
                _("A project cannot move to another charity."),
                code="invalid",
                fields={"charity": [_("Cannot be changed.")]},
            )
        locations = data.pop("locations", None)
        serializer.instance = services.project_update(
            actor=self.request.user, project=serializer.instance, locations=locations, **data
        )
