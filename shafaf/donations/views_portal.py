"""The donor portal (/donor/...: a donor account's donations, their allocations, the projects they fund and the
notifications about them) and the public project pages (/p/<reference>/: licensed projects, no login, no donor's
identity).

The portal is for users with the donor role (others get 403 on its lists); a donation or project that is not
the donor's own answers 404, whoever asks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_POST, require_safe

from shafaf.core.views import stored_file_response

from . import notifications, portal


def _require_donor(request) -> None:
    if not portal.is_donor(request.user):
        raise PermissionDenied


def _language() -> str:
    return (get_language() or "ar")[:2]


@require_safe
def portal_home_view(request):
    """My donations: each with its charity, purpose, amount and how much of it is allocated."""
    _require_donor(request)
    rows = portal.my_donation_rows(request.user)
    context = {
        "rows": rows,
        "projects": portal.my_projects(request.user).order_by("reference"),
        "unread": portal.unread_count(request.user),
        "language": _language(),
    }
    return render(request, "donations/portal_home.html", context)


@require_safe
def portal_donation_view(request, pk: int):
    """One of my donations: its facts, receipt, allocations and where each fils of them went."""
    _require_donor(request)
    donation = portal.my_donation_get(request.user, pk)
    allocations = portal.donation_allocations(request.user, donation)
    from . import receipts

    context = {
        "donation": donation,
        "receipt_code": receipts.receipt_code(donation),
        "entries": allocations["entries"],
        "by_project": allocations["by_project"],
        "corrections": donation.corrections.order_by("entered_at", "id"),
        "language": _language(),
    }
    return render(request, "donations/portal_donation.html", context)


@require_safe
def portal_project_view(request, pk: int):
    """A project my donations fund: phases and progress, money in and out, where my share went, its reports."""
    _require_donor(request)
    project = portal.my_project_get(request.user, pk)
    context = {
        "project": project,
        **portal.project_overview(project),
        "mine": portal.my_project_attribution(request.user, project),
        "language": _language(),
    }
    return render(request, "donations/portal_project.html", context)


@require_safe
def portal_evidence_view(request, pk: int, document_pk: int):
    """The file of a published report's evidence, for the donors of the project."""
    _require_donor(request)
    project = portal.my_project_get(request.user, pk)
    document = portal.published_evidence_get(request.user, project, document_pk)
    return stored_file_response(
        document.file, name=f"{project.reference}-{document.pk}", content_type=document.content_type
    )


@require_safe
def portal_notifications_view(request):
    _require_donor(request)
    context = {"notifications": portal.my_notifications(request.user)[:200], "language": _language()}
    return render(request, "donations/portal_notifications.html", context)


@require_POST
def portal_notification_read_view(request, pk: int):
    """Marks one of my notifications as read, then follows its link (or returns to the list)."""
    _require_donor(request)
    notification = get_object_or_404(portal.my_notifications(request.user), pk=pk)
    notifications.notification_mark_read(actor=request.user, notification=notification)
    if request.POST.get("follow") and notification.url.startswith("/"):
        return redirect(notification.url)
    return redirect("donations:portal_notifications")


@require_POST
def portal_notifications_read_all_view(request):
    _require_donor(request)
    notifications.notification_mark_read(actor=request.user, all_unread=True)
    return redirect("donations:portal_notifications")


@login_not_required
@require_safe
def public_project_view(request, reference: str):
    """A licensed project's public page: what it is, its phases, the money given to it in aggregate, its
    published reports. No donor's name, donation or receipt appears here."""
    project = portal.public_project_get(reference)
    overview = portal.project_overview(project)
    context = {
        "project": project,
        **overview,
        "figures": portal.public_donation_figures(project),
        "language": _language(),
    }
    return render(request, "donations/portal_public_project.html", context)
