import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from shafaf.core.views import htmx_template
from shafaf.interop.tables import Column, attr, export_filtered, export_or_none

from . import services
from .chain import verify_against_checkpoint, verify_everything
from .filters import AuditEventFilter
from .forms import CheckpointForm
from .models import AuditCheckpoint
from .selectors import can_browse_audit, can_take_checkpoint, events_visible_to

EVENT_COLUMNS = [
    Column("seq", "#", attr("seq")),
    Column("time", _lazy("Time"), attr("occurred_at")),
    Column("actor", _lazy("Actor"), attr("actor_username")),
    Column("role", _lazy("Role"), attr("actor_role_label")),
    Column("action", _lazy("Action"), attr("action")),
    Column("subject", _lazy("Subject"), attr("subject_repr")),
    Column("hash", _lazy("Hash"), attr("hash")),
]
CHECKPOINT_COLUMNS = [
    Column("count", _lazy("Number of events"), attr("count")),
    Column("head_hash", _lazy("Head hash"), attr("head_hash")),
    Column("created", _lazy("Taken at"), attr("created_at")),
]


def event_list_view(request):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    filterset = AuditEventFilter(request.GET or None, queryset=events_visible_to(request.user).order_by("-seq"))
    if (response := export_filtered(request, filterset, EVENT_COLUMNS, "audit-events")) is not None:
        return response
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    template = htmx_template(request, "audit/event_list.html", "audit/_event_table.html")
    return render(request, template, {"filter": filterset, "page": page})


def event_detail_view(request, seq: int):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    event = get_object_or_404(events_visible_to(request.user), seq=seq)
    return render(request, "audit/event_detail.html", {"event": event})


def verify_view(request):
    """The chain as it is now, and (on POST) against a checkpoint the user kept outside the platform."""
    if not can_browse_audit(request.user):
        raise PermissionDenied
    form = CheckpointForm(request.POST or None, request.FILES or None)
    checked = None
    if request.method == "POST" and form.is_valid():
        checked = verify_against_checkpoint(form.cleaned_data["count"], form.cleaned_data["head_hash"])
    context = {"result": verify_everything(), "form": form, "checked": checked}
    return render(request, "audit/verify.html", context, status=400 if form.errors else 200)


def checkpoint_list_view(request):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    can_take = can_take_checkpoint(request.user)
    if request.method == "POST":
        if not can_take:
            raise PermissionDenied
        try:
            checkpoint = services.checkpoint_create(actor=request.user)
            messages.success(request, _("Checkpoint taken at event #%(count)s.") % {"count": checkpoint.count})
        except ValueError as error:
            messages.error(
                request, _("The chain is not whole, so no checkpoint was taken: %(problem)s") % {"problem": error}
            )
        return redirect("audit:checkpoints")
    all_checkpoints = AuditCheckpoint.objects.order_by("-count", "-id")
    if (response := export_or_none(request, all_checkpoints, CHECKPOINT_COLUMNS, "audit-checkpoints")) is not None:
        return response
    checkpoints = Paginator(all_checkpoints, 50).get_page(request.GET.get("page"))
    return render(request, "audit/checkpoints.html", {"page": checkpoints, "can_take": can_take})


def checkpoint_download_view(request, pk: int):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    checkpoint = get_object_or_404(AuditCheckpoint, pk=pk)
    body = json.dumps(
        {"count": checkpoint.count, "head_hash": checkpoint.head_hash, "created_at": checkpoint.created_at.isoformat()},
        sort_keys=True,
    )
    response = HttpResponse(body + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="shafaf-audit-checkpoint-{checkpoint.count}.json"'
    return response
