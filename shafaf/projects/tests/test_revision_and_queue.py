"""What changed in a revision (/projects/<pk>/revision/) and the review queue's risk order."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone, translation

from shafaf.accounts import services as account_services
from shafaf.projects import selectors, services
from shafaf.projects.choices import ProjectStatus
from shafaf.projects.models import Project
from shafaf.projects.rulebook.models import RulebookRun
from tests.factories import make_project

S = ProjectStatus


@pytest.fixture(autouse=True)
def no_rulebook():
    """The workflow's rulebook hook stands aside: these tests store the runs they need themselves."""
    with mock.patch.object(services, "_run_rulebook", return_value=[]):
        yield


def approved(world, **overrides) -> Project:
    """Charity A's project, licensed through the workflow (so that its approval is in the audit chain)."""
    project = make_project(world.najat, world.charity_a, implementing_partner=world.partner, **overrides)
    # Edited before the approval: not part of any revision.
    project = services.project_update(actor=world.najat, project=project, title_en="Before approval")
    with translation.override("en"):
        project = services.project_transition(actor=world.najat, project=project, action="submit")
        project = services.project_transition(actor=world.reviewer, project=project, action="start-review")
        project = services.project_transition(actor=world.reviewer, project=project, action="approve")
    assert project.status == S.APPROVED
    return project


def speaking(user, language: str):
    """The user's own language preference, which the pages follow."""
    account_services.user_set_language(actor=user, language=language)
    return user


def submitted(world, *, days: int, title: str) -> Project:
    project = make_project(world.najat, world.charity_a, title_en=title)
    when = timezone.now() - dt.timedelta(days=days)
    Project.objects.filter(pk=project.pk).update(status=S.SUBMITTED, submitted_at=when, status_changed_at=when)
    project.refresh_from_db()
    return project


def store_run(project: Project, *, blocking: int = 0, warnings: int = 0) -> RulebookRun:
    return RulebookRun.objects.create(
        project=project, stage="submission", passed=blocking == 0, blocking_failures=blocking, warnings=warnings
    )


# --- the comparison ---------------------------------------------------------------------------------------------


def test_a_scope_edit_shows_exactly_the_changed_fields_before_and_after(world, login):
    project = approved(world)
    revised = services.project_update(
        actor=world.najat,
        project=project,
        country="YE",
        beneficiary_count=900,
        locations=[{"admin_area_ar": "عدن", "admin_area_en": "Aden"}],
    )
    assert revised.is_revision and revised.status == S.SUBMITTED
    # Sent back for changes, the revision is edited again: a field counts from its first old value to its last
    # new one.
    with translation.override("en"):
        revised = services.project_transition(actor=world.reviewer, project=revised, action="start-review")
        revised = services.project_transition(
            actor=world.reviewer, project=revised, action="request-changes", reason="Fewer families?"
        )
    revised = services.project_update(actor=world.najat, project=revised, beneficiary_count=950)

    with translation.override("en"):
        diff = selectors.revision_diff(revised)
    by_name = {change.name: change for change in diff.changes}
    assert set(by_name) == {"country", "beneficiary_count", "locations"}
    assert (by_name["country"].before, by_name["country"].after) == ("Sudan (SD)", "Yemen (YE)")
    assert (by_name["beneficiary_count"].before, by_name["beneficiary_count"].after) == ("500", "950")
    assert (by_name["locations"].before, by_name["locations"].after) == ("Khartoum", "Aden")
    assert all(change.is_scope for change in diff.changes)
    assert diff.approval is not None and diff.decided is None

    client = login(speaking(world.reviewer, "en"))
    english = client.get(f"/projects/{project.pk}/revision/")
    assert english.status_code == 200
    text = english.text
    assert 'data-field="country"' in text and "Sudan (SD)" in text and "Yemen (YE)" in text
    assert 'data-field="title_en"' not in text  # edited before the approval
    page = client.get(f"/projects/{project.pk}/").text
    assert f'href="/projects/{project.pk}/revision/"' in page
    speaking(world.reviewer, "ar")
    arabic = client.get(f"/projects/{project.pk}/revision/").text
    assert "السودان (SD)" in arabic and "اليمن (YE)" in arabic and "عدن" in arabic


def test_partner_and_choices_are_shown_by_their_labels(world):
    project = approved(world)
    revised = services.project_update(
        actor=world.najat, project=project, implementing_partner=None, beneficiary_group="refugees"
    )
    with translation.override("en"):
        by_name = {change.name: change for change in selectors.revision_diff(revised).changes}
    assert (by_name["implementing_partner"].before, by_name["implementing_partner"].after) == (
        world.partner.name_en,
        "—",
    )
    group = Project._meta.get_field("beneficiary_group")
    with translation.override("en"):
        assert by_name["beneficiary_group"].after == str(dict(group.flatchoices)["refugees"])


def test_a_cosmetic_edit_is_not_shown_as_a_revision(world, login):
    project = approved(world)
    edited = services.project_update(actor=world.najat, project=project, title_en="A deeper well")
    assert not edited.is_revision
    assert selectors.revision_diff(edited).revision is None
    client = login(world.najat)
    page = client.get(f"/projects/{project.pk}/revision/")
    assert page.status_code == 200
    assert 'data-testid="no-revision"' in page.text and 'data-field="title_en"' not in page.text
    assert 'data-testid="revision-link"' not in client.get(f"/projects/{project.pk}/").text


def test_another_charity_gets_404(world, login):
    project = approved(world)
    services.project_update(actor=world.najat, project=project, beneficiary_count=700)
    assert login(world.rahma).get(f"/projects/{project.pk}/revision/").status_code == 404


# --- the review queue's risk --------------------------------------------------------------------------------------


def test_a_blocking_failure_comes_before_an_older_clean_project(world, login):
    old_clean = submitted(world, days=20, title="Old and clean")
    new_blocked = submitted(world, days=1, title="New and blocked")
    store_run(old_clean, warnings=1)
    store_run(new_blocked, blocking=3)  # an older run of the same project does not count:
    RulebookRun.objects.create(
        project=new_blocked,
        stage="submission",
        passed=True,
        at=timezone.now() - dt.timedelta(days=2),
    )
    ranked = selectors.rank_by_risk(selectors.review_queue(world.reviewer))
    assert [p.pk for p in ranked][:2] == [new_blocked.pk, old_clean.pk]
    assert ranked[0].risk.score == 30 and ranked[1].risk.score == 1 + 20 // 7

    page = login(speaking(world.reviewer, "en")).get("/projects/review/").text
    assert page.index(f'data-project="{new_blocked.pk}"') < page.index(f'data-project="{old_clean.pk}"')
    assert 'data-risk="30"' in page and "3 blocking failures" in page


def test_a_revision_gets_its_bonus_and_a_link_to_what_changed(world, login):
    plain = submitted(world, days=8, title="Plain")  # 1 week
    revision = services.project_update(actor=world.najat, project=approved(world), beneficiary_count=650)
    assert revision.is_revision
    ranked = selectors.rank_by_risk(selectors.review_queue(world.reviewer))
    scores = {p.pk: p.risk.score for p in ranked}
    assert scores[revision.pk] == 5 and scores[plain.pk] == 1
    assert [p.pk for p in ranked].index(revision.pk) < [p.pk for p in ranked].index(plain.pk)
    page = login(world.reviewer).get("/projects/review/").text
    assert f'href="/projects/{revision.pk}/revision/"' in page


def test_same_risk_keeps_the_longest_waiting_first(world):
    newer = submitted(world, days=2, title="Newer")
    older = submitted(world, days=5, title="Older")
    ranked = [p.pk for p in selectors.rank_by_risk(selectors.review_queue(world.reviewer))]
    assert ranked.index(older.pk) < ranked.index(newer.pk)
