"""Every write of alerts: raising and resolving them (alerts_raise) and acknowledging one. All audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed

from . import permissions, rules, selectors
from .models import UNRESOLVED_STATUSES, Alert, AlertStatus

COMMENT_MAX_LENGTH = 2000


@dataclass
class RaiseSummary:
    projects: int = 0
    raised: int = 0
    resolved: int = 0
    per_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)  # rules skipped: the data they need is not kept yet

    def count(self, code: str, what: str) -> None:
        self.per_rule.setdefault(code, {"raised": 0, "resolved": 0, "standing": 0})[what] += 1

    def as_dict(self) -> dict:
        return {
            "projects": self.projects,
            "raised": self.raised,
            "resolved": self.resolved,
            "per_rule": self.per_rule,
            "unavailable": self.unavailable,
        }


def _resolve(alert: Alert, *, reason: str) -> None:
    before = alert.status
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = timezone.now()
    alert.save(update_fields=["status", "resolved_at"])
    audit.record(
        actor=None,
        action="alert.resolve",
        subject=alert,
        organization=alert.project.charity,
        changes={"status": [before, alert.status], "rule": [None, alert.rule]},
        reason=reason,
    )


def alerts_raise(*, today: dt.date | None = None, project_ids=None) -> RaiseSummary:
    """Runs every available rule over the active projects (and those still holding an unresolved alert):
    raises an alert where a rule finds something and none stands yet, and resolves a standing alert whose
    condition has cleared (or whose project is no longer active). Idempotent: running it twice raises
    nothing new. Rules whose interface is missing are skipped and listed in `unavailable`; their standing
    alerts are left as they are. Each project is handled in its own transaction."""
    from shafaf.projects.models import Project

    today = today or timezone.localdate()
    summary = RaiseSummary()
    limits = rules.thresholds()
    available = {}
    for code, rule in rules.RULES.items():
        function = rule.load()
        if rule.interface and function is None:
            summary.unavailable.append(code)
            continue
        available[code] = (rule, function)
    ministry = selectors.ministry_organization()
    with_alerts = Alert.objects.filter(status__in=UNRESOLVED_STATUSES).values("project_id")
    projects = Project.objects.filter(Q(status__in=rules.ACTIVE_STATUSES) | Q(pk__in=with_alerts))
    if project_ids is not None:
        projects = projects.filter(pk__in=list(project_ids))
    for project in projects.select_related("charity").order_by("pk").iterator(chunk_size=200):
        summary.projects += 1
        with transaction.atomic():
            standing = {
                a.rule: a
                for a in Alert.objects.select_for_update().filter(project=project, status__in=UNRESOLVED_STATUSES)
            }
            for code, (rule, function) in available.items():
                finding = rules.evaluate(rule, project, today=today, limits=limits[code], interface=function)
                alert = standing.get(code)
                if finding is None:
                    if alert is not None:
                        _resolve(alert, reason="The condition has cleared.")
                        summary.resolved += 1
                        summary.count(code, "resolved")
                    continue
                if alert is not None:
                    summary.count(code, "standing")
                    continue
                owner = project.charity if rule.owner == rules.OWNER_CHARITY else ministry
                if owner is None:  # no ministry organisation set up: no one to own it
                    continue
                message_ar, message_en, facts = finding
                try:
                    with transaction.atomic():
                        alert = Alert.objects.create(
                            project=project,
                            rule=code,
                            severity=rule.severity,
                            owner=owner,
                            message_ar=message_ar,
                            message_en=message_en,
                            facts=facts,
                        )
                except IntegrityError:  # raised meanwhile by a concurrent run
                    summary.count(code, "standing")
                    continue
                audit.record(
                    actor=None,
                    action="alert.raise",
                    subject=alert,
                    organization=project.charity,
                    changes={
                        "project": [None, project.pk],
                        "rule": [None, code],
                        "severity": [None, rule.severity],
                        "owner": [None, owner.pk],
                        "facts": [None, facts],
                    },
                )
                summary.raised += 1
                summary.count(code, "raised")
    return summary


def alert_acknowledge(*, actor, alert: Alert, comment: str) -> Alert:
    """The owner's members (or the ministry) say they have seen the alert and what they do about it. The
    comment is required. Only an open alert is acknowledged (409 otherwise). Audited."""
    if not permissions.can_acknowledge(actor, alert):
        raise NotAllowed(_("Only the organisation that must act on this alert, or the ministry, may acknowledge it."))
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(
            _("Please correct the errors below."),
            code="invalid",
            fields={"comment": [_("Say what you are doing about this alert.")]},
        )
    if len(comment) > COMMENT_MAX_LENGTH:
        raise DomainError(
            _("Please correct the errors below."),
            code="invalid",
            fields={
                "comment": [
                    _("The comment is too long (at most %(max)s characters).") % {"max": f"{COMMENT_MAX_LENGTH:,}"}
                ]
            },
        )
    with transaction.atomic():
        now = timezone.now()
        claimed = Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
            status=AlertStatus.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=now, acknowledgement_comment=comment
        )
        if not claimed:
            raise Conflict(_("This alert is no longer open: it has been acknowledged or resolved already."))
        alert.refresh_from_db()
        audit.record(
            actor=actor,
            action="alert.acknowledge",
            subject=alert,
            organization=alert.project.charity,
            changes={"status": [AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED], "rule": [None, alert.rule]},
            reason=comment,
        )
    return alert
