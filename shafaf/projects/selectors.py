from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, is_ministry, organization_ids_with_role

from .choices import AWAITING_REVIEW_STATUSES, ProjectStatus
from .models import Project, ProjectTransition


def projects_visible_to(user, queryset=None):
    """The ministry and auditors see every project; a charity sees its own; a partner reporter sees the
    projects it implements once they have left the draft; nobody else sees a draft of another charity."""
    queryset = Project.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    condition = Q(charity_id__in=organization_ids_with_role(user, *CHARITY_ROLES))
    partner_ids = organization_ids_with_role(user, Role.PARTNER_REPORTER)
    if partner_ids:
        condition |= Q(implementing_partner_id__in=partner_ids) & ~Q(status=ProjectStatus.DRAFT)
    return queryset.filter(condition)


def project_list(user, queryset=None):
    return projects_visible_to(user, queryset).select_related("charity", "implementing_partner")


def project_get(user, pk) -> Project:
    """The project, or Http404 when it does not exist or the user may not see it."""
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None  # "/api/v1/projects/abc/" is not found, not a server error
    return get_object_or_404(project_list(user).prefetch_related("locations"), pk=pk)


def review_queue(user, queryset=None):
    """The ministry's queue: submitted and under-review projects, the longest waiting first (nothing for
    anyone else). The rulebook's risk will order projects of the same age once it is stored per project."""
    if not is_ministry(user):
        return Project.objects.none()
    return (
        project_list(user, queryset)
        .filter(status__in=AWAITING_REVIEW_STATUSES)
        .order_by(F("submitted_at").asc(nulls_first=True), "id")
    )


def changes_requested_of(user):
    """The projects the ministry sent back to the user's charities, the longest waiting first."""
    own = organization_ids_with_role(user, *CHARITY_ROLES)
    return (
        project_list(user)
        .filter(charity_id__in=own, status=ProjectStatus.CHANGES_REQUESTED)
        .order_by("status_changed_at", "id")
    )


# --- the timeline --------------------------------------------------------------------------------------------

# The audit events of a project shown on its timeline besides its transitions (which ProjectTransition holds).
TIMELINE_AUDIT_ACTIONS = ("project.create", "project.update")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition" or "record"
    transition: ProjectTransition | None = None
    event: object | None = None  # shafaf.audit.models.AuditEvent
    fields: tuple[str, ...] = ()  # for a record: the labels of the fields it changed


def _field_labels(names) -> tuple[str, ...]:
    labels = []
    for name in names:
        if name == "locations":
            labels.append(str(_("locations")))
            continue
        try:
            labels.append(str(Project._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            labels.append(name)
    return tuple(labels)


def project_timeline(user, project: Project) -> list[TimelineEntry]:
    """Everything that happened to the project, oldest first: its transitions and its creation and edits (from
    the audit chain). The caller has already checked that the user may see the project (project_get). Two
    queries, whatever the length of the history."""
    from shafaf.audit.selectors import events_about

    transitions = project.transitions.select_related("actor").order_by("at", "id")
    events = events_about(project, TIMELINE_AUDIT_ACTIONS)
    entries = [TimelineEntry(at=t.at, kind="transition", transition=t) for t in transitions]
    for event in events:
        changed = () if event.action == "project.create" else _field_labels(event.changes)
        entries.append(TimelineEntry(at=event.occurred_at, kind="record", event=event, fields=changed))
    # A revision's edit and the transition it causes share a moment: the edit comes first.
    entries.sort(key=lambda entry: (entry.at, entry.kind == "transition"))
    return entries


# --- phases and documents ------------------------------------------------------------------------------------


def project_phases(project: Project):
    """The project's phases in their order (the caller has checked that the user may see the project)."""
    return project.phases.order_by("position", "id")


def project_documents(project: Project):
    """The project's documents and evidence, newest first (the caller has checked the project is visible)."""
    return project.documents.select_related("phase", "uploaded_by").order_by("-uploaded_at", "-id")


def phase_get(user, pk):
    """The phase, or Http404 when it does not exist or the user may not see its project."""
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    from .models import ProjectPhase

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(
        ProjectPhase.objects.select_related("project__charity").filter(project__in=projects_visible_to(user)), pk=pk
    )


def document_get(user, project: Project, pk):
    """One of the project's documents, or Http404."""
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(project.documents.all(), pk=pk)


def missing_project_documents(project: Project) -> list[dict]:
    """The documents the project's MOSA project model requires (choices.REQUIRED_DOCUMENTS) and that are not
    attached yet, each as {"kind", "label_ar", "label_en"}; [] when nothing is missing. The rulebook's
    documents_present check reads it."""
    from django.utils import translation

    from .choices import REQUIRED_DOCUMENTS, DocumentKind

    required = REQUIRED_DOCUMENTS.get(project.project_model, ())
    if not required:
        return []
    present = set(project.documents.filter(kind__in=required).values_list("kind", flat=True)) if project.pk else set()
    missing = []
    for kind in required:
        if kind in present:
            continue
        labels = {}
        for language in ("ar", "en"):
            with translation.override(language):
                labels[language] = str(DocumentKind(kind).label)
        missing.append({"kind": str(kind), "label_ar": labels["ar"], "label_en": labels["en"]})
    return missing
