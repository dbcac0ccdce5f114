from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from shafaf.core.views import htmx_template

from .chain import verify_everything
from .filters import AuditEventFilter
from .selectors import can_browse_audit, events_visible_to


def event_list_view(request):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    filterset = AuditEventFilter(request.GET or None, queryset=events_visible_to(request.user).order_by("-seq"))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    template = htmx_template(request, "audit/event_list.html", "audit/_event_table.html")
    return render(request, template, {"filter": filterset, "page": page})


def event_detail_view(request, seq: int):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    event = get_object_or_404(events_visible_to(request.user), seq=seq)
    return render(request, "audit/event_detail.html", {"event": event})


def verify_view(request):
    if not can_browse_audit(request.user):
        raise PermissionDenied
    return render(request, "audit/verify.html", {"result": verify_everything()})
