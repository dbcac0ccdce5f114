"""The coordination pages: the queue, a flag side by side with the ministry's decision form, a project's panel with
"run the check again", the settings and the scans; each persona gets 200, 403 or 404 as DESIGN.md says (404 for
what it may not see, 403 for what it may see but not do)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from shafaf.audit.models import AuditEvent
from shafaf.coordination import selectors, services
from shafaf.coordination.choices import Decision, FlagStatus
from shafaf.coordination.models import CoordinationSettings, Flag, OverlapCheck, ScanRun
from shafaf.coordination.tests.app_helpers import ORPHANS, new_project, submit, well_pair
from shafaf.projects.choices import ProjectStatus
from tests.factories import budget

pytestmark = pytest.mark.django_db

PERSONAS = ("reviewer", "ministry_admin", "najat", "staff_a", "rahma", "staff_b", "donor", "auditor", "partner")


@pytest.fixture
def pair(world):
    """Charity A's well project and charity B's resubmission of it, both submitted: one open flag."""
    a, b = well_pair(world)
    flag = Flag.objects.get(project_a=a, project_b=b)
    assert flag.status == FlagStatus.OPEN and not flag.internal
    return a, b, flag


@pytest.fixture
def as_user(client, world):
    from tests.factories import verified_login

    def _as(name):
        client.logout()
        verified_login(client, world.personas()[name])
        return client

    return _as


def _other_charity_project(world):
    """A project of a third charity's that only the ministry sees (and none of the personas' charities)."""
    from tests.factories import OrganizationFactory, make_project

    charity = OrganizationFactory(slug="charity-c", name_ar="جمعية ثالثة", name_en="Third Charity")
    from tests.factories import member

    admin = member("charity_admin", charity, "third_admin")
    return make_project(admin, charity, **ORPHANS)


def _joint(share_a: str, share_b: str, total: str) -> dict:
    return {
        "decide-decision": "joint",
        "decide-share_a": share_a,
        "decide-share_b": share_b,
        "decide-joint_total": total,
    }


def _settings_form(likely: str, possible: str, days: str, candidates: str) -> dict:
    return {
        "likely_threshold": likely,
        "possible_threshold": possible,
        "completed_within_days": days,
        "max_candidates": candidates,
    }


# --- who gets what ---------------------------------------------------------------------------------------------

EXPECTED = {
    # url name: statuses for PERSONAS (reviewer, admin, najat, staff_a, rahma, staff_b, donor, auditor, partner)
    "queue": (200, 200, 200, 200, 200, 200, 403, 200, 403),
    "flag": (200, 200, 200, 200, 200, 200, 404, 200, 404),
    "panel_a": (200, 200, 200, 200, 404, 404, 404, 200, 404),
    "settings": (200, 200, 403, 403, 403, 403, 403, 200, 403),
    "scans": (200, 200, 403, 403, 403, 403, 403, 200, 403),
}


@pytest.mark.parametrize(("page", "statuses"), EXPECTED.items())
def test_each_persona_gets_what_design_says(page, statuses, world, pair, as_user):
    a, _b, flag = pair
    url = {
        "queue": reverse("coordination:queue"),
        "flag": reverse("coordination:flag_detail", args=[flag.pk]),
        "panel_a": reverse("coordination:project_panel", args=[a.pk]),
        "settings": reverse("coordination:settings"),
        "scans": reverse("coordination:scan_list"),
    }[page]
    got = {name: as_user(name).get(url).status_code for name in PERSONAS}
    assert got == dict(zip(PERSONAS, statuses, strict=True))


def test_a_flag_between_other_charities_is_not_found_for_a_charity(world, as_user):
    third = _other_charity_project(world)
    submit(world.najat, new_project(world.najat, world.charity_a))
    flag = Flag.objects.create(
        project_a=min(third, world.project_b, key=lambda p: p.pk),
        project_b=max(third, world.project_b, key=lambda p: p.pk),
        level="possible",
        score=7.0,
        model_version=selectors.active_model(),
        found_by="scan",
    )
    url = reverse("coordination:flag_detail", args=[flag.pk])
    assert as_user("najat").get(url).status_code == 404
    assert as_user("rahma").get(url).status_code == 200
    assert as_user("reviewer").get(url).status_code == 200


def test_writes_refused_by_role(world, pair, as_user):
    a, _b, flag = pair
    decide = reverse("coordination:flag_decide", args=[flag.pk])
    body = {"decide-decision": "distinct", "decide-reason": "Different villages."}
    for name, status in (("najat", 403), ("rahma", 403), ("auditor", 403), ("donor", 404), ("partner", 404)):
        assert as_user(name).post(decide, body).status_code == status, name
    run_a = reverse("coordination:project_check_run", args=[a.pk])
    for name, status in (("rahma", 404), ("auditor", 403), ("donor", 404), ("partner", 404)):
        assert as_user(name).post(run_a).status_code == status, name
    settings_url = reverse("coordination:settings")
    form = {
        "likely_threshold": "13",
        "possible_threshold": "6",
        "completed_within_days": "365",
        "max_candidates": "200",
    }
    for name, status in (("reviewer", 403), ("auditor", 403), ("najat", 403)):
        assert as_user(name).post(settings_url, form).status_code == status, name
    for name, status in (("najat", 403), ("auditor", 403)):
        assert as_user(name).post(reverse("coordination:scan_start")).status_code == status, name
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    assert CoordinationSettings.objects.get(pk=1).likely_threshold != 13
    assert not ScanRun.objects.exists()
    for name in ("get", "put", "delete"):
        assert getattr(as_user("reviewer"), name)(decide).status_code == 405


# --- the queue -------------------------------------------------------------------------------------------------


def test_queue_lists_open_flags_first_with_counts_and_filters(world, pair, as_user):
    _a, _b, flag = pair
    other = _other_charity_project(world)
    decided = Flag.objects.create(
        project_a=world.project_a,
        project_b=other,
        level="likely",
        score=30.0,
        model_version=selectors.active_model(),
        found_by="scan",
        status=FlagStatus.DECIDED,
        decision=Decision.DISTINCT,
        decision_reason="x",
        decided_at=flag.first_found_at,
    )
    client = as_user("reviewer")
    page = client.get(reverse("coordination:queue")).content.decode()
    assert page.index(f'data-flag="{flag.pk}"') < page.index(f'data-flag="{decided.pk}"')
    assert 'data-testid="count-open">1<' in page and 'data-testid="count-decided">1<' in page
    only_decided = client.get(reverse("coordination:queue"), {"status": "decided"}).content.decode()
    assert f'data-flag="{decided.pk}"' in only_decided and f'data-flag="{flag.pk}"' not in only_decided
    by_country = client.get(reverse("coordination:queue"), {"country": "JO"}).content.decode()
    assert f'data-flag="{decided.pk}"' in by_country and f'data-flag="{flag.pk}"' not in by_country
    by_charity = client.get(reverse("coordination:queue"), {"charity": world.charity_b.pk}).content.decode()
    assert f'data-flag="{flag.pk}"' in by_charity and f'data-flag="{decided.pk}"' not in by_charity
    bad = client.get(reverse("coordination:queue"), {"level": "certain", "charity": "x"})
    assert bad.status_code == 400
    partial = client.get(reverse("coordination:queue"), {"level": "likely"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content
    # A charity's queue holds the flags of its own projects only.
    rahma_page = as_user("rahma").get(reverse("coordination:queue")).content.decode()
    assert f'data-flag="{flag.pk}"' in rahma_page and f'data-flag="{decided.pk}"' not in rahma_page


# --- one flag --------------------------------------------------------------------------------------------------


def test_the_ministry_sees_both_projects_side_by_side_with_reasons(world, pair, as_user):
    a, b, flag = pair
    with translation.override("en"):
        page = as_user("reviewer").get(reverse("coordination:flag_detail", args=[flag.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert a.reference in text and b.reference in text
    assert 'data-testid="decide-form"' in text
    assert f"v{flag.model_version.number}" in text
    assert text.count('data-testid="reason"') == len(flag.reasons) > 0
    assert page.context["a"]["full"] and page.context["b"]["full"]
    assert "Hope Organisation" in text or "منظمة الأمل" in text  # the partner, shown to the ministry


def test_a_charity_sees_of_the_other_project_only_what_flag_view_gives(world, pair, as_user):
    a, _b, flag = pair
    budget(world, a)  # charity A's budget: confidential to charity B
    text = as_user("rahma").get(reverse("coordination:flag_detail", args=[flag.pk])).content.decode()
    assert a.reference in text and a.title_ar in text
    assert 'data-testid="decide-form"' not in text
    assert "10,500.000" not in text  # A's budget
    assert "Drilling the well" not in text and a.description_ar not in text
    assert text.count('data-field="budget"') == 1
    assert "najat" not in text  # charity A's member who submitted


def test_decision_form_errors_are_shown_on_their_fields(world, pair, as_user):
    _a, _b, flag = pair
    url = reverse("coordination:flag_decide", args=[flag.pk])
    client = as_user("reviewer")
    cases = [
        ({"decide-decision": "distinct"}, "reason"),
        ({"decide-decision": "duplicate", "decide-reason": "Same wells."}, "duplicate_project"),
        (_joint("60", "30", "1000"), "share_b"),
        (_joint("sixty", "40", "1000"), "share_a"),
        (_joint("60.001", "40", "1"), "share_a"),
        (_joint("60", "40", "1.0001"), "joint_total"),
        (_joint("60", "40", "-5"), "joint_total"),
        (_joint("60", "40", ""), "joint_total"),
        ({"decide-decision": "maybe"}, "decision"),
    ]
    for body, field in cases:
        response = client.post(url, body)
        assert response.status_code == 400, body
        assert f'data-field-error="{field}"' in response.content.decode(), body
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN


def test_a_joint_decision_refused_by_the_service_shows_its_reason_on_the_total(world, pair, as_user):
    a, b, flag = pair
    budget(world, a)
    budget(world, b)  # 10,500.000 KWD each
    body = {"decide-decision": "joint", "decide-share_a": "50", "decide-share_b": "50", "decide-joint_total": "1000"}
    response = as_user("reviewer").post(reverse("coordination:flag_decide", args=[flag.pk]), body)
    assert response.status_code == 400
    assert 'data-field-error="joint_total"' in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    body["decide-joint_total"] = "21000"
    response = as_user("reviewer").post(reverse("coordination:flag_decide", args=[flag.pk]), body)
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.decision, flag.share_a_bp, flag.share_b_bp, flag.joint_total) == ("joint", 5000, 5000, 21_000_000)
    text = as_user("najat").get(reverse("coordination:flag_detail", args=[flag.pk])).content.decode()
    assert 'data-decision="joint"' in text and "21,000.000" in text


def test_distinct_decision_by_htmx_redirects_and_is_audited(world, pair, as_user):
    _a, _b, flag = pair
    url = reverse("coordination:flag_decide", args=[flag.pk])
    client = as_user("reviewer")
    invalid = client.post(url, {"decide-decision": "distinct"}, HTTP_HX_REQUEST="true")
    assert invalid.status_code == 200 and invalid["X-Shafaf-Status"] == "400"
    assert b'data-field-error="reason"' in invalid.content and b"<html" not in invalid.content
    done = client.post(url, {"decide-decision": "distinct", "decide-reason": "Two villages."}, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Redirect"] == reverse("coordination:flag_detail", args=[flag.pk])
    flag.refresh_from_db()
    assert (flag.status, flag.decision, flag.decided_by) == (FlagStatus.DECIDED, "distinct", world.reviewer)
    assert AuditEvent.objects.filter(action="coordination.flag_decide", subject_id=str(flag.pk)).exists()
    again = client.post(url, {"decide-decision": "distinct", "decide-reason": "Again."})
    assert again.status_code == 409
    page = as_user("staff_b").get(reverse("coordination:flag_detail", args=[flag.pk])).content.decode()
    assert "Two villages." in page and 'data-action="coordination.flag_decide"' in page
    assert page.count('data-action="coordination.flag_decide"') == 1  # one event per charity, shown once
    assert "reviewer" in page  # the ministry's reviewer is named


def test_duplicate_decision_rejects_the_duplicate(world, pair, as_user):
    _a, b, flag = pair
    body = {"decide-decision": "duplicate", "decide-duplicate_project": str(b.pk), "decide-reason": "Same wells."}
    response = as_user("ministry_admin").post(reverse("coordination:flag_decide", args=[flag.pk]), body)
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.status == ProjectStatus.REJECTED
    flag.refresh_from_db()
    assert flag.duplicate_project_id == b.pk


# --- the project's panel ---------------------------------------------------------------------------------------


def test_the_project_page_shows_the_latest_check_with_reasons(world, pair, as_user):
    a, b, flag = pair
    with translation.override("en"):
        text = as_user("rahma").get(reverse("projects:project_detail", args=[b.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = text.content.decode()
    assert 'data-testid="coordination-panel"' in text
    assert f'data-flag="{flag.pk}"' in text and 'data-testid="coordination-blocking"' in text
    assert reverse("coordination:flag_detail", args=[flag.pk]) in text
    assert 'data-testid="run-coordination"' in text
    # The partner's reporter sees project A (not a draft) but not its coordination.
    partner_page = as_user("partner").get(reverse("projects:project_detail", args=[a.pk]))
    assert partner_page.status_code == 200 and b'data-testid="coordination-panel"' not in partner_page.content


def test_internal_duplicates_are_listed_apart(world, as_user):
    first = submit(world.najat, new_project(world.najat, world.charity_a))
    second = submit(world.najat, new_project(world.najat, world.charity_a))
    check = OverlapCheck.objects.filter(project=second).first()
    assert check.internal >= 1
    text = as_user("najat").get(reverse("projects:project_detail", args=[second.pk])).content.decode()
    internal = text.split('data-testid="coordination-internal"', 1)[1]
    assert f'data-project="{first.pk}"' in internal
    flag = Flag.objects.get(project_a=first, project_b=second)
    assert flag.internal
    url = reverse("coordination:flag_detail", args=[flag.pk])
    page = as_user("staff_a").get(url)
    assert page.status_code == 200 and b'data-testid="decide-form"' not in page.content
    assert page.context["a"]["full"] and page.context["b"]["full"]  # both projects are its own
    assert as_user("rahma").get(url).status_code == 404
    assert as_user("reviewer").get(url).status_code == 200


def test_run_the_check_again(world, pair, as_user):
    a, _b, _flag = pair
    before = OverlapCheck.objects.filter(project=a).count()
    url = reverse("coordination:project_check_run", args=[a.pk])
    response = as_user("najat").post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'data-testid="coordination-panel"' in response.content
    response = as_user("reviewer").post(url)
    assert response.status_code == 302 and response["Location"].endswith("#coordination")
    checks = OverlapCheck.objects.filter(project=a)
    assert checks.count() == before + 2
    assert checks.first().trigger == "manual"


# --- settings and scans ----------------------------------------------------------------------------------------


def test_the_ministry_admin_changes_the_thresholds(world, as_user):
    url = reverse("coordination:settings")
    client = as_user("ministry_admin")
    page = client.get(url).content.decode()
    assert 'data-testid="settings-form"' in page and 'data-testid="model-version"' in page
    bad = client.post(
        url, {"likely_threshold": "5", "possible_threshold": "8", "completed_within_days": "-1", "max_candidates": "0"}
    )
    assert bad.status_code == 400
    for field in ("possible_threshold", "completed_within_days", "max_candidates"):
        assert f'data-field-error="{field}"' in bad.content.decode()
    good = client.post(
        url,
        {"likely_threshold": "14.5", "possible_threshold": "7", "completed_within_days": "90", "max_candidates": "150"},
    )
    assert good.status_code == 302
    row = selectors.current_settings()
    assert (float(row.likely_threshold), row.completed_within_days, row.updated_by) == (14.5, 90, world.ministry_admin)
    reader = as_user("reviewer").get(url).content.decode()
    assert 'data-testid="settings-values"' in reader and 'data-testid="settings-form"' not in reader


def test_scans_page_starts_a_scan_and_polls_while_it_runs(world, as_user):
    # The scan's task is enqueued on commit, which the test's transaction never reaches: the run stays queued.
    client = as_user("reviewer")
    response = client.post(reverse("coordination:scan_start"))
    assert response.status_code == 302
    run = ScanRun.objects.get()
    page = client.get(reverse("coordination:scan_list")).content.decode()
    assert f'data-scan="{run.pk}"' in page
    assert run.status == ScanRun.Status.RUNNING
    assert reverse("coordination:scan_progress", args=[run.pk]) in page
    row = client.get(reverse("coordination:scan_progress", args=[run.pk]))
    assert row.status_code == 200 and f'data-scan="{run.pk}"'.encode() in row.content
    assert client.get(reverse("coordination:scan_progress", args=[run.pk + 100])).status_code == 404


def test_the_coordination_check_service_is_the_one_the_page_uses(world, pair, monkeypatch, as_user):
    a, _b, _flag = pair
    calls = []
    original = services.coordination_check

    def spy(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(services, "coordination_check", spy)
    as_user("najat").post(reverse("coordination:project_check_run", args=[a.pk]))
    assert calls and calls[0]["trigger"] == "manual" and calls[0]["actor"] == world.najat
