"""Phases, milestones, progress and documents (evidence) of a project: weighted progress, constraints,
who may plan, report and upload, upload checks, downloads, audit events and the documents_present check."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.projects import selectors, services
from shafaf.projects.choices import REQUIRED_DOCUMENTS, DocumentKind, PhaseStatus, ProjectModel
from shafaf.projects.models import Project, ProjectDocument, ProjectPhase
from shafaf.projects.rulebook import engine
from tests.factories import PDF_BYTES, attach_required_documents, pdf_upload, verified_login

pytestmark = pytest.mark.django_db

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def in_execution(project: Project) -> Project:
    Project.objects.filter(pk=project.pk).update(
        status="in_execution", licence_number=f"MOSA-2026-{project.pk:06d}", licence_date=dt.date(2026, 12, 1)
    )
    project.refresh_from_db()
    return project


def phase(project, actor, **overrides):
    data = {"name_ar": "حفر البئر", "planned_start": dt.date(2027, 1, 1), "planned_end": dt.date(2027, 3, 31)}
    data.update(overrides)
    return services.phase_create(actor=actor, project=project, **data)


def api(user):
    client = APIClient()
    verified_login(client, user)
    return client


# --- weighted progress ----------------------------------------------------------------------------------


def test_progress_is_zero_without_phases(world):
    assert services.project_progress(world.project_a) == Decimal("0.0")


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([(1, 0)], "0.0"),
        ([(1, 100)], "100.0"),
        ([(1, 50), (1, 100)], "75.0"),
        ([(3, 100), (1, 0)], "75.0"),
        ([(1, 10), (1, 20), (1, 25)], "18.3"),  # 55 / 3 = 18.333...
        ([(2, 33), (1, 34)], "33.3"),
        ([(0, 100), (1, 40)], "40.0"),  # a milestone of weight 0 does not count
        ([(0, 100)], "0.0"),
    ],
)
def test_progress_is_the_weighted_average(world, phases, expected):
    for index, (weight, percent) in enumerate(phases):
        created = phase(world.project_a, world.najat, name_ar=f"مرحلة {index}", weight=weight, is_milestone=weight == 0)
        services.phase_progress_update(actor=world.najat, phase=created, percent_complete=percent)
    result = services.project_progress(world.project_a)
    assert result == Decimal(expected) and isinstance(result, Decimal)
    assert Decimal(0) <= result <= Decimal(100)


def test_status_follows_the_percentage(world):
    created = phase(world.project_a, world.najat)
    assert services.phase_progress_update(actor=world.najat, phase=created, percent_complete=40).status == "in_progress"
    assert services.phase_progress_update(actor=world.najat, phase=created, status="done").percent_complete == 100
    with pytest.raises(DomainError) as error:
        services.phase_progress_update(actor=world.najat, phase=created, percent_complete=50, status="done")
    assert "percent_complete" in error.value.fields


# --- constraints ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("percent", [-1, 101])
def test_database_refuses_a_percentage_outside_0_100(world, percent):
    created = phase(world.project_a, world.najat)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectPhase.objects.filter(pk=created.pk).update(percent_complete=percent, status="in_progress")


def test_database_refuses_a_weightless_phase_that_is_not_a_milestone(world):
    created = phase(world.project_a, world.najat)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectPhase.objects.filter(pk=created.pk).update(weight=0)
    with pytest.raises(DomainError) as error:
        phase(world.project_a, world.najat, weight=0)
    assert "weight" in error.value.fields
    assert phase(world.project_a, world.najat, weight=0, is_milestone=True).weight == 0


def test_phase_dates_lie_within_the_project(world):
    with pytest.raises(DomainError) as error:
        phase(world.project_a, world.najat, planned_start=dt.date(2026, 12, 1), planned_end=dt.date(2028, 1, 1))
    assert set(error.value.fields) >= {"planned_start", "planned_end"}
    assert not ProjectPhase.objects.exists()


# --- who may plan, report, upload -------------------------------------------------------------------------


def test_only_the_owner_plans_phases(world):
    for user in (world.rahma, world.reviewer, world.auditor, world.partner_reporter):
        with pytest.raises(NotAllowed):
            phase(world.project_a, user)
    project = in_execution(world.project_a)
    with pytest.raises(NotAllowed):
        phase(project, world.partner_reporter)
    Project.objects.filter(pk=project.pk).update(status="closed")
    project.refresh_from_db()
    with pytest.raises(NotAllowed):
        phase(project, world.najat)


def test_partner_reports_progress_and_evidence_on_its_own_projects_in_execution(world):
    created = phase(world.project_a, world.najat)
    with pytest.raises(NotAllowed):  # a draft: not yet in execution
        services.phase_progress_update(actor=world.partner_reporter, phase=created, percent_complete=10)
    in_execution(world.project_a)
    created.refresh_from_db()
    updated = services.phase_progress_update(actor=world.partner_reporter, phase=created, percent_complete=30)
    assert updated.percent_complete == 30
    with pytest.raises(NotAllowed):
        services.phase_update(actor=world.partner_reporter, phase=created, weight=5)
    document = services.document_add(
        actor=world.partner_reporter,
        project=world.project_a,
        file=SimpleUploadedFile("site.png", PNG_BYTES),
        kind=DocumentKind.SITE_PHOTO,
        title="البئر بعد الحفر",
        taken_on=dt.date(2027, 2, 1),
        place="قرية النور",
        latitude=Decimal("15.5"),
        longitude=Decimal("32.5"),
        phase=created,
    )
    assert document.uploaded_by == world.partner_reporter and document.content_type == "image/png"
    with pytest.raises(NotAllowed):  # not evidence
        services.document_add(
            actor=world.partner_reporter,
            project=world.project_a,
            file=pdf_upload(),
            kind=DocumentKind.PARTNER_AGREEMENT,
            title="x",
        )
    in_execution(world.project_b)  # implemented by no partner of theirs
    with pytest.raises(NotAllowed):
        services.document_add(
            actor=world.partner_reporter, project=world.project_b, file=pdf_upload(), kind="site_photo", title="x"
        )


def test_partner_cannot_reach_another_project_through_the_api(world, tmp_path):
    in_execution(world.project_b)
    partner = api(world.partner_reporter)
    url = f"/api/v1/projects/{world.project_b.pk}/documents/"
    response = partner.post(url, {"kind": "site_photo", "title": "x", "file": pdf_upload()}, format="multipart")
    assert response.status_code == 404
    assert api(world.rahma).get(f"/api/v1/projects/{world.project_a.pk}/phases/").status_code == 404
    assert api(world.staff_b).post(f"/api/v1/projects/{world.project_a.pk}/phases/", {}).status_code == 404
    assert not ProjectDocument.objects.exists()


def test_api_phases_and_progress(world):
    client = api(world.najat)
    url = f"/api/v1/projects/{world.project_a.pk}/phases/"
    body = {"name_en": "Drilling", "planned_start": "2027-01-01", "planned_end": "2027-02-28", "weight": 3}
    response = client.post(url, body, format="json")
    assert response.status_code == 201, response.content
    phase_id = response.json()["id"]
    assert client.get(url).json()[0]["name_en"] == "Drilling"
    assert client.patch(f"/api/v1/phases/{phase_id}/", {"percent_complete": 60}, format="json").json()["status"] == (
        "in_progress"
    )
    assert api(world.partner_reporter).patch(f"/api/v1/phases/{phase_id}/", {"percent_complete": 1}).status_code == 404
    in_execution(world.project_a)
    partner = api(world.partner_reporter)
    assert partner.patch(f"/api/v1/phases/{phase_id}/", {"percent_complete": 70}, format="json").status_code == 200
    assert partner.patch(f"/api/v1/phases/{phase_id}/", {"weight": 9}, format="json").status_code == 403
    assert ProjectPhase.objects.get(pk=phase_id).weight == 3


# --- uploads ------------------------------------------------------------------------------------------


def _upload(client, project, **overrides):
    body = {"document-kind": "licence_application", "document-title": "طلب الترخيص", "document-file": pdf_upload()}
    body.update(overrides)
    return client.post(f"/projects/{project.pk}/documents/new/", body)


def test_upload_stores_the_sha256_and_an_audit_event(world, client):
    verified_login(client, world.staff_a)
    response = _upload(client, world.project_a)
    assert response.status_code == 302
    document = ProjectDocument.objects.get()
    assert document.sha256 == hashlib.sha256(PDF_BYTES).hexdigest() and document.size == len(PDF_BYTES)
    assert document.file.name.startswith(f"projects/{world.project_a.pk}/")
    event = AuditEvent.objects.get(action="project.document_add")
    assert event.changes["sha256"] == [None, document.sha256]
    assert event.organization_id == world.charity_a.pk and event.actor == world.staff_a
    page = client.get(f"/projects/{world.project_a.pk}/").content.decode()
    assert document.sha256[:12] in page and "طلب الترخيص" in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.pdf", b"MZ\x90\x00 not a pdf at all", "not accepted"),
        ("photo.png", PDF_BYTES, "does not match"),
        ("script.exe", PDF_BYTES, "does not match"),
        ("empty.pdf", b"", ""),
    ],
)
def test_upload_of_a_wrong_type_is_refused_with_a_field_error(world, client, name, content, message):
    world.najat.language = "en"  # the messages in the language she reads
    world.najat.save(update_fields=["language"])
    verified_login(client, world.najat)
    response = _upload(client, world.project_a, **{"document-file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    errors = response.context["document_form"].errors
    assert "file" in errors and message in str(errors["file"])
    assert (
        not ProjectDocument.objects.exists() and not AuditEvent.objects.filter(action="project.document_add").exists()
    )


def test_upload_too_big_is_refused(world, monkeypatch):
    monkeypatch.setattr(services, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(DomainError) as error:
        services.document_add(
            actor=world.najat,
            project=world.project_a,
            file=pdf_upload(content=PDF_BYTES + b"0" * 200),
            kind="other",
            title="x",
        )
    assert "file" in error.value.fields
    assert not ProjectDocument.objects.exists()


def test_office_files_are_recognised_by_their_content(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    upload = SimpleUploadedFile("budget.xlsx", buffer.getvalue())
    document = services.document_add(actor=world.najat, project=world.project_a, file=upload, kind="invoice", title="x")
    assert document.content_type.endswith("spreadsheetml.sheet")
    with pytest.raises(DomainError):
        services.document_add(
            actor=world.najat,
            project=world.project_a,
            file=SimpleUploadedFile("a.docx", buffer.getvalue()),
            kind="other",
            title="x",
        )


# --- downloads ------------------------------------------------------------------------------------------


def test_download_checks_who_may_see_the_project(world, client):
    (document, *_rest) = attach_required_documents(world.project_a, world.najat)
    url = f"/projects/{world.project_a.pk}/documents/{document.pk}/download/"
    for user, expected in (
        (world.najat, 200),
        (world.reviewer, 200),
        (world.rahma, 404),
        (world.partner_reporter, 404),
    ):
        verified_login(client, user)
        response = client.get(url)
        assert response.status_code == expected, user
        if expected == 200:
            assert b"".join(response.streaming_content) == PDF_BYTES
            assert response["Content-Disposition"].startswith("attachment")
    verified_login(client, world.najat)
    assert client.get(f"/projects/{world.project_b.pk}/documents/{document.pk}/download/").status_code == 404


# --- phases pages and audit -----------------------------------------------------------------------------


def test_phase_pages_and_audit_events(world, client):
    verified_login(client, world.najat)
    body = {
        "phase-name_ar": "تجهيز الموقع",
        "phase-planned_start": "2027-01-01",
        "phase-planned_end": "2027-01-31",
        "phase-weight": "2",
    }
    assert client.post(f"/projects/{world.project_a.pk}/phases/new/", body).status_code == 302
    created = ProjectPhase.objects.get()
    url = f"/projects/{world.project_a.pk}/phases/{created.pk}/progress/"
    assert (
        client.post(url, {f"p{created.pk}-percent_complete": "50", f"p{created.pk}-status": "in_progress"}).status_code
        == 302
    )
    assert (
        client.post(url, {f"p{created.pk}-percent_complete": "150", f"p{created.pk}-status": "done"}).status_code == 400
    )
    created.refresh_from_db()
    assert created.percent_complete == 50
    events = AuditEvent.objects.filter(subject_type="projects.projectphase").order_by("seq")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["project.phase_create", "project.phase_progress"]
    page = client.get(f"/projects/{world.project_a.pk}/").content.decode()
    assert 'data-progress="50.0"' in page and "تجهيز الموقع" in page
    bad = {**body, "phase-planned_end": "2029-01-01"}
    assert client.post(f"/projects/{world.project_a.pk}/phases/new/", bad).status_code == 400


# --- the rulebook's documents_present check -----------------------------------------------------------


def test_documents_present_follows_the_attached_documents(world):
    project = world.project_a
    required = REQUIRED_DOCUMENTS[ProjectModel.CONSTRUCTION_EXTERNAL]
    assert [item["kind"] for item in selectors.missing_project_documents(project)] == list(required)

    def check():
        (result,) = [r for r in engine.evaluate(project, stage="approval") if r.code == "documents_present"]
        return result

    assert not check().passed and check().blocking
    attach_required_documents(project, world.najat)
    assert selectors.missing_project_documents(project) == []
    assert check().passed
    assert PhaseStatus.DONE  # the choices module holds both
