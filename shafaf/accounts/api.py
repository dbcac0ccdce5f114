from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.generics import get_object_or_404  # an id that is not a number is a 404, not a 500

from shafaf.core.exceptions import NotAllowed

from . import permissions, services
from .filters import OrganizationFilter
from .models import Organization
from .selectors import organizations_visible_to


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "kind",
            "slug",
            "name_ar",
            "name_en",
            "authority_code",
            "mosa_licence_number",
            "iati_org_id",
            "country",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is the service's and the database's to enforce, with one error format.
        validators = []


@extend_schema(tags=["organizations"])
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Organisations: authorities, charities, foreign partners, donor organisations and audit offices."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    ordering_fields = ["name_en", "name_ar", "created_at"]
    ordering = ["name_en"]

    def get_queryset(self):
        return organizations_visible_to(self.request.user).order_by("name_en", "id")

    def get_object(self):
        organization = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        # Refuse before reading the body, so a user who may see but not edit gets 403 whatever it sends.
        if self.action in ("update", "partial_update") and not permissions.can_edit_organization(
            self.request.user, organization
        ):
            raise NotAllowed(_("You cannot edit this organisation."))
        return organization

    def create(self, request, *args, **kwargs):
        if not permissions.can_create_organization(request.user):
            raise NotAllowed(_("Only a ministry administrator can register organisations."))
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.organization_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.organization_update(
            actor=self.request.user, organization=serializer.instance, **serializer.validated_data
        )
