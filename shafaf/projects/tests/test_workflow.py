"""The project lifecycle: every action from every state by every persona, reasons, licences, suspension,
cancellation, revisions, concurrent decisions, the API's actions and allowed_actions, the pages, and the
audit events each transition writes.

The expectations are written out here from the issue's words (SPEC), not read from workflow.py, so a change
to the table that the issue does not ask for fails these tests.
"""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from rest_framework.test import APIClient

from shafaf.accounts.choices import Role
from shafaf.audit import services as audit
from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.projects import permissions, selectors, services, workflow
from shafaf.projects.choices import ProjectAction, ProjectStatus
from shafaf.projects.models import LicenceSequence, Project, ProjectTransition
from tests.concurrency import run_and_wait, run_in_thread, threaded_database
from tests.factories import World, make_project, member, verified_login

S = ProjectStatus
STATES = list(ProjectStatus.values)
API = "/api/v1/projects/"
REASON = "السبب: الميزانية غير مفصلة."

# action: (from which states, to which state, who). "previous": the state the project was suspended from.
SPEC = {
    "submit": ({S.DRAFT, S.CHANGES_REQUESTED}, S.SUBMITTED, "charity"),
    "start-review": ({S.SUBMITTED}, S.UNDER_REVIEW, "ministry"),
    "request-changes": ({S.UNDER_REVIEW}, S.CHANGES_REQUESTED, "ministry"),
    "approve": ({S.UNDER_REVIEW}, S.APPROVED, "ministry"),
    "reject": ({S.UNDER_REVIEW}, S.REJECTED, "ministry"),
    "start": ({S.APPROVED}, S.IN_EXECUTION, "charity"),
    "complete": ({S.IN_EXECUTION}, S.COMPLETED, "charity"),
    "close": ({S.COMPLETED}, S.CLOSED, "ministry"),
    "suspend": ({S.APPROVED, S.IN_EXECUTION}, S.SUSPENDED, "ministry"),
    "resume": ({S.SUSPENDED}, "previous", "ministry"),
    "cancel": ({S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED}, S.CANCELLED, "charity_admin"),
}
REASON_REQUIRED = {"request-changes", "reject", "suspend", "cancel"}

# Which parties each persona is, for a project of charity A implemented by the World's partner.
PARTIES = {
    "reviewer": {"ministry"},
    "ministry_admin": {"ministry"},
    "najat": {"charity", "charity_admin"},
    "staff_a": {"charity"},
}
PERSONAS = (
    "reviewer",
    "ministry_admin",
    "accreditation_officer",
    "najat",
    "staff_a",
    "rahma",
    "staff_b",
    "donor",
    "partner",
    "auditor",
)
LICENSED = {S.APPROVED, S.IN_EXECUTION, S.COMPLETED, S.CLOSED, S.SUSPENDED}
# A suspended project of the grid was suspended while in execution.
SUSPENDED_FROM = S.IN_EXECUTION


REAL_RUN_RULEBOOK = services._run_rulebook  # before the fixture below replaces it


def english():
    """The service's messages in English, whatever language the last request left active."""
    return translation.override("en")


@pytest.fixture(autouse=True)
def no_rulebook():
    """The workflow's tests are about the table; the rulebook's own tests cover its checks. The hook itself is
    tested below with a stand-in."""
    with mock.patch.object(services, "_run_rulebook", return_value=[]) as hook:
        yield hook


def sees(persona: str, state: str) -> bool:
    if persona in ("reviewer", "ministry_admin", "auditor", "najat", "staff_a"):
        return True
    return persona == "partner" and state != S.DRAFT


def expected(persona: str, state: str, action: str) -> int | str:
    """The HTTP status of the API, or the state the project moves to (200)."""
    sources, target, who = SPEC[action]
    if not sees(persona, state):
        return 404
    if who not in PARTIES.get(persona, set()):
        return 403
    if state not in sources:
        return 409
    return SUSPENDED_FROM if target == "previous" else target


def put_in_state(project: Project, state: str, *, resume_status: str = SUSPENDED_FROM) -> Project:
    """Puts a project straight into a state, as if it had got there through the workflow."""
    values = {"status": state, "status_changed_at": timezone.now()}
    if state in LICENSED:
        values.update(licence_number=f"MOSA-1999-{project.pk:06d}", licence_date=dt.date(1999, 1, 1))
    if state == S.SUSPENDED:
        values["resume_status"] = resume_status
    if state != S.DRAFT:
        values["submitted_at"] = timezone.now() - dt.timedelta(days=3)
    Project.objects.filter(pk=project.pk).update(**values)
    project.refresh_from_db()
    return project


def project_in(world, state: str, **overrides) -> Project:
    return put_in_state(
        make_project(world.najat, world.charity_a, implementing_partner=world.partner, **overrides), state
    )


def api_client(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


def act(client, project: Project, action: str, reason: str | None = REASON):
    return client.post(f"{API}{project.pk}/{action}/", {} if reason is None else {"reason": reason}, format="json")


def transition(world, persona: str, project: Project, action: str, reason: str = REASON) -> Project:
    with english():
        return services.project_transition(
            actor=world.personas()[persona], project=project, action=action, reason=reason
        )


# --- the table -------------------------------------------------------------------------------------------------


def test_the_table_is_the_issues_table():
    assert set(workflow.ACTIONS) == set(SPEC)
    for action, (sources, target, who) in SPEC.items():
        t = workflow.BY_ACTION[action]
        assert set(t.sources) == sources, action
        assert (t.target if t.target != workflow.PREVIOUS_STATE else "previous") == target, action
        assert t.who == who, action
        assert t.reason_required == (action in REASON_REQUIRED), action
        assert str(t.label), action
    assert set(workflow.ACTIONS) | {"revise"} == set(ProjectAction.values)
    assert len(STATES) == 11


def test_every_state_can_be_reached_and_the_end_states_lead_nowhere():
    reached = {S.DRAFT} | {target for _sources, target, _who in SPEC.values() if target != "previous"}
    assert reached == set(STATES)
    for state in (S.CLOSED, S.REJECTED, S.CANCELLED):
        assert workflow.available(state, {"charity", "charity_admin", "ministry"}) == []


# --- every action from every state by every persona, through the API ----------------------------------------------


@pytest.fixture(scope="module")
def grid_client():
    """One client for the whole grid (building a client's middleware costs more than its requests); each
    request is made as a persona with force_authenticate. The signed-in, two-factor path is the permission
    matrix's (tests/test_permission_matrix.py) and the other tests' here."""
    return APIClient()


@pytest.mark.parametrize("action", list(SPEC))
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_by_every_persona(state, action, world, grid_client):
    project = project_in(world, state)
    outcomes, wanted = {}, {}
    for persona in PERSONAS:
        wanted[persona] = expected(persona, state, action)
        grid_client.force_authenticate(world.personas()[persona])
        response = act(grid_client, project, action)
        if response.status_code == 200:
            outcomes[persona] = response.json()["status"]
            assert Project.objects.get(pk=project.pk).status == outcomes[persona]
            project = project_in(world, state)  # a fresh one for the next persona
            continue
        outcomes[persona] = response.status_code
        error = response.json()["error"]
        assert error["message"], (persona, error)
        assert error["code"] == {403: "not_allowed", 404: "not_found", 409: "invalid_transition"}.get(
            response.status_code, error["code"]
        ), (persona, error)
        if response.status_code == 409:
            with translation.override(world.personas()[persona].language):
                assert str(S(state).label) in error["message"]  # names the state
        assert Project.objects.get(pk=project.pk).status == state  # a refusal changes nothing
    assert outcomes == wanted


@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_lists_exactly_what_would_succeed(state, world):
    project = project_in(world, state)
    for persona in PERSONAS:
        user = world.personas()[persona]
        response = api_client(user).get(f"{API}{project.pk}/")
        if not sees(persona, state):
            assert response.status_code == 404
            continue
        listed = response.json()["allowed_actions"]
        transitions = [name for name in listed if name != "edit"]
        assert transitions == [a for a in workflow.ACTIONS if isinstance(expected(persona, state, a), str)], persona
        may_edit = persona in ("najat", "staff_a") and state in (
            S.DRAFT,
            S.CHANGES_REQUESTED,
            S.APPROVED,
            S.IN_EXECUTION,
        )
        assert ("edit" in listed) == may_edit, persona


ALLOWED_ACTIONS = {
    # state: {persona: allowed_actions}; personas not named may do nothing
    S.DRAFT: {"najat": ["edit", "submit", "cancel"], "staff_a": ["edit", "submit"]},
    S.SUBMITTED: {"najat": ["cancel"], "reviewer": ["start-review"], "ministry_admin": ["start-review"]},
    S.UNDER_REVIEW: {"najat": ["cancel"], "reviewer": ["request-changes", "approve", "reject"]},
    S.CHANGES_REQUESTED: {"najat": ["edit", "submit", "cancel"], "staff_a": ["edit", "submit"]},
    S.APPROVED: {"najat": ["edit", "start"], "staff_a": ["edit", "start"], "reviewer": ["suspend"]},
    S.IN_EXECUTION: {"najat": ["edit", "complete"], "reviewer": ["suspend"]},
    S.COMPLETED: {"najat": [], "reviewer": ["close"], "ministry_admin": ["close"]},
    S.CLOSED: {"najat": [], "reviewer": []},
    S.REJECTED: {"najat": [], "reviewer": []},
    S.SUSPENDED: {"najat": [], "reviewer": ["resume"]},
    S.CANCELLED: {"najat": [], "reviewer": []},
}


@pytest.mark.parametrize("state", list(ALLOWED_ACTIONS))
def test_allowed_actions_by_persona_and_state(state, world):
    project = project_in(world, state)
    for persona, actions in ALLOWED_ACTIONS[state].items():
        assert permissions.allowed_actions(world.personas()[persona], project) == actions, persona
    for persona in ("auditor", "partner", "donor", "rahma", "accreditation_officer"):
        assert permissions.allowed_actions(world.personas()[persona], project) == [], persona
    finance = member(Role.CHARITY_FINANCE, world.charity_a, f"finance_{state}")
    assert permissions.allowed_actions(finance, project) == []


def test_allowed_actions_in_the_list_costs_no_query_per_row(world, django_assert_max_num_queries):
    for state in STATES:
        project_in(world, state)
    client = api_client(world.reviewer)
    client.get(API)
    with django_assert_max_num_queries(9):
        rows = client.get(API, {"page_size": 100}).json()["results"]
    assert len(rows) == len(STATES) + 2
    assert {row["status"]: row["allowed_actions"] for row in rows if row["status"] == S.UNDER_REVIEW} == {
        S.UNDER_REVIEW: ["request-changes", "approve", "reject"]
    }


# --- the service: refusals, reasons, audit -------------------------------------------------------------------------


def test_refusals_raise_the_right_errors_and_write_nothing(world):
    project = project_in(world, S.SUBMITTED)
    before = (AuditEvent.objects.count(), ProjectTransition.objects.count())
    with pytest.raises(NotAllowed) as refused:
        transition(world, "najat", project, "approve")
    assert refused.value.status == 403 and refused.value.code == "not_allowed"
    with pytest.raises(NotAllowed):
        transition(world, "rahma", project, "cancel")  # another charity's admin
    with pytest.raises(NotAllowed):
        transition(world, "auditor", project, "start-review")
    with pytest.raises(Conflict) as conflict:
        transition(world, "reviewer", project, "approve")  # not yet under review
    assert conflict.value.status == 409 and conflict.value.code == "invalid_transition"
    with english():
        assert str(S.SUBMITTED.label) in str(conflict.value.message)
    with pytest.raises(DomainError) as unknown:
        transition(world, "reviewer", project, "publish")
    assert unknown.value.code == "unknown_action"
    assert (AuditEvent.objects.count(), ProjectTransition.objects.count()) == before
    assert Project.objects.get(pk=project.pk).status == S.SUBMITTED


@pytest.mark.parametrize(
    ("action", "state", "persona"),
    [
        ("request-changes", S.UNDER_REVIEW, "reviewer"),
        ("reject", S.UNDER_REVIEW, "reviewer"),
        ("suspend", S.IN_EXECUTION, "ministry_admin"),
        ("cancel", S.CHANGES_REQUESTED, "najat"),
    ],
)
def test_a_reason_is_required_where_the_table_says(action, state, persona, world):
    project = project_in(world, state)
    before = AuditEvent.objects.count()
    for reason in ("", "   \n "):
        with pytest.raises(DomainError) as refused:
            transition(world, persona, project, action, reason=reason)
        assert refused.value.code == "reason_required"
        assert refused.value.status == 400
        assert refused.value.fields["reason"]
    assert AuditEvent.objects.count() == before
    assert Project.objects.get(pk=project.pk).status == state
    moved = transition(world, persona, project, action, reason="  " + REASON + "  ")
    assert moved.transitions.get().reason == REASON  # trimmed


@pytest.mark.parametrize("action", sorted(set(SPEC) - REASON_REQUIRED))
def test_other_actions_need_no_reason(action, world):
    sources, _target, who = SPEC[action]
    persona = {"charity": "staff_a", "charity_admin": "najat", "ministry": "reviewer"}[who]
    project = project_in(world, sorted(sources)[0])
    moved = transition(world, persona, project, action, reason="")
    assert moved.transitions.get().reason == ""


@pytest.mark.parametrize("action", list(SPEC))
def test_each_transition_is_recorded_in_the_history_and_the_audit_chain(action, world):
    sources, target, who = SPEC[action]
    persona = {"charity": "staff_a", "charity_admin": "najat", "ministry": "ministry_admin"}[who]
    state = sorted(sources)[0]
    project = project_in(world, state)
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    moved = transition(world, persona, project, action)
    history = moved.transitions.get()
    new = SUSPENDED_FROM if target == "previous" else target
    assert (history.action, history.from_status, history.to_status) == (action, state, new)
    assert history.actor == world.personas()[persona]
    assert history.actor_role == {"staff_a": Role.CHARITY_STAFF, "najat": Role.CHARITY_ADMIN}.get(
        persona, Role.MINISTRY_ADMIN
    )
    assert history.reason == REASON
    assert moved.status == new and moved.status_changed_at == history.at
    event = AuditEvent.objects.get(seq__gt=seq, action=f"project.{action}")
    assert event.subject_id == str(project.pk) and event.subject_type == "projects.project"
    assert event.reason == REASON
    assert event.changes["status"] == [state, new]
    assert event.actor_id == world.personas()[persona].pk
    assert event.actor_role == history.actor_role
    assert event.organization_id == world.charity_a.pk
    # Besides the screening and the coordination check of a submission (their own apps' events).
    others = AuditEvent.objects.filter(seq__gt=seq).exclude(action="screening.run")
    assert others.exclude(action__startswith="coordination.").count() == 1


# --- licences -----------------------------------------------------------------------------------------------------


def test_approval_licenses_the_project_with_a_unique_number(world):
    year = timezone.localdate().year
    first, second = project_in(world, S.UNDER_REVIEW), project_in(world, S.UNDER_REVIEW)
    assert first.licence_number == "" and first.licence_date is None
    first = transition(world, "reviewer", first, "approve")
    second = transition(world, "ministry_admin", second, "approve")
    assert first.licence_number == f"MOSA-{year}-000001"
    assert second.licence_number == f"MOSA-{year}-000002"
    assert first.licence_date == second.licence_date == timezone.localdate()
    assert LicenceSequence.objects.get(year=year).last_number == 2
    event = AuditEvent.objects.get(action="project.approve", subject_id=str(first.pk))
    assert event.changes["licence_number"] == [None, first.licence_number]
    with mock.patch("shafaf.projects.services.timezone.localdate", return_value=dt.date(year + 1, 1, 2)):
        third = transition(world, "reviewer", project_in(world, S.UNDER_REVIEW), "approve")
    assert third.licence_number == f"MOSA-{year + 1}-000001"
    assert third.licence_date == dt.date(year + 1, 1, 2)
    # The database refuses a second project with the same licence number.
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=second.pk).update(licence_number=first.licence_number)


def test_a_licensed_state_without_a_licence_is_refused_by_the_database(world):
    project = make_project(world.najat, world.charity_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(status=S.APPROVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(
            status=S.SUSPENDED, licence_number="MOSA-1999-000001", licence_date=dt.date(1999, 1, 1)
        )  # suspended without the state to resume to


def test_a_refused_approval_uses_up_no_licence_number(world):
    project = project_in(world, S.UNDER_REVIEW)
    with pytest.raises(NotAllowed):
        transition(world, "najat", project, "approve")
    with pytest.raises(Conflict):
        transition(world, "reviewer", project_in(world, S.SUBMITTED), "approve")
    assert not LicenceSequence.objects.exists()


# --- suspension and cancellation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.APPROVED, S.IN_EXECUTION])
def test_resume_returns_to_the_state_before_the_suspension(state, world):
    project = project_in(world, state)
    licence = project.licence_number
    suspended = transition(world, "reviewer", project, "suspend")
    assert (suspended.status, suspended.resume_status) == (S.SUSPENDED, state)
    assert workflow.available(suspended.status, {"ministry"}) == ["resume"]
    resumed = transition(world, "ministry_admin", suspended, "resume", reason="")
    assert (resumed.status, resumed.resume_status) == (state, "")
    assert resumed.licence_number == licence
    assert [t.action for t in resumed.transitions.all()] == ["suspend", "resume"]


def test_cancel_only_before_approval_and_only_by_the_charity_admin(world):
    for state in (S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED):
        project = project_in(world, state)
        with pytest.raises(NotAllowed):
            transition(world, "staff_a", project, "cancel")
        with pytest.raises(NotAllowed):
            transition(world, "reviewer", project, "cancel")
        assert transition(world, "najat", project, "cancel").status == S.CANCELLED
    for state in (S.APPROVED, S.IN_EXECUTION, S.COMPLETED, S.CLOSED, S.SUSPENDED, S.REJECTED, S.CANCELLED):
        with pytest.raises(Conflict):
            transition(world, "najat", project_in(world, state), "cancel")


# --- concurrent decisions ------------------------------------------------------------------------------------------


def test_two_reviewers_deciding_on_the_same_view_exactly_one_wins(world):
    """Both reviewers loaded the project under review; the second decision arrives after the first."""
    project = project_in(world, S.UNDER_REVIEW)
    seen_by_reviewer = Project.objects.get(pk=project.pk)
    seen_by_admin = Project.objects.get(pk=project.pk)
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    approved = transition(world, "reviewer", seen_by_reviewer, "approve")
    with pytest.raises(Conflict) as lost:
        transition(world, "ministry_admin", seen_by_admin, "reject")
    assert lost.value.code == "conflict" and lost.value.status == 409
    assert lost.value.message
    project.refresh_from_db()
    assert project.status == S.APPROVED and project.licence_number == approved.licence_number
    assert list(project.transitions.values_list("action", flat=True)) == ["approve"]
    assert list(AuditEvent.objects.filter(seq__gt=seq).values_list("action", flat=True)) == ["project.approve"]
    # And two approvals: the second uses up no licence number.
    other = project_in(world, S.UNDER_REVIEW)
    stale = Project.objects.get(pk=other.pk)
    transition(world, "reviewer", other, "approve")
    with pytest.raises(Conflict):
        transition(world, "ministry_admin", stale, "approve")
    assert LicenceSequence.objects.get().last_number == 2


def test_the_api_answers_409_to_the_second_decision(world):
    project = project_in(world, S.UNDER_REVIEW)
    # What each request reads: the first request reads the project twice (before and after), the second once,
    # all before the first decision.
    copies = [Project.objects.get(pk=project.pk) for _ in range(3)]
    with mock.patch.object(selectors, "project_get", side_effect=copies):
        assert act(api_client(world.reviewer), project, "approve").status_code == 200
        response = act(api_client(world.ministry_admin), project, "request-changes")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] and error["request_id"]


def test_two_reviewers_approving_at_once_exactly_one_wins(transactional_db, tmp_path):
    """Two threads, each with its own connection, approve the same project at the same moment. On PostgreSQL
    they share the test database; on SQLite (an in-memory test database) they use a copy in a file, configured
    as in production (WAL, BEGIN IMMEDIATE, busy timeout)."""
    world = World()
    project = project_in(world, S.UNDER_REVIEW)
    db_settings = threaded_database(tmp_path)
    barrier = threading.Barrier(2)

    def approve(user):
        def run():
            seen = Project.objects.get(pk=project.pk)  # both read it under review
            barrier.wait(timeout=10)
            return services.project_transition(actor=user, project=seen, action="approve").licence_number

        return run

    running = [run_in_thread(approve(user), db_settings=db_settings) for user in (world.reviewer, world.ministry_admin)]
    for thread, _outcome in running:
        thread.join(timeout=60)
    outcomes = [outcome for _thread, outcome in running]
    winners = [o["value"] for o in outcomes if "value" in o]
    losers = [o["error"] for o in outcomes if "error" in o]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], Conflict), repr(losers[0])

    def check():
        stored = Project.objects.get(pk=project.pk)
        return (
            stored.status,
            stored.licence_number,
            ProjectTransition.objects.filter(project=stored).count(),
            AuditEvent.objects.filter(action="project.approve").count(),
            LicenceSequence.objects.get().last_number,
        )

    assert run_and_wait(check, db_settings=db_settings) == (S.APPROVED, winners[0], 1, 1, 1)


# --- editing and revisions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.SUBMITTED, S.UNDER_REVIEW])
def test_editing_while_with_the_ministry_is_refused_with_a_clear_message(state, world, login):
    project = project_in(world, state)
    with english(), pytest.raises(NotAllowed) as refused:
        services.project_update(actor=world.najat, project=project, title_en="Changed in review")
    message = str(refused.value.message)
    assert "review" in message and "cannot be edited" in message
    response = api_client(world.staff_a).patch(f"{API}{project.pk}/", {"title_en": "x"}, format="json")
    assert response.status_code == 403
    with translation.override(world.staff_a.language):
        assert response.json()["error"]["message"] == permissions.edit_refusal(world.staff_a, project)
    assert login(world.najat).get(f"/projects/{project.pk}/edit/").status_code == 403
    assert Project.objects.get(pk=project.pk).title_en != "Changed in review"


@pytest.mark.parametrize("state", [S.COMPLETED, S.CLOSED, S.REJECTED, S.SUSPENDED, S.CANCELLED])
def test_editing_in_the_other_states_is_refused_naming_the_state(state, world):
    project = project_in(world, state)
    with english():
        with pytest.raises(NotAllowed) as refused:
            services.project_update(actor=world.najat, project=project, title_en="Too late")
        assert str(project.get_status_display()) in str(refused.value.message)


def test_changes_requested_can_be_edited_and_resubmitted_without_a_revision(world):
    project = project_in(world, S.CHANGES_REQUESTED)
    edited = services.project_update(actor=world.staff_a, project=project, beneficiary_count=650)
    assert (edited.status, edited.is_revision) == (S.CHANGES_REQUESTED, False)
    assert transition(world, "staff_a", edited, "submit").status == S.SUBMITTED


def test_a_cosmetic_edit_of_a_licensed_project_stays_licensed(world):
    project = project_in(world, S.APPROVED)
    edited = services.project_update(
        actor=world.najat, project=project, title_en="A deeper well", description_ar="وصف أوضح."
    )
    assert (edited.status, edited.is_revision) == (S.APPROVED, False)
    assert not edited.transitions.exists()
    assert AuditEvent.objects.filter(action="project.update", subject_id=str(project.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="project.revise").exists()


@pytest.mark.parametrize(
    ("changes", "locations"),
    [
        ({"beneficiary_count": 900}, None),
        ({"planned_end": dt.date(2028, 6, 30)}, None),
        ({"currency": "USD"}, None),
        ({}, [{"admin_area_ar": "ولاية كسلا", "admin_area_en": "Kassala"}]),
        ({"implementing_partner": None}, None),
    ],
)
def test_a_scope_edit_of_a_licensed_project_sends_it_back_to_review(changes, locations, world):
    project = project_in(world, S.IN_EXECUTION)
    licence = project.licence_number
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    revised = services.project_update(
        actor=world.staff_a, project=project, locations=locations, title_en="Also retitled", **changes
    )
    assert (revised.status, revised.is_revision, revised.resume_status) == (S.SUBMITTED, True, S.IN_EXECUTION)
    assert revised.licence_number == licence
    assert revised.submitted_at is not None
    history = revised.transitions.get()
    assert (history.action, history.from_status, history.to_status) == ("revise", S.IN_EXECUTION, S.SUBMITTED)
    assert history.actor_role == Role.CHARITY_STAFF
    update, revise = AuditEvent.objects.filter(seq__gt=seq).exclude(action__startswith="coordination.").order_by("seq")
    assert update.action == "project.update" and "title_en" in update.changes
    assert set(changes or {"locations": None}) <= set(update.changes)
    assert revise.action == "project.revise"
    assert revise.changes["status"] == [S.IN_EXECUTION, S.SUBMITTED]
    assert revise.changes["revised_fields"][1] == sorted(changes or ["locations"])
    # In review the revision cannot be edited or cancelled; approved, it returns to execution with its licence.
    with pytest.raises(NotAllowed):
        services.project_update(actor=world.najat, project=revised, title_en="Again")
    with pytest.raises(Conflict) as refused:
        transition(world, "najat", revised, "cancel")
    assert "licensed" in str(refused.value.message)
    assert permissions.allowed_actions(world.najat, revised) == []
    under_review = transition(world, "reviewer", revised, "start-review")
    approved = transition(world, "reviewer", under_review, "approve")
    assert (approved.status, approved.is_revision, approved.resume_status) == (S.IN_EXECUTION, False, "")
    assert approved.licence_number == licence
    assert not LicenceSequence.objects.exists()  # no new licence number


def test_a_revised_approved_project_returns_to_approved(world):
    project = project_in(world, S.APPROVED)
    revised = services.project_update(actor=world.najat, project=project, beneficiary_count=501)
    assert revised.status == S.SUBMITTED and revised.resume_status == S.APPROVED
    revised = transition(world, "reviewer", revised, "start-review")
    back = transition(world, "reviewer", revised, "request-changes")
    assert back.status == S.CHANGES_REQUESTED and back.is_revision
    back = services.project_update(actor=world.najat, project=back, beneficiary_count=502)
    assert back.status == S.CHANGES_REQUESTED  # an edit while changes are requested is no new transition
    resubmitted = transition(world, "najat", back, "submit")
    approved = transition(world, "reviewer", transition(world, "reviewer", resubmitted, "start-review"), "approve")
    assert (approved.status, approved.is_revision) == (S.APPROVED, False)
    assert [t.action for t in approved.transitions.all()] == [
        "revise",
        "start-review",
        "request-changes",
        "submit",
        "start-review",
        "approve",
    ]


# --- the rulebook hook ---------------------------------------------------------------------------------------------


def test_submission_runs_the_rulebook_after_the_move_without_blocking(world, no_rulebook):
    project = project_in(world, S.DRAFT)
    seen = {}

    def hook(actor, project, stage):
        seen.update(stage=stage, status=Project.objects.get(pk=project.pk).status, atomic=connection.in_atomic_block)
        return [SimpleNamespace(blocking=True, message="A blocking check fails")]

    no_rulebook.side_effect = hook
    submitted = transition(world, "najat", project, "submit")
    assert submitted.status == S.SUBMITTED
    assert seen == {"stage": "submission", "status": S.SUBMITTED, "atomic": True}


def test_approval_is_refused_while_a_blocking_check_fails_and_the_results_stay(world, no_rulebook):
    project = project_in(world, S.UNDER_REVIEW)

    def hook(actor, project, stage):
        assert stage == "approval"
        audit.record(actor=actor, action="test.rulebook_run", subject=project)  # stands for the stored run
        return [
            SimpleNamespace(blocking=True, message="The partner is not accredited."),
            SimpleNamespace(blocking=False, message="A warning only."),
            SimpleNamespace(blocking=True, message="The budget exceeds the threshold."),
        ]

    no_rulebook.side_effect = hook
    with pytest.raises(DomainError) as refused:
        transition(world, "reviewer", project, "approve")
    assert refused.value.code == "rulebook_blocked"
    assert refused.value.fields == {"rulebook": ["The partner is not accredited.", "The budget exceeds the threshold."]}
    assert Project.objects.get(pk=project.pk).status == S.UNDER_REVIEW
    assert not LicenceSequence.objects.exists()
    assert AuditEvent.objects.filter(action="test.rulebook_run").count() == 1  # kept despite the refusal
    response = act(api_client(world.reviewer), project, "approve")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["rulebook"] == refused.value.fields["rulebook"]
    # Passing checks (or warnings only) let the approval through.
    no_rulebook.side_effect = lambda actor, project, stage: [SimpleNamespace(blocking=False, message="ok")]
    assert transition(world, "reviewer", project, "approve").status == S.APPROVED


def test_the_rulebook_is_not_run_for_a_refused_action(world, no_rulebook):
    project = project_in(world, S.UNDER_REVIEW)
    with pytest.raises(NotAllowed):
        transition(world, "najat", project, "approve")
    with pytest.raises(Conflict):
        transition(world, "najat", project_in(world, S.APPROVED), "submit")
    assert no_rulebook.call_count == 0


def test_the_hook_answers_nothing_without_the_rulebook_and_its_results_with_it(world):
    project = project_in(world, S.SUBMITTED)
    with mock.patch.dict("sys.modules", {"shafaf.projects.rulebook.services": None}), transaction.atomic():
        assert REAL_RUN_RULEBOOK(world.reviewer, project, "submission") == []
    with transaction.atomic():
        results = REAL_RUN_RULEBOOK(world.reviewer, project, "submission")
    assert all(isinstance(result.blocking, bool) and str(result.message) for result in results)


# --- the API ---------------------------------------------------------------------------------------------------------


def test_the_api_moves_a_project_and_answers_with_it(world):
    project = project_in(world, S.DRAFT)
    response = act(api_client(world.najat), project, "submit", reason=None)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == project.pk and body["status"] == S.SUBMITTED
    assert body["allowed_actions"] == ["cancel"]
    assert body["submitted_at"] and body["status_changed_at"]
    assert body["licence_number"] == "" and body["is_revision"] is False
    reviewer = api_client(world.reviewer)
    assert act(reviewer, project, "start-review").json()["allowed_actions"] == ["request-changes", "approve", "reject"]
    body = act(reviewer, project, "approve").json()
    assert body["status"] == S.APPROVED
    assert body["licence_number"].startswith("MOSA-") and body["licence_date"] == timezone.localdate().isoformat()
    assert body["allowed_actions"] == ["suspend"]


def test_the_api_refuses_in_the_error_format(world):
    project = project_in(world, S.UNDER_REVIEW)
    response = act(api_client(world.najat), project, "approve")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    response = act(api_client(world.rahma), project, "cancel")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = act(api_client(world.reviewer), project, "close")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert str(S.UNDER_REVIEW.label) in error["message"]
    response = act(api_client(world.reviewer), project, "reject", reason=None)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "reason_required" and error["fields"]["reason"]
    response = act(api_client(world.reviewer), project, "reject", reason="x" * 4001)
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    # A refusal comes before a field error: whoever may not, or not now, is told so whatever the body.
    assert act(api_client(world.auditor), project, "reject", reason="x" * 4001).status_code == 403
    assert act(api_client(world.reviewer), project, "close", reason="x" * 4001).status_code == 409
    assert act(api_client(world.reviewer), project, "reject", reason=["not", "text"]).status_code == 400
    assert api_client(world.reviewer).post(f"{API}{project.pk}/publish/", {}, format="json").status_code == 404
    assert api_client(world.reviewer).get(f"{API}{project.pk}/approve/").status_code == 405
    assert api_client(world.reviewer).post(f"{API}999999/approve/", {}, format="json").status_code == 404
    assert Project.objects.get(pk=project.pk).status == S.UNDER_REVIEW


def test_every_action_is_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for action in SPEC:
        operation = paths[f"/api/v1/projects/{{id}}/{action}/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"]), action
        assert operation["requestBody"]


# --- the pages -----------------------------------------------------------------------------------------------------


def test_the_detail_page_offers_one_form_per_allowed_action(world, login):
    project = project_in(world, S.UNDER_REVIEW)
    page = login(world.reviewer).get(f"/projects/{project.pk}/").content.decode()
    for action in ("request-changes", "approve", "reject"):
        assert f'action="/projects/{project.pk}/{action}/"' in page
    assert f'action="/projects/{project.pk}/cancel/"' not in page
    assert 'name="reject-reason"' in page and 'name="approve-reason"' not in page
    assert "data-confirm=" in page
    assert 'data-testid="rulebook-checks"' in page  # the ministry checks panel
    page = login(world.auditor).get(f"/projects/{project.pk}/").content.decode()
    assert 'data-testid="project-actions"' not in page


def test_a_page_action_moves_the_project_and_the_timeline_shows_it(world, login):
    project = make_project(world.najat, world.charity_a)
    client = login(world.najat)
    response = client.post(f"/projects/{project.pk}/submit/")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    client = login(world.reviewer)
    assert client.post(f"/projects/{project.pk}/start-review/").status_code == 302
    response = client.post(f"/projects/{project.pk}/request-changes/", {"request-changes-reason": REASON})
    assert response.status_code == 302
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert page.count('data-testid="timeline-transition"') == 3
    assert page.count('data-testid="timeline-record"') == 1  # the creation
    assert REASON in page
    assert Project.objects.get(pk=project.pk).status == S.CHANGES_REQUESTED


def test_a_refused_page_action_explains_itself(world, login):
    project = project_in(world, S.UNDER_REVIEW)
    client = login(world.reviewer)
    response = client.post(f"/projects/{project.pk}/reject/", {"reject-reason": "  "})
    assert response.status_code == 400
    assert 'data-field-error="reason"' in response.content.decode()
    response = client.post(f"/projects/{project.pk}/close/")
    assert response.status_code == 409
    assert 'data-testid="action-error"' in response.content.decode()
    assert login(world.najat).post(f"/projects/{project.pk}/approve/").status_code == 403
    assert login(world.rahma).post(f"/projects/{project.pk}/cancel/").status_code == 404
    assert login(world.reviewer).post(f"/projects/{project.pk}/publish/").status_code == 404
    assert login(world.reviewer).get(f"/projects/{project.pk}/approve/").status_code == 405
    assert Project.objects.get(pk=project.pk).status == S.UNDER_REVIEW


def test_a_blocked_approval_on_the_page_lists_the_failing_checks(world, login, no_rulebook):
    project = project_in(world, S.UNDER_REVIEW)
    no_rulebook.side_effect = lambda actor, project, stage: [
        SimpleNamespace(blocking=True, message="The partner is not accredited.")
    ]
    response = login(world.reviewer).post(f"/projects/{project.pk}/approve/")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="action-error"' in page
    assert page.count("The partner is not accredited.") == 1
    assert Project.objects.get(pk=project.pk).status == S.UNDER_REVIEW
    response = login(world.auditor).post(f"/projects/{project.pk}/reject/", {"reject-reason": "x" * 4001})
    assert response.status_code == 403


def test_the_timeline_merges_transitions_and_edits_in_time_order(world):
    project = project_in(world, S.APPROVED)
    revised = services.project_update(actor=world.najat, project=project, beneficiary_count=777)
    revised = transition(world, "reviewer", revised, "start-review")
    with english():
        entries = selectors.project_timeline(world.reviewer, revised)
    kinds = [(e.kind, e.transition.action if e.transition else e.event.action) for e in entries]
    assert kinds == [
        ("record", "project.create"),
        ("record", "project.update"),
        ("transition", "revise"),
        ("transition", "start-review"),
    ]
    assert entries[1].fields == ("number of beneficiaries",)


def test_the_review_queue_is_the_ministrys_oldest_first(world, login):
    old = project_in(world, S.UNDER_REVIEW)
    Project.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=12))
    new = project_in(world, S.SUBMITTED)
    Project.objects.filter(pk=new.pk).update(submitted_at=timezone.now() - dt.timedelta(hours=2), is_revision=True)
    decided = project_in(world, S.APPROVED)
    assert list(selectors.review_queue(world.reviewer)) == [old, new]
    assert not selectors.review_queue(world.najat).exists()
    response = login(world.reviewer).get("/projects/review/")
    assert response.status_code == 200
    page = response.content.decode()
    # The page orders by risk first (selectors.rank_by_risk): the revision (5) before 12 days' wait (1 week: 1).
    assert page.index(new.reference) < page.index(old.reference)
    for absent in (decided, world.project_a, world.project_b):  # decided, and drafts
        assert absent.reference not in page
    assert page.count('data-testid="revision-badge"') == 1
    assert '<td class="num" data-testid="days-waiting">12</td>' in page
    filtered = login(world.reviewer).get("/projects/review/", {"status": S.SUBMITTED}).content.decode()
    assert new.reference in filtered and old.reference not in filtered
    for persona in ("najat", "auditor", "partner", "donor"):
        assert login(world.personas()[persona]).get("/projects/review/").status_code == 403, persona


def test_the_home_pages_count_what_waits(world, login):
    project_in(world, S.SUBMITTED)
    project_in(world, S.UNDER_REVIEW)
    sent_back = project_in(world, S.CHANGES_REQUESTED, title_en="Sent back", title_ar="")
    page = login(world.reviewer).get("/").content.decode()
    assert '<p class="display-6" data-testid="review-queue-count">2</p>' in page
    assert 'href="/projects/review/"' in page
    page = login(world.najat).get("/").content.decode()
    assert '<p class="display-6" data-testid="changes-requested-count">1</p>' in page
    assert f'href="/projects/{sent_back.pk}/"' in page
    assert 'href="/projects/review/"' not in page


def _edit_form(project: Project, **overrides) -> dict:
    data = {
        name: getattr(project, name)
        for name in (
            "title_ar",
            "title_en",
            "description_ar",
            "description_en",
            "project_model",
            "sector",
            "country",
            "beneficiary_group",
            "beneficiary_count",
            "currency",
        )
    }
    data.update(
        planned_start=project.planned_start.isoformat(),
        planned_end=project.planned_end.isoformat(),
        implementing_partner=project.implementing_partner_id or "",
    )
    locations = list(project.locations.all())
    data.update(
        {
            "locations-TOTAL_FORMS": str(len(locations)),
            "locations-INITIAL_FORMS": str(len(locations)),  # as the page's management form says
            "locations-MIN_NUM_FORMS": "0",
            "locations-MAX_NUM_FORMS": "50",
        }
    )
    for index, location in enumerate(locations):
        data[f"locations-{index}-admin_area_ar"] = location.admin_area_ar
        data[f"locations-{index}-admin_area_en"] = location.admin_area_en
    data.update(overrides)
    return data


def test_editing_a_licensed_project_through_the_page(world, login):
    project = project_in(world, S.APPROVED)
    client = login(world.najat)
    page = client.get(f"/projects/{project.pk}/edit/").content.decode()
    assert 'data-testid="revision-warning"' in page
    response = client.post(f"/projects/{project.pk}/edit/", _edit_form(project, title_en="Only the title"))
    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).status == S.APPROVED
    response = client.post(f"/projects/{project.pk}/edit/", _edit_form(project, beneficiary_count=999), follow=True)
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.status, project.is_revision) == (S.SUBMITTED, True)
    page = response.content.decode()
    assert "alert-warning" in page and 'data-testid="revision-badge"' in page


def test_editing_a_licensed_project_through_the_api(world):
    project = project_in(world, S.IN_EXECUTION)
    client = api_client(world.staff_a)
    body = client.patch(f"{API}{project.pk}/", {"title_en": "Retitled"}, format="json").json()
    assert (body["status"], body["is_revision"]) == (S.IN_EXECUTION, False)
    assert body["allowed_actions"] == ["edit", "complete"]
    body = client.patch(f"{API}{project.pk}/", {"planned_end": "2028-03-31"}, format="json").json()
    assert (body["status"], body["is_revision"], body["resume_status"]) == (S.SUBMITTED, True, S.IN_EXECUTION)
    assert body["allowed_actions"] == []
    response = client.patch(f"{API}{project.pk}/", {"title_en": "Again"}, format="json")
    assert response.status_code == 403
