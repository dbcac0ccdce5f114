"""/api/v1/projects/: create with nested locations, list with filters and pages, edit, and the
documented error format {"error": {"code", "message", "fields", "request_id"}}."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shafaf.accounts.choices import Role
from shafaf.accounts.models import Membership
from shafaf.audit.models import AuditEvent
from shafaf.projects.models import Project
from tests.factories import make_project, member

API = "/api/v1/projects/"


def payload(**overrides) -> dict:
    data = {
        "title_ar": "مدرسة ابتدائية في الفاشر",
        "title_en": "A primary school in El Fasher",
        "description_en": "Six classrooms.",
        "project_model": "construction_external",
        "sector": "11220",
        "country": "SD",
        "beneficiary_group": "students",
        "beneficiary_count": 480,
        "planned_start": "2027-02-01",
        "planned_end": "2027-11-30",
        "currency": "USD",
        "locations": [
            {
                "admin_area_ar": "شمال دارفور",
                "admin_area_en": "North Darfur",
                "latitude": "13.63",
                "longitude": "25.35",
            },
            {"admin_area_ar": "الفاشر", "admin_area_en": ""},
        ],
    }
    data.update(overrides)
    return data


def post(client, data):
    return client.post(API, data, content_type="application/json")


def patch(client, pk, data):
    return client.patch(f"{API}{pk}/", data, content_type="application/json")


def assert_error(response, status: int, code: str | None = None, fields: set | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields", "request_id"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["request_id"] and error["request_id"] == response["X-Request-ID"]
    if code is not None:
        assert error["code"] == code
    if fields is not None:
        assert fields <= set(error["fields"]), error["fields"]
        assert all(isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in error["fields"].values())
    return error


def references(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


# --- create ------------------------------------------------------------------------------------------------


def test_a_charity_admin_creates_a_project_with_its_locations(world, login):
    client = login(world.najat)
    response = post(client, payload())
    assert response.status_code == 201, response.content
    body = response.json()
    year = timezone.localdate().year
    assert body["reference"] == f"PRJ-{year}-000003"
    assert body["charity"] == world.charity_a.pk  # the only charity najat drafts for
    assert body["status"] == "draft"
    assert body["allowed_actions"] == ["edit", "submit", "cancel"]
    assert body["locations"] == [
        {
            "admin_area_ar": "شمال دارفور",
            "admin_area_en": "North Darfur",
            "latitude": "13.630000",
            "longitude": "25.350000",
        },
        {"admin_area_ar": "الفاشر", "admin_area_en": "", "latitude": None, "longitude": None},
    ]
    project = Project.objects.get(pk=body["id"])
    assert project.created_by == world.najat
    assert project.locations.count() == 2
    event = AuditEvent.objects.get(action="project.create", subject_id=str(project.pk))
    assert event.request_id == response["X-Request-ID"]
    assert client.get(f"{API}{project.pk}/").json() == body | {"updated_at": body["updated_at"]}


def test_a_member_of_two_charities_must_say_which(world, login):
    Membership.objects.create(user=world.staff_a, organization=world.charity_b, role=Role.CHARITY_STAFF)
    client = login(world.staff_a)
    assert_error(post(client, payload()), 400, "invalid", {"charity"})
    response = post(client, payload(charity=world.charity_b.pk))
    assert response.status_code == 201, response.content
    assert response.json()["charity"] == world.charity_b.pk


def test_nobody_creates_for_another_charity(world, login):
    assert_error(post(login(world.najat), payload(charity=world.charity_b.pk)), 403, "not_allowed")
    assert Project.objects.count() == 2


def test_non_charity_users_cannot_create(world, login):
    for persona in ("reviewer", "auditor", "donor", "partner"):
        assert_error(post(login(world.personas()[persona]), payload(charity=world.charity_a.pk)), 403)
    assert Project.objects.count() == 2


def test_missing_fields_come_back_in_the_error_format(world, login):
    response = post(login(world.najat), {"title_en": "Only a title"})
    error = assert_error(
        response,
        400,
        "validation_error",
        {
            "project_model",
            "sector",
            "country",
            "beneficiary_group",
            "beneficiary_count",
            "planned_start",
            "planned_end",
        },
    )
    assert "title_en" not in error["fields"]


BAD_INPUTS = [
    ({"title_ar": "", "title_en": ""}, "invalid", "title_ar"),
    ({"sector": "99999"}, "invalid", "sector"),
    ({"country": "XX"}, "invalid", "country"),
    ({"currency": "EEK"}, "invalid", "currency"),
    ({"planned_end": "2027-01-01"}, "invalid", "planned_end"),
    ({"project_model": "construction_internal"}, "invalid", "country"),
    ({"country": "KW"}, "invalid", "country"),
    ({"beneficiary_count": 0}, "validation_error", "beneficiary_count"),
    ({"planned_start": "not a date"}, "validation_error", "planned_start"),
    ({"project_model": "nonsense"}, "validation_error", "project_model"),
    (
        {"locations": [{"admin_area_en": "x", "latitude": "95", "longitude": "1"}]},
        "validation_error",
        "locations[0].latitude",
    ),
    ({"locations": [{"admin_area_en": "x", "latitude": "15"}]}, "invalid", "locations[0].longitude"),
    ({"locations": [{"admin_area_en": "", "admin_area_ar": ""}]}, "invalid", "locations[0].admin_area_ar"),
    ({"implementing_partner": 999999}, "validation_error", "implementing_partner"),
]


def test_each_bad_input_names_its_field(world, login):
    client = login(world.najat)
    for overrides, code, field in BAD_INPUTS:
        response = post(client, payload(**overrides))
        assert response.status_code == 400, (overrides, response.content)
        error = assert_error(response, 400, code, {field})
        assert error["fields"][field], overrides
    assert Project.objects.count() == 2
    assert AuditEvent.objects.count() == 2


def test_errors_are_translated_for_the_user(world, login):
    world.najat.language = "en"
    world.najat.save()
    error = assert_error(post(login(world.najat), payload(country="KW")), 400, "invalid", {"country"})
    assert error["fields"]["country"] == ["An external project is implemented outside Kuwait."]
    world.najat.language = "ar"
    world.najat.save()
    error = assert_error(post(login(world.najat), payload(country="KW")), 400, "invalid", {"country"})
    assert error["fields"]["country"] != ["An external project is implemented outside Kuwait."]


# --- list -----------------------------------------------------------------------------------------------------


@pytest.fixture
def many(world):
    """Charity A: project_a (SD, 14030) plus a school in Jordan and an internal project in Kuwait."""
    world.school = make_project(
        world.najat,
        world.charity_a,
        title_ar="مدرسة في إربد",
        title_en="A school in Irbid",
        project_model="social_development_external",
        country="JO",
        sector="11220",
    )
    world.local = make_project(
        world.staff_a,
        world.charity_a,
        title_ar="سلال غذائية",
        title_en="Food baskets",
        project_model="social_development_internal",
        country="KW",
        sector="72040",
    )
    return world


def test_a_charity_lists_its_own_projects_newest_first(many, login):
    assert references(login(many.najat).get(API)) == [
        many.local.reference,
        many.school.reference,
        many.project_a.reference,
    ]
    assert references(login(many.rahma).get(API)) == [many.project_b.reference]


def test_the_ministry_lists_every_charitys_projects(many, login):
    assert len(references(login(many.reviewer).get(API))) == 4


def test_donors_and_partners_see_no_drafts(many, login):
    for persona in ("donor", "partner"):
        response = login(many.personas()[persona]).get(API)
        assert references(response) == []
        assert response.json()["count"] == 0


FILTERS = [
    ({"status": "draft"}, ["local", "school", "project_a"]),
    ({"country": "SD"}, ["project_a"]),
    ({"country": "jo"}, ["school"]),
    ({"sector": "11220"}, ["school"]),
    ({"sector": "140"}, ["project_a"]),  # a DAC category: every code under it
    ({"q": "Irbid"}, ["school"]),
    ({"q": "سلال"}, ["local"]),
    ({"q": "well"}, ["project_a"]),
    ({"country": "SD", "sector": "11220"}, []),
    ({"project_model": "social_development_internal"}, ["local"]),
    ({"beneficiary_group": "families"}, ["local", "school", "project_a"]),
]


def test_the_list_filters(many, login):
    client = login(many.najat)
    for query, expected in FILTERS:
        wanted = [getattr(many, name).reference for name in expected]
        assert references(client.get(API, query)) == wanted, query


def test_the_list_finds_a_project_by_its_reference(many, login):
    assert references(login(many.reviewer).get(API, {"q": many.project_b.reference})) == [many.project_b.reference]


def test_a_bad_filter_value_is_an_error_in_the_format(many, login):
    assert_error(login(many.najat).get(API, {"status": "nonsense"}), 400, "validation_error", {"status"})


def test_the_list_pages(many, login):
    client = login(many.najat)
    first = client.get(API, {"page_size": 2})
    body = first.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] and body["previous"] is None
    second = client.get(body["next"])
    assert references(second) == [many.project_a.reference]
    assert second.json()["next"] is None
    assert_error(client.get(API, {"page": 9}), 404, "not_found")


def test_the_list_costs_a_fixed_number_of_queries(many, login, django_assert_max_num_queries):
    client = login(many.reviewer)
    for _ in range(10):
        make_project(many.rahma, many.charity_b)
    with django_assert_max_num_queries(10):
        assert len(references(client.get(API))) == 14


def test_allowed_actions_says_who_may_edit(many, login):
    # The workflow's actions are tested in test_workflow.py; a draft: its admin may also cancel it.
    assert login(many.najat).get(f"{API}{many.project_a.pk}/").json()["allowed_actions"] == ["edit", "submit", "cancel"]
    assert login(many.staff_a).get(f"{API}{many.project_a.pk}/").json()["allowed_actions"] == ["edit", "submit"]
    assert login(many.reviewer).get(f"{API}{many.project_a.pk}/").json()["allowed_actions"] == []
    assert all(row["allowed_actions"] == [] for row in login(many.auditor).get(API).json()["results"])
    finance = member(Role.CHARITY_FINANCE, many.charity_a, "finance_a")
    assert login(finance).get(f"{API}{many.project_a.pk}/").json()["allowed_actions"] == []


# --- another charity's project does not exist ---------------------------------------------------------------


def test_another_charitys_project_is_404(world, login):
    client = login(world.najat)
    assert_error(client.get(f"{API}{world.project_b.pk}/"), 404, "not_found")
    assert_error(patch(client, world.project_b.pk, {"title_en": "Taken"}), 404, "not_found")
    assert_error(client.get(f"{API}999999/"), 404, "not_found")
    world.project_b.refresh_from_db()
    assert world.project_b.title_en == "Orphan sponsorship in Amman"


# --- edit --------------------------------------------------------------------------------------------------------


def test_patch_edits_a_draft_and_records_only_what_changed(world, login):
    client = login(world.staff_a)
    seq = AuditEvent.objects.order_by("-seq").first().seq
    response = patch(client, world.project_a.pk, {"title_en": "A deeper well", "beneficiary_count": 500})
    assert response.status_code == 200, response.content
    assert response.json()["title_en"] == "A deeper well"
    event = AuditEvent.objects.get(seq=seq + 1)
    assert event.changes == {"title_en": ["Drilling an artesian well in Al-Noor village", "A deeper well"]}
    assert event.actor_id == world.staff_a.pk
    assert not AuditEvent.objects.filter(seq__gt=seq + 1).exists()


def test_patch_replaces_the_locations(world, login):
    client = login(world.najat)
    response = patch(
        client,
        world.project_a.pk,
        {"locations": [{"admin_area_en": "Kassala", "latitude": "15.45", "longitude": "36.4"}]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["locations"] == [
        {"admin_area_ar": "", "admin_area_en": "Kassala", "latitude": "15.450000", "longitude": "36.400000"}
    ]
    seq = AuditEvent.objects.order_by("-seq").first().seq
    # Sending the same again is no change.
    assert patch(client, world.project_a.pk, {"locations": response.json()["locations"]}).status_code == 200
    assert AuditEvent.objects.order_by("-seq").first().seq == seq


def test_patch_refuses_bad_input_and_keeps_the_project(world, login):
    client = login(world.najat)
    assert_error(patch(client, world.project_a.pk, {"planned_end": "2026-01-01"}), 400, "invalid", {"planned_end"})
    assert_error(patch(client, world.project_a.pk, {"charity": world.charity_b.pk}), 400, "invalid", {"charity"})
    for read_only in ({"reference": "PRJ-1999-000001"}, {"status": "approved"}):
        assert patch(client, world.project_a.pk, read_only).status_code == 200
    world.project_a.refresh_from_db()
    assert world.project_a.planned_end.isoformat() == "2027-12-31"
    assert world.project_a.charity == world.charity_a
    assert world.project_a.reference.startswith("PRJ-")
    assert world.project_a.status == "draft"


def test_those_who_see_but_may_not_edit_get_403(world, login):
    for persona in ("reviewer", "ministry_admin", "auditor"):
        response = patch(login(world.personas()[persona]), world.project_a.pk, {"title_en": "x"})
        assert_error(response, 403, "not_allowed")
    world.project_a.refresh_from_db()
    assert world.project_a.title_en == "Drilling an artesian well in Al-Noor village"


def test_a_submitted_project_cannot_be_edited(world, login):
    Project.objects.filter(pk=world.project_a.pk).update(status="submitted")
    assert_error(patch(login(world.najat), world.project_a.pk, {"title_en": "x"}), 403, "not_allowed")


def test_projects_cannot_be_deleted_through_the_api(world, login):
    response = login(world.najat).delete(f"{API}{world.project_a.pk}/")
    assert_error(response, 405)
    assert Project.objects.filter(pk=world.project_a.pk).exists()


def test_anonymous_callers_get_401_in_the_format(world, client):
    assert_error(client.get(API), 401, "not_authenticated")
    assert_error(post(client, payload()), 401, "not_authenticated")
