"""/api/v1/coordination/: the overlap flags the user may see (with POST decide/ for the ministry), a project's
latest coordination check (GET) and a new check (POST), and the ministry's coordination settings (GET, PATCH).

A charity sees the flags of its own projects: its own project fully, of the other charity's project only its
reference, charity, title, country, sector and state, never its donors, notes, budget lines or documents. Amounts
are strings of decimal major units; shares are basis points (10,000 = 100 %)."""

from __future__ import annotations

from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from shafaf.accounts.permissions import has_oversight, is_ministry
from shafaf.core.exceptions import NotAllowed
from shafaf.core.money import Money, MoneyError, parse_money
from shafaf.projects.selectors import project_get

from . import permissions, selectors, services
from .choices import CheckTrigger, Decision, Level
from .filters import FlagFilter
from .forms import REASON_MAX_LENGTH
from .models import ModelVersion

# --- serializers (the shapes of selectors.flag_view) --------------------------------------------------------


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name_ar = serializers.CharField(allow_blank=True)
    name_en = serializers.CharField(allow_blank=True)


class LocationSerializer(serializers.Serializer):
    admin_area_ar = serializers.CharField(allow_blank=True)
    admin_area_en = serializers.CharField(allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, coerce_to_string=True)
    longitude = serializers.DecimalField(max_digits=10, decimal_places=6, allow_null=True, coerce_to_string=True)


class BudgetSerializer(serializers.Serializer):
    total = serializers.CharField(help_text=_("The current budget's total, in major units of its currency."))
    currency = serializers.CharField()
    total_kwd = serializers.CharField(
        allow_null=True, help_text=_("The total converted to Kuwaiti dinars (what coordination compares).")
    )


class SideSerializer(serializers.Serializer):
    """One project of a flag. `full` is false for another charity's project seen by a charity: then only the
    fields before `full` are given."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    title_ar = serializers.CharField(allow_blank=True)
    title_en = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True)
    country_label = serializers.CharField(allow_blank=True)
    sector = serializers.CharField(allow_blank=True)
    sector_label = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    status_label = serializers.CharField()
    charity = OrganizationRefSerializer()
    full = serializers.BooleanField(help_text=_("Whether every field below is given."))
    iati_identifier = serializers.CharField(required=False, allow_blank=True)
    description_ar = serializers.CharField(required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    project_model = serializers.CharField(required=False)
    beneficiary_group = serializers.CharField(required=False)
    beneficiary_count = serializers.IntegerField(required=False)
    planned_start = serializers.DateField(required=False)
    planned_end = serializers.DateField(required=False)
    currency = serializers.CharField(required=False)
    implementing_partner = OrganizationRefSerializer(required=False, allow_null=True)
    locations = LocationSerializer(many=True, required=False)
    budget = BudgetSerializer(required=False, allow_null=True)


class ReasonSerializer(serializers.Serializer):
    signal = serializers.CharField()
    level = serializers.CharField()
    weight = serializers.FloatField(help_text=_("The level's weight in the score (log2 of m/u), rounded to 0.1."))
    text = serializers.CharField(help_text=_("In the language of the request."))
    text_ar = serializers.CharField()
    text_en = serializers.CharField()


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    internal = serializers.BooleanField(help_text=_("Both projects are of one charity (an internal duplicate)."))
    level = serializers.ChoiceField(choices=Level.choices)
    level_label = serializers.CharField()
    score = serializers.FloatField(help_text=_("The model's score: log2 of the odds that the two are one project."))
    status = serializers.CharField(help_text=_("open (awaiting the ministry's decision), decided or withdrawn."))
    status_label = serializers.CharField()
    found_by = serializers.CharField()
    first_found_at = serializers.DateTimeField()
    last_found_at = serializers.DateTimeField()
    model_version = serializers.IntegerField()
    decision = serializers.CharField(allow_blank=True, help_text=_("duplicate, joint or distinct; empty while open."))
    decision_label = serializers.CharField(allow_blank=True)
    decision_reason = serializers.CharField(allow_blank=True)
    duplicate_project = serializers.IntegerField(allow_null=True)
    share_a_bp = serializers.IntegerField(allow_null=True)
    share_b_bp = serializers.IntegerField(allow_null=True)
    joint_total = serializers.CharField(allow_null=True, help_text=_("Major units of joint_currency."))
    joint_currency = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    can_decide = serializers.BooleanField()
    a = SideSerializer(help_text=_("The project with the smaller id."))
    b = SideSerializer()
    reasons = ReasonSerializer(many=True)


class SideSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title_ar = serializers.CharField(allow_blank=True)
    title_en = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True)
    sector = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    charity = OrganizationRefSerializer()


class FlagSummarySerializer(serializers.Serializer):
    """A flag in a list: what every user who sees the flag may read of both projects (the reasons and the
    projects' other fields are in the flag's own document)."""

    id = serializers.IntegerField()
    internal = serializers.BooleanField()
    level = serializers.ChoiceField(choices=Level.choices)
    score = serializers.FloatField()
    status = serializers.CharField(help_text=_("open (awaiting the ministry's decision), decided or withdrawn."))
    found_by = serializers.CharField()
    first_found_at = serializers.DateTimeField()
    last_found_at = serializers.DateTimeField()
    model_version = serializers.IntegerField(source="model_version.number")
    decision = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    a = SideSummarySerializer(source="project_a")
    b = SideSummarySerializer(source="project_b")


def _amount(minor, currency) -> str | None:
    if minor is None or not currency:
        return None
    return Money(int(minor), currency).amount_text


def _language_text(reason: dict) -> str:
    english = (translation.get_language() or "ar").startswith("en")
    return (reason.get("text_en") if english else reason.get("text_ar")) or reason.get("text_en") or ""


def _reasons(reasons) -> list[dict]:
    return [
        {
            "signal": str(reason.get("signal", "")),
            "level": str(reason.get("level", "")),
            "weight": float(reason.get("weight") or 0),
            "text": _language_text(reason),
            "text_ar": str(reason.get("text_ar", "")),
            "text_en": str(reason.get("text_en", "")),
        }
        for reason in reasons or []
    ]


def _side(side: dict) -> dict:
    data = dict(side)
    budget = data.get("budget")
    if data.get("full") and budget:
        kwd = budget.get("kwd_fils")
        data["budget"] = {
            "total": _amount(budget.get("total_minor"), budget.get("currency")),
            "currency": budget.get("currency"),
            "total_kwd": _amount(kwd, "KWD") if kwd else None,
        }
    return data


def flag_document(user, flag) -> dict:
    """What the API answers about a flag: selectors.flag_view, with amounts as text and the reasons' sentences
    in the request's language."""
    view = selectors.flag_view(user, flag)
    return {
        **view,
        "joint_total": _amount(view.get("joint_total"), view.get("joint_currency")),
        "a": _side(view["a"]),
        "b": _side(view["b"]),
        "reasons": _reasons(view.get("reasons")),
    }


class FlagDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REASON_MAX_LENGTH,
        help_text=_("Required for duplicate and distinct."),
    )
    duplicate_project = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("For duplicate: the id of the duplicate project.")
    )
    share_a_bp = serializers.IntegerField(
        required=False, min_value=1, max_value=9999, help_text=_("For joint: project a's share in basis points.")
    )
    share_b_bp = serializers.IntegerField(
        required=False, min_value=1, max_value=9999, help_text=_("For joint: project b's share; a + b = 10,000.")
    )
    joint_total = serializers.CharField(
        required=False, max_length=40, help_text=_('For joint: the total cost of the joint work ("25000.500").')
    )
    joint_currency = serializers.CharField(required=False, default="KWD", max_length=3, min_length=3)

    def validate(self, data):
        errors = {}
        text = data.get("joint_total")
        if text is not None:
            try:
                money = parse_money(text, (data.get("joint_currency") or "KWD").upper())
            except MoneyError as error:
                errors["joint_total"] = [str(error.message)]
            else:
                data["joint_total_minor"] = money.minor
                data["joint_currency"] = money.currency
        if errors:
            raise serializers.ValidationError(errors)
        return data


# --- flags --------------------------------------------------------------------------------------------------


@extend_schema(tags=["coordination"])
@extend_schema_view(
    list=extend_schema(responses=FlagSummarySerializer(many=True)),
    retrieve=extend_schema(responses=FlagSerializer),
    decide=extend_schema(
        request=FlagDecisionSerializer,
        responses={200: FlagSerializer},
        description=_(
            "The ministry's decision on an open flag (reviewers and administrators): duplicate (the duplicate "
            "project is rejected or withdrawn; a reason is required), joint funding (shares in basis points summing "
            "to 10,000 and the joint work's total cost; refused when a budget would be counted twice) or distinct "
            "(a reason is required). 409 when the flag no longer awaits a decision. Audited."
        ),
    ),
)
class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Overlap flags the user may see: open ones first, then by score."""

    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    ordering_fields = ["score", "last_found_at", "first_found_at", "id"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.queue_order(selectors.flag_list(self.request.user))

    def get_object(self):
        return selectors.flag_get(self.request.user, self.kwargs["pk"])

    def get_serializer_class(self):
        return FlagSummarySerializer if self.action == "list" else FlagSerializer

    def retrieve(self, request, *args, **kwargs):
        return Response(FlagSerializer(flag_document(request.user, self.get_object())).data)

    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        flag = self.get_object()
        if not is_ministry(request.user):
            raise NotAllowed(_("Only the ministry's reviewers and administrators decide on overlaps."))
        body = FlagDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.flag_decide(
            actor=request.user,
            flag=flag,
            decision=data["decision"],
            reason=data.get("reason", ""),
            duplicate_project=data.get("duplicate_project"),
            share_a_bp=data.get("share_a_bp"),
            share_b_bp=data.get("share_b_bp"),
            joint_total=data.get("joint_total_minor"),
            joint_currency=data.get("joint_currency") or "KWD",
        )
        return Response(FlagSerializer(flag_document(request.user, self.get_object())).data)


# --- a project's check --------------------------------------------------------------------------------------


class OverlapSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField(allow_blank=True, help_text=_("In the language of the request."))
    charity_name = serializers.CharField(allow_blank=True)
    internal = serializers.BooleanField()
    score = serializers.FloatField()
    level = serializers.ChoiceField(choices=Level.choices)
    reasons = ReasonSerializer(many=True)
    flag = serializers.IntegerField(allow_null=True)
    flag_status = serializers.CharField(allow_blank=True)
    decision = serializers.CharField(allow_blank=True)


class CheckSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField()
    trigger = serializers.ChoiceField(choices=CheckTrigger.choices)
    at = serializers.DateTimeField()
    model_version = serializers.IntegerField()
    candidates = serializers.IntegerField(help_text=_("How many projects were scored."))
    overlaps = OverlapSerializer(many=True, help_text=_("With other charities' projects, best first."))
    internal = OverlapSerializer(many=True, help_text=_("Internal duplicates: the same charity's projects."))
    duration_ms = serializers.IntegerField()


def check_document(user, project, check) -> dict:
    """The check as the user may see it: each finding through its flag (selectors.flag_view), so that a charity
    reads of another charity's project only what it may."""
    flags = {}
    for flag in selectors.flags_of_project(user, project):
        flags[flag.project_b_id if flag.project_a_id == project.pk else flag.project_a_id] = flag
    english = (translation.get_language() or "ar").startswith("en")
    oversight = has_oversight(user)
    found = {"overlaps": [], "internal": []}
    for result in check.results or []:
        other = result.get("project")
        flag = flags.get(other)
        if flag is not None:
            view = selectors.flag_view(user, flag)
            side = view["a"] if view["a"]["id"] == other else view["b"]
            title = (side.get("title_en") if english else side.get("title_ar")) or side.get("title_ar") or ""
            charity = side.get("charity") or {}
            charity_name = (charity.get("name_en") if english else charity.get("name_ar")) or ""
            reasons, reference = view["reasons"], side["reference"]
        else:
            title = charity_name = ""
            reference = str(result.get("reference", ""))
            reasons = [
                reason
                for reason in result.get("reasons") or []
                if oversight or result.get("internal") or reason.get("signal") not in selectors.CONFIDENTIAL_SIGNALS
            ]
        found["internal" if result.get("internal") else "overlaps"].append(
            {
                "project": other,
                "reference": reference,
                "title": title,
                "charity_name": charity_name,
                "internal": bool(result.get("internal")),
                "score": float(result.get("score") or 0),
                "level": result.get("level"),
                "reasons": _reasons(reasons),
                "flag": flag.pk if flag is not None else None,
                "flag_status": flag.status if flag is not None else "",
                "decision": flag.decision if flag is not None else "",
            }
        )
    return {
        "id": check.pk,
        "project": project.pk,
        "trigger": check.trigger,
        "at": check.at,
        "model_version": check.model_version.number,
        "candidates": check.candidates,
        "duration_ms": check.duration_ms,
        **found,
    }


@extend_schema(tags=["coordination"])
@extend_schema_view(
    check=extend_schema(
        methods=["GET"],
        responses={200: CheckSerializer},
        description=_(
            "The project's latest coordination check (the ministry, auditors and the project's charity); 404 when "
            "none ran yet."
        ),
    ),
)
class ProjectCheckViewSet(viewsets.GenericViewSet):
    """A project's coordination check."""

    serializer_class = CheckSerializer
    pagination_class = None
    filter_backends: list = []
    lookup_value_regex = "[0-9]+"

    def _project(self, pk):
        project = project_get(self.request.user, pk)
        if not permissions.can_view_checks(self.request.user, project):
            raise Http404
        return project

    @extend_schema(
        methods=["POST"],
        request=None,
        responses={200: CheckSerializer},
        description=_(
            "Runs the project's coordination check now (the ministry, or the project's charity) and answers it: "
            "the overlaps found, their flags opened or updated. Audited."
        ),
    )
    @action(detail=True, methods=["get", "post"])
    def check(self, request, pk=None):
        project = self._project(pk)
        if request.method == "POST":
            if not permissions.can_run_check(request.user, project):
                raise NotAllowed(_("Only the ministry and the project's charity run its coordination check."))
            services.coordination_check(actor=request.user, project=project, trigger=CheckTrigger.MANUAL)
        check = selectors.latest_check(request.user, project)
        if check is None:
            raise Http404
        return Response(CheckSerializer(check_document(request.user, project, check)).data)


# --- settings -----------------------------------------------------------------------------------------------


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["number", "created_at", "labels_used", "records_used", "is_active", "note"]
        read_only_fields = fields


class CoordinationSettingsSerializer(serializers.Serializer):
    likely_threshold = serializers.DecimalField(max_digits=6, decimal_places=2)
    possible_threshold = serializers.DecimalField(max_digits=6, decimal_places=2)
    completed_within_days = serializers.IntegerField()
    max_candidates = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    model_versions = ModelVersionSerializer(many=True)


class CoordinationSettingsUpdateSerializer(serializers.Serializer):
    likely_threshold = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=-99, max_value=999, required=False
    )
    possible_threshold = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=-99, max_value=999, required=False
    )
    completed_within_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    max_candidates = serializers.IntegerField(min_value=1, max_value=5000, required=False)


@extend_schema(tags=["coordination"])
@extend_schema_view(
    retrieve=extend_schema(responses=CoordinationSettingsSerializer),
    partial_update=extend_schema(
        request=CoordinationSettingsUpdateSerializer,
        responses=CoordinationSettingsSerializer,
        description=_("A ministry administrator changes the thresholds (audited)."),
    ),
)
class CoordinationSettingsViewSet(viewsets.GenericViewSet):
    """The ministry's coordination thresholds and the model's versions: the ministry and auditors read them."""

    serializer_class = CoordinationSettingsSerializer
    pagination_class = None
    filter_backends: list = []

    def check_permissions(self, request):
        super().check_permissions(request)
        if not has_oversight(request.user):
            raise PermissionDenied()

    def _document(self) -> dict:
        row = selectors.current_settings()
        selectors.active_model()
        return {
            "likely_threshold": row.likely_threshold,
            "possible_threshold": row.possible_threshold,
            "completed_within_days": row.completed_within_days,
            "max_candidates": row.max_candidates,
            "updated_at": row.updated_at,
            "model_versions": ModelVersion.objects.order_by("-number")[:50],
        }

    def retrieve(self, request):
        return Response(CoordinationSettingsSerializer(self._document()).data)

    def partial_update(self, request):
        if not permissions.can_change_settings(request.user):
            raise NotAllowed(_("Only a ministry administrator changes the coordination settings."))
        body = CoordinationSettingsUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.settings_update(actor=request.user, **body.validated_data)
        return Response(CoordinationSettingsSerializer(self._document()).data)
