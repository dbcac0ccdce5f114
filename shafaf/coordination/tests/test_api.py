"""/api/v1/coordination/: flags (list, detail, decide), a project's check (GET latest, POST run) and the settings."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from shafaf.coordination.choices import FlagStatus
from shafaf.coordination.models import Flag, OverlapCheck
from shafaf.coordination.tests.app_helpers import well_pair
from shafaf.projects.choices import ProjectStatus
from tests.factories import budget, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(world):
    a, b = well_pair(world)
    return a, b, Flag.objects.get(project_a=a, project_b=b)


@pytest.fixture
def api(world):
    def _as(name):
        client = APIClient()
        verified_login(client, world.personas()[name])
        return client

    return _as


def _ids(response) -> set[int]:
    return {item["id"] for item in response.json()["results"]}


def test_flag_list_is_filtered_to_what_each_user_may_see(world, pair, api):
    _a, _b, flag = pair
    for name, expected in (
        ("reviewer", {flag.pk}),
        ("auditor", {flag.pk}),
        ("najat", {flag.pk}),
        ("staff_b", {flag.pk}),
        ("donor", set()),
        ("partner", set()),
        ("accreditation_officer", set()),
    ):
        response = api(name).get("/api/v1/coordination/flags/")
        assert response.status_code == 200, name
        assert _ids(response) == expected, name
    filtered = api("reviewer").get("/api/v1/coordination/flags/", {"status": "decided"})
    assert _ids(filtered) == set()
    assert api("reviewer").get("/api/v1/coordination/flags/", {"level": "nope"}).status_code == 400
    assert api("reviewer").get("/api/v1/coordination/flags/", {"ordering": "a"}).status_code == 200


def test_a_charity_reads_of_the_other_project_only_public_fields(world, pair, api):
    a, _b, flag = pair
    budget(world, a)
    detail = api("rahma").get(f"/api/v1/coordination/flags/{flag.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    other = body["a"] if body["a"]["id"] == a.pk else body["b"]
    own = body["b"] if other is body["a"] else body["a"]
    assert other["full"] is False and own["full"] is True
    assert {key for key, value in other.items() if value is not None} == {
        "id",
        "reference",
        "title_ar",
        "title_en",
        "country",
        "country_label",
        "sector",
        "sector_label",
        "status",
        "status_label",
        "charity",
        "full",
    }
    text = json.dumps(body, ensure_ascii=False)
    assert a.description_ar not in text and "10500.000" not in text and "najat" not in text
    ministry = api("reviewer").get(f"/api/v1/coordination/flags/{flag.pk}/").json()
    assert ministry["a"]["budget"]["total"] == "10500.000"
    assert ministry["can_decide"] is True and body["can_decide"] is False
    assert api("donor").get(f"/api/v1/coordination/flags/{flag.pk}/").status_code == 404


def test_decide_by_api(world, pair, api):
    _a, b, flag = pair
    url = f"/api/v1/coordination/flags/{flag.pk}/decide/"
    assert api("najat").post(url, {"decision": "distinct", "reason": "x"}, format="json").status_code == 403
    assert api("auditor").post(url, {"decision": "distinct", "reason": "x"}, format="json").status_code == 403
    assert api("donor").post(url, {"decision": "distinct", "reason": "x"}, format="json").status_code == 404
    reviewer = api("reviewer")
    missing = reviewer.post(url, {"decision": "distinct"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"]
    shares = reviewer.post(
        url, {"decision": "joint", "share_a_bp": 6000, "share_b_bp": 3000, "joint_total": "100"}, format="json"
    )
    assert shares.status_code == 400 and "share_b_bp" in shares.json()["error"]["fields"]
    amount = reviewer.post(
        url, {"decision": "joint", "share_a_bp": 6000, "share_b_bp": 4000, "joint_total": "1.0001"}, format="json"
    )
    assert amount.status_code == 400 and "joint_total" in amount.json()["error"]["fields"]
    done = reviewer.post(url, {"decision": "duplicate", "duplicate_project": b.pk, "reason": "Same."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["decision"], done.json()["duplicate_project"]) == (
        FlagStatus.DECIDED,
        "duplicate",
        b.pk,
    )
    b.refresh_from_db()
    assert b.status == ProjectStatus.REJECTED
    assert reviewer.post(url, {"decision": "distinct", "reason": "x"}, format="json").status_code == 409


def test_project_check_get_and_run(world, pair, api):
    a, b, flag = pair
    url = f"/api/v1/coordination/projects/{b.pk}/check/"
    latest = api("rahma").get(url)
    assert latest.status_code == 200
    body = latest.json()
    assert [row["flag"] for row in body["overlaps"]] == [flag.pk]
    row = body["overlaps"][0]
    assert row["reference"] == a.reference and row["reasons"] and row["level"] in ("likely", "possible")
    assert isinstance(row["charity_name"], str) and "charity" not in row
    for name, status in (("najat", 404), ("donor", 404), ("partner", 404), ("auditor", 200), ("reviewer", 200)):
        assert api(name).get(url).status_code == status, name
    before = OverlapCheck.objects.filter(project=b).count()
    assert api("auditor").post(url).status_code == 403
    assert api("najat").post(url).status_code == 404
    ran = api("staff_b").post(url)
    assert ran.status_code == 200 and ran.json()["trigger"] == "manual"
    assert OverlapCheck.objects.filter(project=b).count() == before + 1


def test_settings_by_api(world, api):
    url = "/api/v1/coordination/settings/"
    for name, status in (("reviewer", 200), ("auditor", 200), ("najat", 403), ("donor", 403)):
        assert api(name).get(url).status_code == status, name
    body = api("reviewer").get(url).json()
    assert body["model_versions"] and body["model_versions"][0]["is_active"]
    assert api("reviewer").patch(url, {"likely_threshold": "15"}, format="json").status_code == 403
    bad = api("ministry_admin").patch(url, {"likely_threshold": "3", "possible_threshold": "5"}, format="json")
    assert bad.status_code == 400 and "possible_threshold" in bad.json()["error"]["fields"]
    good = api("ministry_admin").patch(url, {"likely_threshold": "15.5"}, format="json")
    assert good.status_code == 200 and good.json()["likely_threshold"] == "15.50"
