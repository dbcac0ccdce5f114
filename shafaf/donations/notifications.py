"""Telling donors what happened to the projects they fund.

Three events notify the donor accounts whose donations are allocated to (or restricted to) a project: a progress
report published (accepted by the ministry), a phase completed, a budget revised. The services that perform them
call the hooks below inside their transaction:

- `report_published(report=...)`   from shafaf.reports.services (a report moving to "accepted");
- `phase_progressed(phase=..., was=...)` from shafaf.projects.services.phase_progress_update;
- `budget_revised(version=...)`     from shafaf.finance.budgets.budget_version_create.

Each donor account gets one Notification per event (the (user, event_key) constraint makes a repeated
announcement a no-op) and, when one of its donor records agreed to be contacted, one e-mail, sent after the
transaction commits and claimed first (`emailed_at`) so that no e-mail goes out twice.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import Donor, Notification, NotificationKind

logger = logging.getLogger(__name__)


def project_donor_users(project) -> dict[int, bool]:
    """{user id: consents to be contacted} for the donor accounts that fund the project."""
    donors = (
        Donor.objects.filter(user__isnull=False, user__is_active=True)
        .filter(Q(donations__allocations__project=project) | Q(donations__project=project))
        .values_list("user_id", "consent_to_contact")
        .distinct()
    )
    result: dict[int, bool] = {}
    for user_id, consent in donors:
        result[user_id] = result.get(user_id, False) or bool(consent)
    return result


def notify_project_donors(*, project, kind: str, event_key: str, title_ar: str, title_en: str) -> list[Notification]:
    """Creates the missing notifications of the event for the project's donor accounts (idempotent) and queues
    their e-mails for after the commit. Returns the notifications created now."""
    users = project_donor_users(project)
    if not users:
        return []
    url = reverse("donations:portal_project", args=[project.pk])
    existing = set(
        Notification.objects.filter(event_key=event_key, user_id__in=users).values_list("user_id", flat=True)
    )
    new = [
        Notification(
            user_id=user_id,
            project=project,
            kind=kind,
            event_key=event_key,
            title_ar=title_ar[:300],
            title_en=title_en[:300],
            url=url,
        )
        for user_id in sorted(users)
        if user_id not in existing
    ]
    if not new:
        return []
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            event_key=event_key, user_id__in=[n.user_id for n in new], emailed_at__isnull=True, read_at__isnull=True
        )
    )
    to_email = [n.pk for n in created if users.get(n.user_id)]
    if to_email:
        transaction.on_commit(lambda: send_notification_emails(to_email))
    return created


def send_notification_emails(notification_ids) -> int:
    """Sends the e-mail of each notification not e-mailed yet (claiming it first); returns how many were sent."""
    sent = 0
    consents: dict[int, dict[int, bool]] = {}
    for notification in Notification.objects.filter(pk__in=list(notification_ids)).select_related("user", "project"):
        if notification.project_id not in consents:
            consents[notification.project_id] = (
                project_donor_users(notification.project) if notification.project is not None else {}
            )
        if not consents[notification.project_id].get(notification.user_id):
            continue  # only a donor who agreed to be contacted gets e-mails
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        user = notification.user
        address = user.email or (
            Donor.objects.filter(user=user, consent_to_contact=True)
            .exclude(email="")
            .values_list("email", flat=True)
            .first()
        )
        if not address:
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            continue
        link = settings.SHAFAF_BASE_URL.rstrip("/") + (notification.url or reverse("donations:portal_notifications"))
        arabic_first = (user.language or "ar").startswith("ar")
        subject = notification.title_ar if arabic_first else notification.title_en
        body = "\n\n".join(
            [
                notification.title_ar,
                notification.title_en,
                link,
                "— شفاف · Shafaf",
                "وصلتك هذه الرسالة لأنك وافقت على التواصل معك بشأن المشاريع التي تبرعت لها.\n"
                "You receive this e-mail because you agreed to be contacted about the projects you fund.",
            ]
        )
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except Exception:  # the notification stays in the portal; the e-mail can be sent again later
            logger.exception("donor notification %s: the e-mail could not be sent", notification.pk)
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            continue
        sent += 1
    return sent


def _title(project) -> tuple[str, str]:
    return (project.title_ar or project.title_en), (project.title_en or project.title_ar)


# --- the hooks ---------------------------------------------------------------------------------------------------


def report_published(*, report) -> list[Notification]:
    """A progress report of the project was accepted by the ministry (published to donors); other states: no-op."""
    from shafaf.reports.choices import ReportStatus

    if report.status != ReportStatus.ACCEPTED:
        return []
    project = report.project
    title_ar, title_en = _title(project)
    period = f"{report.period_start:%Y-%m-%d} – {report.period_end:%Y-%m-%d}"
    return notify_project_donors(
        project=project,
        kind=NotificationKind.REPORT,
        event_key=f"report:{report.pk}",
        title_ar=f"تقرير إنجاز جديد ({period}) لمشروع «{title_ar}»",
        title_en=f"A new progress report ({period}) on “{title_en}”",
    )


def phase_progressed(*, phase, was: str | None = None) -> list[Notification]:
    """A phase reached "done" (from another state): its project's donors are told once per phase."""
    from shafaf.projects.choices import PhaseStatus

    if phase.status != PhaseStatus.DONE or was == PhaseStatus.DONE:
        return []
    project = phase.project
    title_ar, title_en = _title(project)
    name_ar = phase.name_ar or phase.name_en
    name_en = phase.name_en or phase.name_ar
    return notify_project_donors(
        project=project,
        kind=NotificationKind.PHASE,
        event_key=f"phase:{phase.pk}:done",
        title_ar=f"اكتملت المرحلة «{name_ar}» من مشروع «{title_ar}»",
        title_en=f"The phase “{name_en}” of “{title_en}” is complete",
    )


def budget_revised(*, version) -> list[Notification]:
    """A revision (not the original) of the project's budget was saved."""
    from shafaf.finance.models import BudgetKind

    if version.kind != BudgetKind.REVISION:
        return []
    project = version.project
    title_ar, title_en = _title(project)
    return notify_project_donors(
        project=project,
        kind=NotificationKind.BUDGET,
        event_key=f"budget:{version.pk}",
        title_ar=f"عُدّلت ميزانية مشروع «{title_ar}» (النسخة {version.number})",
        title_en=f"The budget of “{title_en}” was revised (version {version.number})",
    )


def notification_mark_read(*, actor, notification=None, all_unread: bool = False) -> int:
    """Marks one of the actor's notifications (or all of them) as read; returns how many changed."""
    queryset = Notification.objects.filter(user=actor, read_at__isnull=True)
    if not all_unread:
        if notification is None or notification.user_id != actor.pk:
            return 0
        queryset = queryset.filter(pk=notification.pk)
    return queryset.update(read_at=timezone.now())
