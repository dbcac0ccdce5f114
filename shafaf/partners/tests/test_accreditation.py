"""Accreditations: recording, suspending, reinstating, revoking, documents, the nightly expiry."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.partners import gate, services, tasks
from shafaf.partners.choices import AccreditationStatus
from shafaf.partners.models import Accreditation, AccreditationDocument
from tests.factories import OrganizationFactory, pdf_upload

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def partner(world):
    return OrganizationFactory(kind="partner", slug="fresh", name_ar="شريك جديد", name_en="Fresh Partner", country="YE")


def record(actor, partner, authority="MOFA", **overrides):
    values = {
        "number": f"{authority}-2026-001",
        "valid_from": TODAY - dt.timedelta(days=30),
        "valid_until": TODAY + dt.timedelta(days=365),
    }
    values.update(overrides)
    return services.accreditation_record(actor=actor, partner=partner, authority=authority, **values)


def test_record_by_an_officer_of_the_ministry(world, partner):
    accreditation = record(
        world.accreditation_officer,
        partner,
        countries=["ye", "SD"],
        project_models=["construction_external"],
        documents=[("Decision", pdf_upload())],
    )
    assert accreditation.status == AccreditationStatus.ACTIVE
    assert accreditation.countries == ["SD", "YE"]
    assert accreditation.recorded_by == world.accreditation_officer
    assert accreditation.status_changed_at is not None
    document = AccreditationDocument.objects.get(accreditation=accreditation)
    assert document.content_type == "application/pdf" and len(document.sha256) == 64
    assert AuditEvent.objects.filter(action="accreditation.record", subject_id=str(accreditation.pk)).exists()
    assert AuditEvent.objects.filter(action="accreditation.document_add", subject_id=str(document.pk)).exists()


def test_both_ministries_make_the_partner_accredited(world, partner):
    assert not gate.partner_gate_status(partner, on_date=TODAY).accredited
    record(world.accreditation_officer, partner, "MOFA")
    status = gate.partner_gate_status(partner, on_date=TODAY)
    assert not status.accredited and [p.authority for p in status.problems] == ["MOSA"]
    record(world.mosa_officer, partner, "MOSA")
    assert gate.partner_gate_status(partner, on_date=TODAY).accredited


def test_an_officer_of_one_ministry_cannot_touch_the_other_ministrys(world, partner):
    with pytest.raises(NotAllowed):
        record(world.mosa_officer, partner, "MOFA")
    mofa = record(world.accreditation_officer, partner, "MOFA")
    for change in (
        lambda: services.accreditation_suspend(actor=world.mosa_officer, accreditation=mofa, reason="x"),
        lambda: services.accreditation_revoke(actor=world.mosa_officer, accreditation=mofa, reason="x"),
        lambda: services.accreditation_reinstate(actor=world.mosa_officer, accreditation=mofa, reason="x"),
        lambda: services.accreditation_document_add(actor=world.mosa_officer, accreditation=mofa, file=pdf_upload()),
    ):
        with pytest.raises(NotAllowed):
            change()
    mofa.refresh_from_db()
    assert mofa.status == AccreditationStatus.ACTIVE


@pytest.mark.parametrize("persona", ["ministry_admin", "reviewer", "najat", "auditor", "partner_reporter"])
def test_only_accreditation_officers_record(world, partner, persona):
    with pytest.raises(NotAllowed):
        record(getattr(world, persona), partner, "MOSA")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": " "}, "number"),
        ({"valid_until": TODAY - dt.timedelta(days=31)}, "valid_until"),
        ({"countries": ["SD", "XX"]}, "countries"),
        ({"project_models": ["pyramids"]}, "project_models"),
        ({"documents": [pdf_upload("evil.pdf", b"MZ\x90\x00 not a pdf")]}, "documents"),
    ],
)
def test_record_refuses_bad_input(world, partner, overrides, field):
    with pytest.raises(DomainError) as caught:
        record(world.accreditation_officer, partner, **overrides)
    assert field in caught.value.fields
    assert not Accreditation.objects.filter(partner=partner).exists()


def test_a_word_file_is_not_an_accreditation_document(world, partner):
    import io
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
    docx = SimpleUploadedFile("decision.docx", buffer.getvalue())
    with pytest.raises(DomainError) as caught:
        record(world.accreditation_officer, partner, documents=[docx])
    assert "documents" in caught.value.fields


def test_the_number_is_unique_per_ministry(world, partner):
    record(world.accreditation_officer, partner, number="A-1")
    with pytest.raises(DomainError) as caught:
        record(world.accreditation_officer, partner, number="A-1")
    assert caught.value.code == "duplicate" and "number" in caught.value.fields
    record(world.mosa_officer, partner, "MOSA", number="A-1")  # the other ministry's numbering


def test_suspend_reinstate_revoke(world, partner):
    accreditation = record(world.accreditation_officer, partner)
    with pytest.raises(DomainError) as caught:
        services.accreditation_suspend(actor=world.accreditation_officer, accreditation=accreditation, reason=" ")
    assert "reason" in caught.value.fields
    with pytest.raises(DomainError) as caught:
        services.accreditation_suspend(
            actor=world.accreditation_officer,
            accreditation=accreditation,
            reason="Audit findings",
            suspended_on=TODAY,
            settlement_deadline=TODAY - dt.timedelta(days=1),
        )
    assert "settlement_deadline" in caught.value.fields
    accreditation = services.accreditation_suspend(
        actor=world.accreditation_officer,
        accreditation=accreditation,
        reason="Audit findings",
        settlement_deadline=TODAY + dt.timedelta(days=60),
    )
    assert accreditation.status == AccreditationStatus.SUSPENDED
    assert accreditation.suspended_on == TODAY
    assert accreditation.status_reason == "Audit findings"
    event = AuditEvent.objects.get(action="accreditation.suspend")
    assert event.changes["status"] == ["active", "suspended"] and event.reason == "Audit findings"
    with pytest.raises(Conflict):
        services.accreditation_suspend(actor=world.accreditation_officer, accreditation=accreditation, reason="again")
    # the ministry admin (not an officer of MoFA) moves the settlement deadline, but does not reinstate
    accreditation = services.accreditation_set_settlement_deadline(
        actor=world.ministry_admin, accreditation=accreditation, deadline=TODAY + dt.timedelta(days=90)
    )
    assert accreditation.settlement_deadline == TODAY + dt.timedelta(days=90)
    assert AuditEvent.objects.filter(action="accreditation.set_settlement_deadline").exists()
    with pytest.raises(NotAllowed):
        services.accreditation_set_settlement_deadline(
            actor=world.najat, accreditation=accreditation, deadline=TODAY + dt.timedelta(days=1)
        )
    with pytest.raises(NotAllowed):
        services.accreditation_reinstate(actor=world.ministry_admin, accreditation=accreditation, reason="ok")
    accreditation = services.accreditation_reinstate(
        actor=world.accreditation_officer, accreditation=accreditation, reason="Findings resolved"
    )
    assert accreditation.status == AccreditationStatus.ACTIVE
    assert accreditation.suspended_on is None and accreditation.settlement_deadline is None
    with pytest.raises(Conflict):
        services.accreditation_reinstate(actor=world.accreditation_officer, accreditation=accreditation, reason="x")
    with pytest.raises(Conflict):
        services.accreditation_set_settlement_deadline(
            actor=world.ministry_admin, accreditation=accreditation, deadline=TODAY
        )
    with pytest.raises(DomainError) as caught:
        services.accreditation_revoke(actor=world.accreditation_officer, accreditation=accreditation, reason="")
    assert caught.value.code == "reason_required"
    accreditation = services.accreditation_revoke(
        actor=world.accreditation_officer, accreditation=accreditation, reason="Fraud"
    )
    assert accreditation.status == AccreditationStatus.REVOKED
    with pytest.raises(Conflict) as caught:
        services.accreditation_revoke(actor=world.accreditation_officer, accreditation=accreditation, reason="again")
    assert caught.value.code == "already_revoked"
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "accreditation.reinstate",
        "accreditation.revoke",
    }


def test_a_suspended_accreditation_is_not_accredited(world, partner):
    mofa = record(world.accreditation_officer, partner, "MOFA")
    record(world.mosa_officer, partner, "MOSA")
    services.accreditation_suspend(actor=world.accreditation_officer, accreditation=mofa, reason="Inquiry")
    status = gate.partner_gate_status(partner, on_date=TODAY)
    assert not status.accredited and status.suspended


def test_expiry_makes_a_lapsed_accreditation_expired(world, partner):
    yesterday = TODAY - dt.timedelta(days=1)
    mofa = record(world.accreditation_officer, partner, "MOFA", valid_until=yesterday)
    mosa = record(world.mosa_officer, partner, "MOSA")
    assert mofa.status == AccreditationStatus.ACTIVE
    expired = services.accreditations_expire()
    assert [a.pk for a in expired] == [mofa.pk]
    mofa.refresh_from_db()
    mosa.refresh_from_db()
    assert mofa.status == AccreditationStatus.EXPIRED and mofa.status_changed_at is not None
    assert mosa.status == AccreditationStatus.ACTIVE
    event = AuditEvent.objects.get(action="accreditation.expire")
    assert event.actor is None and event.changes["status"] == ["active", "expired"]
    status = gate.partner_gate_status(partner, on_date=TODAY)
    assert not status.accredited
    assert [problem.code for problem in status.problems] == ["lapsed"]
    assert services.accreditations_expire() == []  # idempotent


def test_the_nightly_task_raises_the_alerts_of_the_partners_projects(world):
    mofa = Accreditation.objects.get(partner=world.partner, authority="MOFA")
    Accreditation.objects.filter(pk=mofa.pk).update(valid_until=TODAY - dt.timedelta(days=1))
    with mock.patch("shafaf.projects.oversight.services.alerts_raise") as alerts_raise:
        alerts_raise.return_value.as_dict.return_value = {"raised": 1, "resolved": 0}
        result = tasks.accreditations_expire_nightly.enqueue()
    summary = result.return_value
    assert summary["expired"] == [mofa.pk]
    assert summary["projects"] == [world.project_a.pk]
    assert alerts_raise.call_args.kwargs["project_ids"] == [world.project_a.pk]


def test_the_nightly_task_runs_with_the_real_alert_rules(world):
    Accreditation.objects.filter(partner=world.partner, authority="MOSA").update(
        valid_until=TODAY - dt.timedelta(days=1)
    )
    summary = tasks.accreditations_expire_nightly.enqueue().return_value
    assert summary["partners"] == [world.partner.pk]
    assert summary["alerts"] is not None


def test_the_expire_command_prints_what_it_did(world):
    Accreditation.objects.filter(partner=world.partner, authority="MOSA").update(
        valid_until=TODAY - dt.timedelta(days=1)
    )
    out = StringIO()
    call_command("expire_accreditations", stdout=out)
    text = out.getvalue()
    assert "1 expired" in text and "MOSA" in text
    out = StringIO()
    call_command("expire_accreditations", stdout=out)
    assert "0 expired" in out.getvalue()
