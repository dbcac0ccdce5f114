"""`GET /api/v1/open-data/`: the open-data catalogue as JSON, public (no authentication), the same facts as the
open-data page: each active charity's published files with their counts and last update, the data licence and the
audit chain's published checkpoints."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from . import selectors

HOW_TO_VERIFY = _(
    "Keep a copy of a checkpoint (count and head hash). The audit chain is verified against it by an auditor on the "
    "audit verification page: if the history up to that count were edited, cut or rewritten, the chain would no "
    "longer reach the same head hash."
)


class LicenceSerializer(serializers.Serializer):
    name = serializers.CharField()
    code = serializers.CharField()
    url = serializers.URLField()


class CharityDataSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name_ar = serializers.CharField()
    name_en = serializers.CharField()
    organisation_identifier = serializers.CharField(help_text=_("IATI organisation identifier."))
    published_projects = serializers.IntegerField(help_text=_("Licensed projects: the IATI file's activities."))
    published_grants = serializers.IntegerField(help_text=_("Contracts with partners: the 360Giving file's grants."))
    last_updated = serializers.DateTimeField(allow_null=True)
    iati_activities_url = serializers.URLField(allow_null=True)
    iati_organisation_url = serializers.URLField(allow_null=True)
    giving_360_url = serializers.URLField(allow_null=True, help_text=_("360Giving 1.4.3 JSON."))


class CheckpointSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    head_hash = serializers.CharField()
    created_at = serializers.DateTimeField()


class OpenDataSerializer(serializers.Serializer):
    licence = LicenceSerializer()
    charities = CharityDataSerializer(many=True)
    checkpoints = CheckpointSerializer(many=True)
    checkpoint_download_url = serializers.URLField(
        allow_null=True, help_text=_("Null: checkpoints are listed here in full; see how_to_verify.")
    )
    how_to_verify = serializers.CharField()


class OpenDataView(APIView):
    """What each charity publishes as open data, under which licence, and the audit chain's checkpoints."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        operation_id="open_data",
        summary=_("Open data catalogue (public)"),
        description=_(
            "Public, no authentication. Each active charity with the addresses of its IATI 2.03 activity and "
            "organisation files and its 360Giving file (null when it has nothing to publish), the counts and the "
            "last update; the data licence (CC BY 4.0); the audit chain's latest checkpoints."
        ),
        responses=OpenDataSerializer,
        auth=[],
        tags=["open data"],
    )
    def get(self, request):
        catalogue = selectors.open_data_catalogue(absolute=request.build_absolute_uri)
        catalogue["checkpoint_download_url"] = None
        catalogue["how_to_verify"] = str(HOW_TO_VERIFY)
        return Response(OpenDataSerializer(catalogue).data)


urlpatterns = [path("", OpenDataView.as_view(), name="api-open-data")]
