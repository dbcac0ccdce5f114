"""The public IATI files of a charity: `/open-data/<charity>/iati-activities.xml` and `iati-organisation.xml`.

Anyone may download them, without signing in: they hold only what the charity publishes (its projects licensed
by the ministry, never a donor). The activity file is streamed as it is written, a few activities at a time, so
a large charity's file neither waits nor fills memory. A charity that does not exist, is not active, or has no
published project answers 404 (an IATI activity file must hold at least one activity).
"""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from shafaf.accounts.choices import OrganizationKind
from shafaf.accounts.models import Organization

from .iati import writer

CONTENT_TYPE = "application/xml; charset=utf-8"


def _publishing_charity(slug: str) -> Organization:
    charity = get_object_or_404(Organization, slug=slug, kind=OrganizationKind.CHARITY, is_active=True)
    if not writer.published_projects(charity).exists():
        raise Http404
    return charity


def _headers(response, filename: str):
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_not_required
@require_safe
def activities_file(request, charity: str):
    organisation = _publishing_charity(charity)
    stream = writer.iter_activities(charity=organisation)
    response = StreamingHttpResponse(stream, content_type=CONTENT_TYPE)
    return _headers(response, f"{organisation.slug}-iati-activities.xml")


@login_not_required
@require_safe
def organisation_file(request, charity: str):
    organisation = _publishing_charity(charity)
    out = io.BytesIO()
    writer.write_organisation(charity=organisation, out=out)
    return _headers(
        HttpResponse(out.getvalue(), content_type=CONTENT_TYPE), f"{organisation.slug}-iati-organisation.xml"
    )
