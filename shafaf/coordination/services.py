"""Every write of coordination. Each is atomic and audited (shafaf.audit.services.record), with the organisation of
each charity involved.

- coordination_check: a project's online check (on submission, on a scope edit, by the ministry, after an import):
  its signature rebuilt, the overlaps found, the flags opened, updated, reopened or withdrawn.
- flag_decide: the ministry's decision on a flag (duplicate, joint funding, distinct).
- settings_update, scan_start / scan_execute (the batch scan), model_train (new parameters from the decisions).
- project_changed: what a change of a project's state means for its signature and its open flags."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.accounts.permissions import is_ministry
from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed

from . import online, permissions, selectors
from .choices import CheckTrigger, Decision, FlagStatus, Level
from .models import CoordinationSettings, Flag, ModelVersion, OverlapCheck, ProjectSignature, ScanPair, ScanRun
from .signature import signature_refresh

logger = logging.getLogger(__name__)

FOUND_BY_SCAN = "scan"
BASIS_POINTS = 10_000
SETTINGS_FIELDS = ("likely_threshold", "possible_threshold", "completed_within_days", "max_candidates")
# A scan still "running" after this long is taken as dead (its process stopped) and does not block a new one.
SCAN_STALE_AFTER = dt.timedelta(hours=12)


# --- helpers ------------------------------------------------------------------------------------------------


def _charities(*projects) -> list:
    """The distinct charities of these projects, in order."""
    seen, found = set(), []
    for project in projects:
        if project.charity_id not in seen:
            seen.add(project.charity_id)
            found.append(project.charity)
    return found


def _audit_each(*, actor, action: str, subject, projects, changes=None, reason: str = "") -> None:
    """One audit event per charity involved (each charity's history shows it)."""
    for charity in _charities(*projects):
        audit.record(actor=actor, action=action, subject=subject, organization=charity, changes=changes, reason=reason)


def _ordered(p, q):
    return (p, q) if p.pk < q.pk else (q, p)


def _flag_upsert(*, actor, project, other, result: dict, version: ModelVersion, found_by: str) -> tuple[Flag, str]:
    """Creates or updates the flag of the pair from one finding ({"score", "level", "reasons"}). Answers the flag
    and what happened: "opened", "reopened", "updated", "unchanged" or "kept" (decided and kept decided). Runs in
    the caller's transaction."""
    a, b = _ordered(project, other)
    now = timezone.now()
    internal = a.charity_id == b.charity_id
    score, level, reasons = float(result["score"]), result["level"], list(result.get("reasons") or [])
    flag = Flag.objects.select_for_update().filter(project_a=a, project_b=b).first()
    if flag is None:
        try:
            with transaction.atomic():
                flag = Flag.objects.create(
                    project_a=a,
                    project_b=b,
                    internal=internal,
                    level=level,
                    score=score,
                    reasons=reasons,
                    model_version=version,
                    status=FlagStatus.OPEN,
                    found_by=found_by,
                    first_found_at=now,
                    last_found_at=now,
                )
        except IntegrityError:
            # Another process flagged the pair at the same moment: its flag is updated as any existing one.
            flag = Flag.objects.select_for_update().get(project_a=a, project_b=b)
        else:
            _audit_each(
                actor=actor,
                action="coordination.flag_open",
                subject=flag,
                projects=(a, b),
                changes={
                    "project_a": [None, a.pk],
                    "project_b": [None, b.pk],
                    "internal": [None, internal],
                    "level": [None, level],
                    "score": [None, score],
                    "found_by": [None, found_by],
                },
            )
            return flag, "opened"

    before = {"level": flag.level, "score": flag.score, "status": flag.status}
    if flag.status == FlagStatus.DECIDED:
        if flag.level == Level.POSSIBLE and level == Level.LIKELY:
            previous = {
                "decision": flag.decision,
                "decision_reason": flag.decision_reason,
                "decided_by": flag.decided_by_id,
                "decided_at": flag.decided_at,
            }
            _reset_decision(flag)
            flag.status, flag.level, flag.score, flag.reasons = FlagStatus.OPEN, level, score, reasons
            flag.model_version, flag.last_found_at, flag.internal = version, now, internal
            flag.save()
            why = (
                "The score rose from a possible overlap ({old:.1f}) to a likely duplicate ({new:.1f}): "
                "the earlier decision ({decision}) is reopened for the ministry."
            ).format(old=before["score"], new=score, decision=previous["decision"])
            _audit_each(
                actor=actor,
                action="coordination.flag_reopen",
                subject=flag,
                projects=(a, b),
                changes={
                    "status": [FlagStatus.DECIDED, FlagStatus.OPEN],
                    "level": [before["level"], level],
                    "score": [before["score"], score],
                    "previous_decision": [previous, None],
                },
                reason=why,
            )
            return flag, "reopened"
        flag.last_found_at = now
        flag.save(update_fields=["last_found_at"])
        return flag, "kept"

    reopened = flag.status == FlagStatus.WITHDRAWN
    changed = reopened or flag.level != level or round(flag.score, 1) != round(score, 1)
    flag.status, flag.level, flag.score, flag.reasons = FlagStatus.OPEN, level, score, reasons
    flag.model_version, flag.last_found_at, flag.internal = version, now, internal
    flag.save()
    if changed:
        _audit_each(
            actor=actor,
            action="coordination.flag_open" if reopened else "coordination.flag_update",
            subject=flag,
            projects=(a, b),
            changes=audit.diff(before, {"level": level, "score": score, "status": flag.status}),
            reason="Found again after it had been withdrawn." if reopened else "",
        )
        return flag, "reopened" if reopened else "updated"
    return flag, "unchanged"


def _reset_decision(flag: Flag) -> None:
    flag.decision = ""
    flag.decision_reason = ""
    flag.duplicate_project = None
    flag.share_a_bp = flag.share_b_bp = flag.joint_total = None
    flag.joint_currency = ""
    flag.decided_by = None
    flag.decided_at = None


def _withdraw(*, actor, flag: Flag, why: str) -> None:
    before = flag.status
    flag.status = FlagStatus.WITHDRAWN
    flag.save(update_fields=["status"])
    _audit_each(
        actor=actor,
        action="coordination.flag_withdraw",
        subject=flag,
        projects=(flag.project_a, flag.project_b),
        changes={"status": [before, FlagStatus.WITHDRAWN]},
        reason=why,
    )


# --- the online check ---------------------------------------------------------------------------------------


def coordination_check(*, actor, project, trigger) -> OverlapCheck:
    """The project's online check: its signature rebuilt, every compared project of every charity that the model
    finds at or above "possible overlap" (best first; the charity's own ones as internal duplicates), kept as an
    OverlapCheck. For a project in a compared state, each overlap opens or updates its flag, and the open flags
    that no longer reach "possible overlap" are withdrawn. A draft is checked without flags (a preview)."""
    if trigger not in CheckTrigger.values:
        raise DomainError(_("Unknown trigger of a coordination check."), code="invalid")
    if trigger == CheckTrigger.MANUAL and not permissions.can_run_check(actor, project):
        raise NotAllowed(_("You cannot run a coordination check of this project."))
    started = time.monotonic()
    from shafaf.projects.models import Project

    project = Project.objects.select_related("charity", "implementing_partner").get(pk=project.pk)
    settings = selectors.current_settings()
    version = selectors.active_model()
    params = online.params_for(version)
    signature = signature_refresh(project)
    record = signature.record
    stats: dict = {}
    results = online.find_overlaps(record, settings=settings, params=params, stats=stats)
    compared = selectors.is_compared(project, settings)
    summary = {"opened": 0, "reopened": 0, "updated": 0, "withdrawn": 0}
    with transaction.atomic():
        if compared:
            results, withdrawn = _confirm_open_flags(
                actor=actor, project=project, record=record, results=results, settings=settings, params=params
            )
            summary["withdrawn"] = withdrawn
            others = Project.objects.select_related("charity").in_bulk([r["project"] for r in results])
            for result in results:
                other = others.get(result["project"])
                if other is None:
                    continue
                _flag, what = _flag_upsert(
                    actor=actor, project=project, other=other, result=result, version=version, found_by=trigger
                )
                if what in summary:
                    summary[what] += 1
        overlaps = sum(1 for r in results if not r["internal"])
        check = OverlapCheck.objects.create(
            project=project,
            trigger=trigger,
            actor=actor if actor is not None and actor.pk else None,
            model_version=version,
            candidates=stats.get("candidates", 0),
            overlaps=overlaps,
            internal=len(results) - overlaps,
            duration_ms=0,
            results=results,
        )
        check.duration_ms = int((time.monotonic() - started) * 1000)
        check.save(update_fields=["duration_ms"])
        audit.record(
            actor=actor,
            action="coordination.check",
            subject=check,
            organization=project.charity,
            changes={
                "project": [None, project.pk],
                "trigger": [None, trigger],
                "overlaps": [None, overlaps],
                "internal": [None, check.internal],
                "flags": [None, summary],
                "model_version": [None, version.number],
            },
        )
    return check


def _confirm_open_flags(*, actor, project, record, results, settings, params) -> tuple[list, int]:
    """The project's open flags that the check did not return are scored again directly: the ones still at or
    above "possible overlap" join the results (the index ranked them out), the others are withdrawn."""
    found = {r["project"] for r in results}
    open_flags = (
        Flag.objects.select_for_update()
        .filter(Q(project_a_id=project.pk) | Q(project_b_id=project.pk), status=FlagStatus.OPEN)
        .select_related("project_a", "project_b", "project_a__charity", "project_b__charity")
    )
    withdrawn, extra = 0, []
    for flag in open_flags:
        other = flag.project_b if flag.project_a_id == project.pk else flag.project_a
        if other.pk in found:
            continue
        if not selectors.is_compared(other, settings):
            _withdraw(
                actor=actor,
                flag=flag,
                why=f"The other project is no longer among the compared projects ({other.status}).",
            )
            withdrawn += 1
            continue
        stored = ProjectSignature.objects.filter(project_id=other.pk).values_list("record", flat=True).first()
        score, level, reasons = (
            online.score_pair(record, stored, settings=settings, params=params) if stored else (0.0, None, [])
        )
        if level is None:
            _withdraw(
                actor=actor,
                flag=flag,
                why=f"The projects no longer reach a possible overlap (score {score:.1f}).",
            )
            withdrawn += 1
            continue
        extra.append(
            {
                "project": other.pk,
                "reference": other.reference,
                "charity": other.charity_id,
                "internal": other.charity_id == project.charity_id,
                "score": score,
                "level": level,
                "reasons": reasons,
            }
        )
    if extra:
        results = sorted([*results, *extra], key=lambda r: (-r["score"], r["project"]))
    return results, withdrawn


def project_changed(*, actor, project, action: str = "") -> None:
    """After a change of the project's state (shafaf.projects.services, in its transaction): its signature is kept
    true (its state is part of it), and when it has left the compared states its open flags are withdrawn."""
    settings = selectors.current_settings()
    compared = selectors.is_compared(project, settings)
    has_signature = ProjectSignature.objects.filter(project_id=project.pk).exists()
    if compared or has_signature:
        signature_refresh(project)
    if compared:
        return
    for flag in (
        Flag.objects.select_for_update()
        .filter(Q(project_a_id=project.pk) | Q(project_b_id=project.pk), status=FlagStatus.OPEN)
        .select_related("project_a__charity", "project_b__charity")
    ):
        _withdraw(
            actor=actor,
            flag=flag,
            why=f"Project {project.reference} left the compared states ({project.status}) before a decision.",
        )


def check_after_submission(*, actor, project) -> OverlapCheck:
    """The hook of a submission (shafaf.projects.services.project_transition, after the rulebook)."""
    return coordination_check(actor=actor, project=project, trigger=CheckTrigger.SUBMISSION)


def check_after_edit(*, actor, project) -> OverlapCheck | None:
    """The hook of an edit (shafaf.projects.services.project_update): a project in a compared state is checked
    again."""
    if not selectors.is_compared(project):
        return None
    return coordination_check(actor=actor, project=project, trigger=CheckTrigger.SCOPE_EDIT)


# --- the ministry's decisions -------------------------------------------------------------------------------


def _as_int(value, field: str, errors: dict) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (bool, float)):
        errors.setdefault(field, []).append(_("Give a whole number."))
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("Give a whole number."))
        return None


def _budget_kwd(project) -> int | None:
    from .signature import _budget_fils

    return _budget_fils(project)[0]


def _fmt_fils(fils: int) -> str:
    from shafaf.core.money import Money, format_money

    try:
        return format_money(Money(int(fils), "KWD"))
    except Exception:  # pragma: no cover - formatting never decides anything
        return f"{Decimal(int(fils)).scaleb(-3):,.3f} KWD"


def _joint_total_kwd(total: int, currency: str) -> int:
    from shafaf.core.money import Money
    from shafaf.finance.rates import BASE_CURRENCY, convert_on

    if currency == BASE_CURRENCY:
        return total
    return convert_on(Money(total, currency), BASE_CURRENCY, timezone.localdate()).money.minor


def _duplicate_outcome(*, actor, duplicate, reason: str) -> str:
    """Stops the duplicate where the ministry can: rejected when under review (started first when only
    submitted); otherwise the outcome says what its charity must do. Answers the sentence kept on the flag."""
    from shafaf.projects import services as project_services
    from shafaf.projects.choices import ProjectAction, ProjectStatus

    status = duplicate.status
    text = _("Rejected as a duplicate of another charity's project: %(reason)s") % {"reason": reason}
    if status == ProjectStatus.SUBMITTED:
        duplicate = project_services.project_transition(
            actor=actor, project=duplicate, action=ProjectAction.START_REVIEW
        )
        status = duplicate.status
    if status == ProjectStatus.UNDER_REVIEW:
        project_services.project_transition(actor=actor, project=duplicate, action=ProjectAction.REJECT, reason=text)
        return _("Project %(ref)s was rejected as the duplicate.") % {"ref": duplicate.reference}
    if status in (ProjectStatus.DRAFT, ProjectStatus.CHANGES_REQUESTED):
        return _(
            "Project %(ref)s is with its charity (%(status)s): its charity must withdraw it (cancel it); it cannot "
            "be submitted again while this decision stands."
        ) % {"ref": duplicate.reference, "status": duplicate.get_status_display()}
    if status in (ProjectStatus.APPROVED, ProjectStatus.IN_EXECUTION, ProjectStatus.SUSPENDED):
        return _(
            "Project %(ref)s is already licensed (%(status)s) and cannot be rejected: its charity must withdraw it, "
            "and the ministry may suspend it."
        ) % {"ref": duplicate.reference, "status": duplicate.get_status_display()}
    return _("Project %(ref)s is %(status)s: nothing more is done to it.") % {
        "ref": duplicate.reference,
        "status": duplicate.get_status_display(),
    }


def flag_decide(
    *,
    actor,
    flag: Flag,
    decision: str,
    reason: str = "",
    duplicate_project=None,
    share_a_bp=None,
    share_b_bp=None,
    joint_total=None,
    joint_currency: str = "KWD",
) -> Flag:
    """The ministry's decision on an open flag (a reviewer or administrator).

    - duplicate: `duplicate_project` (one of the two, a Project or its pk) is stopped — rejected when the ministry
      can reject it (a submitted one is taken into review first), otherwise the flag says what its charity must
      do; a reason is required.
    - joint: both go ahead with agreed shares (basis points, summing to 10,000) of the joint work's total cost
      (`joint_total` in minor units of `joint_currency`, KWD by default). Refused when a project's budget in KWD
      exceeds its share of the total (the same work would be counted twice).
    - distinct: a reason is required.

    A decided flag no longer blocks approval. Refused (Conflict) when the flag is no longer open."""
    from shafaf.projects.models import Project

    if not is_ministry(actor):
        raise NotAllowed(_("Only the ministry decides an overlap."))
    reason = (reason or "").strip()
    errors: dict[str, list] = {}
    if decision not in Decision.values:
        raise DomainError(
            _("Choose a decision."), code="invalid", fields={"decision": [_("Choose duplicate, joint or distinct.")]}
        )
    with transaction.atomic():
        flag = (
            Flag.objects.select_for_update().select_related("project_a__charity", "project_b__charity").get(pk=flag.pk)
        )
        if flag.status != FlagStatus.OPEN:
            raise Conflict(_("This overlap is no longer awaiting a decision."), code="not_open")
        a, b = flag.project_a, flag.project_b
        values: dict = {}
        outcome = ""
        if decision == Decision.DUPLICATE:
            duplicate_pk = getattr(duplicate_project, "pk", duplicate_project)
            duplicate_pk = _as_int(duplicate_pk, "duplicate_project", errors)
            if duplicate_pk not in (a.pk, b.pk):
                errors.setdefault("duplicate_project", []).append(
                    _("Choose which of the two projects is the duplicate.")
                )
            if not reason:
                errors.setdefault("reason", []).append(_("A reason is required for this decision."))
            if errors:
                raise DomainError(_("Please correct the errors below."), code="invalid", fields=errors)
            values["duplicate_project_id"] = duplicate_pk
        elif decision == Decision.JOINT:
            values.update(_joint_values(a, b, share_a_bp, share_b_bp, joint_total, joint_currency, errors))
        else:
            if not reason:
                raise DomainError(
                    _("Please correct the errors below."),
                    code="invalid",
                    fields={"reason": [_("Say why the two projects are distinct.")]},
                )
        now = timezone.now()
        flag.decision, flag.decision_reason = decision, reason
        flag.status, flag.decided_by, flag.decided_at = FlagStatus.DECIDED, actor, now
        for key, value in values.items():
            setattr(flag, key, value)
        flag.save()
        if decision == Decision.DUPLICATE:
            duplicate = Project.objects.select_related("charity").get(pk=values["duplicate_project_id"])
            outcome = _duplicate_outcome(actor=actor, duplicate=duplicate, reason=reason)
            flag.decision_reason = f"{reason}\n\n{outcome}"
            flag.save(update_fields=["decision_reason"])
        changes = {
            "status": [FlagStatus.OPEN, FlagStatus.DECIDED],
            "decision": [None, decision],
            "level": [None, flag.level],
            "score": [None, flag.score],
        }
        for key in ("duplicate_project_id", "share_a_bp", "share_b_bp", "joint_total", "joint_currency"):
            if key in values:
                changes[key.removesuffix("_id")] = [None, values[key]]
        if outcome:
            changes["outcome"] = [None, outcome]
        _audit_each(
            actor=actor,
            action="coordination.flag_decide",
            subject=flag,
            projects=(a, b),
            changes=changes,
            reason=reason,
        )
    return flag


def _joint_values(a, b, share_a_bp, share_b_bp, joint_total, joint_currency, errors) -> dict:
    from shafaf.core.money import UnknownCurrency, minor_digits

    share_a = _as_int(share_a_bp, "share_a_bp", errors)
    share_b = _as_int(share_b_bp, "share_b_bp", errors)
    total = _as_int(joint_total, "joint_total", errors)
    currency = (joint_currency or "KWD").strip().upper()
    for field, share in (("share_a_bp", share_a), ("share_b_bp", share_b)):
        if share is None and field not in errors:
            errors.setdefault(field, []).append(_("Give this project's share in basis points."))
        elif share is not None and not 1 <= share < BASIS_POINTS:
            errors.setdefault(field, []).append(_("A share is between 1 and 9,999 basis points."))
    both = share_a is not None and share_b is not None and not {"share_a_bp", "share_b_bp"} & set(errors)
    if both and share_a + share_b != BASIS_POINTS:
        errors.setdefault("share_b_bp", []).append(
            _("The two shares must sum to 10,000 basis points (100%%), not %(sum)s.") % {"sum": share_a + share_b}
        )
    if total is None and "joint_total" not in errors:
        errors.setdefault("joint_total", []).append(_("Give the total cost of the joint work."))
    elif total is not None and total <= 0:
        errors.setdefault("joint_total", []).append(_("The total cost must be above zero."))
    try:
        minor_digits(currency)
    except UnknownCurrency:
        errors.setdefault("joint_currency", []).append(_("This is not an active ISO 4217 currency code."))
    if errors:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=errors)
    total_kwd = _joint_total_kwd(total, currency)
    refusals = []
    for project, share in ((a, share_a), (b, share_b)):
        budget = _budget_kwd(project)
        share_fils = total_kwd * share // BASIS_POINTS
        if budget is None:
            refusals.append(
                _(
                    "Project %(ref)s has no budget that can be converted to KWD, so its share of the joint work "
                    "cannot be checked."
                )
                % {"ref": project.reference}
            )
        elif budget * BASIS_POINTS > total_kwd * share:
            refusals.append(
                _(
                    "Project %(ref)s budgets %(budget)s, more than its share of the joint work "
                    "(%(share)s%% of %(total)s = %(part)s): the same work would be counted twice."
                )
                % {
                    "ref": project.reference,
                    "budget": _fmt_fils(budget),
                    "share": f"{share / 100:.2f}",
                    "total": _fmt_fils(total_kwd),
                    "part": _fmt_fils(share_fils),
                }
            )
    if refusals:
        raise DomainError(
            _("Joint funding of %(a)s and %(b)s is refused: %(why)s")
            % {"a": a.reference, "b": b.reference, "why": " ".join(str(r) for r in refusals)},
            code="double_counted",
            fields={"joint_total": [str(r) for r in refusals]},
        )
    return {"share_a_bp": share_a, "share_b_bp": share_b, "joint_total": total, "joint_currency": currency}


# --- settings -----------------------------------------------------------------------------------------------


def settings_update(*, actor, **fields) -> CoordinationSettings:
    """The ministry administrator's thresholds: likely_threshold, possible_threshold (the model's score, possible
    at or below likely), completed_within_days (0 to 3,650) and max_candidates (1 to 5,000)."""
    if not permissions.can_change_settings(actor):
        raise NotAllowed(_("Only a ministry administrator changes the coordination settings."))
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}, code="invalid")
    errors: dict[str, list] = {}
    parsed: dict = {}
    for name in ("likely_threshold", "possible_threshold"):
        if name in fields:
            raw = fields[name]
            try:
                if isinstance(raw, float):
                    raw = repr(raw)
                value = Decimal(str(raw).strip())
                if not value.is_finite() or not Decimal("-99") <= value <= Decimal("999"):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors.setdefault(name, []).append(_("Give a number between -99 and 999."))
                continue
            parsed[name] = value.quantize(Decimal("0.01"))
    for name, low, high in (("completed_within_days", 0, 3650), ("max_candidates", 1, 5000)):
        if name in fields:
            value = _as_int(fields[name], name, errors)
            if value is None and name not in errors:
                errors.setdefault(name, []).append(_("Give a whole number."))
            elif value is not None and not low <= value <= high:
                errors.setdefault(name, []).append(
                    _("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
                )
            elif value is not None:
                parsed[name] = value
    with transaction.atomic():
        selectors.current_settings()
        settings = CoordinationSettings.objects.select_for_update().get(pk=1)
        likely = parsed.get("likely_threshold", settings.likely_threshold)
        possible = parsed.get("possible_threshold", settings.possible_threshold)
        if not errors and possible > likely:
            errors.setdefault("possible_threshold", []).append(
                _("The possible-overlap threshold cannot be above the likely-duplicate threshold.")
            )
        if errors:
            raise DomainError(_("Please correct the errors below."), code="invalid", fields=errors)
        before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        for name, value in parsed.items():
            setattr(settings, name, value)
        changes = audit.diff(before, {name: getattr(settings, name) for name in SETTINGS_FIELDS})
        if changes:
            settings.updated_by, settings.updated_at = actor, timezone.now()
            settings.save()
            audit.record(actor=actor, action="coordination.settings_update", subject=settings, changes=changes)
    return settings


# --- the batch scan -----------------------------------------------------------------------------------------


def scan_start(*, actor, engine: str = "duckdb") -> ScanRun:
    """A scan of the whole corpus, queued (shafaf.coordination.tasks.coordination_scan_run) after the commit."""
    if not permissions.can_start_scan(actor):
        raise NotAllowed(_("Only the ministry starts a coordination scan."))
    with transaction.atomic():
        running = ScanRun.objects.select_for_update().filter(
            status=ScanRun.Status.RUNNING, started_at__gte=timezone.now() - SCAN_STALE_AFTER
        )
        if running.exists():
            raise Conflict(_("A coordination scan is already running."), code="scan_running")
        run = ScanRun.objects.create(
            engine=engine,
            model_version=selectors.active_model(),
            started_by=actor,
            progress_message="queued",
        )
        audit.record(actor=actor, action="coordination.scan_start", subject=run, changes={"engine": [None, engine]})

        def enqueue():
            from .tasks import coordination_scan_run

            coordination_scan_run.enqueue(run.pk)

        transaction.on_commit(enqueue)
    return run


def stale_signatures():
    """The compared projects whose signature is missing or older than the project or its latest budget."""
    from django.db.models import F

    return (
        selectors.compared_projects()
        .filter(
            Q(coordination_signature__isnull=True)
            | Q(updated_at__gt=F("coordination_signature__updated_at"))
            | Q(budget_versions__created_at__gt=F("coordination_signature__updated_at"))
        )
        .distinct()
    )


def scan_execute(
    *,
    run: ScanRun,
    jsonl_path: str | None = None,
    engine: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    work_dir: str | None = None,
) -> ScanRun:
    """Runs a scan: stale signatures refreshed, every compared project's record streamed to the batch engine
    (shafaf.coordination.batch.scan), every cross-charity pair at or above "possible overlap" written to
    `jsonl_path` (one JSON object a line) and kept as a ScanPair; pairs not found by the previous finished scan
    are counted as new and open (or update) their flags. Progress goes to `progress` and to the ScanRun."""
    from shafaf.accounts.models import Organization

    from . import batch
    from .signature import signatures_refresh

    engine = engine or run.engine or "duckdb"
    actor = run.started_by
    settings = selectors.current_settings()
    likely, possible = selectors.thresholds(settings)
    version = run.model_version
    params = online.params_for(version)
    last_write = [0.0]

    def report(done: int, total: int, message: str, *, force: bool = False) -> None:
        if progress is not None:
            progress(done, total, message)
        now = time.monotonic()
        if force or now - last_write[0] >= 1.0:
            last_write[0] = now
            percent = min(100, int(done * 100 / total)) if total else 0
            ScanRun.objects.filter(pk=run.pk).update(progress=percent, progress_message=str(message)[:200])

    try:
        report(0, 0, "refreshing stale signatures", force=True)
        refreshed = signatures_refresh(stale_signatures())
        compared = ProjectSignature.objects.filter(selectors.compared_condition(settings, prefix="project__"))
        total = compared.count()
        ScanRun.objects.filter(pk=run.pk).update(records=total, engine=engine)

        def records():
            for record, status in compared.values_list("record", "project__status").iterator(chunk_size=5000):
                record["status"] = status
                yield record

        slugs = dict(Organization.objects.filter(kind="charity").values_list("pk", "slug"))
        previous = (
            ScanRun.objects.filter(status=ScanRun.Status.DONE, finished_at__isnull=False)
            .exclude(pk=run.pk)
            .order_by("-finished_at", "-id")
            .first()
        )
        known = set(
            ScanPair.objects.filter(run=previous).values_list("project_a_id", "project_b_id") if previous else ()
        )
        counts = {"pairs": 0, "likely": 0, "new": 0}
        pending: list[ScanPair] = []
        new_pairs: list[dict] = []
        with open(jsonl_path, "w", encoding="utf-8") if jsonl_path else contextlib.nullcontext() as out:
            for pair in batch.scan(
                records(), params, likely=likely, possible=possible, engine=engine, progress=report, work_dir=work_dir
            ):
                if pair["charity_a"] == pair["charity_b"]:
                    continue
                if int(pair["a"]) > int(pair["b"]):
                    pair = _swapped(pair)
                a, b = int(pair["a"]), int(pair["b"])
                line = {
                    "a": a,
                    "b": b,
                    "a_ref": pair["a_ref"],
                    "b_ref": pair["b_ref"],
                    "charity_a": slugs.get(pair["charity_a"], ""),
                    "charity_b": slugs.get(pair["charity_b"], ""),
                    "score": round(float(pair["score"]), 2),
                    "level": pair["level"],
                    "reasons": pair["reasons"],
                }
                if out is not None:
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                is_new = (a, b) not in known
                counts["pairs"] += 1
                counts["likely"] += pair["level"] == Level.LIKELY
                counts["new"] += is_new
                pending.append(
                    ScanPair(
                        run=run, project_a_id=a, project_b_id=b, score=line["score"], level=line["level"], is_new=is_new
                    )
                )
                if is_new:
                    new_pairs.append(line)
                if len(pending) >= 5000:
                    ScanPair.objects.bulk_create(pending, ignore_conflicts=True)
                    pending.clear()
            if pending:
                ScanPair.objects.bulk_create(pending, ignore_conflicts=True)
        report(total, total, "opening flags of the new pairs", force=True)
        flags = _flags_from_scan(actor=actor, pairs=new_pairs, version=version)
        with transaction.atomic():
            ScanRun.objects.filter(pk=run.pk).update(
                status=ScanRun.Status.DONE,
                pairs=counts["pairs"],
                likely=counts["likely"],
                new_pairs=counts["new"],
                progress=100,
                progress_message="done",
                output=str(jsonl_path or "")[:500],
                finished_at=timezone.now(),
            )
            run.refresh_from_db()
            audit.record(
                actor=actor,
                action="coordination.scan_finish",
                subject=run,
                changes={
                    "records": [None, run.records],
                    "pairs": [None, counts["pairs"]],
                    "likely": [None, counts["likely"]],
                    "new_pairs": [None, counts["new"]],
                    "flags": [None, flags],
                    "signatures": [None, refreshed],
                },
            )
    except Exception as error:
        ScanRun.objects.filter(pk=run.pk).update(
            status=ScanRun.Status.FAILED, error=repr(error)[:5000], finished_at=timezone.now()
        )
        run.refresh_from_db()
        raise
    return run


def _swapped(pair: dict) -> dict:
    return {
        **pair,
        "a": pair["b"],
        "b": pair["a"],
        "a_ref": pair["b_ref"],
        "b_ref": pair["a_ref"],
        "charity_a": pair["charity_b"],
        "charity_b": pair["charity_a"],
    }


def _flags_from_scan(*, actor, pairs: list[dict], version) -> dict:
    from shafaf.projects.models import Project

    summary = {"opened": 0, "reopened": 0, "updated": 0, "unchanged": 0, "kept": 0}
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        projects = Project.objects.select_related("charity").in_bulk({p["a"] for p in chunk} | {p["b"] for p in chunk})
        with transaction.atomic():
            for pair in chunk:
                a, b = projects.get(pair["a"]), projects.get(pair["b"])
                if a is None or b is None:
                    continue
                _flag, what = _flag_upsert(
                    actor=actor, project=a, other=b, result=pair, version=version, found_by=FOUND_BY_SCAN
                )
                summary[what] = summary.get(what, 0) + 1
    return summary


def scan_run_now(*, actor=None, jsonl_path=None, engine: str = "duckdb", progress=None, work_dir=None) -> ScanRun:
    """A scan started and run in this process (the command and the nightly task)."""
    with transaction.atomic():
        run = ScanRun.objects.create(
            engine=engine, model_version=selectors.active_model(), started_by=actor, progress_message="starting"
        )
        audit.record(actor=actor, action="coordination.scan_start", subject=run, changes={"engine": [None, engine]})
    return scan_execute(run=run, jsonl_path=jsonl_path, engine=engine, progress=progress, work_dir=work_dir)


# --- training -----------------------------------------------------------------------------------------------


def decision_labels() -> list[tuple[int, int, bool]]:
    """The ministry's decisions as labels: duplicate and joint funding are matches, distinct is not."""
    rows = Flag.objects.filter(status=FlagStatus.DECIDED).values_list("project_a_id", "project_b_id", "decision")
    return [(a, b, decision in (Decision.DUPLICATE, Decision.JOINT)) for a, b, decision in rows]


def model_train(*, actor=None) -> tuple[ModelVersion, ModelVersion, dict]:
    """Re-estimates the model from the corpus and the ministry's decisions (shafaf.coordination.batch.train) and
    makes the result the active version. Answers (previous, new, the engine's summary)."""
    from . import batch

    if actor is not None and not is_ministry(actor):
        raise NotAllowed(_("Only the ministry trains the coordination model."))
    previous = selectors.active_model()
    labels = decision_labels()
    labelled = {a for a, _b, _m in labels} | {b for _a, b, _m in labels}
    settings = selectors.current_settings()
    rows = ProjectSignature.objects.filter(
        selectors.compared_condition(settings, prefix="project__") | Q(project_id__in=labelled)
    ).values_list("record", flat=True)
    used = [0]

    def records():
        for record in rows.iterator(chunk_size=5000):
            used[0] += 1
            yield record

    params, summary = batch.train(records(), labels, online.params_for(previous))
    with transaction.atomic():
        number = (ModelVersion.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        ModelVersion.objects.filter(is_active=True).update(is_active=False)
        new = ModelVersion.objects.create(
            number=number,
            params=params.to_dict(),
            is_active=True,
            labels_used=len(labels),
            records_used=used[0],
            note=json.dumps(summary, ensure_ascii=False, default=str)[:10000],
            created_by=actor if actor is not None and actor.pk else None,
        )
        audit.record(
            actor=actor,
            action="coordination.model_train",
            subject=new,
            changes={
                "active_version": [previous.number, new.number],
                "labels_used": [None, len(labels)],
                "records_used": [None, used[0]],
            },
        )
    return previous, new, summary
