from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError, NotAllowed

from . import permissions, selectors, services, workflow
from .choices import ProjectStatus
from .filters import ProjectFilter
from .models import Project, ProjectDocument, ProjectLocation, ProjectPhase


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


class PhaseSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(required=False, min_value=1, max_value=32767)

    class Meta:
        model = ProjectPhase
        fields = [
            "id",
            "project",
            "position",
            "name_ar",
            "name_en",
            "planned_start",
            "planned_end",
            "weight",
            "is_milestone",
            "status",
            "percent_complete",
        ]
        read_only_fields = ["id", "project"]
        validators = []


class PhaseProgressSerializer(PhaseSerializer):
    """A phase as its plan (charity) or progress (charity or implementing partner) is changed."""

    class Meta(PhaseSerializer.Meta):
        pass


class DocumentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(
        write_only=True,
        help_text=_("PDF, JPEG, PNG, WebP, Word (.docx) or Excel (.xlsx), up to 20 MB; checked by content."),
    )
    phase = serializers.PrimaryKeyRelatedField(queryset=ProjectPhase.objects.all(), required=False, allow_null=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ProjectDocument
        fields = [
            "id",
            "project",
            "phase",
            "kind",
            "title",
            "file",
            "content_type",
            "size",
            "sha256",
            "taken_on",
            "place",
            "latitude",
            "longitude",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = ["id", "project", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]

    def get_download_url(self, document) -> str:
        """Where a signed-in user who may see the project downloads the file."""
        from django.urls import reverse

        return reverse("projects:document_download", args=[document.project_id, document.pk])


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

    @extend_schema(
        methods=["GET"],
        summary=_("The project's phases"),
        request=None,
        responses=PhaseSerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary=_("Add a phase or milestone"),
        description=_(
            "The charity's admins and staff plan the phases until the project is closed, cancelled or rejected; "
            "a phase's planned dates lie within the project's. Status and percentage are set by PATCH "
            "/api/v1/phases/{id}/."
        ),
        request=PhaseSerializer,
        responses={201: PhaseSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="phases", url_name="phases", pagination_class=None)
    def phases(self, request, pk=None):
        project = selectors.project_get(request.user, pk)
        if request.method == "GET":
            return Response(PhaseSerializer(selectors.project_phases(project), many=True).data)
        if not permissions.can_plan_phases(request.user, project):
            raise NotAllowed(_("You cannot plan this project's phases."))
        body = PhaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if k in services.PHASE_PLAN_FIELDS}
        phase = services.phase_create(actor=request.user, project=project, **data)
        progress = {k: body.validated_data[k] for k in services.PHASE_PROGRESS_FIELDS if k in body.validated_data}
        if progress:
            phase = services.phase_progress_update(actor=request.user, phase=phase, **progress)
        return Response(PhaseSerializer(phase).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary=_("The project's documents and evidence"),
        request=None,
        responses=DocumentSerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary=_("Upload a document or evidence"),
        description=_(
            "multipart/form-data. Members of the charity add any kind of document; the implementing partner's "
            "reporter adds evidence (site photos, invoices, progress evidence) to the projects it implements while "
            "they are in execution. The SHA-256 of the file is computed and recorded."
        ),
        request={"multipart/form-data": DocumentSerializer},
        responses={201: DocumentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="documents",
        url_name="documents",
        pagination_class=None,
        parser_classes=[MultiPartParser, FormParser],
    )
    def documents(self, request, pk=None):
        project = selectors.project_get(request.user, pk)
        if request.method == "GET":
            return Response(DocumentSerializer(selectors.project_documents(project), many=True).data)
        if not permissions.can_add_document(request.user, project):
            raise NotAllowed(_("You cannot add documents to this project now."))
        body = DocumentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        upload = data.pop("file")
        document = services.document_add(actor=request.user, project=project, file=upload, **data)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

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


@extend_schema(tags=["projects"])
class PhaseViewSet(mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """A project's phase: its plan is changed by the charity's admins and staff; its status and percentage
    complete also by the implementing partner's reporter while the project is in execution."""

    serializer_class = PhaseProgressSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return ProjectPhase.objects.filter(project__in=selectors.projects_visible_to(self.request.user))

    def get_object(self):
        phase = selectors.phase_get(self.request.user, self.kwargs["pk"])
        if self.action == "partial_update":
            user, project = self.request.user, phase.project
            keys = set(self.request.data.keys()) if hasattr(self.request.data, "keys") else set()
            if keys & set(services.PHASE_PLAN_FIELDS) and not permissions.can_plan_phases(user, project):
                raise NotAllowed(_("You cannot plan this project's phases."))
            if not permissions.can_update_progress(user, project):
                raise NotAllowed(_("You cannot report progress on this project now."))
        return phase

    def perform_update(self, serializer):
        data = serializer.validated_data
        phase = serializer.instance
        plan = {k: v for k, v in data.items() if k in services.PHASE_PLAN_FIELDS}
        if plan:
            phase = services.phase_update(actor=self.request.user, phase=phase, **plan)
        progress = {k: data[k] for k in services.PHASE_PROGRESS_FIELDS if k in data}
        if progress:
            phase = services.phase_progress_update(actor=self.request.user, phase=phase, **progress)
        serializer.instance = phase
