"""Every read of coordination, already filtered to what the user may see."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from shafaf.accounts.permissions import has_oversight
from shafaf.core.ids import pk_or_404
from shafaf.projects.choices import ProjectStatus

from . import permissions
from .choices import FlagStatus, Level
from .models import CoordinationSettings, Flag, ModelVersion, OverlapCheck

# The states in which a project is compared with the others (and a completed one for
# CoordinationSettings.completed_within_days after it was completed). Drafts, projects sent back for changes,
# rejected, cancelled, suspended and closed projects are never compared.
COMPARED_STATUSES = (
    ProjectStatus.SUBMITTED,
    ProjectStatus.UNDER_REVIEW,
    ProjectStatus.APPROVED,
    ProjectStatus.IN_EXECUTION,
)
# The rulebook's names of the two levels (shafaf.projects.rulebook.checks, no_undecided_overlap).
RULEBOOK_LEVELS = {"likely": "likely_duplicate", "possible": "possible_overlap"}
# What a charity sees of another charity's project on a flag.
PUBLIC_FIELDS = ("reference", "title_ar", "title_en", "country", "sector", "status")
# Signals whose sentences would give a figure of the other charity's confidential data.
CONFIDENTIAL_SIGNALS = frozenset({"budget"})


# --- settings and the model ---------------------------------------------------------------------------------


def current_settings() -> CoordinationSettings:
    """The ministry's thresholds (the single row, created with the defaults when missing)."""
    found = CoordinationSettings.objects.filter(pk=1).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return CoordinationSettings.objects.create(pk=1)
    except IntegrityError:
        return CoordinationSettings.objects.get(pk=1)


def active_model() -> ModelVersion:
    """The active model version; version 1, the shipped default parameters, when there is none yet."""
    found = ModelVersion.objects.filter(is_active=True).first()
    if found is not None:
        return found
    from .model import DEFAULT_PARAMS

    params = DEFAULT_PARAMS.to_dict() if hasattr(DEFAULT_PARAMS, "to_dict") else dict(DEFAULT_PARAMS)
    try:
        with transaction.atomic():
            latest = ModelVersion.objects.order_by("-number").first()
            if latest is not None:
                # Versions exist but none is active (should not happen): the latest becomes active.
                ModelVersion.objects.filter(pk=latest.pk).update(is_active=True)
                latest.refresh_from_db()
                return latest
            return ModelVersion.objects.create(
                number=1, params=params, is_active=True, note="The shipped default parameters."
            )
    except IntegrityError:
        return ModelVersion.objects.get(is_active=True)


def thresholds(settings: CoordinationSettings | None = None) -> tuple[float, float]:
    """(likely, possible) as floats, from the ministry's settings."""
    settings = settings or current_settings()
    return float(settings.likely_threshold), float(settings.possible_threshold)


# --- which projects are compared ----------------------------------------------------------------------------


def completed_since(settings: CoordinationSettings | None = None) -> dt.datetime:
    settings = settings or current_settings()
    return timezone.now() - dt.timedelta(days=int(settings.completed_within_days))


def compared_condition(settings: CoordinationSettings | None = None, prefix: str = "") -> Q:
    """The Q of the projects coordination compares (`prefix` such as "project__" for a related model)."""
    return Q(**{f"{prefix}status__in": COMPARED_STATUSES}) | Q(
        **{
            f"{prefix}status": ProjectStatus.COMPLETED,
            f"{prefix}status_changed_at__gte": completed_since(settings),
        }
    )


def compared_projects(settings: CoordinationSettings | None = None):
    from shafaf.projects.models import Project

    return Project.objects.filter(compared_condition(settings))


def is_compared(project, settings: CoordinationSettings | None = None) -> bool:
    if project.status in COMPARED_STATUSES:
        return True
    if project.status == ProjectStatus.COMPLETED:
        changed = project.status_changed_at
        return changed is None or changed >= completed_since(settings)
    return False


# --- flags --------------------------------------------------------------------------------------------------


def undecided_overlaps(project) -> list[dict]:
    """The rulebook's interface: the cross-charity flags on the project that await the ministry's decision,
    [{"flag": pk, "level": "likely_duplicate" | "possible_overlap"}], the most alike first. Nothing of the
    other project is given."""
    rows = (
        Flag.objects.filter(Q(project_a_id=project.pk) | Q(project_b_id=project.pk))
        .filter(status=FlagStatus.OPEN, internal=False)
        .order_by("-score", "id")
        .values_list("pk", "level")
    )
    return [{"flag": pk, "level": RULEBOOK_LEVELS.get(level, level)} for pk, level in rows]


def flags_visible_to(user, queryset=None):
    """Every flag for the ministry and auditors; the flags of its own projects for a charity's member; none for
    anyone else."""
    queryset = Flag.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    own = permissions.own_charity_ids(user)
    if not own:
        return queryset.none()
    return queryset.filter(Q(project_a__charity_id__in=own) | Q(project_b__charity_id__in=own))


def flag_list(user, queryset=None):
    return flags_visible_to(user, queryset).select_related(
        "project_a", "project_b", "project_a__charity", "project_b__charity", "model_version"
    )


def queue_order(queryset):
    """Open flags first (likely duplicates first, then by score), then the decided and withdrawn ones."""
    return queryset.annotate(
        waiting=Case(When(status=FlagStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("waiting", "level", "-score", "-last_found_at", "id")


def coordination_queue(user, queryset=None):
    """The ministry's queue: the cross-charity flags awaiting a decision, likely duplicates first, then by score."""
    if not permissions.can_view_queue(user):
        return Flag.objects.none()
    return queue_order(flag_list(user, queryset).filter(status=FlagStatus.OPEN, internal=False))


def queue_counts(user) -> dict:
    """The cross-charity flags by status and level, in one query."""
    counted = flags_visible_to(user).filter(internal=False)
    return counted.aggregate(
        open=Count("pk", filter=Q(status=FlagStatus.OPEN)),
        open_likely=Count("pk", filter=Q(status=FlagStatus.OPEN, level=Level.LIKELY)),
        open_possible=Count("pk", filter=Q(status=FlagStatus.OPEN, level=Level.POSSIBLE)),
        decided=Count("pk", filter=Q(status=FlagStatus.DECIDED)),
        withdrawn=Count("pk", filter=Q(status=FlagStatus.WITHDRAWN)),
    )


def flag_get(user, pk) -> Flag:
    """The flag, or Http404 when it does not exist or the user may not see it."""
    return get_object_or_404(flag_list(user), pk=pk_or_404(pk))


def flags_of_project(user, project):
    """The flags on one project that the user may see, the most alike first."""
    return flag_list(user).filter(Q(project_a_id=project.pk) | Q(project_b_id=project.pk)).order_by("-score", "id")


def latest_check(user, project) -> OverlapCheck | None:
    """The project's latest online check, when the user may see its checks."""
    if not permissions.can_view_checks(user, project):
        return None
    return OverlapCheck.objects.filter(project_id=project.pk).select_related("model_version").first()


def _org(organization) -> dict | None:
    if organization is None:
        return None
    return {
        "id": organization.pk,
        "slug": organization.slug,
        "name_ar": organization.name_ar,
        "name_en": organization.name_en,
    }


def _budget_of(project) -> dict | None:
    try:
        from shafaf.finance.selectors import project_budget_summary
    except ImportError:  # pragma: no cover - finance is installed with the platform
        return None
    summary = project_budget_summary(project)
    if summary is None:
        return None
    record = getattr(getattr(project, "coordination_signature", None), "record", None) or {}
    return {
        "total_minor": summary["total_minor"],
        "currency": summary["currency"],
        "kwd_fils": record.get("budget_kwd"),
    }


def _side(project, *, full: bool) -> dict:
    side = {name: getattr(project, name) for name in PUBLIC_FIELDS}
    side.update(
        id=project.pk,
        charity=_org(project.charity),
        status_label=str(project.get_status_display()),
        country_label=project.country_label,
        sector_label=project.sector_label,
        full=full,
    )
    if not full:
        return side
    side.update(
        iati_identifier=project.iati_identifier,
        description_ar=project.description_ar,
        description_en=project.description_en,
        project_model=project.project_model,
        beneficiary_group=project.beneficiary_group,
        beneficiary_count=project.beneficiary_count,
        planned_start=project.planned_start,
        planned_end=project.planned_end,
        currency=project.currency,
        implementing_partner=_org(project.implementing_partner),
        locations=[
            {
                "admin_area_ar": loc.admin_area_ar,
                "admin_area_en": loc.admin_area_en,
                "latitude": loc.latitude,
                "longitude": loc.longitude,
            }
            for loc in project.locations.all()
        ],
        budget=_budget_of(project),
    )
    return side


def _hide_figures(reason: dict) -> dict:
    weight = reason.get("weight", 0) or 0
    sign = "+" if weight >= 0 else "−"
    figure = f"{sign}{abs(weight):.1f}"
    return {
        **reason,
        "text_en": f"estimated budgets compared {figure}",
        "text_ar": f"قورنت الميزانيتان التقديريتان \u200e{figure}",
    }


def flag_view(user, flag: Flag) -> dict:
    """What this user may see of a flag and both its projects (None sides are never returned: call flag_get
    first). The ministry and auditors see both projects' fields side by side; a charity sees its own project
    fully and of the other only its reference, charity, title, country, sector and state, and the reasons without
    the other's confidential figures. Never donors, internal notes, budget lines or documents."""
    if not permissions.can_view_flag(user, flag):
        from django.http import Http404

        raise Http404
    oversight = has_oversight(user)
    own = set() if oversight else permissions.own_charity_ids(user)
    sides = {}
    for key, project in (("a", flag.project_a), ("b", flag.project_b)):
        sides[key] = _side(project, full=oversight or project.charity_id in own)
    hide = not (sides["a"]["full"] and sides["b"]["full"])
    reasons = [
        _hide_figures(reason) if hide and reason.get("signal") in CONFIDENTIAL_SIGNALS else dict(reason)
        for reason in (flag.reasons or [])
    ]
    return {
        "id": flag.pk,
        "internal": flag.internal,
        "level": flag.level,
        "level_label": str(flag.get_level_display()),
        "score": flag.score,
        "reasons": reasons,
        "status": flag.status,
        "status_label": str(flag.get_status_display()),
        "found_by": flag.found_by,
        "first_found_at": flag.first_found_at,
        "last_found_at": flag.last_found_at,
        "model_version": flag.model_version.number,
        "decision": flag.decision,
        "decision_label": str(flag.get_decision_display()) if flag.decision else "",
        "decision_reason": flag.decision_reason,
        "duplicate_project": flag.duplicate_project_id,
        "share_a_bp": flag.share_a_bp,
        "share_b_bp": flag.share_b_bp,
        "joint_total": flag.joint_total,
        "joint_currency": flag.joint_currency,
        "decided_at": flag.decided_at,
        "a": sides["a"],
        "b": sides["b"],
        "can_decide": permissions.can_decide(user, flag),
        "side_by_side": oversight,
    }
