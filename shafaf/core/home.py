"""Each role's home page: what needs this person's attention now."""

from django.apps import apps
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render

from shafaf.accounts.choices import CHARITY_ROLES, MINISTRY_ROLES, Role
from shafaf.accounts.permissions import organization_ids_with_role
from shafaf.audit.selectors import can_browse_audit, events_visible_to
from shafaf.projects import permissions as project_permissions
from shafaf.projects import selectors as project_selectors
from shafaf.projects.choices import AWAITING_REVIEW_STATUSES, ProjectStatus
from shafaf.projects.oversight import selectors as oversight_selectors


def home_view(request):
    user = request.user
    roles = user.roles()
    projects = project_selectors.project_list(user)
    context = {
        "memberships": user.active_memberships(),
        "is_ministry": bool(roles & MINISTRY_ROLES),
        "is_charity": bool(roles & CHARITY_ROLES),
        "is_auditor": Role.AUDITOR in roles,
        "is_partner": Role.PARTNER_REPORTER in roles,
        "is_donor": Role.DONOR in roles,
        "can_create_project": project_permissions.can_create_project(user),
        "project_count": projects.count(),
    }
    if context["is_charity"]:
        own = organization_ids_with_role(user, *CHARITY_ROLES)
        drafts = projects.filter(charity_id__in=own, status=ProjectStatus.DRAFT)
        waiting = ProjectStatus.DRAFT, ProjectStatus.CHANGES_REQUESTED
        counts = dict(
            projects.filter(charity_id__in=own, status__in=waiting)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        context["draft_count"] = counts.get(ProjectStatus.DRAFT, 0)
        context["recent_drafts"] = drafts.order_by("-updated_at")[:5]
        context["changes_requested_count"] = counts.get(ProjectStatus.CHANGES_REQUESTED, 0)
        context["changes_requested"] = project_selectors.changes_requested_of(user)[:5]
    if context["is_ministry"] or context["is_auditor"]:
        by_status = dict(projects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        context["projects_by_status"] = [(label, by_status.get(value, 0)) for value, label in ProjectStatus.choices]
        context["charity_count"] = projects.values("charity_id").distinct().count()
        if context["is_ministry"]:
            context["awaiting_review"] = [
                (value, label, by_status.get(value, 0))
                for value, label in ProjectStatus.choices
                if value in AWAITING_REVIEW_STATUSES
            ]
            context["awaiting_review_count"] = sum(count for _value, _label, count in context["awaiting_review"])
            context["review_queue_head"] = project_selectors.review_queue(user)[:5]
            if apps.is_installed("shafaf.reports"):
                from shafaf.reports.selectors import overdue_reports

                context["overdue_reports"] = overdue_reports(user)  # the progress reports late on their due date
    if context["is_partner"]:
        context["partner_projects"] = projects.order_by("-updated_at")[:10]
    context.update(oversight_selectors.home_alerts(user))  # the alerts this person must act on
    if can_browse_audit(user):
        context["recent_events"] = events_visible_to(user).order_by("-seq")[:8]
    return render(request, "core/home.html", context)


@login_not_required
def health_view(request):
    """For load balancers and `make run`: answers once the app can reach its database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
