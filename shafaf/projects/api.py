from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError, NotAllowed

from . import permissions, selectors, services, workflow
from .choices import ProjectStatus
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
    # Blank unless the project is suspended (or a revision is in review): "" is one of its values.
    resume_status = serializers.ChoiceField(
        choices=[("", "—"), *ProjectStatus.choices],
        read_only=True,
        help_text=_("Where a suspended project resumes, or where an approved revision returns."),
    )

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
            "licence_number",
            "licence_date",
            "is_revision",
            "resume_status",
            "submitted_at",
            "status_changed_at",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "reference",
            "status",
            "licence_number",
            "licence_date",
            "is_revision",
            "resume_status",
            "submitted_at",
            "status_changed_at",
            "created_at",
            "updated_at",
        ]
        validators = []

    def get_allowed_actions(self, project) -> list[str]:
        """What the requesting user may do now: "edit", and each workflow action, as its URL names it
        (POST /api/v1/projects/{id}/{action}/)."""
        return permissions.allowed_actions(self.context["request"].user, project)


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text=_(
            "Why; required to request changes, reject, suspend or cancel. Shown to the charity and the ministry."
        ),
    )


def _transition_action(name: str):
    """The POST endpoint of one workflow action: /api/v1/projects/{id}/<name>/."""
    transition = workflow.BY_ACTION[name]

    def view(self, request, pk=None):
        return self.transition(request, name)

    view.__name__ = name.replace("-", "_")  # before @action, which maps POST to the method by this name
    description = format_lazy(
        "{} {}",
        _(
            "Moves the project along its lifecycle and answers with the project. 409 when the action does not "
            "apply to the project's current state, or someone else changed it first; allowed_actions in every "
            "project says what the user may do now."
        ),
        _("A reason is required.") if transition.reason_required else _("A reason may be given."),
    )
    view = action(detail=True, methods=["post"], url_path=name, url_name=name)(view)
    return extend_schema(
        summary=transition.label, description=description, request=TransitionSerializer, responses=ProjectSerializer
    )(view)


TRANSITION_VIEWS = frozenset(name.replace("-", "_") for name in workflow.ACTIONS)


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
            raise NotAllowed(permissions.edit_refusal(self.request.user, project))
        return project

    def get_serializer_class(self):
        if self.action in TRANSITION_VIEWS:
            return TransitionSerializer
        return ProjectSerializer

    def transition(self, request, name: str) -> Response:
        project = selectors.project_get(request.user, self.kwargs["pk"])
        body = TransitionSerializer(data=request.data)
        if not body.is_valid():
            services.check_transition(actor=request.user, project=project, action=name)  # 403 and 409 first
            raise serializers.ValidationError(body.errors)
        project = services.project_transition(
            actor=request.user, project=project, action=name, reason=body.validated_data.get("reason", "")
        )
        project = selectors.project_get(request.user, project.pk)
        return Response(ProjectSerializer(project, context=self.get_serializer_context()).data)

    submit = _transition_action("submit")
    start_review = _transition_action("start-review")
    request_changes = _transition_action("request-changes")
    approve = _transition_action("approve")
    reject = _transition_action("reject")
    start = _transition_action("start")
    complete = _transition_action("complete")
    close = _transition_action("close")
    suspend = _transition_action("suspend")
    resume = _transition_action("resume")
    cancel = _transition_action("cancel")

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
