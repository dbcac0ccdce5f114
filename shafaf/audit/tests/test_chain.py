"""The audit hash chain: every service write leaves exactly one event, in the same transaction; no
event can be changed afterwards; content hashes the same on SQLite and PostgreSQL; concurrent
writers never fork the chain."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import threading
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from shafaf.accounts import services as account_services
from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.accounts.models import ApiToken, Membership, Organization
from shafaf.audit import services as audit
from shafaf.audit import triggers
from shafaf.audit.chain import GENESIS_HASH, compute_hash, content_of, verify_chain, verify_everything
from shafaf.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from shafaf.core import context
from shafaf.core.exceptions import DomainError
from shafaf.projects import services as project_services
from shafaf.projects.models import Project
from tests.concurrency import run_and_wait, run_in_thread, threaded_database
from tests.factories import PASSWORD, UserFactory, make_project

from .tampering import last_seq

REQUEST_ID = "req-audit-test-0001"


@pytest.fixture
def request_id():
    token = context.set_request_id(REQUEST_ID)
    yield REQUEST_ID
    context.reset_request_id(token)


def one_new_event(since: int) -> AuditEvent:
    events = list(AuditEvent.objects.filter(seq__gt=since).order_by("seq"))
    assert len(events) == 1, [str(e) for e in events]
    return events[0]


def assert_event(event: AuditEvent, *, actor, role: str, organization, action: str, subject) -> None:
    assert event.actor_id == (actor.pk if actor is not None else None)
    assert event.actor_username == (actor.username if actor is not None else "")
    assert event.actor_role == role
    assert event.organization_id == (organization.pk if organization is not None else None)
    assert event.action == action
    assert event.subject_type == f"{subject._meta.app_label}.{subject._meta.model_name}"
    assert event.subject_id == str(subject.pk)
    assert event.request_id == REQUEST_ID
    assert event.hash == compute_hash(content_of(event))
    assert verify_everything().ok


# --- one event per service write, with everything that says who did what --------------------------


def test_project_create_records_one_event(world, request_id):
    since = last_seq()
    project = make_project(world.najat, world.charity_a, title_en="A school in Darfur")
    event = one_new_event(since)
    assert_event(
        event,
        actor=world.najat,
        role=Role.CHARITY_ADMIN,
        organization=world.charity_a,
        action="project.create",
        subject=project,
    )
    assert event.changes["title_en"] == [None, "A school in Darfur"]
    assert event.changes["reference"] == [None, project.reference]
    assert event.changes["planned_start"] == [None, "2027-01-01"]
    assert event.changes["locations"] == [
        None,
        [{"admin_area_ar": "ولاية الخرطوم", "admin_area_en": "Khartoum", "latitude": None, "longitude": None}],
    ]


def test_project_update_records_one_event_with_only_the_changed_fields(world, request_id):
    since = last_seq()
    project_services.project_update(
        actor=world.staff_a, project=world.project_a, title_en="A deeper well", beneficiary_count=500
    )
    event = one_new_event(since)
    assert_event(
        event,
        actor=world.staff_a,
        role=Role.CHARITY_STAFF,
        organization=world.charity_a,
        action="project.update",
        subject=world.project_a,
    )
    assert event.changes == {"title_en": ["Drilling an artesian well in Al-Noor village", "A deeper well"]}


def test_organization_create_and_update_record_one_event_each(world, request_id):
    since = last_seq()
    organization = account_services.organization_create(
        actor=world.ministry_admin,
        kind=OrganizationKind.CHARITY,
        slug="al-amal",
        name_ar="جمعية الأمل",
        name_en="Al-Amal Charity",
        country="KW",
    )
    event = one_new_event(since)
    assert_event(
        event,
        actor=world.ministry_admin,
        role=Role.MINISTRY_ADMIN,
        organization=organization,
        action="organization.create",
        subject=organization,
    )
    assert event.changes["slug"] == [None, "al-amal"]
    assert event.changes["name_ar"] == [None, "جمعية الأمل"]

    since = last_seq()
    account_services.organization_update(actor=world.najat, organization=world.charity_a, name_en="Al-Noor Society")
    event = one_new_event(since)
    assert_event(
        event,
        actor=world.najat,
        role=Role.CHARITY_ADMIN,
        organization=world.charity_a,
        action="organization.update",
        subject=world.charity_a,
    )
    assert event.changes == {"name_en": ["Al-Noor Charity", "Al-Noor Society"]}

    # Saving the same values again changes nothing and records nothing.
    since = last_seq()
    account_services.organization_update(actor=world.najat, organization=world.charity_a, name_en="Al-Noor Society")
    assert last_seq() == since


def test_membership_create_and_deactivate_record_one_event_each(world, request_id):
    newcomer = UserFactory(username="newcomer")
    since = last_seq()
    membership = account_services.membership_create(
        actor=world.najat, user=newcomer, organization=world.charity_a, role=Role.CHARITY_STAFF
    )
    event = one_new_event(since)
    assert_event(
        event,
        actor=world.najat,
        role=Role.CHARITY_ADMIN,
        organization=world.charity_a,
        action="membership.create",
        subject=membership,
    )
    assert event.changes == {"user": [None, "newcomer"], "role": [None, Role.CHARITY_STAFF]}

    since = last_seq()
    account_services.membership_deactivate(actor=world.najat, membership=membership, reason="left the charity")
    event = one_new_event(since)
    assert_event(
        event,
        actor=world.najat,
        role=Role.CHARITY_ADMIN,
        organization=world.charity_a,
        action="membership.deactivate",
        subject=membership,
    )
    assert event.changes == {"is_active": [True, False]}
    assert event.reason == "left the charity"

    # Ending it a second time is a no-op: no second event.
    since = last_seq()
    account_services.membership_deactivate(actor=world.najat, membership=membership)
    assert last_seq() == since


def test_api_token_create_and_revoke_record_one_event_each(world, request_id):
    since = last_seq()
    token, key = account_services.api_token_create(actor=world.najat, user=world.najat, name="finance system")
    event = one_new_event(since)
    assert_event(
        event, actor=world.najat, role=Role.CHARITY_ADMIN, organization=None, action="api_token.create", subject=token
    )
    assert event.changes == {"name": [None, "finance system"]}
    assert key not in str(event.changes)

    since = last_seq()
    account_services.api_token_revoke(actor=world.najat, token=token)
    event = one_new_event(since)
    assert_event(
        event, actor=world.najat, role=Role.CHARITY_ADMIN, organization=None, action="api_token.revoke", subject=token
    )
    token.refresh_from_db()
    assert event.changes == {"revoked_at": [None, token.revoked_at.astimezone(dt.UTC).isoformat()]}


def test_user_set_language_records_one_event(world, request_id):
    since = last_seq()
    account_services.user_set_language(actor=world.donor, language="en")
    event = one_new_event(since)
    assert_event(
        event, actor=world.donor, role=Role.DONOR, organization=None, action="user.set_language", subject=world.donor
    )
    assert event.changes == {"language": ["ar", "en"]}
    since = last_seq()
    account_services.user_set_language(actor=world.donor, language="en")
    assert last_seq() == since


def test_login_records_one_event_with_the_requests_id(world, client):
    since = last_seq()
    response = client.post(
        "/accounts/login/",
        {"username": "donor", "password": PASSWORD},
        HTTP_X_REQUEST_ID="login-request-0042",
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "login-request-0042"
    event = one_new_event(since)
    assert event.action == "user.login"
    assert event.actor_id == world.donor.pk
    assert event.actor_role == Role.DONOR
    assert event.subject_type == "accounts.user"
    assert event.subject_id == str(world.donor.pk)
    assert event.request_id == "login-request-0042"
    assert event.changes == {"ip_address": [None, "10.9.8.7"]}


def test_an_http_write_carries_its_request_id_into_the_event(world, login):
    client = login(world.najat)
    since = last_seq()
    response = client.patch(
        f"/api/v1/projects/{world.project_a.pk}/",
        {"title_en": "Renamed"},
        content_type="application/json",
        HTTP_X_REQUEST_ID="api-request-0099",
    )
    assert response.status_code == 200, response.content
    event = one_new_event(since)
    assert event.action == "project.update"
    assert event.request_id == "api-request-0099"


# --- a write that fails leaves nothing behind ------------------------------------------------------


def _snapshot_counts() -> tuple:
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    return (
        AuditEvent.objects.count(),
        head,
        Project.objects.count(),
        Organization.objects.count(),
        Membership.objects.count(),
        ApiToken.objects.count(),
    )


def _failing_writes(world):
    return {
        "project_create (invalid)": lambda: make_project(world.najat, world.charity_a, beneficiary_count=0),
        "project_create (another charity)": lambda: make_project(world.najat, world.charity_b),
        "project_update (invalid)": lambda: project_services.project_update(
            actor=world.najat, project=world.project_a, title_en="Kept?", planned_end=dt.date(2026, 1, 1)
        ),
        "project_update (another charity)": lambda: project_services.project_update(
            actor=world.staff_b, project=world.project_a, title_en="Taken over"
        ),
        "organization_create (invalid)": lambda: account_services.organization_create(
            actor=world.ministry_admin, kind=OrganizationKind.AUTHORITY, slug="x", name_ar="س", name_en="X"
        ),
        "organization_create (not ministry)": lambda: account_services.organization_create(
            actor=world.najat, kind=OrganizationKind.CHARITY, slug="y", name_ar="ص", name_en="Y"
        ),
        "organization_update (invalid)": lambda: account_services.organization_update(
            actor=world.najat, organization=world.charity_a, name_en="Changed", country="XX"
        ),
        "organization_update (refused field)": lambda: account_services.organization_update(
            actor=world.najat, organization=world.charity_a, is_active=False
        ),
        "membership_create (duplicate)": lambda: account_services.membership_create(
            actor=world.najat, user=world.staff_a, organization=world.charity_a, role=Role.CHARITY_STAFF
        ),
        "membership_create (wrong role for kind)": lambda: account_services.membership_create(
            actor=world.najat, user=world.donor, organization=world.charity_a, role=Role.DONOR
        ),
        "membership_deactivate (self)": lambda: account_services.membership_deactivate(
            actor=world.najat, membership=world.najat.memberships.get()
        ),
        "api_token_create (no name)": lambda: account_services.api_token_create(
            actor=world.najat, user=world.najat, name="  "
        ),
        "api_token_create (for someone else)": lambda: account_services.api_token_create(
            actor=world.najat, user=world.rahma, name="sneaky"
        ),
        "user_set_language (unknown)": lambda: account_services.user_set_language(actor=world.najat, language="fr"),
    }


def test_a_write_refused_by_a_domain_rule_leaves_no_event_and_no_row(world):
    for name, write in _failing_writes(world).items():
        before = _snapshot_counts()
        with pytest.raises(DomainError):
            write()
        assert _snapshot_counts() == before, name
    world.project_a.refresh_from_db()
    assert world.project_a.title_en == "Drilling an artesian well in Al-Noor village"
    world.charity_a.refresh_from_db()
    assert (world.charity_a.name_en, world.charity_a.country, world.charity_a.is_active) == (
        "Al-Noor Charity",
        "KW",
        True,
    )
    world.najat.refresh_from_db()
    assert world.najat.language == "ar"
    assert verify_everything().ok


def _record_then_fail(real_record):
    def record(**kwargs):
        real_record(**kwargs)
        raise DomainError("the disk is full", code="boom")

    return record


@pytest.mark.parametrize(
    "write",
    [
        lambda w: make_project(w.najat, w.charity_a),
        lambda w: project_services.project_update(actor=w.najat, project=w.project_a, title_en="Half-written"),
        lambda w: account_services.organization_create(
            actor=w.ministry_admin, kind=OrganizationKind.CHARITY, slug="half", name_ar="نصف", name_en="Half"
        ),
        lambda w: account_services.membership_create(
            actor=w.najat, user=w.donor, organization=w.charity_a, role=Role.CHARITY_STAFF
        ),
        lambda w: account_services.api_token_create(actor=w.najat, user=w.najat, name="half"),
        lambda w: account_services.user_set_language(actor=w.najat, language="en"),
    ],
    ids=["project_create", "project_update", "organization_create", "membership_create", "token", "language"],
)
def test_the_event_and_the_row_are_one_transaction(world, write):
    """When anything fails after the event is written, the row goes with it (and the other way round)."""
    before = _snapshot_counts()
    with mock.patch.object(audit, "record", _record_then_fail(audit.record)), pytest.raises(DomainError):
        write(world)
    assert _snapshot_counts() == before
    world.project_a.refresh_from_db()
    assert world.project_a.title_en != "Half-written"
    world.najat.refresh_from_db()
    assert world.najat.language == "ar"
    assert verify_everything().ok


def test_record_refuses_to_run_outside_a_transaction(world):
    with mock.patch.object(connection, "in_atomic_block", False), pytest.raises(RuntimeError):
        audit.record(actor=None, action="x.y", subject=world.charity_a)


# --- nothing in the application can change an event -------------------------------------------------


def test_the_application_cannot_update_or_delete_an_event(world):
    event = AuditEvent.objects.get(seq=1)
    original = content_of(event)
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.save(update_fields=["reason"])
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    # These two open their own transaction without a savepoint: give them one, as a caller would.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["reason"])
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.update_or_create(seq=1, defaults={"reason": "rewritten"})
    assert content_of(AuditEvent.objects.get(seq=1)) == original
    assert AuditEvent.objects.count() == 2
    assert verify_everything().ok


@pytest.fixture
def triggers_on(db):
    """The test database has no triggers (conftest removes them so transactional tests can flush);
    production has them. Installed inside the test's transaction, they go with its rollback."""
    triggers.install(connection)


def _refused_by_the_database(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_raw_updates_and_deletes(world, triggers_on):
    _refused_by_the_database("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["rewritten", 1])
    _refused_by_the_database("UPDATE audit_auditevent SET reason = %s", ["rewritten"])
    _refused_by_the_database("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    _refused_by_the_database("DELETE FROM audit_auditevent")
    if connection.vendor == "postgresql":
        _refused_by_the_database("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 2
    assert AuditEvent.objects.get(seq=1).reason == ""
    assert verify_everything().ok


def test_the_database_still_accepts_new_events_after_refusing_a_change(world, triggers_on):
    _refused_by_the_database("DELETE FROM audit_auditevent WHERE seq = %s", [1])
    make_project(world.najat, world.charity_a)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert verify_everything().ok


# --- canonical hashing: the same content hashes the same on every database ----------------------------

# The event below, as canonical JSON (sorted keys, no spaces, UTF-8), written out by hand: what an
# outside verifier would hash. It must come out the same from SQLite and from PostgreSQL.
CANONICAL = (
    '{"action":"project.update","actor_id":null,"actor_role":"","actor_username":"",'
    '"changes":{"amount":["1.100","12.5"],"date":[null,"2025-01-02"],"flags":[[1,"ب",null,true],[]],'
    '"ratio":["0.1","1e-07"],"title_ar":["مشروع","مشروع كفالة الأيتام"],'
    '"when":[null,"2025-01-02T09:00:00.000000+00:00"]},'
    '"occurred_at":"2025-03-01T09:30:15.123456+00:00","organization_id":null,'
    '"prev_hash":"' + "0" * 64 + '","reason":"تصحيح العنوان","request_id":"canonical-req-01","seq":1,'
    '"subject_id":"41","subject_repr":"جمعية النور الخيرية","subject_type":"accounts.organization"}'
)


@pytest.mark.django_db
def test_content_hashes_the_same_on_every_database_and_survives_the_json_column():
    assert not AuditEvent.objects.exists()
    subject = Organization(pk=41, name_ar="جمعية النور الخيرية", name_en="Al-Noor Charity")
    changes = {
        "title_ar": ["مشروع", "مشروع كفالة الأيتام"],
        "amount": [decimal.Decimal("1.100"), decimal.Decimal("12.5")],
        "date": [None, dt.date(2025, 1, 2)],
        "when": [None, dt.datetime(2025, 1, 2, 12, 0, tzinfo=ZoneInfo("Asia/Kuwait"))],
        "ratio": [0.1, 1e-07],
        "flags": [(1, "ب", None, True), []],
    }
    fixed_now = dt.datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    token = context.set_request_id("canonical-req-01")
    try:
        with (
            translation.override("ar"),
            mock.patch("shafaf.audit.services.timezone.now", return_value=fixed_now),
            transaction.atomic(),
        ):
            event = audit.record(
                actor=None, action="project.update", subject=subject, changes=changes, reason="تصحيح العنوان"
            )
    finally:
        context.reset_request_id(token)

    expected = hashlib.sha256(CANONICAL.encode("utf-8")).hexdigest()
    assert event.prev_hash == GENESIS_HASH
    assert event.hash == expected

    stored = AuditEvent.objects.get(seq=1)
    assert stored.changes == {
        "title_ar": ["مشروع", "مشروع كفالة الأيتام"],
        "amount": ["1.100", "12.5"],
        "date": [None, "2025-01-02"],
        "when": [None, "2025-01-02T09:00:00.000000+00:00"],
        "ratio": ["0.1", "1e-07"],
        "flags": [[1, "ب", None, True], []],
    }
    assert stored.occurred_at == fixed_now
    assert stored.hash == expected
    assert compute_hash(content_of(stored)) == expected
    assert verify_chain().ok
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (1, expected)


def test_key_order_and_number_types_do_not_change_the_hash():
    a = {"b": [decimal.Decimal("1.0")], "a": {"y": 1, "x": "نص"}}
    b = {"a": {"x": "نص", "y": 1}, "b": ["1.0"]}
    assert compute_hash(a) == compute_hash(b)
    # ... but a different value does.
    assert compute_hash(a) != compute_hash({"a": {"x": "نص", "y": 1}, "b": ["1.00"]})


def test_arabic_text_and_decimals_in_a_real_project_round_trip_and_verify(world):
    project = make_project(
        world.najat,
        world.charity_a,
        title_ar="مشروعٌ لِكفالةِ الأيتامِ — ١٢٣",
        locations=[
            {
                "admin_area_ar": "دارفور",
                "admin_area_en": "",
                "latitude": decimal.Decimal("13.5"),
                "longitude": decimal.Decimal("-24.25"),
            }
        ],
    )
    event = AuditEvent.objects.get(subject_type="projects.project", subject_id=str(project.pk))
    assert event.changes["title_ar"] == [None, "مشروعٌ لِكفالةِ الأيتامِ — ١٢٣"]
    location = event.changes["locations"][1][0]
    assert (location["latitude"], location["longitude"]) == ("13.500000", "-24.250000")
    assert verify_everything().ok


# --- concurrent writers never fork the chain --------------------------------------------------------


def test_concurrent_writers_never_fork_the_chain(transactional_db, tmp_path):
    """Three threads append at once. On PostgreSQL they share the test database; on SQLite the test
    database is in memory with a shared cache (table locks, no waiting), so the threads use a copy of
    it in a file, configured as in production (WAL, BEGIN IMMEDIATE, busy timeout)."""
    db_settings = threaded_database(tmp_path)

    threads, per_thread = 3, 15
    barrier = threading.Barrier(threads)
    subject = Organization(pk=7, name_ar="جمعية", name_en="Charity")

    def write():
        barrier.wait(timeout=10)
        for i in range(per_thread):
            with transaction.atomic():
                audit.record(actor=None, action="test.concurrent", subject=subject, changes={"i": [None, i]})

    running = [run_in_thread(write, db_settings=db_settings) for _ in range(threads)]
    for thread, _outcome in running:
        thread.join(timeout=60)
    errors = [outcome["error"] for _thread, outcome in running if "error" in outcome]
    assert not errors

    def check():
        seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
        head = AuditChainHead.objects.get(pk=1)
        return seqs, (head.seq, head.hash), verify_everything()

    seqs, head, result = run_and_wait(check, db_settings=db_settings)
    total = threads * per_thread
    assert seqs == list(range(1, total + 1))
    assert result.ok, result.problem
    assert result.count == total
    assert head == (total, result.head_hash)


def test_login_with_a_wrong_password_records_no_event(world, client):
    since = last_seq()
    response = client.post("/accounts/login/", {"username": "donor", "password": "wrong password"})
    assert response.status_code == 400
    assert last_seq() == since
