"""A charity's 360Giving file, public: its grants to the implementing partners of its licensed projects.

Building and validating a large charity's file takes seconds, so the file is kept in the cache under a fingerprint
of everything it is made of (contracts, disbursements, projects, partners, the charity, the address it is served
at): a change to any of them makes a new file, and the fingerprint is also the response's ETag."""

import hashlib

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe

from shafaf.interop import selectors

from .export import GivingExportError, build_package, grant_contracts, package_json

CACHE_SECONDS = 3600


def _fingerprint(charity, base_url: str) -> str:
    facts = (
        grant_contracts(charity)
        .order_by()
        .aggregate(
            fp_contracts=Count("pk", distinct=True),
            fp_amount=Sum("amount_minor"),
            fp_registered=Max("registered_at"),
            fp_projects=Max("project__updated_at"),
            fp_partners=Max("partner__updated_at"),
            fp_disbursements=Count("disbursements", distinct=True),
            fp_paid=Max("disbursements__recorded_at"),
        )
    )
    text = repr((sorted(facts.items()), charity.pk, charity.updated_at, base_url))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@login_not_required
@require_safe
def grants_file(request, charity: str, **kwargs):
    organization = selectors.publishing_charity_get(charity)
    base_url = request.build_absolute_uri("/")
    fingerprint = _fingerprint(organization, base_url)
    etag = f'"{fingerprint}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    key = f"giving:360:{fingerprint}"
    body = cache.get(key)
    if body is None:
        try:
            package = build_package(charity=organization, base_url=base_url)
        except GivingExportError as error:
            if error.problems:
                raise  # a package that breaks the schema is a fault of ours, never published
            raise Http404 from None  # nothing published yet
        body = package_json(package) + "\n"
        cache.set(key, body, CACHE_SECONDS)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{organization.slug}-360giving.json"'
    response["Access-Control-Allow-Origin"] = "*"
    response["ETag"] = etag
    return response
