"""Deny by default: every URL of the configuration refuses whoever has not fully signed in.

The walk covers the whole URLconf (tests/urlwalk.py), so a new URL is covered the day it is added:
it must either refuse anonymous visitors (pages: a redirect to the login page; the API: 401/403 in the
API's error format) or be listed in PUBLIC below, with the exact answer it gives.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from shafaf.accounts import services as account_services
from shafaf.audit.models import AuditEvent
from tests.urlwalk import Route, all_routes, ids_from, route_id

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
PAGE_ROUTES = [r for r in ROUTES if not r.is_api]
API_ROUTES = [r for r in ROUTES if r.is_api]

# Every method a browser or an API client may send; HEAD and OPTIONS too, so no handler slips through.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# The only URLs an anonymous visitor may use, with the answer each gives (method -> status). Methods not
# listed for a public URL are not checked; every other URL is checked with every method in METHODS.
PUBLIC: dict[str, dict[str, int]] = {
    "accounts:login": {"GET": 200, "POST": 400},  # POST without credentials: the form's errors
    "health": {"GET": 200, "POST": 200},  # load balancers
    "accounts:set_language": {"GET": 405, "POST": 302},  # POST only; remembers the language in a cookie
    # Choosing a password from an invitation or a reset link, before anyone can sign in.
    "accounts:password_reset": {"GET": 200, "POST": 200},  # POST without an address: the form's errors
    "accounts:password_reset_done": {"GET": 200, "POST": 405},
    "accounts:set_password": {"GET": 200, "POST": 200},  # a dummy link: "this link is not valid"
    "accounts:set_password_done": {"GET": 200, "POST": 405},
    # Donation receipts anyone can verify (the code is the capability; an unknown code shows nothing), and the
    # platform's public key that receipts are checked against.
    "donations:verify_form": {"GET": 200, "POST": 405},
    "donations:verify": {"GET": 200, "POST": 405},
    "donations:public_key": {"GET": 200, "POST": 405},
    "donations:public_key_pem": {"GET": 200, "POST": 405},
    # A licensed project's public page (no donor's identity); an unknown reference is not found.
    "donations:public_project": {"GET": 404, "HEAD": 404, "POST": 405},
    # Donors ask for a one-time sign-in link by e-mail (POST without an address: the form's errors), then open it
    # (a dummy link: "this link is not valid").
    "donations:login_link_request": {"GET": 200, "POST": 400},
    "donations:login_link_use": {"GET": 400, "POST": 400},
    # The public dashboard: the licensed projects in aggregate (never a donor), its map's data and its Excel file.
    "dashboards:public": {"GET": 200, "HEAD": 200, "POST": 405},
    "dashboards:public_map": {"GET": 200, "HEAD": 200, "POST": 405},
    "dashboards:public_export": {"GET": 200, "HEAD": 200, "POST": 405},
    # Open data: what each charity publishes (IATI, 360Giving, the audit checkpoints) with its licence; a charity
    # that has published nothing (as the walk's placeholder charity) has no files.
    "interop:open-data": {"GET": 200, "HEAD": 200, "POST": 405},
    "interop:iati-activities": {"GET": 404, "HEAD": 404, "POST": 405},
    "interop:iati-organisation": {"GET": 404, "HEAD": 404, "POST": 405},
    "interop:360giving": {"GET": 404, "HEAD": 404, "POST": 405},
}
# The only public API: the open-data catalogue, the same for anyone (signed in or not, with two-factor or not).
PUBLIC_API: dict[str, dict[str, int]] = {
    "api-open-data": {"GET": 200, "HEAD": 200, "POST": 405, "PUT": 405, "PATCH": 405, "DELETE": 405},
}
# Static files are served by WhiteNoise, outside the URLconf; checked on their own below.
PUBLIC_STATIC = ("/static/css/shafaf.css", "/static/vendor/htmx/htmx.min.js")

# The API's Swagger UI is an HTML page: it refuses like the API (401/403) but cannot answer in JSON.
HTML_API_PAGES = {"api-docs"}

# A signed-in user who has not confirmed two-factor reaches only these pages (method -> status).
TWO_FACTOR_EXEMPT: dict[str, dict[str, int]] = {
    "accounts:two_factor": {"GET": 200, "POST": 400},  # POST without a code: the form's errors
    "accounts:logout": {"GET": 405, "POST": 302},
    "accounts:set_language": {"GET": 405, "POST": 302},
}


def existing_ids(world) -> dict:
    """Ids of real objects, by the path segment in front of the id, so a leak would show real content."""
    token, _key = account_services.api_token_create(actor=world.najat, user=world.najat, name="walk")
    membership = world.staff_a.memberships.get()
    event = AuditEvent.objects.filter(organization=world.charity_a).order_by("seq").first()
    return {
        "projects": lambda: world.project_a.pk,
        "organizations": lambda: world.charity_a.pk,
        "memberships": lambda: membership.pk,
        "tokens": lambda: token.pk,
        "audit": lambda: event.seq,
        "audit-events": lambda: event.seq,
    }


def _methods(route: Route, allow: dict[str, dict[str, int]]) -> list[tuple[str, int | None]]:
    """(method, expected status) pairs: exact for an allow-listed URL, None (= must refuse) otherwise."""
    if route.name in allow:
        return list(allow[route.name].items())
    return [(method, None) for method in METHODS]


def _request(client, method: str, url: str, **extra):
    return getattr(client, method.lower())(url, **extra)


def _assert_api_error(response, statuses: tuple[int, ...], where: str) -> None:
    assert response.status_code in statuses, f"{where}: {response.status_code}, expected one of {statuses}"
    if response.wsgi_request.method == "HEAD":
        assert not response.content, f"{where}: HEAD answered with a body"
        return
    assert response["Content-Type"].startswith("application/json"), f"{where}: {response['Content-Type']}"
    error = response.json()["error"]
    assert error["code"] and error["message"], f"{where}: {error}"
    assert set(error) >= {"code", "message", "fields", "request_id"}, f"{where}: {error}"


def test_walk_covers_every_pattern():
    """Each pattern gives exactly one concrete URL resolving back to it, and the lists are not stale."""
    assert len(ROUTES) >= 38
    urls = [route.url() for route in ROUTES]
    assert len(set(urls)) == len(urls)
    names = {route.name for route in ROUTES}
    assert set(PUBLIC) <= names, f"stale PUBLIC entries: {set(PUBLIC) - names}"
    assert set(TWO_FACTOR_EXEMPT) <= names, f"stale TWO_FACTOR_EXEMPT entries: {set(TWO_FACTOR_EXEMPT) - names}"
    assert names >= HTML_API_PAGES
    assert all(route.name for route in ROUTES), "every URL pattern has a name"


def _assert_each_method_redirects(client, url: str, methods, to_path: str, who: str) -> None:
    """Each method answers its allow-listed status, or a 302 to `to_path` that will bring the user back."""
    for method, expected in methods:
        response = _request(client, method, url)
        where = f"{who} {method} {url}"
        if expected is not None:
            assert response.status_code == expected, f"{where}: {response.status_code}, the allow-list says {expected}"
            continue
        assert response.status_code == 302, f"{where}: {response.status_code}, expected a redirect to {to_path}"
        location = urlsplit(response["Location"])
        assert location.path == to_path, f"{where} redirects to {response['Location']}"
        assert parse_qs(location.query).get("next") == [url], f"{where} redirects to {response['Location']}"


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=route_id)
def test_anonymous_page_redirects_to_login(route, world, client):
    url = route.url(ids_from(existing_ids(world)))
    _assert_each_method_redirects(client, url, _methods(route, PUBLIC), reverse("accounts:login"), "anonymous")


@pytest.mark.parametrize("route", API_ROUTES, ids=route_id)
def test_anonymous_api_is_refused_in_the_error_format(route, world):
    client = APIClient()
    url = route.url(ids_from(existing_ids(world)))
    if route.name in PUBLIC_API:
        _assert_public_api(client, url, route.name, "anonymous")
        return
    for method, expected in _methods(route, PUBLIC):
        assert expected is None, "no API URL is public but PUBLIC_API"
        where = f"anonymous {method} {url}"
        if route.name in HTML_API_PAGES:
            response = _request(client, method, url, HTTP_ACCEPT="text/html")
            assert response.status_code in (401, 403), f"{where}: {response.status_code}"
            continue
        response = _request(client, method, url, HTTP_ACCEPT="application/json")
        _assert_api_error(response, (401, 403), where)
        if response.status_code == 401:
            assert response["WWW-Authenticate"] == "Bearer", where


def _assert_public_api(client, url: str, name: str, who: str) -> None:
    for method, expected in PUBLIC_API[name].items():
        response = _request(client, method, url, HTTP_ACCEPT="application/json")
        assert response.status_code == expected, f"{who} {method} {url}: {response.status_code}, expected {expected}"
        if expected >= 400 and method != "HEAD":
            _assert_api_error(response, (expected,), f"{who} {method} {url}")


@pytest.mark.parametrize("path", PUBLIC_STATIC)
def test_static_files_are_public(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_public_pages_show_no_data(world, client):
    """The public pages say nothing about the tenants."""
    for route in ROUTES:
        if route.name not in PUBLIC:
            continue
        url = route.url()
        text = client.get(url).content.decode(errors="replace")  # the Excel file of the public dashboard is binary
        for secret in (world.project_a.reference, world.project_b.reference, world.charity_a.name_en, "najat"):
            assert secret not in text, f"{url} shows {secret}"


@pytest.fixture(params=["reviewer", "najat"])
def unverified(request, world, client):
    """A ministry or charity user who signed in with a password but has not confirmed a TOTP code."""
    user = getattr(world, request.param)
    assert user.requires_two_factor()
    client.force_login(user)
    return user


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=route_id)
def test_pages_wait_for_two_factor(route, world, client, unverified):
    url = route.url(ids_from(existing_ids(world)))
    allow = TWO_FACTOR_EXEMPT
    methods = _methods(route, allow) if route.name in allow else [("GET", None), ("POST", None)]
    who = f"{unverified.username} (no two-factor)"
    _assert_each_method_redirects(client, url, methods, reverse("accounts:two_factor"), who)


@pytest.mark.parametrize("route", API_ROUTES, ids=route_id)
def test_api_refuses_a_session_without_two_factor(route, world, unverified):
    client = APIClient()
    client.force_login(unverified)
    url = route.url(ids_from(existing_ids(world)))
    if route.name in PUBLIC_API:
        _assert_public_api(client, url, route.name, f"{unverified.username} (no two-factor)")
        return
    for method in ("GET", "POST", "PATCH"):
        where = f"{unverified.username} (no two-factor) {method} {url}"
        if route.name in HTML_API_PAGES:
            response = _request(client, method, url, HTTP_ACCEPT="text/html")
            assert response.status_code == 403, f"{where}: {response.status_code}"
            continue
        response = _request(client, method, url, HTTP_ACCEPT="application/json")
        _assert_api_error(response, (403,), where)
