from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from shafaf.core.exceptions import DomainError
from shafaf.core.views import refuse_on_form
from shafaf.interop.tables import Column, attr, export_or_none

from . import permissions, selectors, services
from .forms import AcknowledgeForm
from .models import AlertStatus

STATUS_FILTERS = ("", *AlertStatus.values, "all")


def _list_context(request, *, failed=None, form=None) -> dict:
    status = request.GET.get("status", "")
    status = status if status in STATUS_FILTERS else ""
    page = Paginator(selectors.alert_list(request.user, status=status or None), 25).get_page(request.GET.get("page"))
    for alert in page:
        alert.can_acknowledge = alert.status == AlertStatus.OPEN and permissions.can_acknowledge(request.user, alert)
        alert.form = form if failed is not None and alert.pk == failed else AcknowledgeForm(prefix=f"alert-{alert.pk}")
    return {"page": page, "status": status, "statuses": AlertStatus.choices, "failed": failed}


ALERT_COLUMNS = [
    Column("severity", _lazy("Severity"), attr("get_severity_display")),
    Column("rule", _lazy("Rule"), attr("rule_title")),
    Column("status", _lazy("Status"), attr("get_status_display")),
    Column("project_reference", _lazy("Project reference"), attr("project.reference")),
    Column("project", _lazy("Project"), attr("project.title")),
    Column("message", _lazy("Message"), attr("message")),
    Column("owner", _lazy("Owner"), lambda alert: str(alert.owner)),
    Column("raised", _lazy("Raised"), attr("raised_at")),
    Column("acknowledged_by", _lazy("Acknowledged by"), lambda alert: alert.acknowledged_by or ""),
    Column("acknowledged", _lazy("Acknowledged"), attr("acknowledged_at")),
    Column("comment", _lazy("Comment"), attr("acknowledgement_comment")),
    Column("resolved", _lazy("Resolved"), attr("resolved_at")),
]


def alert_list_view(request):
    """The alerts the user may see (unresolved by default), each with its acknowledge form where the user
    may acknowledge it."""
    if not permissions.can_view_alerts(request.user):
        raise PermissionDenied
    status = request.GET.get("status", "")
    status = status if status in STATUS_FILTERS else ""
    alerts = selectors.alert_list(request.user, status=status or None)
    if (response := export_or_none(request, alerts, ALERT_COLUMNS, "alerts")) is not None:
        return response
    return render(request, "projects/oversight/alert_list.html", _list_context(request))


@require_POST
def alert_acknowledge_view(request, pk: int):
    if not permissions.can_view_alerts(request.user):
        raise PermissionDenied
    alert = selectors.alert_get(request.user, pk)
    if not permissions.can_acknowledge(request.user, alert):
        raise PermissionDenied
    form = AcknowledgeForm(request.POST, prefix=f"alert-{alert.pk}")
    status = 400
    if form.is_valid():
        try:
            services.alert_acknowledge(actor=request.user, alert=alert, comment=form.cleaned_data["comment"])
        except DomainError as error:
            status = refuse_on_form(form, error)
        else:
            messages.success(request, _("The alert is acknowledged."))
            return redirect("oversight:alert_list")
    context = _list_context(request, failed=alert.pk, form=form)
    context["failed_alert"] = alert
    context["failed_shown"] = any(a.pk == alert.pk and a.can_acknowledge for a in context["page"])
    return render(request, "projects/oversight/alert_list.html", context, status=status)


COMPLIANCE_COLUMNS = [
    Column("charity", _lazy("Charity"), lambda row: str(row.charity)),
    Column("class", _lazy("Compliance class"), lambda row: str(row.label)),
    Column("active_projects", _lazy("Active projects"), lambda row: row.active_projects),
    Column("checked_projects", _lazy("Checked by the rulebook"), lambda row: row.checked_projects),
    Column("failing_projects", _lazy("With blocking failures"), lambda row: row.failing_projects),
    Column(
        "failing",
        _lazy("Projects with blocking failures"),
        lambda row: [
            f"{reason.reference} ({', '.join(check.code for check in reason.failed_checks)})" for reason in row.failing
        ],
    ),
    Column("unchecked", _lazy("Not checked by the rulebook yet"), lambda row: [r.reference for r in row.unchecked]),
]


def compliance_view(request):
    """Each charity's compliance class with its reasons: every charity for the ministry and the auditor, its
    own for a charity's members."""
    if not permissions.can_view_compliance(request.user):
        raise PermissionDenied
    rows = selectors.compliance_visible_to(request.user)
    if (response := export_or_none(request, rows, COMPLIANCE_COLUMNS, "compliance")) is not None:
        return response
    context = {
        "rows": rows,
        "partial_max_percent": int(selectors.PARTIAL_MAX_SHARE * 100),
    }
    return render(request, "projects/oversight/compliance.html", context)
