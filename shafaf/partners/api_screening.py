"""/api/v1/sanctions-versions/ (every loaded version of each list), /api/v1/screening-hits/ (the hits with
POST confirm/ and clear/) and /api/v1/screen/ (POST a name, get the matches). The ministry, accreditation
officers and auditors read; the ministry and accreditation officers decide and screen."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from shafaf.core.exceptions import NotAllowed

from . import permissions, screening
from .choices import SanctionsEntityType
from .forms_screening import HitFilter, VersionFilter
from .models import SanctionsEntry, SanctionsListVersion, ScreeningHit
from .screening import DECISION_REASON_MAX_LENGTH, MAX_QUERY_CHARACTERS


class SanctionsVersionSerializer(serializers.ModelSerializer):
    loaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SanctionsListVersion
        fields = [
            "id",
            "source",
            "published",
            "file_name",
            "sha256",
            "entry_count",
            "name_count",
            "is_current",
            "loaded_by",
            "loaded_at",
        ]
        read_only_fields = fields


class EntrySerializer(serializers.ModelSerializer):
    names = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    dates_of_birth = serializers.ListField(child=serializers.CharField())
    nationalities = serializers.ListField(child=serializers.CharField())
    countries = serializers.ListField(child=serializers.CharField())
    programs = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = SanctionsEntry
        fields = [
            "entry_id",
            "entity_type",
            "primary_name",
            "names",
            "dates_of_birth",
            "nationalities",
            "countries",
            "programs",
            "listed_on",
        ]
        read_only_fields = fields


class ScreeningHitSerializer(serializers.ModelSerializer):
    partner_name = serializers.SerializerMethodField()
    officer_name = serializers.SerializerMethodField()
    list = serializers.CharField(source="version.source", read_only=True)
    entry = EntrySerializer(read_only=True)
    explanation = serializers.SerializerMethodField(help_text=_("In the language of the request."))
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ScreeningHit
        fields = [
            "id",
            "status",
            "partner",
            "partner_name",
            "officer",
            "officer_name",
            "version",
            "list",
            "entry",
            "query",
            "matched_name",
            "score",
            "explanation",
            "explanation_en",
            "explanation_ar",
            "found_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields

    def get_partner_name(self, hit) -> str:
        return hit.partner.display_name()

    def get_officer_name(self, hit) -> str:
        return str(hit.officer) if hit.officer_id else ""

    def get_explanation(self, hit) -> str:
        english = (translation.get_language() or "ar").startswith("en")
        return hit.explanation_en if english else hit.explanation_ar


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=DECISION_REASON_MAX_LENGTH,
        help_text=_("Required to clear a hit."),
    )


_DATE = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")


class ScreenRequestSerializer(serializers.Serializer):
    name = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_QUERY_CHARACTERS,
        help_text=_("The name to screen, in Arabic or Latin script."),
    )
    entity_type = serializers.ChoiceField(choices=SanctionsEntityType.choices, required=False)
    country = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_("ISO 3166-1 alpha-2 code or a country's name.")
    )
    date_of_birth = serializers.CharField(
        required=False, allow_blank=True, max_length=10, help_text=_("YYYY-MM-DD or YYYY.")
    )

    def validate_date_of_birth(self, value: str) -> str:
        if value and not _DATE.match(value):
            raise serializers.ValidationError(_("Write the date of birth as YYYY-MM-DD or YYYY."))
        return value


class ScreenMatchSerializer(serializers.Serializer):
    list = serializers.CharField(help_text=_("un or ofac."))
    entry_id = serializers.CharField(help_text=_("The list's own reference."))
    name = serializers.CharField()
    score = serializers.FloatField()
    explanation = serializers.CharField(allow_blank=True)
    alert = serializers.BooleanField()


class ScreenResponseSerializer(serializers.Serializer):
    query = serializers.CharField(allow_blank=True)
    alert = serializers.BooleanField()
    matches = ScreenMatchSerializer(many=True)
    ms = serializers.FloatField(help_text=_("Milliseconds spent screening."))


@extend_schema(tags=["screening"])
class SanctionsVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Every loaded version of the UN and OFAC lists (the current one per list screened against)."""

    serializer_class = SanctionsVersionSerializer
    filterset_class = VersionFilter
    ordering_fields = ["loaded_at", "id"]
    ordering = ["source", "-loaded_at", "-id"]
    lookup_value_regex = "[0-9]+"

    def check_permissions(self, request):
        super().check_permissions(request)
        if not permissions.can_view_screening(request.user):
            raise PermissionDenied()

    def get_queryset(self):
        return screening.versions_visible_to(self.request.user)


@extend_schema(tags=["screening"])
@extend_schema_view(
    confirm=extend_schema(request=DecisionSerializer, responses=ScreeningHitSerializer),
    clear=extend_schema(request=DecisionSerializer, responses=ScreeningHitSerializer),
)
class ScreeningHitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Possible matches of partners and officers with list entries: open ones first, then the newest."""

    serializer_class = ScreeningHitSerializer
    filterset_class = HitFilter
    lookup_value_regex = "[0-9]+"

    def check_permissions(self, request):
        super().check_permissions(request)
        if not permissions.can_view_screening(request.user):
            raise PermissionDenied()

    def get_queryset(self):
        return screening.hits_visible_to(self.request.user)

    def _decide(self, request, service):
        hit = self.get_object()
        if not permissions.can_decide_hit(request.user):
            raise NotAllowed(_("Only the ministry and accreditation officers decide on screening hits."))
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hit = service(actor=request.user, hit=hit, reason=serializer.validated_data["reason"])
        return Response(self.get_serializer(screening.hit_get(request.user, hit.pk)).data)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirms the match: the partner is blocked while it stands. Audited."""
        return self._decide(request, screening.hit_confirm)

    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        """Clears the match, with a reason (required); remembered for this list version. Audited."""
        return self._decide(request, screening.hit_clear)


@extend_schema(tags=["screening"])
@extend_schema_view(create=extend_schema(request=ScreenRequestSerializer, responses={200: ScreenResponseSerializer}))
class ScreenViewSet(viewsets.GenericViewSet):
    """Screens one name against the current list versions (the ministry and accreditation officers). A name
    that cannot be screened (empty, no letters, too long) is a 400 naming the problem."""

    serializer_class = ScreenRequestSerializer
    pagination_class = None
    filter_backends: list = []

    def check_permissions(self, request):
        super().check_permissions(request)
        if not permissions.can_screen(request.user):
            raise PermissionDenied()

    def create(self, request):
        serializer = ScreenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = screening.screen_name(
            screening.current_index(),
            data["name"],
            entity_type=data.get("entity_type"),
            country=data.get("country"),
            date_of_birth=data.get("date_of_birth"),
        )
        return Response(screening.result_as_json(result, language=translation.get_language() or "ar"))
