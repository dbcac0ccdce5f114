"""Every write to projects. Each is atomic, checked and audited."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import DomainError, NotAllowed

from . import permissions
from .models import Project, ProjectLocation, ProjectSequence

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


def _snapshot(project: Project) -> dict:
    data = {name: getattr(project, name) for name in PROJECT_FIELDS if name != "implementing_partner"}
    data["implementing_partner"] = project.implementing_partner_id
    return data


def _locations_snapshot(project: Project) -> list[dict]:
    return [{name: getattr(loc, name) for name in LOCATION_FIELDS} for loc in project.locations.order_by("id")]


def _next_reference() -> str:
    year = timezone.localdate().year
    sequence, _created = ProjectSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"PRJ-{year}-{sequence.last_number:06d}"


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
    project = Project(charity=charity, created_by=actor, **fields)
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
    """Edits a draft. `locations`, when given, replaces the project's locations."""
    if not permissions.can_edit_project(actor, project):
        raise NotAllowed(_("You cannot edit this project."))
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not permissions.can_edit_project(actor, project):
            raise NotAllowed(_("You cannot edit this project."))
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
    return project
