"""Every write of plans, objectives, indicators, targets, project links and indicator values. Each is atomic,
checked and audited (shafaf.audit.services.record) in the same transaction; bad input raises DomainError with
field errors and nothing is stored.

A version in force is never edited: a change starts a new draft (version_new_draft) that copies the
objectives, their indicators and targets (each copy remembers its origin); publishing it supersedes the
version in force, which stays as it was, and moves to the copies what pointed at the old objectives and
indicators from outside the plan (project links, other plans' mappings and feeding indicators)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed

from . import permissions, selectors
from .choices import Aggregation, Direction, ObjectiveKind, Unit, VersionStatus
from .models import (
    Indicator,
    IndicatorTarget,
    IndicatorValue,
    Objective,
    Plan,
    PlanVersion,
    ProjectObjective,
)
from .values import parse_value, value_text

VERSION_FIELDS = ("period_start", "period_end", "note")
OBJECTIVE_FIELDS = (
    "parent",
    "kind",
    "code",
    "title_ar",
    "title_en",
    "description_ar",
    "description_en",
    "position",
    "sdg_goal",
    "maps_to",
)
INDICATOR_FIELDS = (
    "code",
    "name_ar",
    "name_en",
    "definition_ar",
    "definition_en",
    "unit",
    "direction",
    "aggregation",
    "baseline",
    "baseline_milli",
    "baseline_date",
    "feeds",
)
MAX_DEPTH = 50


# --- helpers ------------------------------------------------------------------------------------------------------


def _invalid(field: str, message) -> DomainError:
    return DomainError(message, code="invalid", fields={field: [message]})


def _check_known(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})


def _organization(plan):
    return plan.organization


def _check_manage(actor, plan) -> None:
    if not permissions.can_manage_plan(actor, plan):
        raise NotAllowed(_("You cannot change this plan."))


def _check_draft(version) -> None:
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            _("A version in force or superseded is never edited: start a new draft version to change the plan."),
            code="version_not_draft",
        )


def _lock_version(version) -> PlanVersion:
    return PlanVersion.objects.select_for_update().select_related("plan__organization").get(pk=version.pk)


def _check_period(start, end, *, start_field="period_start", end_field="period_end") -> None:
    if not start:
        raise _invalid(start_field, _("Give the period's start."))
    if not end:
        raise _invalid(end_field, _("Give the period's end."))
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise _invalid(start_field, _("Enter valid dates."))
    if end < start:
        raise _invalid(end_field, _("The period must end on or after its start."))


def _snapshot(obj, names) -> dict:
    data = {}
    for name in names:
        field = obj._meta.get_field(name)
        data[name] = getattr(obj, field.attname)
    return data


def _parse(value, *, unit: str, field: str) -> int:
    try:
        return parse_value(value, unit=unit)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="invalid", fields={field: list(error.messages)}) from None


def _titles(fields: dict, obj, first: str, second: str, field: str) -> None:
    a = (fields.get(first, getattr(obj, first, "")) or "").strip()
    b = (fields.get(second, getattr(obj, second, "")) or "").strip()
    if not a and not b:
        raise _invalid(field, _("Give it a name in Arabic, English or both."))


# --- plans and versions ------------------------------------------------------------------------------------------


def plan_create(*, actor, organization, code, name_ar="", name_en="", period_start, period_end, note: str = "") -> Plan:
    """A strategic plan of the ministry or of a charity, with its first draft version."""
    if not permissions.can_create_plan(actor, organization):
        raise NotAllowed(_("You cannot create a plan for this organisation."))
    code = (code or "").strip()
    if not code:
        raise _invalid("code", _("Give the plan a code."))
    from django.core.validators import validate_slug

    try:
        validate_slug(code)
    except ValidationError:
        raise _invalid("code", _("Use letters, digits, hyphens and underscores only.")) from None
    if len(code) > 60:
        raise _invalid("code", _("Use at most 60 characters."))
    name_ar, name_en = (name_ar or "").strip(), (name_en or "").strip()
    if not name_ar and not name_en:
        raise _invalid("name_ar", _("Give it a name in Arabic, English or both."))
    _check_period(period_start, period_end)
    if Plan.objects.filter(organization=organization, code=code).exists():
        raise _invalid("code", _("This organisation already has a plan with this code."))
    with transaction.atomic():
        plan = Plan.objects.create(
            organization=organization, code=code, name_ar=name_ar, name_en=name_en, created_by=actor
        )
        version = PlanVersion.objects.create(
            plan=plan, number=1, period_start=period_start, period_end=period_end, note=note, created_by=actor
        )
        audit.record(
            actor=actor,
            action="strategy.plan_create",
            subject=plan,
            organization=organization,
            changes=audit.diff(
                {},
                {
                    "code": code,
                    "name_ar": name_ar,
                    "name_en": name_en,
                    "version": version.number,
                    "period_start": period_start,
                    "period_end": period_end,
                },
            ),
        )
    return plan


def version_update(*, actor, version, **fields) -> PlanVersion:
    """Changes a draft version's period or note."""
    _check_known(fields, VERSION_FIELDS)
    _check_manage(actor, version.plan)
    with transaction.atomic():
        version = _lock_version(version)
        _check_draft(version)
        before = _snapshot(version, VERSION_FIELDS)
        for name, value in fields.items():
            setattr(version, name, value.strip() if isinstance(value, str) else value)
        _check_period(version.period_start, version.period_end)
        version.save()
        changes = audit.diff(before, _snapshot(version, VERSION_FIELDS))
        if changes:
            audit.record(
                actor=actor,
                action="strategy.version_update",
                subject=version,
                organization=version.plan.organization,
                changes=changes,
            )
    return version


def _copy_version(source: PlanVersion, target: PlanVersion, actor) -> None:
    """Copies the objectives (tree and mappings), their indicators and targets from one version to another."""
    objectives = list(source.objectives.all())
    copies: dict[int, Objective] = {}
    for objective in objectives:
        copies[objective.pk] = Objective.objects.create(
            version=target,
            kind=objective.kind,
            code=objective.code,
            title_ar=objective.title_ar,
            title_en=objective.title_en,
            description_ar=objective.description_ar,
            description_en=objective.description_en,
            position=objective.position,
            sdg_goal=objective.sdg_goal,
            maps_to_id=objective.maps_to_id,
            origin=objective,
        )
    for objective in objectives:
        if objective.parent_id:
            copy = copies[objective.pk]
            copy.parent = copies.get(objective.parent_id)
            copy.save(update_fields=["parent"])
    indicators = list(Indicator.objects.filter(objective__version=source).prefetch_related("targets"))
    indicator_copies: dict[int, Indicator] = {}
    for indicator in indicators:
        indicator_copies[indicator.pk] = Indicator.objects.create(
            objective=copies[indicator.objective_id],
            code=indicator.code,
            name_ar=indicator.name_ar,
            name_en=indicator.name_en,
            definition_ar=indicator.definition_ar,
            definition_en=indicator.definition_en,
            unit=indicator.unit,
            direction=indicator.direction,
            aggregation=indicator.aggregation,
            baseline_milli=indicator.baseline_milli,
            baseline_date=indicator.baseline_date,
            feeds_id=indicator.feeds_id,
            origin=indicator,
            created_by=actor,
        )
        IndicatorTarget.objects.bulk_create(
            IndicatorTarget(
                indicator=indicator_copies[indicator.pk],
                period_start=t.period_start,
                period_end=t.period_end,
                value_milli=t.value_milli,
            )
            for t in indicator.targets.all()
        )
    for old_pk, copy in indicator_copies.items():  # feeding within the plan follows the copies
        if copy.feeds_id in indicator_copies:
            copy.feeds = indicator_copies[copy.feeds_id]
            copy.save(update_fields=["feeds"])
        del old_pk


def version_new_draft(*, actor, plan, note: str = "") -> PlanVersion:
    """A new draft version copying the version in force (or the latest version when none is in force)."""
    _check_manage(actor, plan)
    with transaction.atomic():
        Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.versions.filter(status=VersionStatus.DRAFT).exists():
            message = _("This plan already has a draft version: change it, or publish it first.")
            raise Conflict(message, code="has_draft")
        source = selectors.version_in_force(plan) or plan.versions.order_by("-number").first()
        number = (plan.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = PlanVersion.objects.create(
            plan=plan,
            number=number,
            period_start=source.period_start,
            period_end=source.period_end,
            note=(note or "").strip(),
            based_on=source,
            created_by=actor,
        )
        _copy_version(source, version, actor)
        audit.record(
            actor=actor,
            action="strategy.version_new_draft",
            subject=version,
            organization=plan.organization,
            changes={"number": [None, number], "based_on": [None, source.number]},
            reason=version.note,
        )
    return version


def _move_links(new_version: PlanVersion) -> dict:
    """Points what lies outside the plan at the new version's copies instead of the superseded objectives
    and indicators: project links, other plans' objectives mapped to them, indicators feeding them."""
    moved = {"project_links": 0, "mappings": 0, "feeding_indicators": 0}
    plan_id = new_version.plan_id
    for copy in new_version.objectives.exclude(origin=None):
        for link in ProjectObjective.objects.filter(objective_id=copy.origin_id):
            if ProjectObjective.objects.filter(project_id=link.project_id, objective=copy).exists():
                continue
            link.objective = copy
            link.save(update_fields=["objective"])
            moved["project_links"] += 1
        for mapped in Objective.objects.filter(maps_to_id=copy.origin_id).exclude(version__plan_id=plan_id):
            if _chain_has(copy, "maps_to", _lineage(mapped)):
                continue  # it would close a circle: the mapping stays with the superseded objective
            mapped.maps_to = copy
            mapped.save(update_fields=["maps_to"])
            moved["mappings"] += 1
    for copy in Indicator.objects.filter(objective__version=new_version).exclude(origin=None):
        feeding = Indicator.objects.filter(feeds_id=copy.origin_id).exclude(objective__version__plan_id=plan_id)
        for indicator in feeding:
            twice = Indicator.objects.filter(feeds=copy)
            twice = (
                twice.filter(project_id=indicator.project_id)
                if indicator.project_id
                else twice.filter(objective_id=indicator.objective_id)
            )
            if twice.exists() or _feeds_chain_has(copy, _lineage(indicator)):
                continue
            indicator.feeds = copy
            indicator.save(update_fields=["feeds"])
            moved["feeding_indicators"] += 1
    return moved


def version_publish(*, actor, version) -> PlanVersion:
    """Puts a draft version in force; the version in force before it is superseded and stays as it was."""
    _check_manage(actor, version.plan)
    with transaction.atomic():
        version = _lock_version(version)
        _check_draft(version)
        if not version.objectives.exists():
            raise _invalid("objectives", _("Add at least one objective before publishing the version."))
        now = timezone.now()
        previous = selectors.version_in_force(version.plan)
        if previous is not None:
            PlanVersion.objects.filter(pk=previous.pk, status=VersionStatus.PUBLISHED).update(
                status=VersionStatus.SUPERSEDED, superseded_at=now
            )
        version.status = VersionStatus.PUBLISHED
        version.published_by = actor
        version.published_at = now
        version.save(update_fields=["status", "published_by", "published_at"])
        moved = _move_links(version)
        changes = {"status": [VersionStatus.DRAFT, VersionStatus.PUBLISHED]}
        if previous is not None:
            changes["superseded"] = [None, previous.number]
        changes.update({name: [0, count] for name, count in moved.items() if count})
        audit.record(
            actor=actor,
            action="strategy.version_publish",
            subject=version,
            organization=version.plan.organization,
            changes=changes,
        )
    return version


# --- objectives --------------------------------------------------------------------------------------------------


def _lineage(obj) -> set:
    """The object's id and those of the objects it was copied from (`origin`, recursively): one objective (or
    indicator) across the versions of its plan."""
    ids, current, steps = set(), obj, 0
    model = type(obj)
    while current is not None and steps < MAX_DEPTH:
        if current.pk is not None:
            ids.add(current.pk)
        origin_id = current.origin_id
        if not origin_id or origin_id in ids:
            break
        current = model.objects.filter(pk=origin_id).only("pk", "origin_id").first()
        steps += 1
    return ids


def _chain_has(start, attribute: str, target_pk) -> bool:
    """Whether following `attribute` (parent or maps_to) from `start` reaches target_pk (an id, or a set of ids)
    or goes round a circle."""
    targets = target_pk if isinstance(target_pk, set) else {target_pk}
    seen = set()
    current = start
    steps = 0
    while current is not None and steps < MAX_DEPTH * 4:
        if current.pk in targets:
            return True
        if current.pk in seen:
            return True
        seen.add(current.pk)
        next_id = getattr(current, f"{attribute}_id")
        current = Objective.objects.filter(pk=next_id).first() if next_id else None
        steps += 1
    return False


def _objective_values(fields: dict) -> dict:
    values = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        values[name] = value
    if "position" in values and values["position"] in (None, ""):
        values["position"] = 0
    if "sdg_goal" in values and values["sdg_goal"] in ("",):
        values["sdg_goal"] = None
    return values


def _check_objective(objective: Objective, version: PlanVersion) -> None:
    if not objective.code:
        raise _invalid("code", _("Give the objective a code."))
    if len(objective.code) > 30:
        raise _invalid("code", _("Use at most 30 characters."))
    if not (objective.title_ar or "").strip() and not (objective.title_en or "").strip():
        raise _invalid("title_ar", _("Give it a title in Arabic, English or both."))
    if objective.kind not in ObjectiveKind.values:
        raise _invalid("kind", _("Choose a kind from the list."))
    if objective.sdg_goal is not None:
        try:
            goal = int(objective.sdg_goal)
        except (TypeError, ValueError):
            goal = 0
        if not 1 <= goal <= 17:
            raise _invalid("sdg_goal", _("A Sustainable Development Goal is numbered 1 to 17."))
        objective.sdg_goal = goal
    try:
        objective.position = int(objective.position or 0)
    except (TypeError, ValueError):
        raise _invalid("position", _("Enter a whole number.")) from None
    if objective.position < 0:
        raise _invalid("position", _("Enter a whole number."))
    duplicate = Objective.objects.filter(version=version, code=objective.code).exclude(pk=objective.pk)
    if duplicate.exists():
        raise _invalid("code", _("This version already has an objective with this code."))
    if objective.parent_id:
        parent = objective.parent
        if parent.version_id != version.pk:
            raise _invalid("parent", _("The parent objective must be of the same plan version."))
        if objective.pk and (parent.pk == objective.pk or _chain_has(parent, "parent", objective.pk)):
            raise _invalid("parent", _("An objective cannot be part of itself or of one of its own parts."))
    if objective.maps_to_id:
        target = objective.maps_to
        if _chain_has(target, "maps_to", _lineage(objective)):
            raise _invalid("maps_to", _("This mapping would make a circle: an objective cannot serve itself."))
        if target.version.plan_id == version.plan_id:
            raise _invalid("maps_to", _("An objective serves an objective of another plan: the ministry's."))
        if not selectors.mappable_objectives().filter(pk=target.pk).exists():
            raise _invalid("maps_to", _("An objective can only serve an objective of the ministry's plan in force."))


def _objective_snapshot(objective) -> dict:
    return _snapshot(objective, OBJECTIVE_FIELDS)


def objective_create(*, actor, version, **fields) -> Objective:
    """An objective (or pillar, or goal) of a draft version."""
    _check_known(fields, OBJECTIVE_FIELDS)
    _check_manage(actor, version.plan)
    with transaction.atomic():
        version = _lock_version(version)
        _check_draft(version)
        objective = Objective(version=version, **_objective_values(fields))
        _check_objective(objective, version)
        objective.save()
        audit.record(
            actor=actor,
            action="strategy.objective_create",
            subject=objective,
            organization=version.plan.organization,
            changes=audit.diff({}, _objective_snapshot(objective)),
        )
    return objective


def objective_update(*, actor, objective, **fields) -> Objective:
    _check_known(fields, OBJECTIVE_FIELDS)
    _check_manage(actor, objective.version.plan)
    with transaction.atomic():
        version = _lock_version(objective.version)
        _check_draft(version)
        objective = Objective.objects.select_for_update().get(pk=objective.pk)
        before = _objective_snapshot(objective)
        for name, value in _objective_values(fields).items():
            setattr(objective, name, value)
        _check_objective(objective, version)
        objective.save()
        changes = audit.diff(before, _objective_snapshot(objective))
        if changes:
            audit.record(
                actor=actor,
                action="strategy.objective_update",
                subject=objective,
                organization=version.plan.organization,
                changes=changes,
            )
    return objective


def objective_delete(*, actor, objective) -> None:
    """Removes an objective of a draft version that has no parts, indicators, projects nor mappings to it."""
    _check_manage(actor, objective.version.plan)
    with transaction.atomic():
        version = _lock_version(objective.version)
        _check_draft(version)
        objective = Objective.objects.select_for_update().get(pk=objective.pk)
        if objective.children.exists():
            raise Conflict(_("Remove or move this objective's parts first."), code="has_children")
        if objective.indicators.exists():
            raise Conflict(_("Remove this objective's indicators first."), code="has_indicators")
        if objective.project_links.exists() or objective.mapped_from.exists():
            raise Conflict(_("Projects or other plans' objectives serve this objective."), code="in_use")
        snapshot = _objective_snapshot(objective)
        audit.record(
            actor=actor,
            action="strategy.objective_delete",
            subject=objective,
            organization=version.plan.organization,
            changes=audit.diff(snapshot, {}),
        )
        objective.delete()


# --- indicators and targets --------------------------------------------------------------------------------------


def _indicator_owner_check(actor, indicator: Indicator, *, write_targets: bool = False) -> None:
    if indicator.objective_id:
        plan = indicator.objective.version.plan
        _check_manage(actor, plan)
        _check_draft(indicator.objective.version)
    else:
        if not permissions.can_manage_project_indicators(actor, indicator.project):
            raise NotAllowed(_("You cannot change this project's indicators."))


def _feeds_chain_has(start: Indicator, targets: set) -> bool:
    seen, current, steps = set(), start, 0
    while current is not None and steps < MAX_DEPTH * 4:
        if current.pk in targets:
            return True
        if current.pk in seen:
            return True
        seen.add(current.pk)
        current = Indicator.objects.filter(pk=current.feeds_id).first() if current.feeds_id else None
        steps += 1
    return False


def _check_indicator(indicator: Indicator) -> None:
    indicator.code = (indicator.code or "").strip()
    if not indicator.code:
        raise _invalid("code", _("Give the indicator a code."))
    if len(indicator.code) > 40:
        raise _invalid("code", _("Use at most 40 characters."))
    if not (indicator.name_ar or "").strip() and not (indicator.name_en or "").strip():
        raise _invalid("name_ar", _("Give it a name in Arabic, English or both."))
    if indicator.unit not in Unit.values:
        raise _invalid("unit", _("Choose a unit from the list."))
    if indicator.direction not in Direction.values:
        raise _invalid("direction", _("Choose a direction from the list."))
    if indicator.aggregation not in Aggregation.values:
        raise _invalid("aggregation", _("Choose a roll-up rule from the list."))
    same = Indicator.objects.filter(code=indicator.code).exclude(pk=indicator.pk)
    same = (
        same.filter(objective_id=indicator.objective_id)
        if indicator.objective_id
        else same.filter(project_id=indicator.project_id)
    )
    if same.exists():
        raise _invalid("code", _("This code is already used by another indicator here."))
    if indicator.pk:
        contributors = Indicator.objects.filter(feeds_id=indicator.pk).exclude(unit=indicator.unit)
        if contributors.exists():
            raise _invalid("unit", _("Indicators in another unit feed this one: they must share its unit."))
        if indicator.project_id and indicator.values.exists():
            original = Indicator.objects.get(pk=indicator.pk)
            if original.unit != indicator.unit:
                raise _invalid("unit", _("This indicator already has values: its unit cannot change."))
    if indicator.feeds_id:
        target = indicator.feeds
        if target.project_id:
            raise _invalid("feeds", _("An indicator feeds an objective's indicator, not a project's."))
        if target.unit != indicator.unit:
            raise _invalid(
                "feeds",
                _("Values in the wrong unit: this indicator is in %(unit)s, the one it feeds in %(other)s.")
                % {"unit": Unit(indicator.unit).label, "other": Unit(target.unit).label},
            )
        if _feeds_chain_has(target, _lineage(indicator)):
            raise _invalid("feeds", _("This would make a circle: an indicator cannot feed itself."))
        if indicator.project_id:
            allowed = selectors.linkable_objectives(indicator.project)
            if not allowed.filter(pk=target.objective_id).exists():
                raise _invalid(
                    "feeds",
                    _(
                        "A project's indicator feeds an indicator of the ministry's plan "
                        "or of its charity's plan in force."
                    ),
                )
        else:
            own_plan = indicator.objective.version.plan_id
            if target.objective.version.plan_id == own_plan:
                message = _("An objective's indicator feeds an indicator of another plan: the ministry's.")
                raise _invalid("feeds", message)
            if not selectors.mappable_objectives().filter(pk=target.objective_id).exists():
                raise _invalid("feeds", _("It can only feed an indicator of the ministry's plan in force."))
        twice = Indicator.objects.filter(feeds_id=target.pk).exclude(pk=indicator.pk)
        twice = (
            twice.filter(project_id=indicator.project_id)
            if indicator.project_id
            else twice.filter(objective_id=indicator.objective_id)
        )
        if twice.exists():
            raise _invalid(
                "feeds",
                _("Linked twice: another indicator of the same %(owner)s already feeds this indicator.")
                % {"owner": _("project") if indicator.project_id else _("objective")},
            )
    if indicator.baseline_milli is not None and indicator.baseline_milli < 0:
        raise _invalid("baseline", _("The value cannot be negative."))


def _indicator_values(fields: dict, unit: str) -> dict:
    values = {}
    for name, value in fields.items():
        if isinstance(value, str) and name != "baseline":
            value = value.strip()
        values[name] = value
    if "baseline" in values:
        baseline = values.pop("baseline")
        values["baseline_milli"] = None if baseline in (None, "") else _parse(baseline, unit=unit, field="baseline")
    if values.get("baseline_date") == "":
        values["baseline_date"] = None
    return values


_INDICATOR_AUDIT = tuple(name for name in INDICATOR_FIELDS if name != "baseline")


def _indicator_organization(indicator):
    if indicator.objective_id:
        return indicator.objective.version.plan.organization
    return indicator.project.charity


def indicator_create(*, actor, objective=None, project=None, **fields) -> Indicator:
    """An indicator of an objective (of a draft version) or of a project."""
    _check_known(fields, INDICATOR_FIELDS)
    if (objective is None) == (project is None):
        raise DomainError(_("An indicator belongs to an objective or to a project."), code="invalid")
    with transaction.atomic():
        if objective is not None:
            _lock_version(objective.version)
            objective = Objective.objects.select_related("version__plan__organization").get(pk=objective.pk)
        unit = fields.get("unit") or ""
        indicator = Indicator(objective=objective, project=project, created_by=actor)
        _indicator_owner_check(actor, indicator)
        for name, value in _indicator_values(fields, unit).items():
            setattr(indicator, name, value)
        _check_indicator(indicator)
        try:
            with transaction.atomic():
                indicator.save()
        except IntegrityError:
            raise _invalid("feeds", _("Linked twice: this indicator is already linked.")) from None
        audit.record(
            actor=actor,
            action="strategy.indicator_create",
            subject=indicator,
            organization=_indicator_organization(indicator),
            changes=audit.diff(
                {},
                {
                    "objective": indicator.objective_id,
                    "project": indicator.project_id,
                    **_snapshot(indicator, _INDICATOR_AUDIT),
                },
            ),
        )
    return indicator


def indicator_update(*, actor, indicator, **fields) -> Indicator:
    _check_known(fields, INDICATOR_FIELDS)
    with transaction.atomic():
        indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
        indicator = Indicator.objects.select_related("objective__version__plan__organization", "project__charity").get(
            pk=indicator.pk
        )
        if indicator.objective_id:
            _lock_version(indicator.objective.version)
            indicator.objective.version.refresh_from_db()
        _indicator_owner_check(actor, indicator)
        before = _snapshot(indicator, _INDICATOR_AUDIT)
        unit = fields.get("unit") or indicator.unit
        for name, value in _indicator_values(fields, unit).items():
            setattr(indicator, name, value)
        _check_indicator(indicator)
        try:
            with transaction.atomic():
                indicator.save()
        except IntegrityError:
            raise _invalid("feeds", _("Linked twice: this indicator is already linked.")) from None
        changes = audit.diff(before, _snapshot(indicator, _INDICATOR_AUDIT))
        if changes:
            audit.record(
                actor=actor,
                action="strategy.indicator_update",
                subject=indicator,
                organization=_indicator_organization(indicator),
                changes=changes,
            )
    return indicator


def indicator_delete(*, actor, indicator) -> None:
    """Removes an indicator that no other indicator feeds and that has no values."""
    with transaction.atomic():
        indicator = (
            Indicator.objects.select_related("objective__version__plan__organization", "project__charity")
            .select_for_update(of=("self",))
            .get(pk=indicator.pk)
        )
        _indicator_owner_check(actor, indicator)
        if indicator.contributors.exists():
            raise Conflict(_("Other indicators feed this one."), code="in_use")
        if indicator.values.exists():
            raise Conflict(_("This indicator has values from progress reports."), code="has_values")
        audit.record(
            actor=actor,
            action="strategy.indicator_delete",
            subject=indicator,
            organization=_indicator_organization(indicator),
            changes=audit.diff(_snapshot(indicator, _INDICATOR_AUDIT), {}),
        )
        indicator.targets.all().delete()
        indicator.delete()


def target_set(*, actor, indicator, period_start, period_end, value) -> IndicatorTarget:
    """The indicator's target for one period (replacing the one of the same start)."""
    indicator = Indicator.objects.select_related("objective__version__plan__organization", "project__charity").get(
        pk=indicator.pk
    )
    _indicator_owner_check(actor, indicator)
    _check_period(period_start, period_end)
    if value in (None, ""):
        raise _invalid("value", _("Give the target's value."))
    value_milli = _parse(value, unit=indicator.unit, field="value")
    with transaction.atomic():
        if indicator.objective_id:
            version = _lock_version(indicator.objective.version)
            _check_draft(version)
        overlap = indicator.targets.filter(period_start__lte=period_end, period_end__gte=period_start).exclude(
            period_start=period_start
        )
        if overlap.exists():
            raise _invalid("period_start", _("This period overlaps another target's period."))
        existing = indicator.targets.select_for_update().filter(period_start=period_start).first()
        before = {} if existing is None else {"period_end": existing.period_end, "value": existing.value_milli}
        target, _created = IndicatorTarget.objects.update_or_create(
            indicator=indicator,
            period_start=period_start,
            defaults={"period_end": period_end, "value_milli": value_milli},
        )
        changes = audit.diff(before, {"period_end": period_end, "value": value_milli})
        changes["period_start"] = [None, period_start.isoformat()]
        audit.record(
            actor=actor,
            action="strategy.target_set",
            subject=target,
            organization=_indicator_organization(indicator),
            changes=changes,
        )
    return target


def target_delete(*, actor, target) -> None:
    indicator = Indicator.objects.select_related("objective__version__plan__organization", "project__charity").get(
        pk=target.indicator_id
    )
    _indicator_owner_check(actor, indicator)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="strategy.target_delete",
            subject=target,
            organization=_indicator_organization(indicator),
            changes={"period_start": [target.period_start.isoformat(), None], "value": [target.value_milli, None]},
        )
        IndicatorTarget.objects.filter(pk=target.pk).delete()


# --- project links -------------------------------------------------------------------------------------------------


def project_objectives_set(*, actor, project, objectives) -> list[ProjectObjective]:
    """The objectives the project serves (replacing the earlier list), from the ministry's plan in force or the
    charity's own plan in force; only while the charity may edit the project."""
    if not permissions.can_link_objectives(actor, project):
        raise NotAllowed(_("You cannot change this project's objectives now."))
    wanted = {getattr(o, "pk", o) for o in objectives or ()}
    allowed = set(selectors.linkable_objectives(project).filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - allowed:
        message = _(
            "A project serves objectives of the ministry's plan in force or of its own charity's plan in force only."
        )
        raise DomainError(message, code="invalid", fields={"objectives": [message]})
    with transaction.atomic():
        current = set(ProjectObjective.objects.filter(project=project).values_list("objective_id", flat=True))
        removed, added = current - wanted, wanted - current
        ProjectObjective.objects.filter(project=project, objective_id__in=removed).delete()
        ProjectObjective.objects.bulk_create(
            ProjectObjective(project=project, objective_id=pk, linked_by=actor) for pk in sorted(added)
        )
        if removed or added:
            audit.record(
                actor=actor,
                action="strategy.project_objectives_set",
                subject=project,
                organization=project.charity,
                changes={"objectives": [sorted(current), sorted(wanted)]},
            )
    return list(ProjectObjective.objects.filter(project=project).select_related("objective"))


# --- indicator values from progress reports ----------------------------------------------------------------------


def report_indicator_values_set(*, actor, report, values, evidence=None) -> list[IndicatorValue]:
    """The report's indicator values ({project indicator code: value text}), replacing those it carried.
    Each code must be one of the project's indicators; each value a number in the indicator's unit. Runs in
    the caller's transaction (report_create, report_update)."""
    from shafaf.projects.models import ProjectDocument
    from shafaf.reports.permissions import can_edit_report

    if not can_edit_report(actor, report):
        raise NotAllowed(_("This report cannot be edited now."))
    if values in (None, ""):
        values = {}
    if not isinstance(values, dict):
        message = _("Indicator values must be a mapping of indicator codes to values.")
        raise DomainError(message, code="invalid", fields={"indicator_values": [message]})
    evidence = evidence or {}
    if not isinstance(evidence, dict):
        raise _invalid("indicator_evidence", _("Evidence must be given per indicator code."))
    indicators = {i.code: i for i in Indicator.objects.filter(project_id=report.project_id)}
    errors = []
    parsed: dict[str, int] = {}
    for code in sorted(values, key=str):
        text = values[code]
        indicator = indicators.get(str(code))
        if indicator is None:
            errors.append(_("“%(code)s” is not an indicator of this project.") % {"code": code})
            continue
        if text is None or (isinstance(text, str) and not text.strip()):
            continue  # an empty value is no value
        if isinstance(text, (dict, list)):
            errors.append(_("%(code)s: enter a number.") % {"code": code})
            continue
        try:
            parsed[indicator.code] = parse_value(text, unit=indicator.unit)
        except ValidationError as error:
            errors.append(
                _("%(code)s (%(unit)s): %(message)s")
                % {"code": code, "unit": Unit(indicator.unit).label, "message": error.messages[0]}
            )
    documents: dict[str, list] = {}
    for code, items in evidence.items():
        if str(code) not in indicators:
            errors.append(_("“%(code)s” is not an indicator of this project.") % {"code": code})
            continue
        ids = {getattr(item, "pk", item) for item in items or ()}
        found = list(ProjectDocument.objects.filter(pk__in=ids, project_id=report.project_id))
        if len(found) != len(ids):
            errors.append(_("%(code)s: evidence must be documents of this project.") % {"code": code})
            continue
        documents[str(code)] = found
    if errors:
        raise DomainError(errors[0], code="invalid", fields={"indicator_values": errors})
    with transaction.atomic():
        rows_before = IndicatorValue.objects.filter(report=report).select_related("indicator")
        existing = {v.indicator.code: v for v in rows_before}
        before = {code: value_text(v.value_milli) for code, v in existing.items()}
        IndicatorValue.objects.filter(report=report).exclude(indicator__code__in=list(parsed)).delete()
        rows = []
        for code, milli in parsed.items():
            row = existing.get(code)
            if row is None:
                row = IndicatorValue.objects.create(
                    indicator=indicators[code],
                    report=report,
                    period_start=report.period_start,
                    period_end=report.period_end,
                    value_milli=milli,
                    recorded_by=actor,
                )
            elif row.value_milli != milli:
                row.value_milli = milli
                row.recorded_by = actor
                row.recorded_at = timezone.now()
                row.save(update_fields=["value_milli", "recorded_by", "recorded_at"])
            if code in documents:
                row.evidence.set(documents[code])
            rows.append(row)
        after = {code: value_text(milli) for code, milli in parsed.items()}
        changes = audit.diff(before, after)
        if changes or documents:
            audit.record(
                actor=actor,
                action="strategy.indicator_values_set",
                subject=report,
                organization=report.project.charity,
                changes=changes,
            )
    return rows
