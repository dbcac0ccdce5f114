"""Donors are told when a project they fund publishes a report, completes a phase or revises its budget: one
notification per donor account and event, an e-mail after commit to those who agreed to be contacted, nothing to
anyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone, translation

from shafaf.donations import notifications, services
from shafaf.donations.models import Channel, Notification, NotificationKind, Purpose
from shafaf.finance.tests.helpers import license_project
from shafaf.projects import services as project_services
from tests.factories import approved_bank_account, budget, donor_account, donor_of, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    with translation.override("en"):
        budget(world, world.project_a)
        project = license_project(world)
        account = approved_bank_account(world)
        donor = donor_of(world, consent_to_contact=True, email="donor@example.org")
    return world, project, account, donor


def give(world, account, donor, project, amount="10.000"):
    with translation.override("en"):
        return services.donation_record(
            actor=world.najat,
            charity=world.charity_a,
            donor=donor,
            amount=amount,
            currency="KWD",
            received_at=timezone.now() - dt.timedelta(hours=1),
            channel=Channel.CARD,
            bank_account=account,
            purpose=Purpose.PROJECT,
            project=project,
        )


def accepted_report(world, project, django_capture_on_commit_callbacks):
    from shafaf.reports import services as report_services

    with translation.override("en"):
        report = report_services.report_create(actor=world.najat, project=project, narrative_en="Progress.")
        report = report_services.report_submit(actor=world.najat, report=report)
        with django_capture_on_commit_callbacks(execute=True):
            return report_services.report_accept(actor=world.reviewer, report=report)


def test_an_accepted_report_reaches_each_donor_once_with_an_email(setup, django_capture_on_commit_callbacks):
    world, project, account, donor = setup
    give(world, account, donor, project)
    give(world, account, donor, project, amount="5.000")  # two donations, one account: one notification
    quiet = donor_account(world, "quiet_donor")
    with translation.override("en"):
        donor_of(world, user=quiet, name_ar="متبرع صامت", name_en="Quiet donor", consent_to_contact=False)
    give(world, account, quiet.donor_records.get(), project)
    outsider = donor_account(world, "outsider")  # funds nothing of this project
    with translation.override("en"):
        other_project = license_project(world, _second_project(world))
        give(world, account, donor_of(world, user=outsider, name_ar="آخر", name_en="Other"), other_project)
    mail.outbox.clear()

    report = accepted_report(world, project, django_capture_on_commit_callbacks)

    rows = Notification.objects.filter(event_key=f"report:{report.pk}")
    assert sorted(rows.values_list("user__username", flat=True)) == ["donor", "quiet_donor"]
    assert all(row.kind == NotificationKind.REPORT and row.project_id == project.pk for row in rows)
    assert not Notification.objects.filter(user=outsider).exists()
    # Only the donor who agreed to be contacted gets an e-mail, after the commit, once.
    assert [message.to for message in mail.outbox] == [[world.donor.email]]
    assert project.title_en in mail.outbox[0].body and "/donor/projects/" in mail.outbox[0].body
    assert rows.get(user=world.donor).emailed_at is not None
    assert rows.get(user=quiet).emailed_at is None

    # Announced again: no second notification, no second e-mail.
    assert notifications.report_published(report=report) == []
    assert notifications.send_notification_emails(rows.values_list("pk", flat=True)) == 0
    assert rows.count() == 2 and len(mail.outbox) == 1


def test_no_email_before_the_transaction_commits(setup, django_capture_on_commit_callbacks):
    world, project, account, donor = setup
    give(world, account, donor, project)
    from shafaf.reports import services as report_services

    with translation.override("en"):
        report = report_services.report_create(actor=world.najat, project=project, narrative_en="Progress.")
        report = report_services.report_submit(actor=world.najat, report=report)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            report_services.report_accept(actor=world.reviewer, report=report)
    assert Notification.objects.filter(user=world.donor).count() == 1
    assert mail.outbox == []  # queued for the commit, not sent inside the transaction
    assert callbacks


def test_submitted_or_returned_reports_notify_nobody(setup):
    world, project, account, donor = setup
    give(world, account, donor, project)
    from shafaf.reports import services as report_services

    with translation.override("en"):
        report = report_services.report_create(actor=world.najat, project=project, narrative_en="Progress.")
        report = report_services.report_submit(actor=world.najat, report=report)
        report_services.report_return(actor=world.reviewer, report=report, comment="Add photos.")
    assert not Notification.objects.exists()


def test_a_completed_phase_notifies_once(setup, django_capture_on_commit_callbacks):
    world, project, account, donor = setup
    give(world, account, donor, project)
    with translation.override("en"):
        phase = project_services.phase_create(
            actor=world.najat,
            project=project,
            name_ar="الحفر",
            name_en="Drilling",
            planned_start=dt.date(2027, 1, 1),
            planned_end=dt.date(2027, 3, 31),
        )
        project_services.phase_progress_update(actor=world.najat, phase=phase, percent_complete=50)
        assert not Notification.objects.exists()  # progress, not completion
        with django_capture_on_commit_callbacks(execute=True):
            project_services.phase_progress_update(actor=world.najat, phase=phase, percent_complete=100)
        project_services.phase_progress_update(actor=world.najat, phase=phase, percent_complete=90)
        project_services.phase_progress_update(actor=world.najat, phase=phase, status="done")
    notes = Notification.objects.filter(user=world.donor, kind=NotificationKind.PHASE)
    assert notes.count() == 1
    assert "Drilling" in notes.get().title_en and "الحفر" in notes.get().title_ar
    assert len(mail.outbox) == 1


def test_a_budget_revision_notifies_but_the_original_does_not(setup, django_capture_on_commit_callbacks):
    world, project, account, donor = setup
    give(world, account, donor, project)
    assert not Notification.objects.exists()  # the original budget was entered before (no donors then anyway)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        version = budget(world, project, reason="Prices rose")
    note = Notification.objects.get(user=world.donor)
    assert note.kind == NotificationKind.BUDGET and note.event_key == f"budget:{version.pk}"
    assert len(mail.outbox) == 1


def test_a_project_without_donors_notifies_nobody(world):
    with translation.override("en"):
        budget(world, world.project_a)
        project = license_project(world)
        budget(world, project, reason="Revision")
    assert not Notification.objects.exists()


def test_donor_of_another_charity_is_not_notified(setup, django_capture_on_commit_callbacks):
    world, project, account, donor = setup
    stranger = donor_account(world, "b_donor")
    with translation.override("en"):
        donor_of(world, world.charity_b, user=stranger, name_ar="متبرع ب", name_en="B donor", consent_to_contact=True)
    give(world, account, donor, project)
    accepted_report(world, project, django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(user=stranger).exists()
    assert all(message.to != [stranger.email] for message in mail.outbox)


def _second_project(world):
    return make_project(world.najat, world.charity_a, title_en="Second project", implementing_partner=world.partner)
