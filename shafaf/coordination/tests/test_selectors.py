"""Who sees which flags and what of them: the ministry and auditors see every flag with both projects side by side;
each charity sees the flags of its own projects, its own project fully and of the other charity's only what is not
confidential; nobody else sees anything. Who may decide, run a check, change the settings."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from shafaf.coordination import online, permissions, selectors, services
from shafaf.coordination.choices import Decision
from shafaf.coordination.models import Flag
from tests.factories import budget, make_project, member

from .app_helpers import ORPHANS, submit, well_pair

CONFIDENTIAL = ("description_ar", "description_en", "beneficiary_count", "budget", "implementing_partner", "locations")


@pytest.fixture(autouse=True)
def fresh_index():
    online.reset_index()
    yield
    online.reset_index()


@pytest.fixture
def flagged(world):
    a, b = well_pair(world, submit_b=False)
    budget(world, a)  # 10,500.000 KWD
    budget(world, b, [{"category": "programme", "name_ar": "حفر", "name_en": "Drilling", "amount": "9876.000"}])
    b = submit(world.rahma, b)
    return a, b, Flag.objects.get()


def test_the_ministry_and_auditors_see_every_flag_side_by_side(world, flagged):
    a, _b, flag = flagged
    for user in (world.reviewer, world.ministry_admin, world.auditor):
        assert list(selectors.flags_visible_to(user)) == [flag]
        assert permissions.can_view_queue(user)
        view = selectors.flag_view(user, selectors.flag_get(user, flag.pk))
        assert view["side_by_side"] and view["a"]["full"] and view["b"]["full"]
        assert view["a"]["description_en"] == a.description_en and view["b"]["beneficiary_count"] == 520
        assert view["b"]["budget"]["total_minor"] == 9_876_000
        assert view["a"]["implementing_partner"]["id"] == world.partner.pk
    assert selectors.flag_view(world.reviewer, flag)["can_decide"]
    assert not selectors.flag_view(world.auditor, flag)["can_decide"]
    assert list(selectors.coordination_queue(world.reviewer)) == [flag]


@pytest.mark.parametrize("who", ["najat", "staff_a", "rahma", "staff_b"])
def test_each_charity_sees_its_flag_but_not_the_others_confidential_fields(world, flagged, who):
    a, b, flag = flagged
    user = getattr(world, who)
    own, other = (a, b) if who in ("najat", "staff_a") else (b, a)
    assert list(selectors.flags_visible_to(user)) == [flag]
    assert not permissions.can_view_queue(user) and list(selectors.coordination_queue(user)) == []
    view = selectors.flag_view(user, selectors.flag_get(user, flag.pk))
    mine, theirs = (view["a"], view["b"]) if own.pk == flag.project_a_id else (view["b"], view["a"])
    assert mine["full"] and mine["description_ar"] == own.description_ar
    assert not theirs["full"]
    assert theirs["reference"] == other.reference and theirs["title_ar"] == other.title_ar
    assert theirs["charity"]["id"] == other.charity_id and theirs["status"] == other.status
    for field in CONFIDENTIAL:
        assert field not in theirs
    text = json.dumps(view, default=str, ensure_ascii=False)
    for description in (other.description_ar, other.description_en):
        assert not description or description not in text
    # The other's budget figure is not given through the reasons either.
    other_budget = "10,500" if other == a else "9,876"
    assert other_budget not in text
    assert any(r["signal"] == "budget" for r in view["reasons"])
    assert not view["can_decide"] and not view["side_by_side"]


def test_both_charities_see_the_decision(world, flagged):
    _a, _b, flag = flagged
    services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Different villages.")
    for user in (world.najat, world.rahma):
        view = selectors.flag_view(user, selectors.flag_get(user, flag.pk))
        assert view["status"] == "decided" and view["decision"] == "distinct"
        assert view["decision_reason"] == "Different villages."


def test_nobody_else_sees_a_flag(world, flagged):
    _a, _b, flag = flagged
    charity_c = type(world.charity_a).objects.create(kind="charity", slug="c", name_ar="جمعية ج", name_en="C")
    outsiders = [
        world.donor,
        world.partner_reporter,
        world.accreditation_officer,
        member("charity_admin", charity_c),
        AnonymousUser(),
    ]
    for user in outsiders:
        assert list(selectors.flags_visible_to(user)) == []
        assert not permissions.can_view_flag(user, flag)
        with pytest.raises(Http404):
            selectors.flag_get(user, flag.pk)
        with pytest.raises(Http404):
            selectors.flag_view(user, flag)
    with pytest.raises(Http404):
        selectors.flag_get(world.reviewer, "abc")


def test_who_may_decide_check_and_change_settings(world, flagged):
    a, b, flag = flagged
    assert permissions.can_decide(world.reviewer, flag) and permissions.can_decide(world.ministry_admin, flag)
    for user in (world.auditor, world.najat, world.rahma, world.donor):
        assert not permissions.can_decide(user, flag)
    assert permissions.can_run_check(world.najat, a) and not permissions.can_run_check(world.najat, b)
    assert permissions.can_run_check(world.reviewer, b) and not permissions.can_run_check(world.auditor, b)
    assert permissions.can_change_settings(world.ministry_admin) and not permissions.can_change_settings(world.reviewer)
    services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Different.")
    flag.refresh_from_db()
    assert not permissions.can_decide(world.reviewer, flag)


def test_latest_check_is_the_owners_and_the_ministrys(world, flagged):
    a, b, _flag = flagged
    assert selectors.latest_check(world.rahma, b).project_id == b.pk
    assert selectors.latest_check(world.reviewer, b).results[0]["project"] == a.pk
    assert selectors.latest_check(world.auditor, b) is not None
    assert selectors.latest_check(world.najat, b) is None  # another charity's checks
    assert selectors.latest_check(world.donor, b) is None


def test_flags_of_a_project_and_the_charitys_own_flags_only(world, flagged):
    a, _b, flag = flagged
    orphans = submit(world.rahma, make_project(world.rahma, world.charity_b, **ORPHANS))
    assert list(selectors.flags_of_project(world.najat, a)) == [flag]
    assert list(selectors.flags_of_project(world.rahma, orphans)) == []


def test_current_settings_are_one_row_with_the_defaults(db):
    first = selectors.current_settings()
    assert first.pk == 1 and selectors.current_settings().pk == 1
    assert selectors.thresholds(first) == (9.5, 6.0)
