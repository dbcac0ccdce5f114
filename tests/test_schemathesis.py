"""The OpenAPI schema, fuzzed with two users of different charities (DESIGN.md §6).

Schemathesis reads the schema the API serves (/api/schema/; generated in process when the module is
collected, and test_the_fuzzed_schema_is_the_served_one checks it is the same) and generates requests for
every operation, valid and invalid. Each request is sent in process, through Django's WSGI application, as
najat (admin of charity A) and as rahma (admin of charity B), each with a personal API token; operations
that take an id are also sent with the ids of both charities' objects. Every response must:

- not be a server error;
- be documented: its status code, content type, headers and body conform to the schema;
- hold nothing of the other charity: no project, audit event or private text of the other tenant.

Deterministic and bounded: MAX_EXAMPLES generated cases per operation (valid and invalid), a fixed seed, no
example database; schemathesis' exhaustive coverage phase on demand (COVERAGE_PHASE). Each operation is one
test with its own transaction and personas; within it, what one example writes (projects made by POST,
renamed organisations) stays for the next examples. The isolation checks hold whatever the fuzzer wrote,
as they compare against each tenant's own charity and texts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.config import SchemathesisConfig

from shafaf.accounts import services as account_services
from shafaf.accounts.models import Membership
from shafaf.audit.models import AuditEvent
from shafaf.projects.models import Project
from tests.factories import World, make_project

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

MAX_EXAMPLES = 20
# Schemathesis' coverage phase adds every boundary and type-mutation case the schema allows (about 2,600
# more requests, a minute and a half); it passes, and runs when SHAFAF_FUZZ_COVERAGE=1. By default only the
# bounded, seeded fuzzing phase runs.
COVERAGE_PHASE = os.environ.get("SHAFAF_FUZZ_COVERAGE") == "1"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20260101,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": COVERAGE_PHASE}},
    }
)
# Which of the tenants' objects an operation's id parameter is also tried with, by path.
ID_VARIANTS = {
    "/api/v1/projects/{id}/": ("project_a", "project_b"),
    "/api/v1/organizations/{id}/": ("charity_a", "charity_b", "donor_org"),
    "/api/v1/audit-events/{seq}/": ("event_a", "event_b"),
}


@dataclass
class Tenant:
    """One side of the fuzzing: a charity admin, the token it sends, and what the other side must never see."""

    username: str
    charity_id: int
    token: str
    private_texts: list[str] = field(default_factory=list)  # references and texts only this charity may read
    usernames: set[str] = field(default_factory=set)  # its members (they appear in its audit trail)


@dataclass
class Tenants:
    najat: Tenant
    rahma: Tenant
    ids: dict[str, int]

    def other(self, tenant: Tenant) -> Tenant:
        return self.rahma if tenant is self.najat else self.najat


def _private_project(actor, charity, title: str) -> Project:
    return make_project(actor, charity, title_en=title, description_en=f"{title}: internal notes.")


@pytest.fixture
def tenants(db) -> Tenants:
    world = World()
    # A second private project each, with a text no fuzzer will produce by chance.
    secret_a = _private_project(world.najat, world.charity_a, "Noor internal plan 7Q3")
    secret_b = _private_project(world.rahma, world.charity_b, "Rahma internal plan 9K5")
    _token_a, key_a = account_services.api_token_create(actor=world.najat, user=world.najat, name="fuzz")
    _token_b, key_b = account_services.api_token_create(actor=world.rahma, user=world.rahma, name="fuzz")

    def texts(*projects: Project) -> set[str]:
        return {text for p in projects for text in (p.reference, p.title_ar, p.title_en, p.description_en)}

    # Texts both charities happen to share (the factories' default project) are no one's secret.
    texts_a, texts_b = texts(world.project_a, secret_a), texts(world.project_b, secret_b)
    texts_a, texts_b = sorted(texts_a - texts_b), sorted(texts_b - texts_a)

    def members(charity) -> set[str]:
        return set(Membership.objects.filter(organization=charity).values_list("user__username", flat=True))

    def first_event(project: Project) -> int:
        return AuditEvent.objects.get(subject_type="projects.project", subject_id=str(project.pk)).seq

    return Tenants(
        najat=Tenant("najat", world.charity_a.pk, key_a, texts_a, members(world.charity_a)),
        rahma=Tenant("rahma", world.charity_b.pk, key_b, texts_b, members(world.charity_b)),
        ids={
            "project_a": world.project_a.pk,
            "project_b": world.project_b.pk,
            "charity_a": world.charity_a.pk,
            "charity_b": world.charity_b.pk,
            "donor_org": world.donor_org.pk,
            "event_a": first_event(world.project_a),
            "event_b": first_event(world.project_b),
        },
    )


def served_schema() -> dict:
    """The schema /api/schema/ serves: the same generator, settings and hooks, rendered to JSON."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


# Loaded when the module is collected (Django is set up by then; no database needed). The test
# test_the_fuzzed_schema_is_the_served_one checks it against what /api/schema/ answers.
schema = schemathesis.openapi.from_dict(served_schema(), config=CONFIG)
APP = WSGIHandler()


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Django closes "old" database connections when a request starts and ends; in a test transaction that
    would abort the test, so (as Django's own test client does) that handler is off while the fuzzer runs."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_fuzzed_schema_is_the_served_one(tenants):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenants.najat.token}")
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert json.loads(response.content) == served_schema()
    assert set(schema.raw_schema["paths"]) == set(served_schema()["paths"])


def _walk(value):
    """Every dict in a JSON document."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def assert_nothing_of_the_other_tenant(response, tenant: Tenant, tenants: Tenants, request_label: str) -> None:
    other = tenants.other(tenant)
    text = response.text
    try:
        document = json.loads(text) if text else None
    except ValueError:
        document = None
    if document is not None:
        # Normalise escapes (\u0627…) so Arabic text is compared as text.
        text = json.dumps(document, ensure_ascii=False)
    where = f"{tenant.username}: {request_label} -> {response.status_code}"
    for secret in other.private_texts:
        assert secret not in text, f"{where} shows {other.username}'s {secret!r}"
    for username in other.usernames:
        assert f'"{username}"' not in text, f"{where} names {username}, a member of {other.username}'s charity"
    for item in _walk(document):
        if isinstance(item.get("reference"), str) and isinstance(item.get("charity"), int):  # a project
            assert item["charity"] == tenant.charity_id, f"{where} shows another charity's project {item}"
        if isinstance(item.get("seq"), int) and isinstance(item.get("hash"), str):  # an audit event
            assert item.get("organization") in (tenant.charity_id, None), f"{where} shows {item}"
            assert item.get("actor_username") not in other.usernames, f"{where} shows {item}"


def _variants(case, tenants: Tenants) -> list[dict | None]:
    """The generated path parameters, then the same request on each tenant's objects (valid cases only)."""
    names = ID_VARIANTS.get(case.operation.path)
    if not names or not case.path_parameters or (case.meta is not None and case.meta.generation.mode.is_negative):
        return [None]
    (parameter,) = case.path_parameters
    return [None, *({parameter: tenants.ids[name]} for name in names)]


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_api(case, tenants):
    generated = dict(case.path_parameters or {})
    for path_parameters in _variants(case, tenants):
        case.path_parameters = {**generated, **(path_parameters or {})}
        for tenant in (tenants.najat, tenants.rahma):
            response = case.call(app=APP, headers={"Authorization": f"Bearer {tenant.token}"})
            label = f"{case.method} {case.formatted_path}"
            case.validate_response(response, checks=[getattr(schemathesis.checks, name) for name in CHECKS])
            assert_nothing_of_the_other_tenant(response, tenant, tenants, label)
    case.path_parameters = generated
