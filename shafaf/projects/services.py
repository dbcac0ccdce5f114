"""Every write to projects. Each is atomic, checked and audited."""

from __future__ import annotations

from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.donations import notifications as donor_notifications

from . import permissions, workflow
from .choices import ProjectAction, ProjectStatus
from .models import LicenceSequence, Project, ProjectLocation, ProjectSequence, ProjectTransition

PROJECT_FIELDS = (
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
)
LOCATION_FIELDS = ("admin_area_ar", "admin_area_en", "latitude", "longitude")
# A change to any of these (or to the locations) of a licensed project sends it back to review as a
# revision; the other fields (titles, descriptions, IATI identifier) are cosmetic. The budget joins them
# when finance exists.
SCOPE_FIELDS = (
    "project_model",
    "sector",
    "country",
    "beneficiary_group",
    "beneficiary_count",
    "planned_start",
    "planned_end",
    "currency",
    "implementing_partner",
)
# The rulebook's stages (shafaf.projects.rulebook.models.Stage) run by the workflow.
RULEBOOK_SUBMISSION = "submission"
RULEBOOK_APPROVAL = "approval"


def _snapshot(project: Project) -> dict:
    data = {name: getattr(project, name) for name in PROJECT_FIELDS if name != "implementing_partner"}
    data["implementing_partner"] = project.implementing_partner_id
    return data


def _locations_snapshot(project: Project) -> list[dict]:
    return [{name: getattr(loc, name) for name in LOCATION_FIELDS} for loc in project.locations.order_by("id")]


def _claim_number(sequence_model, year: int) -> int:
    """The next number of the year in a per-year sequence, claimed under a row lock so no two writers share one
    (and, with the caller's transaction, none is lost when it rolls back)."""
    sequence, _created = sequence_model.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def _next_licence_number(today) -> str:
    """MOSA-2026-000123: the next licence number of the year."""
    return f"MOSA-{today.year}-{_claim_number(LicenceSequence, today.year):06d}"


def _next_reference() -> str:
    """PRJ-2026-000123: the next project reference of the year."""
    year = timezone.localdate().year
    return f"PRJ-{year}-{_claim_number(ProjectSequence, year):06d}"


def _quantize_point(location: ProjectLocation) -> None:
    """Writes a checked point as the database stores it (15.45 -> 15.450000), so that the audit diff
    compares like with like and re-sending an unchanged point is no change."""
    for name in ("latitude", "longitude"):
        value = getattr(location, name)
        if value is not None:
            places = ProjectLocation._meta.get_field(name).decimal_places
            setattr(location, name, value.quantize(Decimal(1).scaleb(-places)))


def _build_locations(project: Project, locations) -> list[ProjectLocation]:
    built, errors = [], {}
    for index, raw in enumerate(locations or []):
        location = ProjectLocation(project=project, **{k: raw.get(k) for k in LOCATION_FIELDS if k in raw})
        location.admin_area_ar = (location.admin_area_ar or "").strip()
        location.admin_area_en = (location.admin_area_en or "").strip()
        try:
            location.full_clean(exclude=["project"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"locations[{index}].{field}"] = messages
        else:
            _quantize_point(location)
        built.append(location)
    if errors:
        raise DomainError(_("Please correct the locations."), code="invalid", fields=errors)
    return built


def _clean(project: Project) -> None:
    for name in ("title_ar", "title_en", "description_ar", "description_en"):
        setattr(project, name, (getattr(project, name) or "").strip())
    try:
        project.full_clean(exclude=["reference", "created_by"])
    except ValidationError as exc:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=exc.message_dict) from exc


def project_create(*, actor, charity, locations=None, **fields) -> Project:
    """A charity's new draft. `locations` is a list of dicts with LOCATION_FIELDS."""
    if not permissions.can_create_project(actor, charity):
        raise NotAllowed(_("You cannot create projects for this charity."))
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    project = Project(charity=charity, created_by=actor, status_changed_at=timezone.now(), **fields)
    _clean(project)
    built = _build_locations(project, locations)
    with transaction.atomic():
        project.reference = _next_reference()
        project.save()
        for location in built:
            location.project = project
        ProjectLocation.objects.bulk_create(built)
        changes = audit.diff({}, _snapshot(project))
        if built:
            changes.update(audit.diff({}, {"locations": _locations_snapshot(project)}))
        changes["reference"] = [None, project.reference]
        audit.record(actor=actor, action="project.create", subject=project, organization=charity, changes=changes)
    return project


def project_update(*, actor, project: Project, locations=None, **fields) -> Project:
    """Edits a project in draft or sent back for changes, or a licensed one (approved or in execution).
    `locations`, when given, replaces the project's locations.

    A change to a licensed project's scope (SCOPE_FIELDS or the locations) sends it back to the ministry:
    status "submitted" with the revision flag (a "revise" transition); a cosmetic change does not."""
    if not permissions.can_edit_project(actor, project):
        raise NotAllowed(permissions.edit_refusal(actor, project))
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not permissions.can_edit_project(actor, project):
            raise NotAllowed(permissions.edit_refusal(actor, project))
        before, before_locations = _snapshot(project), _locations_snapshot(project)
        for key, value in fields.items():
            setattr(project, key, value)
        _clean(project)
        changes = audit.diff(before, _snapshot(project))
        if locations is not None:
            built = _build_locations(project, locations)
            after_locations = [{name: getattr(loc, name) for name in LOCATION_FIELDS} for loc in built]
            location_changes = audit.diff({"locations": before_locations}, {"locations": after_locations})
            if location_changes:
                project.locations.all().delete()
                ProjectLocation.objects.bulk_create(built)
                changes.update(location_changes)
        if changes:
            project.save()
            audit.record(
                actor=actor, action="project.update", subject=project, organization=project.charity, changes=changes
            )
            scope_changes = sorted(name for name in changes if name in SCOPE_FIELDS or name == "locations")
            if project.status in workflow.REVISABLE_STATUSES and scope_changes:
                project = _revise(actor=actor, project=project, fields=scope_changes)
            _coordinate(actor, project, "edit")
    return project


def _record_transition(*, actor, project: Project, action: str, role: str, old: str, at, changes: dict, reason=""):
    """The domain history row (the timeline) and the audit event of one change of state, in the caller's
    transaction; `project` already holds its new state."""
    ProjectTransition.objects.create(
        project=project,
        action=action,
        from_status=old,
        to_status=project.status,
        actor=actor,
        actor_role=role,
        reason=reason,
        at=at,
    )
    audit.record(
        actor=actor,
        action=f"project.{action}",
        subject=project,
        organization=project.charity,
        role=role,
        changes=changes,
        reason=reason,
    )


def _revise(*, actor, project: Project, fields: list[str]) -> Project:
    """Sends a licensed project whose scope changed back to the ministry (inside project_update's transaction,
    with the project's row locked)."""
    now = timezone.now()
    old = project.status
    Project.objects.filter(pk=project.pk, status=old).update(
        status=ProjectStatus.SUBMITTED,
        is_revision=True,
        resume_status=old,
        submitted_at=now,
        status_changed_at=now,
        updated_at=now,
    )
    project.refresh_from_db()
    _record_transition(
        actor=actor,
        project=project,
        action=ProjectAction.REVISE,
        role=permissions.acting_role(actor, project, ProjectAction.SUBMIT),
        old=old,
        at=now,
        changes={
            "status": [old, project.status],
            "is_revision": [False, True],
            "resume_status": ["", old],
            "revised_fields": [None, fields],
        },
    )
    _run_rulebook(actor, project, RULEBOOK_SUBMISSION)
    return project


# --- the lifecycle ----------------------------------------------------------------------------------------------


def _coordinate(actor, project: Project, action: str) -> None:
    """Coordination across charities (shafaf.coordination), in the caller's transaction: a submission, and an edit
    of a project that coordination compares, are checked against every other project (the overlaps come back
    within the request); any other change of state keeps the project's signature true and withdraws the open
    overlaps of a project that left the compared states."""
    if not apps.is_installed("shafaf.coordination"):
        return
    from shafaf.coordination import services as coordination

    if action == ProjectAction.SUBMIT:
        coordination.check_after_submission(actor=actor, project=project)
    elif action == "edit":
        coordination.check_after_edit(actor=actor, project=project)
    else:
        coordination.project_changed(actor=actor, project=project, action=action)


def _run_rulebook(actor, project: Project, stage: str) -> list:
    """Runs the ministry's rulebook (shafaf.projects.rulebook) for the project at this stage and returns its
    results, each with `.blocking` and `.message`. Nothing, while the rulebook is not installed."""
    try:
        from .rulebook.services import rulebook_run
    except ModuleNotFoundError as error:
        # Only the rulebook's own absence is forgiven; a broken import inside it is a bug to see.
        if error.name not in (f"{__package__}.rulebook", f"{__package__}.rulebook.services"):
            raise
        return []
    return list(rulebook_run(actor=actor, project=project, stage=stage))


def check_transition(*, actor, project: Project, action: str) -> workflow.Transition:
    """The transition, when the actor may take it from the project's state (as `project` shows it); otherwise
    the refusal: NotAllowed (403) for a role that may not, Conflict (409) for a state it does not apply to.
    Pages and the API call it before reading a bad input, so that a refusal comes before a field error."""
    transition = workflow.BY_ACTION.get(action)
    if transition is None:
        raise DomainError(_("There is no such action on a project."), code="unknown_action", status=404)
    if not workflow.may(transition, permissions.project_parties(actor, project)):
        raise NotAllowed(
            _("Your role does not allow this action on this project: %(action)s.") % {"action": _label(action)}
        )
    if not workflow.applies(transition, project.status, is_revision=project.is_revision):
        if project.is_revision and project.status in transition.sources:
            message = _("A licensed project in review cannot be cancelled.")
        else:
            message = _("This action (%(action)s) does not apply to a project in the state “%(status)s”.") % {
                "action": _label(action),
                "status": project.get_status_display(),
            }
        raise Conflict(message, code="invalid_transition")
    return transition


def _check_transition(*, actor, project: Project, action: str, reason: str) -> workflow.Transition:
    transition = check_transition(actor=actor, project=project, action=action)
    if transition.reason_required and not reason:
        raise DomainError(
            _("Give a reason: the charity and the ministry will both read it."),
            code="reason_required",
            fields={"reason": [_("A reason is required for this action.")]},
        )
    return transition


def _partner_gate(*, actor, project: Project, action: str) -> None:
    """The accreditation gate and partner screening (shafaf.partners) for a project with a foreign implementing
    partner, before it is submitted or approved. Submitting checks the accreditations first, then screens the
    partner and its officers against the current sanctions lists (the screening is kept even when the
    submission is then refused), then refuses on any open or confirmed hit; approving checks both again."""
    if not project.implementing_partner_id or not apps.is_installed("shafaf.partners"):
        return
    from shafaf.partners import gate

    partner = project.implementing_partner
    today = timezone.localdate()
    scope = {"on_date": today, "country": project.country, "project_model": project.project_model}
    if action == ProjectAction.SUBMIT:
        status = gate.partner_gate_status(partner, **scope)
        if not status.accredited:
            raise gate.refusal(status, partner=partner)
        from shafaf.partners.choices import ScreeningTrigger
        from shafaf.partners.screening import screen_partner

        screen_partner(actor=actor, partner=partner, trigger=ScreeningTrigger.SUBMISSION, project=project)
    gate.partner_gate(partner, **scope)


def _label(action: str) -> str:
    transition = workflow.BY_ACTION.get(action)
    return str(transition.label) if transition else action


def project_transition(*, actor, project: Project, action: str, reason: str = "") -> Project:
    """Moves the project along its lifecycle (workflow.TRANSITIONS) and returns it as it now is.

    Refuses a user whose role may not take the action (NotAllowed, 403), an action that does not apply to the
    project's state (Conflict, 409) and a missing reason where one is required (DomainError, 400). The change is
    claimed with a conditional update on the state the caller saw (`project.status`): when someone else moved
    the project first, nothing is written and the caller gets a Conflict. The transition, its audit event
    (action "project.<action>", with the reason) and, for an approval, the licence are written together.

    Submitting runs the rulebook after the move (its results are stored, none blocks); approving runs it
    before, in its own transaction, and is refused while a blocking check fails (the results stay stored).
    """
    reason = (reason or "").strip()
    transition = _check_transition(actor=actor, project=project, action=action, reason=reason)
    if action in (ProjectAction.SUBMIT, ProjectAction.APPROVE):
        _partner_gate(actor=actor, project=project, action=action)
    if action == ProjectAction.APPROVE:
        with transaction.atomic():
            results = _run_rulebook(actor, project, RULEBOOK_APPROVAL)
        blocking = [str(result.message) for result in results if getattr(result, "blocking", False)]
        if blocking:
            raise DomainError(
                _("Approval is refused while a blocking check fails."),
                code="rulebook_blocked",
                fields={"rulebook": blocking},
            )

    old = project.status
    new = workflow.target(transition, resume_status=project.resume_status, is_revision=project.is_revision)
    now = timezone.now()
    values: dict = {"status": new, "status_changed_at": now, "updated_at": now}
    if action == ProjectAction.SUBMIT:
        values["submitted_at"] = now
    if action == ProjectAction.SUSPEND:
        values["resume_status"] = old
    elif action in (ProjectAction.RESUME, ProjectAction.APPROVE, ProjectAction.REJECT, ProjectAction.CANCEL):
        values["resume_status"] = ""
    if action == ProjectAction.APPROVE:
        values["is_revision"] = False

    changes = {"status": [old, new]}
    with transaction.atomic():
        if action == ProjectAction.APPROVE and not project.licence_number:
            # Claimed with the state, in the same UPDATE (a licensed state needs its licence). A loser of the
            # race below rolls the sequence back with its transaction, so no number is lost.
            values["licence_date"] = timezone.localdate()
            values["licence_number"] = _next_licence_number(values["licence_date"])
            changes.update(licence_number=[None, values["licence_number"]], licence_date=[None, values["licence_date"]])
        claimed = Project.objects.filter(pk=project.pk, status=old).update(**values)
        if not claimed:
            raise Conflict(
                _("Someone else changed this project first. Reload it to see its current state."),
                code="conflict",
            )
        if "resume_status" in values and values["resume_status"] != project.resume_status:
            changes["resume_status"] = [project.resume_status, values["resume_status"]]
        if values.get("is_revision") is False and project.is_revision:
            changes["is_revision"] = [True, False]
        project.refresh_from_db()
        _record_transition(
            actor=actor,
            project=project,
            action=action,
            role=permissions.acting_role(actor, project, action),
            old=old,
            at=now,
            changes=changes,
            reason=reason,
        )
        if action == ProjectAction.SUBMIT:
            _run_rulebook(actor, project, RULEBOOK_SUBMISSION)
        _coordinate(actor, project, action)
        if action == ProjectAction.APPROVE and apps.is_installed("shafaf.reports"):
            from shafaf.reports.services import reports_schedule_on_approval

            reports_schedule_on_approval(actor=actor, project=project)
    return project


# --- phases, progress and documents ------------------------------------------------------------------------

PHASE_PLAN_FIELDS = ("position", "name_ar", "name_en", "planned_start", "planned_end", "weight", "is_milestone")
PHASE_PROGRESS_FIELDS = ("percent_complete", "status")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# The file types accepted, by what their first bytes say (not only their name): {type: (content type, extensions)}.
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", (".pdf",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "png": ("image/png", (".png",)),
    "webp": ("image/webp", (".webp",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
}


def _phase_snapshot(phase) -> dict:
    return {name: getattr(phase, name) for name in (*PHASE_PLAN_FIELDS, *PHASE_PROGRESS_FIELDS)}


def _clean_phase(phase) -> None:
    from .models import ProjectPhase

    for name in ("name_ar", "name_en"):
        setattr(phase, name, (getattr(phase, name) or "").strip())
    errors: dict[str, list] = {}
    try:
        phase.full_clean(exclude=["project"])
    except ValidationError as exc:
        errors = dict(exc.message_dict)
    project = phase.project
    if phase.planned_start and phase.planned_start < project.planned_start:
        errors.setdefault("planned_start", []).append(
            _("A phase cannot start before the project's planned start (%(date)s).")
            % {"date": project.planned_start.isoformat()}
        )
    if phase.planned_end and phase.planned_end > project.planned_end:
        errors.setdefault("planned_end", []).append(
            _("A phase cannot end after the project's planned end (%(date)s).")
            % {"date": project.planned_end.isoformat()}
        )
    if errors:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=errors)
    assert isinstance(phase, ProjectPhase)


def _plan_refusal(actor, project) -> NotAllowed:
    if project.status in permissions.ENDED_STATUSES and project.charity_id in permissions.charities_user_can_draft_for(
        actor
    ):
        return NotAllowed(_("The phases of a closed, cancelled or rejected project cannot be changed."))
    return NotAllowed(_("You cannot plan this project's phases."))


def phase_create(*, actor, project: Project, **fields):
    """A new phase (or milestone) of the project, by its charity's admins or staff; its planned dates lie within
    the project's."""
    from .models import ProjectPhase

    if not permissions.can_plan_phases(actor, project):
        raise _plan_refusal(actor, project)
    unknown = set(fields) - set(PHASE_PLAN_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not permissions.can_plan_phases(actor, project):
            raise _plan_refusal(actor, project)
        if fields.get("position") is None:
            last = project.phases.order_by("-position").values_list("position", flat=True).first()
            fields["position"] = (last or 0) + 1
        phase = ProjectPhase(project=project, **fields)
        _clean_phase(phase)
        phase.save()
        audit.record(
            actor=actor,
            action="project.phase_create",
            subject=phase,
            organization=project.charity,
            changes={**audit.diff({}, _phase_snapshot(phase)), "project": [None, project.pk]},
        )
    return phase


def phase_update(*, actor, phase, **fields):
    """Changes a phase's plan (name, dates, weight, position, milestone flag): the charity's admins and staff."""
    from .models import ProjectPhase

    if not permissions.can_plan_phases(actor, phase.project):
        raise _plan_refusal(actor, phase.project)
    unknown = set(fields) - set(PHASE_PLAN_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    with transaction.atomic():
        phase = ProjectPhase.objects.select_for_update().select_related("project").get(pk=phase.pk)
        if not permissions.can_plan_phases(actor, phase.project):
            raise _plan_refusal(actor, phase.project)
        before = _phase_snapshot(phase)
        for key, value in fields.items():
            setattr(phase, key, value)
        _clean_phase(phase)
        changes = audit.diff(before, _phase_snapshot(phase))
        if changes:
            phase.save()
            audit.record(
                actor=actor,
                action="project.phase_update",
                subject=phase,
                organization=phase.project.charity,
                changes=changes,
            )
    return phase


def _status_for(percent: int) -> str:
    from .choices import PhaseStatus

    if percent >= 100:
        return PhaseStatus.DONE
    return PhaseStatus.IN_PROGRESS if percent > 0 else PhaseStatus.PLANNED


def phase_progress_update(*, actor, phase, percent_complete=None, status=None):
    """How far a phase has come: by the charity's admins or staff, or the implementing partner's reporter while
    the project is in execution. Given only the percentage, the status follows it (0 planned, 100 done, in
    progress between); "done" alone means 100%."""
    from .choices import PhaseStatus
    from .models import ProjectPhase

    def refusal(project):
        return NotAllowed(_("You cannot report progress on this project now."))

    if not permissions.can_update_progress(actor, phase.project):
        raise refusal(phase.project)
    with transaction.atomic():
        phase = ProjectPhase.objects.select_for_update().select_related("project__charity").get(pk=phase.pk)
        if not permissions.can_update_progress(actor, phase.project):
            raise refusal(phase.project)
        before = _phase_snapshot(phase)
        if percent_complete is not None:
            phase.percent_complete = percent_complete
        if status:
            phase.status = status
            if percent_complete is None and status == PhaseStatus.DONE:
                phase.percent_complete = 100
        elif percent_complete is not None:
            phase.status = _status_for(int(percent_complete))
        _clean_phase(phase)
        changes = audit.diff(before, _phase_snapshot(phase))
        if changes:
            phase.save(update_fields=["percent_complete", "status"])
            audit.record(
                actor=actor,
                action="project.phase_progress",
                subject=phase,
                organization=phase.project.charity,
                changes=changes,
            )
            donor_notifications.phase_progressed(phase=phase, was=before["status"])  # a completed phase: its donors
    return phase


def project_progress(project: Project) -> Decimal:
    """The project's progress: its phases' percentages weighted by their weights, to one decimal (0 with no
    phase, or when every phase weighs 0)."""
    total_weight, weighted = 0, 0
    for weight, percent in project.phases.values_list("weight", "percent_complete"):
        total_weight += weight
        weighted += weight * percent
    if not total_weight:
        return Decimal("0.0")
    return (Decimal(weighted) / Decimal(total_weight)).quantize(Decimal("0.1"))


def _sniff(head: bytes, file) -> str | None:
    """The file's type from its first bytes (and, for a ZIP, the parts an Office file holds)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in names and any(name.startswith("word/") for name in names):
            return "docx"
        if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
            return "xlsx"
    return None


def check_upload(file) -> tuple[str, int, str]:
    """(content type, size, sha256) of an accepted upload; DomainError on the field "file" otherwise."""
    import hashlib
    from pathlib import PurePath

    def refuse(message):
        return DomainError(message, code="invalid", fields={"file": [message]})

    if file is None:
        raise refuse(_("Choose a file."))
    size = getattr(file, "size", None) or 0
    if size > MAX_DOCUMENT_BYTES:
        raise refuse(
            _("The file is too large (%(size)s MB): the limit is %(limit)s MB.")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": MAX_DOCUMENT_BYTES // (1024 * 1024)}
        )
    if size == 0:
        raise refuse(_("The file is empty."))
    file.seek(0)
    head = file.read(16)
    kind = _sniff(head, file)
    allowed = _("PDF, JPEG, PNG, WebP, Word (.docx) or Excel (.xlsx)")
    if kind is None:
        raise refuse(_("This type of file is not accepted. Send %(types)s.") % {"types": allowed})
    content_type, extensions = DOCUMENT_TYPES[kind]
    extension = PurePath(getattr(file, "name", "") or "").suffix.lower()
    if extension not in extensions:
        raise refuse(
            _("The file's name (%(extension)s) does not match its content (%(kind)s).")
            % {"extension": extension or "—", "kind": kind.upper()}
        )
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b""):
        digest.update(chunk)
    file.seek(0)
    return content_type, size, digest.hexdigest()


DOCUMENT_FIELDS = ("kind", "title", "phase", "taken_on", "place", "latitude", "longitude")


def document_add(*, actor, project: Project, file, **fields):
    """Attaches a document or a piece of evidence to the project: any member of its charity until the project
    ends; the implementing partner's reporter, evidence only, while the project is in execution. The file is
    checked (size, type by content) and its SHA-256 recorded in the document and the audit chain."""
    from .models import ProjectDocument

    unknown = set(fields) - set(DOCUMENT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    kind = fields.get("kind")
    if not permissions.can_add_document(actor, project):
        raise NotAllowed(_("You cannot add documents to this project now."))
    if not permissions.can_add_document(actor, project, kind):
        raise NotAllowed(
            _("The implementing partner adds evidence of execution only (site photos, invoices, progress evidence)."),
            fields={"kind": [_("Choose a kind of evidence.")]},
        )
    phase = fields.get("phase")
    if phase is not None and phase.project_id != project.pk:
        raise DomainError(
            _("Please correct the errors below."),
            code="invalid",
            fields={"phase": [_("This phase belongs to another project.")]},
        )
    fields["title"] = (fields.get("title") or "").strip()
    fields["place"] = (fields.get("place") or "").strip()
    content_type, size, sha256 = check_upload(file)
    document = ProjectDocument(
        project=project, uploaded_by=actor, content_type=content_type, size=size, sha256=sha256, **fields
    )
    document.file.name = "pending"  # full_clean needs a value; the real name is given when the file is saved
    try:
        document.full_clean(exclude=["project", "uploaded_by", "phase"])
    except ValidationError as exc:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=exc.message_dict) from exc
    for name in ("latitude", "longitude"):
        value = getattr(document, name)
        if value is not None:
            setattr(document, name, Decimal(value).quantize(Decimal("0.000001")))
    document.file.save(getattr(file, "name", "upload"), file, save=False)
    try:
        with transaction.atomic():
            document.save()
            audit.record(
                actor=actor,
                action="project.document_add",
                subject=document,
                organization=project.charity,
                changes={
                    "project": [None, project.pk],
                    "kind": [None, document.kind],
                    "title": [None, document.title],
                    "phase": [None, document.phase_id],
                    "size": [None, size],
                    "sha256": [None, sha256],
                },
            )
    except Exception:
        document.file.delete(save=False)
        raise
    return document
