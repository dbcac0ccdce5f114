"""Progress reports: the schedule set at approval, reports due and overdue, the rulebook check and the
no_progress alert they feed, the submit / accept / return flow, tenant rules, pages and API."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.projects import selectors as project_selectors
from shafaf.projects import services as project_services
from shafaf.projects.models import Project
from shafaf.projects.oversight import rules
from shafaf.projects.oversight import services as oversight_services
from shafaf.projects.oversight.models import Alert
from shafaf.projects.rulebook import checks
from shafaf.projects.rulebook.checks import Context
from shafaf.reports import selectors, services
from shafaf.reports.models import ProgressReport, ReportSchedule, add_months
from tests.factories import make_project, pdf_upload, verified_login

pytestmark = pytest.mark.django_db

LICENSED_ON = dt.date(2027, 1, 1)  # the factories' projects run from 2027-01-01 to 2027-12-31


def approved(world) -> Project:
    """Charity A's project, approved through the workflow (the rulebook stands aside)."""
    project = make_project(world.najat, world.charity_a, implementing_partner=world.partner)
    with mock.patch.object(project_services, "_run_rulebook", return_value=[]), translation.override("en"):
        project = project_services.project_transition(actor=world.najat, project=project, action="submit")
        project = project_services.project_transition(actor=world.reviewer, project=project, action="start-review")
        project = project_services.project_transition(actor=world.reviewer, project=project, action="approve")
    return project


def licensed(project, status="in_execution", on: dt.date = LICENSED_ON) -> Project:
    """The project as if licensed on `on`, with its quarterly schedule."""
    at = timezone.make_aware(dt.datetime.combine(on, dt.time(9)))
    Project.objects.filter(pk=project.pk).update(
        status=status, licence_number=f"MOSA-T-{project.pk}", licence_date=on, status_changed_at=at
    )
    project.refresh_from_db()
    services.schedule_for_approval(project)
    return project


def events(report, action):
    return AuditEvent.objects.filter(subject_type="reports.progressreport", subject_id=str(report.pk), action=action)


@pytest.fixture
def project(world):
    return licensed(world.project_a)


@pytest.fixture
def report(world, project):
    return services.report_create(actor=world.najat, project=project, narrative_ar="تم حفر البئر.")


# --- the schedule ----------------------------------------------------------------------------------------


def test_approval_sets_a_quarterly_schedule(world):
    project = approved(world)
    schedule = ReportSchedule.objects.get(project=project)
    assert schedule.frequency_months == 3
    assert schedule.starts_on == project.licence_date
    assert schedule.first_due == add_months(project.licence_date, 3)
    assert AuditEvent.objects.filter(action="project.approve", subject_id=str(project.pk)).count() == 1


def test_schedule_periods_stop_at_the_planned_end(project):
    periods = project.report_schedule.periods()
    assert [p["period_start"] for p in periods] == [dt.date(2027, m, 1) for m in (1, 4, 7, 10)]
    assert periods[0]["period_end"] == dt.date(2027, 3, 31)
    assert periods[0]["due_date"] == dt.date(2027, 4, 1)
    assert periods[-1]["period_end"] == dt.date(2027, 12, 31)


def test_add_months_keeps_to_the_month_end():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 15), 3) == dt.date(2028, 2, 15)


# --- reports due and overdue ------------------------------------------------------------------------------


def test_reports_due_lists_passed_periods_without_a_submitted_report(world, project, report):
    assert selectors.reports_due(project, dt.date(2027, 4, 1)) == []  # due today is not late yet
    due = selectors.reports_due(project, dt.date(2027, 7, 15))
    assert [p["due_date"] for p in due] == [dt.date(2027, 4, 1), dt.date(2027, 7, 1)]
    services.report_submit(actor=world.najat, report=report)  # a draft does not count; a submitted one does
    assert [p["due_date"] for p in selectors.reports_due(project, dt.date(2027, 7, 15))] == [dt.date(2027, 7, 1)]


def test_a_returned_report_is_due_again(world, project, report):
    report = services.report_submit(actor=world.najat, report=report)
    services.report_return(actor=world.reviewer, report=report, comment="أضيفوا الصور.")
    assert len(selectors.reports_due(project, dt.date(2027, 5, 1))) == 1


def test_a_project_without_schedule_owes_nothing(world):
    assert selectors.reports_due(world.project_a, dt.date(2030, 1, 1)) == []


def test_overdue_reports_follow_what_the_user_sees(world, project):
    project_b = licensed(world.project_b)
    today = dt.date(2027, 5, 1)
    assert {row["project"].pk for row in selectors.overdue_reports(world.reviewer, today)} == {project.pk, project_b.pk}
    assert [row["project"].pk for row in selectors.overdue_reports(world.najat, today)] == [project.pk]
    assert selectors.overdue_reports(world.rahma, today)[0]["days_late"] == 30
    assert selectors.overdue_reports(world.donor, today) == []


# --- the rulebook and the alerts they feed ----------------------------------------------------------------


def _rulebook_check(project, today, grace=14):
    ctx = Context(stage="nightly", today=today, thresholds={"grace_days": grace})
    return checks.reports_not_overdue(project, ctx)


def test_rulebook_reports_not_overdue_is_real(world, project, report):
    assert checks.load_interface("shafaf.reports.selectors.reports_due", "shafaf.reports") is selectors.reports_due
    assert _rulebook_check(project, dt.date(2027, 4, 10)).passed  # within the grace days
    outcome = _rulebook_check(project, dt.date(2027, 4, 20))
    assert not outcome.passed
    assert outcome.facts["overdue"][0]["days_late"] == 19
    services.report_submit(actor=world.najat, report=report)
    assert _rulebook_check(project, dt.date(2027, 4, 20)).passed


def test_last_progress_at_is_fed_by_reports_and_phase_updates(world, project, report):
    assert project_selectors.last_progress_at(project) is None
    report = services.report_submit(actor=world.najat, report=report)
    assert project_selectors.last_progress_at(project) == report.submitted_at
    phase = project_services.phase_create(
        actor=world.najat,
        project=project,
        name_ar="الحفر",
        planned_start=dt.date(2027, 1, 1),
        planned_end=dt.date(2027, 3, 31),
    )
    project_services.phase_progress_update(actor=world.najat, phase=phase, percent_complete=30)
    last = AuditEvent.objects.filter(action="project.phase_progress").latest("seq").occurred_at
    assert project_selectors.last_progress_at(project) == last >= report.submitted_at


def test_no_progress_alert_is_now_fed(world, project):
    assert rules.RULES["no_progress"].available
    far = dt.date(2027, 6, 1)  # more than 90 days after the start without progress
    summary = oversight_services.alerts_raise(today=far, project_ids=[project.pk])
    assert "no_progress" not in summary.unavailable
    assert Alert.objects.filter(project=project, rule="no_progress").exists()


def test_no_progress_alert_not_raised_after_a_recent_report(world, project, report):
    services.report_submit(actor=world.najat, report=report)
    oversight_services.alerts_raise(today=timezone.localdate() + dt.timedelta(days=10), project_ids=[project.pk])
    assert not Alert.objects.filter(project=project, rule="no_progress").exists()


# --- the flow ---------------------------------------------------------------------------------------------


def test_create_takes_the_earliest_open_period_and_is_audited(world, project, report):
    assert (report.period_start, report.status) == (dt.date(2027, 1, 1), "draft")
    assert events(report, "report.create").count() == 1
    second = services.report_create(actor=world.staff_a, project=project, period_start=dt.date(2027, 7, 1))
    assert second.due_date == dt.date(2027, 10, 1)
    with pytest.raises(DomainError):
        services.report_create(actor=world.najat, project=project, period_start=dt.date(2027, 1, 1))  # taken


def test_only_a_licensed_project_of_ones_charity_gets_reports(world, project):
    draft = make_project(world.najat, world.charity_a)
    with pytest.raises(NotAllowed):
        services.report_create(actor=world.najat, project=draft)
    for user in (world.rahma, world.reviewer, world.auditor, world.partner_reporter):
        with pytest.raises(NotAllowed):
            services.report_create(actor=user, project=project)


def test_evidence_must_be_the_projects_documents(world, project, report):
    own = project_services.document_add(
        actor=world.najat, project=project, file=pdf_upload(), kind="site_photo", title="صورة"
    )
    other = project_services.document_add(
        actor=world.rahma, project=world.project_b, file=pdf_upload(), kind="licence_application", title="طلب"
    )
    report = services.report_update(actor=world.najat, report=report, evidence=[own.pk])
    assert list(report.evidence.all()) == [own]
    with pytest.raises(DomainError):
        services.report_update(actor=world.najat, report=report, evidence=[other.pk])
    assert events(report, "report.update").count() == 1


def test_submit_snapshots_phases_and_accept_is_ministry_only(world, project, report):
    phase = project_services.phase_create(
        actor=world.najat,
        project=project,
        name_ar="الحفر",
        planned_start=dt.date(2027, 1, 1),
        planned_end=dt.date(2027, 3, 31),
    )
    project_services.phase_progress_update(actor=world.najat, phase=phase, percent_complete=40)
    with pytest.raises(NotAllowed):
        services.report_submit(actor=world.reviewer, report=report)
    report = services.report_submit(actor=world.najat, report=report)
    assert report.status == "submitted" and report.submitted_by == world.najat
    assert report.phase_progress == {str(phase.pk): 40}
    assert events(report, "report.submit").count() == 1
    for user in (world.najat, world.auditor, world.partner_reporter):
        with pytest.raises(NotAllowed):
            services.report_accept(actor=user, report=report)
    with pytest.raises(NotAllowed):
        services.report_update(actor=world.najat, report=report, narrative_en="late change")
    report = services.report_accept(actor=world.reviewer, report=report)
    assert (report.status, report.reviewed_by) == ("accepted", world.reviewer)
    assert events(report, "report.accept").count() == 1
    with pytest.raises(Conflict):
        services.report_return(actor=world.reviewer, report=report, comment="x")


def test_return_needs_a_comment_and_goes_back_to_the_charity(world, report):
    with pytest.raises(DomainError):
        services.report_submit(
            actor=world.najat, report=services.report_update(actor=world.najat, report=report, narrative_ar="")
        )  # nothing to say: refused
    report = services.report_update(actor=world.najat, report=report, narrative_en="Drilled.")
    report = services.report_submit(actor=world.najat, report=report)
    with pytest.raises(DomainError) as refused:
        services.report_return(actor=world.reviewer, report=report, comment="  ")
    assert refused.value.code == "comment_required"
    report = services.report_return(actor=world.reviewer, report=report, comment="أرفقوا الشواهد.")
    assert report.status == "returned"
    event = events(report, "report.return").get()
    assert event.reason == "أرفقوا الشواهد."
    report = services.report_update(actor=world.staff_a, report=report, narrative_en="Drilled, with photos.")
    report = services.report_submit(actor=world.staff_a, report=report)
    assert report.status == "submitted" and report.review_comment == ""


# --- pages and API ----------------------------------------------------------------------------------------


def _page(client, user):
    verified_login(client, user)
    return client


def test_pages_follow_the_tenant_rules(client, world, project, report):
    list_url = f"/projects/{project.pk}/reports/"
    detail_url = f"/projects/{project.pk}/reports/{report.pk}/"
    for user, expected in (
        (world.najat, 200),
        (world.reviewer, 200),
        (world.auditor, 200),
        (world.partner_reporter, 200),
        (world.rahma, 404),
        (world.donor, 404),
    ):
        c = _page(client.__class__(), user)
        assert c.get(list_url).status_code == expected, user
        assert c.get(detail_url).status_code == expected, user
    c = _page(client.__class__(), world.najat)
    page = c.get(f"/projects/{project.pk}/").content.decode()
    assert list_url in page
    assert c.get(f"/projects/{project.pk}/reports/new/").status_code == 200
    assert _page(client.__class__(), world.auditor).get(f"/projects/{project.pk}/reports/new/").status_code == 403


def test_pages_create_submit_and_return(client, world, project):
    c = _page(client, world.najat)
    response = c.post(
        f"/projects/{project.pk}/reports/new/", {"period_start": "2027-04-01", "narrative_ar": "تقدم جيد."}
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get(project=project)
    assert report.period_start == dt.date(2027, 4, 1)
    base = f"/projects/{project.pk}/reports/{report.pk}/"
    assert c.post(base + "edit/", {"narrative_ar": "تقدم جيد جداً."}).status_code == 302
    assert c.post(base + "accept/").status_code == 403
    assert c.post(base + "submit/").status_code == 302
    reviewer = _page(client.__class__(), world.reviewer)
    assert reviewer.post(base + "return/", {"comment": ""}).status_code == 400
    assert reviewer.post(base + "return/", {"comment": "ناقص."}).status_code == 302
    report.refresh_from_db()
    assert report.status == "returned"
    assert _page(client.__class__(), world.auditor).post(base + "submit/").status_code == 403


def test_ministry_home_counts_overdue_reports(client, world, project):
    page = _page(client, world.reviewer).get("/").content.decode()
    assert 'data-testid="overdue-report-count"' in page


def _api(user) -> APIClient:
    client = APIClient()
    verified_login(client, user)
    return client


def test_api_flow_and_statuses(world, project):
    najat = _api(world.najat)
    response = najat.post("/api/v1/reports/", {"project": project.pk, "narrative_en": "Wells."}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    # Another charity's project in the body is a field error that does not say whether the project exists.
    foreign = _api(world.rahma).post("/api/v1/reports/", {"project": project.pk}, format="json")
    assert foreign.status_code == 400 and "project" in foreign.json()["error"]["fields"]
    assert not ProgressReport.objects.filter(project=project, submitted_by=world.rahma).exists()
    assert _api(world.auditor).post("/api/v1/reports/", {"project": project.pk}, format="json").status_code == 403
    assert najat.patch(f"/api/v1/reports/{pk}/", {"narrative_ar": "آبار."}, format="json").status_code == 200
    assert _api(world.rahma).get(f"/api/v1/reports/{pk}/").status_code == 404
    assert _api(world.partner_reporter).get(f"/api/v1/reports/{pk}/").status_code == 200
    assert _api(world.auditor).get("/api/v1/reports/").json()["count"] == 1
    assert _api(world.rahma).get("/api/v1/reports/").json()["count"] == 0
    assert _api(world.reviewer).post(f"/api/v1/reports/{pk}/accept/", {}, format="json").status_code == 409
    assert najat.post(f"/api/v1/reports/{pk}/submit/", {}, format="json").status_code == 200
    assert najat.patch(f"/api/v1/reports/{pk}/", {"narrative_ar": "x"}, format="json").status_code == 403
    assert najat.post(f"/api/v1/reports/{pk}/accept/", {}, format="json").status_code == 403
    reviewer = _api(world.reviewer)
    response = reviewer.post(f"/api/v1/reports/{pk}/return/", {"comment": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "comment_required"
    assert reviewer.post(f"/api/v1/reports/{pk}/accept/", {"comment": "Good."}, format="json").status_code == 200
    assert ProgressReport.objects.get(pk=pk).status == "accepted"
