"""/api/v1/partners/, /api/v1/officers/ and /api/v1/accreditations/: the partner registry and the
accreditations, through the same services and FilterSets as the pages."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from shafaf.accounts.choices import Authority
from shafaf.accounts.models import Organization
from shafaf.core.exceptions import NotAllowed
from shafaf.core.filters import IdFilter, StyledFilterSet
from shafaf.core.ids import pk_or_404
from shafaf.projects.choices import ProjectModel

from . import permissions, selectors, services
from .choices import OfficerRole, PartnerNameKind
from .filters import AccreditationFilter, PartnerFilter
from .models import Accreditation, AccreditationDocument, Officer, PartnerAddress, PartnerName


@extend_schema_field({"type": "string", "enum": list(Authority.values), "description": "MOFA or MOSA."})
class AuthorityField(serializers.ChoiceField):
    """The ministry (its enum inlined: the schema names Authority's choice set once, for organisations)."""

    def __init__(self, **kwargs):
        super().__init__(choices=Authority.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": list(ProjectModel.values)})
class ProjectModelField(serializers.ChoiceField):
    """A MOSA project model (its enum inlined: the schema names ProjectModel's choice set once, for projects)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ProjectModel.choices, **kwargs)


# --- partners ---------------------------------------------------------------------------------------------------


class PartnerNameSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PartnerNameKind.choices, default=PartnerNameKind.ALIAS)

    class Meta:
        model = PartnerName
        fields = ["id", "kind", "name"]
        read_only_fields = ["id"]


class PartnerAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerAddress
        fields = ["id", "line", "city", "country"]
        read_only_fields = ["id"]


class OfficerInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=OfficerRole.choices)
    name_ar = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    nationality = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)


class PartnerSerializer(serializers.ModelSerializer):
    """A partner as it is read: its legal names, registry record, other names, addresses and whether both
    ministries accredit it today."""

    registration_agency = serializers.SerializerMethodField()
    registration_number = serializers.SerializerMethodField()
    website = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    aliases = PartnerNameSerializer(source="partner_names", many=True, read_only=True)
    addresses = PartnerAddressSerializer(source="partner_addresses", many=True, read_only=True)
    accredited = serializers.SerializerMethodField()
    blocking_hits = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "name_ar",
            "name_en",
            "country",
            "registration_agency",
            "registration_number",
            "website",
            "notes",
            "iati_org_id",
            "is_active",
            "aliases",
            "addresses",
            "accredited",
            "blocking_hits",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _profile(self, partner, name: str) -> str:
        profile = getattr(partner, "partner_profile", None)
        return getattr(profile, name, "") if profile is not None else ""

    def get_registration_agency(self, partner) -> str:
        return self._profile(partner, "registration_agency")

    def get_registration_number(self, partner) -> str:
        return self._profile(partner, "registration_number")

    def get_website(self, partner) -> str:
        return self._profile(partner, "website")

    def get_notes(self, partner) -> str:
        return self._profile(partner, "notes")

    def get_accredited(self, partner) -> bool:
        """Active accreditations by both ministries valid today (whatever their scope)."""
        return bool(getattr(partner, "is_accredited", False))

    def get_blocking_hits(self, partner) -> int:
        """Open or confirmed sanctions screening hits."""
        return int(getattr(partner, "blocking_hits", 0) or 0)


class PartnerWriteSerializer(serializers.Serializer):
    name_ar = serializers.CharField(max_length=300)
    name_en = serializers.CharField(max_length=300)
    country = serializers.CharField(max_length=2, help_text=_("ISO 3166-1 alpha-2 code."))
    registration_agency = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text=_("IATI registration agency code.")
    )
    registration_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    website = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    aliases = PartnerNameSerializer(many=True, required=False)
    addresses = PartnerAddressSerializer(many=True, required=False)
    officers = OfficerInputSerializer(many=True, required=False)


class PartnerUpdateSerializer(serializers.Serializer):
    name_ar = serializers.CharField(max_length=300, required=False)
    name_en = serializers.CharField(max_length=300, required=False)
    country = serializers.CharField(max_length=2, required=False)
    registration_agency = serializers.CharField(max_length=20, required=False, allow_blank=True)
    registration_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)


@extend_schema(tags=["partners"])
@extend_schema_view(
    create=extend_schema(request=PartnerWriteSerializer, responses={201: PartnerSerializer}),
    partial_update=extend_schema(request=PartnerUpdateSerializer, responses=PartnerSerializer),
)
class PartnerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Foreign implementing partners. The ministry, the auditors, the accreditation officers and the charities
    read them all; a partner's reporter reads its own. The ministry's admins and the accreditation officers
    register and edit them."""

    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.partner_list(self.request.user).prefetch_related("partner_names", "partner_addresses")

    def get_object(self):
        partner = selectors.partner_get(self.request.user, self.kwargs["pk"])
        return self.get_queryset().get(pk=partner.pk)

    def _read(self, partner) -> dict:
        return PartnerSerializer(self.get_queryset().get(pk=partner.pk), context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        if not permissions.can_manage_partners(request.user):
            raise NotAllowed(_("Only the ministry's administrators and accreditation officers register partners."))
        body = PartnerWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        partner = services.partner_register(actor=request.user, **body.validated_data)
        return Response(self._read(partner), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        partner = self.get_object()
        if not permissions.can_edit_partner(request.user, partner):
            raise NotAllowed(_("Only the ministry's administrators and accreditation officers edit partners."))
        body = PartnerUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        partner = services.partner_update(actor=request.user, partner=partner, **body.validated_data)
        return Response(self._read(partner))


# --- officers ---------------------------------------------------------------------------------------------------


class OfficerSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(kind="partner"))
    date_of_birth = serializers.DateField(
        allow_null=True, required=False, help_text=_("Null for users who may not see officers' dates of birth.")
    )

    class Meta:
        model = Officer
        fields = [
            "id",
            "partner",
            "role",
            "name_ar",
            "name_en",
            "nationality",
            "date_of_birth",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_active", "created_at", "updated_at"]
        validators = []

    def to_representation(self, officer):
        data = super().to_representation(officer)
        request = self.context.get("request")
        allowed = self.context.get("dates_of_birth")
        if allowed is None:
            allowed = request is not None and permissions.can_view_dates_of_birth(request.user, officer.partner)
        if not allowed:
            data["date_of_birth"] = None
        return data


class OfficerUpdateSerializer(OfficerSerializer):
    partner = serializers.PrimaryKeyRelatedField(read_only=True)


class DeactivateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.REASON_MAX_LENGTH, required=False, allow_blank=True, default="")


class OfficerFilter(StyledFilterSet):
    partner = IdFilter(field_name="partner_id", label=_("Partner"))
    role = django_filters.ChoiceFilter(choices=OfficerRole.choices, label=_("Role"))
    is_active = django_filters.BooleanFilter(label=_("In office"))

    class Meta:
        model = Officer
        fields = ["partner", "role", "is_active"]


@extend_schema(tags=["partners"])
@extend_schema_view(
    partial_update=extend_schema(request=OfficerUpdateSerializer, responses=OfficerSerializer),
    deactivate=extend_schema(request=DeactivateSerializer, responses=OfficerSerializer),
)
class OfficerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The officers of the partners the user may see (heads, board members, directors, signatories). Dates of
    birth are shown to the ministry, the auditors, the accreditation officers and the partner itself only."""

    serializer_class = OfficerSerializer
    filterset_class = OfficerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return (
            Officer.objects.filter(partner__in=selectors.partners_visible_to(self.request.user))
            .select_related("partner")
            .order_by("partner_id", "-is_active", "role", "id")
        )

    def get_object(self):
        from django.shortcuts import get_object_or_404

        officer = get_object_or_404(self.get_queryset(), pk=pk_or_404(self.kwargs["pk"]))
        if self.action in ("partial_update", "deactivate") and not permissions.can_edit_partner(
            self.request.user, officer.partner
        ):
            raise NotAllowed(_("Only the ministry's administrators and accreditation officers edit officers."))
        return officer

    def create(self, request, *args, **kwargs):
        if not permissions.can_manage_partners(request.user):
            raise NotAllowed(_("Only the ministry's administrators and accreditation officers add officers."))
        body = OfficerSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        partner = data.pop("partner")
        selectors.partner_get(request.user, partner.pk)
        officer = services.officer_add(actor=request.user, partner=partner, **data)
        return Response(self.get_serializer(officer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        officer = self.get_object()
        body = OfficerUpdateSerializer(officer, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        officer = services.officer_update(actor=request.user, officer=officer, **body.validated_data)
        return Response(self.get_serializer(officer).data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The officer is no longer in office (kept on record). Audited."""
        officer = self.get_object()
        body = DeactivateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        officer = services.officer_deactivate(actor=request.user, officer=officer, **body.validated_data)
        return Response(self.get_serializer(officer).data)


# --- accreditations ---------------------------------------------------------------------------------------------


class AccreditationDocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = AccreditationDocument
        fields = ["id", "title", "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, document) -> str:
        """Where a signed-in user who may see the partner downloads the file."""
        accreditation = document.accreditation
        return reverse(
            "partners:accreditation_document_download",
            args=[accreditation.partner_id, accreditation.pk, document.pk],
        )


class AccreditationSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(kind="partner"))
    authority = AuthorityField()
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2),
        required=False,
        default=list,
        max_length=300,
        help_text=_("ISO 3166-1 alpha-2 codes; empty covers every country."),
    )
    project_models = serializers.ListField(
        child=ProjectModelField(),
        required=False,
        default=list,
        max_length=20,
        help_text=_("Empty covers every project model."),
    )
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    documents = AccreditationDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Accreditation
        fields = [
            "id",
            "partner",
            "authority",
            "number",
            "countries",
            "project_models",
            "valid_from",
            "valid_until",
            "status",
            "status_reason",
            "status_changed_at",
            "suspended_on",
            "settlement_deadline",
            "recorded_by",
            "recorded_at",
            "documents",
        ]
        read_only_fields = [
            "id",
            "status",
            "status_reason",
            "status_changed_at",
            "suspended_on",
            "settlement_deadline",
            "recorded_at",
        ]
        validators = []


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.REASON_MAX_LENGTH, help_text=_("Required; recorded."))


class SuspendSerializer(ReasonSerializer):
    suspended_on = serializers.DateField(required=False, allow_null=True, default=None)
    settlement_deadline = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Until this date, transfers that settle contracts signed before the suspension stay allowed."),
    )


class SettlementDeadlineSerializer(serializers.Serializer):
    settlement_deadline = serializers.DateField()


class DocumentUploadSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    file = serializers.FileField(help_text=_("A PDF or an image (JPEG, PNG, WebP), up to 20 MB; checked by content."))


@extend_schema(tags=["accreditations"])
@extend_schema_view(
    suspend=extend_schema(request=SuspendSerializer, responses=AccreditationSerializer),
    reinstate=extend_schema(request=ReasonSerializer, responses=AccreditationSerializer),
    revoke=extend_schema(request=ReasonSerializer, responses=AccreditationSerializer),
    settlement_deadline=extend_schema(request=SettlementDeadlineSerializer, responses=AccreditationSerializer),
    documents=extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer}, responses={201: AccreditationDocumentSerializer}
    ),
)
class AccreditationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The accreditations of the partners the user may see, by MoFA and MOSA. An accreditation officer records
    and changes (suspend, reinstate, revoke) only its own ministry's; every change is audited."""

    serializer_class = AccreditationSerializer
    filterset_class = AccreditationFilter
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.accreditation_list(self.request.user).prefetch_related("documents__uploaded_by")

    def get_object(self):
        accreditation = selectors.accreditation_get(self.request.user, self.kwargs["pk"])
        return self.get_queryset().get(pk=accreditation.pk)

    def _read(self, accreditation):
        return AccreditationSerializer(
            self.get_queryset().get(pk=accreditation.pk), context=self.get_serializer_context()
        ).data

    def create(self, request, *args, **kwargs):
        if not permissions.can_record_accreditation(request.user):
            raise NotAllowed(_("Only accreditation officers record accreditations."))
        body = AccreditationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        partner = data.pop("partner")
        selectors.partner_get(request.user, partner.pk)
        accreditation = services.accreditation_record(actor=request.user, partner=partner, **data)
        return Response(self._read(accreditation), status=status.HTTP_201_CREATED)

    def _change(self, request, serializer_class, allowed, change):
        accreditation = self.get_object()
        if not allowed(request.user, accreditation):
            raise NotAllowed(
                _("Only an accreditation officer of %(authority)s changes its accreditations.")
                % {"authority": accreditation.get_authority_display()}
            )
        body = serializer_class(data=request.data)
        if not body.is_valid():
            raise ValidationError(body.errors)
        accreditation = change(accreditation, body.validated_data)
        return Response(self._read(accreditation))

    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Suspends an active accreditation (a reason is required). Audited."""
        return self._change(
            request,
            SuspendSerializer,
            permissions.can_change_accreditation,
            lambda a, data: services.accreditation_suspend(actor=request.user, accreditation=a, **data),
        )

    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        """A suspended accreditation becomes active again (a reason is required). Audited."""
        return self._change(
            request,
            ReasonSerializer,
            permissions.can_change_accreditation,
            lambda a, data: services.accreditation_reinstate(actor=request.user, accreditation=a, **data),
        )

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revokes the accreditation for good (a reason is required). Audited."""
        return self._change(
            request,
            ReasonSerializer,
            permissions.can_change_accreditation,
            lambda a, data: services.accreditation_revoke(actor=request.user, accreditation=a, **data),
        )

    @action(detail=True, methods=["post"], url_path="settlement-deadline", url_name="settlement-deadline")
    def settlement_deadline(self, request, pk=None):
        """Sets the settlement deadline of a suspended accreditation (its ministry's officers or a ministry
        admin). Audited."""
        return self._change(
            request,
            SettlementDeadlineSerializer,
            permissions.can_set_settlement_deadline,
            lambda a, data: services.accreditation_set_settlement_deadline(
                actor=request.user, accreditation=a, deadline=data["settlement_deadline"]
            ),
        )

    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        """Attaches a PDF or an image to the accreditation (multipart/form-data). Audited with its SHA-256."""
        accreditation = self.get_object()
        if not permissions.can_change_accreditation(request.user, accreditation):
            raise NotAllowed(
                _("Only an accreditation officer of %(authority)s changes its accreditations.")
                % {"authority": accreditation.get_authority_display()}
            )
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = services.accreditation_document_add(
            actor=request.user, accreditation=accreditation, **body.validated_data
        )
        return Response(AccreditationDocumentSerializer(document).data, status=status.HTTP_201_CREATED)
