from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import CHARITY_ROLES, Role
from shafaf.accounts.permissions import has_oversight, is_ministry, organization_ids_with_role
from shafaf.core.ids import pk_or_404

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
    from django.shortcuts import get_object_or_404

    return get_object_or_404(project_list(user).prefetch_related("locations"), pk=pk_or_404(pk))


def review_queue(user, queryset=None):
    """The ministry's queue: submitted and under-review projects, the longest waiting first (nothing for
    anyone else), each annotated with its latest rulebook run's counts (with_latest_run_counts); the review
    queue's page orders them by risk first (rank_by_risk)."""
    if not is_ministry(user):
        return Project.objects.none()
    return with_latest_run_counts(
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
    kind: str  # "transition", "record", "check" or "report"
    transition: ProjectTransition | None = None
    event: object | None = None  # shafaf.audit.models.AuditEvent
    fields: tuple[str, ...] = ()  # for a record: the labels of the fields it changed
    run: object | None = None  # for a check: shafaf.projects.rulebook.models.RulebookRun
    report: object | None = None  # for a report: shafaf.reports.models.ProgressReport
    step: str = ""  # for a report: "submitted", "accepted" or "returned"


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
    """Everything that happened to the project, oldest first: its transitions, its creation and edits (from
    the audit chain), every run of the ministry's checks and every progress report submitted and decided. The
    caller has already checked that the user may see the project (project_get). A fixed number of queries,
    whatever the length of the history."""
    from shafaf.audit.selectors import events_about

    transitions = project.transitions.select_related("actor").order_by("at", "id")
    events = events_about(project, TIMELINE_AUDIT_ACTIONS)
    entries = [TimelineEntry(at=t.at, kind="transition", transition=t) for t in transitions]
    for event in events:
        changed = () if event.action == "project.create" else _field_labels(event.changes)
        entries.append(TimelineEntry(at=event.occurred_at, kind="record", event=event, fields=changed))
    entries += [
        TimelineEntry(at=run.at, kind="check", run=run)
        for run in project.rulebook_runs.select_related("actor").order_by("at", "id")
    ]
    entries += _report_entries(project)
    # A revision's edit and the transition it causes share a moment: the edit comes first.
    entries.sort(key=lambda entry: (entry.at, entry.kind == "transition"))
    return entries


def _report_entries(project: Project) -> list[TimelineEntry]:
    """Each progress report's submission and the ministry's decision on it, once reports are kept."""
    from django.apps import apps

    if not apps.is_installed("shafaf.reports"):
        return []
    entries = []
    for report in project.progress_reports.exclude(submitted_at=None).select_related("submitted_by", "reviewed_by"):
        entries.append(TimelineEntry(at=report.submitted_at, kind="report", report=report, step="submitted"))
        if report.reviewed_at is not None:
            entries.append(TimelineEntry(at=report.reviewed_at, kind="report", report=report, step=report.status))
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
    from django.shortcuts import get_object_or_404

    from .models import ProjectPhase

    return get_object_or_404(
        ProjectPhase.objects.select_related("project__charity").filter(project__in=projects_visible_to(user)),
        pk=pk_or_404(pk),
    )


def document_get(user, project: Project, pk):
    """One of the project's documents, or Http404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(project.documents.all(), pk=pk_or_404(pk))


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


# --- the review queue's risk -----------------------------------------------------------------------------------

# risk = blocking failures x RISK_BLOCKING + warnings + RISK_REVISION (a revision) + whole weeks waiting
RISK_BLOCKING = 10
RISK_REVISION = 5


def with_latest_run_counts(queryset):
    """Annotates each project with its latest rulebook run's blocking failures and warnings (0 when the
    rulebook never ran for it), in the same query."""
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from .rulebook.models import RulebookRun

    latest = RulebookRun.objects.filter(project=OuterRef("pk")).order_by("-at", "-id")
    return queryset.annotate(
        risk_blocking=Coalesce(Subquery(latest.values("blocking_failures")[:1]), Value(0)),
        risk_warnings=Coalesce(Subquery(latest.values("warnings")[:1]), Value(0)),
    )


@dataclass(frozen=True)
class Risk:
    blocking: int
    warnings: int
    revision: bool
    weeks: int

    @property
    def score(self) -> int:
        return self.blocking * RISK_BLOCKING + self.warnings + (RISK_REVISION if self.revision else 0) + self.weeks

    @property
    def explanation(self) -> str:
        return str(
            _(
                "Risk %(score)s = %(blocking)s blocking failures × %(per_blocking)s + %(warnings)s warnings"
                " + %(revision)s for a revision + %(weeks)s weeks waiting"
            )
            % {
                "score": self.score,
                "blocking": self.blocking,
                "per_blocking": RISK_BLOCKING,
                "warnings": self.warnings,
                "revision": RISK_REVISION if self.revision else 0,
                "weeks": self.weeks,
            }
        )


def project_risk(project: Project) -> Risk:
    """The review risk of a project annotated by with_latest_run_counts."""
    return Risk(
        blocking=getattr(project, "risk_blocking", 0) or 0,
        warnings=getattr(project, "risk_warnings", 0) or 0,
        revision=project.is_revision,
        weeks=(project.days_waiting or 0) // 7,
    )


def rank_by_risk(projects) -> list[Project]:
    """The projects (annotated by with_latest_run_counts) with their `.risk`, the riskiest first, then the
    longest waiting (never submitted first), then the oldest record."""
    ranked = list(projects)
    for project in ranked:
        project.risk = project_risk(project)
    far_past = datetime.min.replace(tzinfo=UTC)
    return sorted(ranked, key=lambda p: (-p.risk.score, p.submitted_at or far_past, p.pk))


# --- what changed in a revision ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: str
    after: str
    is_scope: bool


@dataclass(frozen=True)
class RevisionDiff:
    revision: ProjectTransition | None  # the latest "revise" transition; None when the project never had one
    approval: object | None = None  # the audit event of the approval compared with (None: none before it)
    decided: object | None = None  # the audit event of the approval of the revision, once approved
    changes: tuple[FieldChange, ...] = ()


def _location_text(rows) -> str:
    from .models import ProjectLocation

    if not rows:
        return "—"
    names = []
    for row in rows:
        location = ProjectLocation(
            admin_area_ar=row.get("admin_area_ar") or "",
            admin_area_en=row.get("admin_area_en") or "",
            latitude=row.get("latitude"),
            longitude=row.get("longitude"),
        )
        names.append(str(location))
    return "; ".join(names)


def _value_text(name: str, value, partners: dict) -> str:
    from .codelists import COUNTRIES, CURRENCIES, SECTORS

    if name == "locations":
        return _location_text(value)
    if value is None or value == "":
        return "—"
    if name == "country":
        return f"{COUNTRIES.label(value)} ({value})"
    if name == "sector":
        return f"{SECTORS.label(value)} ({value})"
    if name == "currency":
        return f"{CURRENCIES.label(value)} ({value})"
    if name == "implementing_partner":
        partner = partners.get(value)
        return partner.display_name() if partner is not None else str(value)
    try:
        field = Project._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def revision_diff(project: Project) -> RevisionDiff:
    """What changed in the project's latest revision: for each field changed by the edits since the last
    approval before the revision (up to the revision's own approval, or now), its value at that approval and
    its value now (or at the revision's approval), as readable text in the active language. A field changed
    and changed back is not listed. The caller has already checked that the user may see the project."""
    from shafaf.accounts.models import Organization
    from shafaf.audit.selectors import events_about

    from .choices import ProjectAction
    from .services import PROJECT_FIELDS, SCOPE_FIELDS

    revision = project.transitions.filter(action=ProjectAction.REVISE).order_by("-at", "-id").first()
    if revision is None:
        return RevisionDiff(revision=None)
    events = list(events_about(project, ("project.update", "project.approve", "project.revise")))
    revised_at = max((e.seq for e in events if e.action == "project.revise"), default=0)
    approval = next((e for e in reversed(events) if e.action == "project.approve" and e.seq < revised_at), None)
    decided = next((e for e in events if e.action == "project.approve" and e.seq > revised_at), None)
    start = approval.seq if approval is not None else 0
    end = decided.seq if decided is not None else None
    first_old, last_new = {}, {}
    for event in events:
        if event.action != "project.update" or event.seq <= start or (end is not None and event.seq > end):
            continue
        for name, (old, new) in (event.changes or {}).items():
            first_old.setdefault(name, old)
            last_new[name] = new
    changed = [name for name in first_old if first_old[name] != last_new[name]]
    partner_ids = {
        value
        for name in changed
        if name == "implementing_partner"
        for value in (first_old[name], last_new[name])
        if value is not None
    }
    partners = Organization.objects.in_bulk(partner_ids) if partner_ids else {}
    order = {name: index for index, name in enumerate((*PROJECT_FIELDS, "locations"))}
    changed.sort(key=lambda name: (order.get(name, len(order)), name))
    labels = dict(zip(changed, _field_labels(changed), strict=True))
    changes = tuple(
        FieldChange(
            name=name,
            label=labels[name],
            before=_value_text(name, first_old[name], partners),
            after=_value_text(name, last_new[name], partners),
            is_scope=name in SCOPE_FIELDS or name == "locations",
        )
        for name in changed
    )
    return RevisionDiff(revision=revision, approval=approval, decided=decided, changes=changes)


def last_progress_at(project):
    """When the project last showed progress (its progress reports and phase updates), or None: the alert
    rule no_progress reads it. Answered by shafaf.reports.selectors.last_progress_at."""
    from django.apps import apps

    if not apps.is_installed("shafaf.reports"):
        return None
    from shafaf.reports.selectors import last_progress_at as reports_last_progress_at

    return reports_last_progress_at(project)
