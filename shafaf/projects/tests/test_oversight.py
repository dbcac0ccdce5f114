"""Alerts (issue 3 part 5) and compliance classes (part 6): rules, services, pages, API, command and task."""

from __future__ import annotations

import dataclasses
import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.projects.models import Project
from shafaf.projects.oversight import rules, selectors, services
from shafaf.projects.oversight.models import Alert, AlertStatus
from shafaf.projects.oversight.tasks import alerts_raise_nightly
from shafaf.projects.rulebook.models import CheckResultRecord, RulebookRun
from tests.factories import make_project, verified_login

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 6, 1)  # the factories' projects run from 2027-01-01 to 2027-12-31
AFTER_END = dt.date(2028, 2, 1)


def licensed(project, status="in_execution", changed: dt.date = dt.date(2027, 11, 1)) -> Project:
    """The project as if the ministry had licensed it (and the charity started it), its state changed on `changed`."""
    at = timezone.make_aware(dt.datetime.combine(changed, dt.time(9)))
    Project.objects.filter(pk=project.pk).update(
        status=status, licence_number=f"MOSA-T-{project.pk}", licence_date=changed, status_changed_at=at
    )
    project.refresh_from_db()
    return project


def nightly_run(project, *, failing=("dates_coherent",)) -> RulebookRun:
    run = RulebookRun.objects.create(
        project=project, stage="nightly", passed=not failing, blocking_failures=len(failing), warnings=0
    )
    for position, code in enumerate(failing):
        CheckResultRecord.objects.create(
            run=run,
            position=position,
            code=code,
            severity="blocking",
            passed=False,
            message_ar=f"إخفاق {code}",
            message_en=f"{code} failed",
        )
    return run


def progress_never_late(project):
    return dt.date.max


@pytest.fixture
def no_progress_stands_aside(monkeypatch):
    """For the tests written before progress reports fed the no_progress rule: it finds nothing."""
    rule = dataclasses.replace(rules.RULES["no_progress"], interface=f"{__name__}.progress_never_late", app="")
    monkeypatch.setitem(rules.RULES, "no_progress", rule)


def alerts_of(project, rule=None):
    queryset = Alert.objects.filter(project=project)
    return queryset.filter(rule=rule) if rule else queryset


def api(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


# --- the rules ---------------------------------------------------------------------------------------------


def test_status_unchanged_raises_after_six_months_and_not_before(world):
    old = licensed(world.project_a, status="approved", changed=dt.date(2026, 11, 30))
    recent = licensed(world.project_b, status="approved", changed=dt.date(2027, 1, 15))
    summary = services.alerts_raise(today=TODAY)
    alert = alerts_of(old, "status_unchanged").get()
    assert alert.status == AlertStatus.OPEN and alert.owner == world.charity_a
    assert alert.facts == {"status": "approved", "since": "2026-11-30", "months": 6}
    assert "معتمد" in alert.message_ar and "6 أشهر" in alert.message_ar
    assert "unchanged for more than 6 months" in alert.message_en
    assert not alerts_of(recent).exists()
    assert summary.per_rule["status_unchanged"]["raised"] == 1


def test_status_unchanged_threshold_comes_from_settings(world, settings):
    licensed(world.project_b, status="approved", changed=dt.date(2027, 3, 15))
    settings.SHAFAF_ALERT_THRESHOLDS = {"status_unchanged": {"months": 2}}
    services.alerts_raise(today=TODAY)
    assert alerts_of(world.project_b, "status_unchanged").get().facts["months"] == 2


def test_past_planned_end_raises_only_in_execution_after_the_end(world):
    running = licensed(world.project_a)
    approved = licensed(world.project_b, status="approved", changed=dt.date(2027, 12, 1))
    services.alerts_raise(today=TODAY)
    assert not alerts_of(running, "past_planned_end").exists()
    services.alerts_raise(today=AFTER_END)
    alert = alerts_of(running, "past_planned_end").get()
    assert alert.facts == {"planned_end": "2027-12-31", "days_late": 32}
    assert "متأخر 32 يوماً" in alert.message_ar
    assert not alerts_of(approved, "past_planned_end").exists()


def test_overdue_rulebook_raises_for_the_ministry_on_a_failing_nightly_run(world):
    failing = licensed(world.project_a)
    passing = licensed(world.project_b)
    nightly_run(failing, failing=("dates_coherent", "budget_present"))
    nightly_run(passing, failing=())
    services.alerts_raise(today=TODAY)
    alert = alerts_of(failing, "overdue_rulebook").get()
    assert alert.owner == world.mosa and alert.severity == "critical"
    assert alert.facts["failed_checks"] == ["dates_coherent", "budget_present"]
    assert "الضوابط المانعة" in alert.message_ar
    assert not alerts_of(passing).exists()


def test_drafts_and_submissions_raise_nothing(world):
    nightly_run(world.project_a)
    summary = services.alerts_raise(today=AFTER_END)
    assert summary.raised == 0 and not Alert.objects.exists()


def test_rules_whose_data_is_missing_are_skipped_and_reported(world, monkeypatch):
    licensed(world.project_a)
    missing = dataclasses.replace(rules.RULES["no_progress"], interface="shafaf.projects.selectors.no_such_function")
    monkeypatch.setitem(rules.RULES, "no_progress", missing)
    monkeypatch.setitem(
        rules.RULES,
        "spending_after_end",
        dataclasses.replace(rules.RULES["spending_after_end"], interface="shafaf.no_such_app.selectors.x", app=""),
    )
    summary = services.alerts_raise(today=AFTER_END)
    assert {"no_progress", "spending_after_end"} <= set(summary.unavailable)
    assert not alerts_of(world.project_a, "no_progress").exists()
    assert not alerts_of(world.project_a, "spending_after_end").exists()


def fake_phases_past_end(project, today):
    return [{"id": 7, "name_ar": "الحفر", "planned_end": dt.date(2027, 3, 31)}] if today > dt.date(2027, 3, 31) else []


def fake_last_progress_at(project):
    return dt.date(2027, 1, 10)


def fake_expenditures_after(project, date):
    return [{"id": 1}, {"id": 2}]


@pytest.mark.parametrize(
    ("code", "function", "expected"),
    [
        (
            "phase_past_end",
            "fake_phases_past_end",
            {"phases": [{"id": 7, "name": "الحفر", "planned_end": "2027-03-31"}]},
        ),
        ("no_progress", "fake_last_progress_at", {"last_progress": "2027-01-10", "since": "2027-01-10", "days": 90}),
        ("spending_after_end", "fake_expenditures_after", {"planned_end": "2027-12-31", "expenditures": 2}),
    ],
)
def test_rules_use_their_interface_once_it_exists(world, monkeypatch, code, function, expected):
    project = licensed(world.project_a)
    rule = dataclasses.replace(rules.RULES[code], interface=f"{__name__}.{function}", app="")
    monkeypatch.setitem(rules.RULES, code, rule)
    summary = services.alerts_raise(today=TODAY)
    assert code not in summary.unavailable
    alert = alerts_of(project, code).get()
    assert alert.facts == expected
    assert alert.message_ar and alert.message_en


def test_no_progress_does_not_raise_with_recent_progress(world, monkeypatch):
    project = licensed(world.project_a)
    rule = dataclasses.replace(rules.RULES["no_progress"], interface=f"{__name__}.fake_last_progress_at", app="")
    monkeypatch.setitem(rules.RULES, "no_progress", rule)
    services.alerts_raise(today=dt.date(2027, 2, 1))
    assert not alerts_of(project, "no_progress").exists()


def test_months_before_keeps_to_the_month():
    assert rules.months_before(dt.date(2027, 8, 31), 6) == dt.date(2027, 2, 28)
    assert rules.months_before(dt.date(2027, 3, 15), 3) == dt.date(2026, 12, 15)


# --- raising: idempotence, auto-resolve, audit ---------------------------------------------------------------


def test_raising_twice_duplicates_nothing(world):
    project = licensed(world.project_a, status="approved", changed=dt.date(2026, 1, 1))
    first = services.alerts_raise(today=TODAY)
    second = services.alerts_raise(today=TODAY)
    assert first.raised == 1 and second.raised == 0
    assert second.per_rule["status_unchanged"]["standing"] == 1
    assert alerts_of(project).count() == 1
    events = AuditEvent.objects.filter(action="alert.raise")
    assert events.count() == 1
    assert events.get().subject_id == str(alerts_of(project).get().pk)


def test_an_alert_whose_condition_cleared_is_resolved(world):
    project = licensed(world.project_a, status="approved", changed=dt.date(2026, 1, 1))
    services.alerts_raise(today=TODAY)
    licensed(project, status="in_execution", changed=dt.date(2027, 5, 20))
    summary = services.alerts_raise(today=TODAY)
    alert = alerts_of(project).get()
    assert summary.resolved == 1 and alert.status == AlertStatus.RESOLVED and alert.resolved_at
    assert AuditEvent.objects.filter(action="alert.resolve", subject_id=str(alert.pk)).count() == 1
    # the condition comes back later: a new alert is raised beside the resolved one
    licensed(project, status="approved", changed=dt.date(2026, 1, 1))
    services.alerts_raise(today=TODAY)
    assert alerts_of(project).filter(status=AlertStatus.OPEN).count() == 1


def test_a_project_that_leaves_execution_has_its_alerts_resolved(world):
    project = licensed(world.project_a)
    services.alerts_raise(today=AFTER_END)
    assert alerts_of(project, "past_planned_end").get().status == AlertStatus.OPEN
    Project.objects.filter(pk=project.pk).update(status="completed")
    services.alerts_raise(today=AFTER_END)
    assert alerts_of(project, "past_planned_end").get().status == AlertStatus.RESOLVED


def test_an_acknowledged_alert_stays_until_resolved(world):
    project = licensed(world.project_a)
    services.alerts_raise(today=AFTER_END)
    alert = alerts_of(project, "past_planned_end").get()
    services.alert_acknowledge(actor=world.najat, alert=alert, comment="سنرفع طلب تمديد.")
    assert services.alerts_raise(today=AFTER_END).raised == 0
    assert alerts_of(project, "past_planned_end").get().status == AlertStatus.ACKNOWLEDGED


# --- acknowledging ---------------------------------------------------------------------------------------------


@pytest.fixture
def alert_a(world):
    licensed(world.project_a)
    services.alerts_raise(today=AFTER_END)
    return alerts_of(world.project_a, "past_planned_end").get()


def test_acknowledge_with_a_comment_is_recorded_and_audited(world, alert_a):
    alert = services.alert_acknowledge(actor=world.staff_a, alert=alert_a, comment="  طلبنا التمديد من الوزارة.  ")
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by == world.staff_a and alert.acknowledged_at
    assert alert.acknowledgement_comment == "طلبنا التمديد من الوزارة."
    event = AuditEvent.objects.get(action="alert.acknowledge")
    assert event.actor == world.staff_a and event.reason == "طلبنا التمديد من الوزارة."
    assert event.organization == world.charity_a


def test_acknowledge_without_a_comment_is_refused(world, alert_a):
    with pytest.raises(DomainError) as caught:
        services.alert_acknowledge(actor=world.najat, alert=alert_a, comment="   ")
    assert "comment" in caught.value.fields
    alert_a.refresh_from_db()
    assert alert_a.status == AlertStatus.OPEN
    assert not AuditEvent.objects.filter(action="alert.acknowledge").exists()


def test_acknowledge_twice_is_a_conflict(world, alert_a):
    services.alert_acknowledge(actor=world.najat, alert=alert_a, comment="تم.")
    with pytest.raises(Conflict):
        services.alert_acknowledge(actor=world.reviewer, alert=alert_a, comment="مرة أخرى.")


def test_who_may_acknowledge(world, alert_a):
    for user in (world.rahma, world.auditor, world.donor, world.partner_reporter):
        with pytest.raises(NotAllowed):
            services.alert_acknowledge(actor=user, alert=alert_a, comment="x")
    services.alert_acknowledge(actor=world.reviewer, alert=alert_a, comment="الوزارة اطلعت.")


def test_a_charity_cannot_acknowledge_the_ministrys_alert(world):
    project = licensed(world.project_a)
    nightly_run(project)
    services.alerts_raise(today=TODAY)
    alert = alerts_of(project, "overdue_rulebook").get()
    with pytest.raises(NotAllowed):
        services.alert_acknowledge(actor=world.najat, alert=alert, comment="x")
    assert api(world.najat).post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {"comment": "x"}).status_code == 403
    services.alert_acknowledge(actor=world.ministry_admin, alert=alert, comment="ستراجع الوزارة المشروع.")


# --- tenant isolation, pages, API ----------------------------------------------------------------------------


def test_rahma_never_sees_najats_alerts(world, alert_a, client):
    verified_login(client, world.rahma)
    assert client.post(f"/alerts/{alert_a.pk}/acknowledge/", {f"alert-{alert_a.pk}-comment": "x"}).status_code == 404
    page = client.get("/alerts/?status=all").content.decode()
    assert world.project_a.reference not in page
    rahma = api(world.rahma)
    assert rahma.get(f"/api/v1/alerts/{alert_a.pk}/").status_code == 404
    assert rahma.post(f"/api/v1/alerts/{alert_a.pk}/acknowledge/", {"comment": "x"}, format="json").status_code == 404
    assert rahma.get("/api/v1/alerts/").json()["count"] == 0
    alert_a.refresh_from_db()
    assert alert_a.status == AlertStatus.OPEN


def test_alert_page_lists_and_acknowledges(world, alert_a, client):
    verified_login(client, world.najat)
    page = client.get("/alerts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert world.project_a.reference in text and alert_a.message_ar in text
    assert f'action="/alerts/{alert_a.pk}/acknowledge/"' in text
    refused = client.post(f"/alerts/{alert_a.pk}/acknowledge/", {f"alert-{alert_a.pk}-comment": ""})
    assert refused.status_code == 400
    done = client.post(f"/alerts/{alert_a.pk}/acknowledge/", {f"alert-{alert_a.pk}-comment": "سننجز المشروع."})
    assert done.status_code == 302 and done["Location"] == "/alerts/"
    alert_a.refresh_from_db()
    assert alert_a.status == AlertStatus.ACKNOWLEDGED
    assert client.get(f"/alerts/{alert_a.pk}/acknowledge/").status_code == 405
    again = client.post(f"/alerts/{alert_a.pk}/acknowledge/", {f"alert-{alert_a.pk}-comment": "مرة أخرى."})
    assert again.status_code == 409


def test_alert_page_is_refused_to_those_without_alerts(world, client):
    for user in (world.donor, world.partner_reporter, world.accreditation_officer):
        verified_login(client, user)
        assert client.get("/alerts/").status_code == 403
        assert client.get("/compliance/").status_code == 403
        assert api(user).get("/api/v1/alerts/").status_code == 403
        assert api(user).get("/api/v1/compliance/").status_code == 403


@pytest.mark.usefixtures("no_progress_stands_aside")
def test_api_lists_and_acknowledges(world, alert_a):
    najat = api(world.najat)
    listed = najat.get("/api/v1/alerts/", {"status": "open"}).json()
    assert [item["id"] for item in listed["results"]] == [alert_a.pk]
    item = listed["results"][0]
    assert (
        item["rule"] == "past_planned_end" and item["can_acknowledge"] is True and item["owner"] == world.charity_a.pk
    )
    refused = najat.post(f"/api/v1/alerts/{alert_a.pk}/acknowledge/", {"comment": ""}, format="json")
    assert refused.status_code == 400 and "comment" in refused.json()["error"]["fields"]
    done = najat.post(f"/api/v1/alerts/{alert_a.pk}/acknowledge/", {"comment": "تم الإنجاز."}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    assert done.json()["acknowledged_by"] == "najat"
    auditor = api(world.auditor)
    assert auditor.get("/api/v1/alerts/").json()["count"] == 1
    assert auditor.post(f"/api/v1/alerts/{alert_a.pk}/acknowledge/", {"comment": "x"}, format="json").status_code == 403


@pytest.mark.usefixtures("no_progress_stands_aside")
def test_home_shows_the_alerts_of_whoever_must_act(world, client):
    licensed(world.project_a)
    nightly_run(world.project_a)
    services.alerts_raise(today=AFTER_END)  # past_planned_end (charity A) and overdue_rulebook (ministry)
    verified_login(client, world.najat)
    response = client.get("/")
    assert response.context["alerts_own_count"] == 1
    assert [a.rule for a in response.context["alerts_head"]] == ["past_planned_end"]
    assert 'data-testid="alert-count"' in response.content.decode()
    verified_login(client, world.reviewer)
    response = client.get("/")
    assert response.context["alerts_own_count"] == 1 and response.context["alerts_all_count"] == 2
    assert [a.rule for a in response.context["alerts_head"]] == ["overdue_rulebook"]
    verified_login(client, world.rahma)
    response = client.get("/")
    assert response.context["alerts_own_count"] == 0
    verified_login(client, world.donor)
    assert "alerts_card" not in client.get("/").context


# --- compliance ----------------------------------------------------------------------------------------------


def _charity_projects(world, count: int, failing: int) -> list[Project]:
    projects = [licensed(make_project(world.najat, world.charity_a, title_en=f"P{i}")) for i in range(count)]
    for index, project in enumerate(projects):
        nightly_run(project, failing=("dates_coherent",) if index < failing else ())
    return projects


@pytest.mark.parametrize(
    ("count", "failing", "expected"),
    [
        (4, 0, "committed"),
        (4, 1, "partially_compliant"),  # 25%: at the limit
        (5, 1, "partially_compliant"),
        (4, 2, "non_compliant"),
        (2, 1, "non_compliant"),
    ],
)
def test_compliance_classes(world, count, failing, expected):
    projects = _charity_projects(world, count, failing)
    result = selectors.compliance_of(world.charity_a)
    assert result.compliance_class == expected
    assert result.active_projects == result.checked_projects == count
    assert result.failing_projects == failing
    assert [r.reference for r in result.failing] == sorted(p.reference for p in projects[:failing])
    if failing:
        assert result.check_counts == {"dates_coherent": failing}
        assert result.failing[0].failed_checks[0]["code"] == "dates_coherent"


def test_compliance_uses_the_latest_run_and_lists_unchecked_projects(world):
    first, _second = _charity_projects(world, 2, 1)
    nightly_run(first, failing=())  # fixed since
    third = licensed(make_project(world.najat, world.charity_a, title_en="Never checked"))
    nightly_run(world.project_a)  # a draft: not active, not counted
    result = selectors.compliance_of(world.charity_a)
    assert result.compliance_class == "committed"
    assert result.checked_projects == 2 and result.active_projects == 3
    assert [r.reference for r in result.unchecked] == [third.reference]
    assert selectors.compliance_of(world.charity_b).compliance_class == "committed"


def test_compliance_page_and_api_show_each_what_it_may_see(world, client):
    _charity_projects(world, 2, 2)
    verified_login(client, world.najat)
    page = client.get("/compliance/")
    assert page.status_code == 200
    assert [row.charity for row in page.context["rows"]] == [world.charity_a]
    assert "dates_coherent" in page.content.decode()
    verified_login(client, world.reviewer)
    rows = client.get("/compliance/").context["rows"]
    assert {row.charity for row in rows} == {world.charity_a, world.charity_b}
    data = api(world.rahma).get("/api/v1/compliance/").json()
    assert [row["charity"] for row in data] == [world.charity_b.pk]
    assert data[0]["compliance_class"] == "committed"
    data = {row["charity"]: row for row in api(world.auditor).get("/api/v1/compliance/").json()}
    assert data[world.charity_a.pk]["compliance_class"] == "non_compliant"
    assert data[world.charity_a.pk]["failing_projects"] == 2
    assert data[world.charity_a.pk]["failing"][0]["failed_checks"][0]["code"] == "dates_coherent"
    verified_login(client, world.najat)
    home = client.get("/").content.decode()
    assert 'data-testid="home-compliance"' in home


# --- command and task ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_progress_stands_aside")
def test_command_prints_a_summary(world):
    licensed(world.project_a)
    out = StringIO()
    call_command("raise_alerts", "--today", "2028-02-01", stdout=out)
    text = out.getvalue()
    assert "1 raised, 0 resolved" in text
    assert "past_planned_end: 1 raised" in text
    if "spending_after_end" not in {c for c, r in rules.RULES.items() if r.available}:
        assert "spending_after_end: not available" in text
    assert Alert.objects.count() == 1


def test_task_raises_alerts(world):
    licensed(world.project_a, status="approved", changed=dt.date(2020, 1, 1))
    result = alerts_raise_nightly.enqueue()
    assert result.return_value["raised"] >= 1
    assert alerts_of(world.project_a, "status_unchanged").exists()
