"""Loading sanctions list files: every version kept, the same file refused, a malformed file refused without
touching the version in use, the old version's open hits superseded, everyone re-screened after a load."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.partners import sanctions_parse
from shafaf.partners.choices import HitStatus, ScreeningTrigger
from shafaf.partners.models import SanctionsEntry, SanctionsListVersion, Screening, ScreeningHit
from shafaf.partners.sanctions import sanctions_import
from shafaf.partners.screening import hit_clear, screen_partner
from shafaf.projects.models import Project

from .test_screening_helpers import FULANI, HOPE, OFAC_PATH, OTHER, UN_PATH, load_un, un_xml

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_the_real_un_list_loads_with_every_entry_and_name(world):
    expected = sanctions_parse.parse_un(UN_PATH)
    seen = []
    version = sanctions_import(
        actor=world.accreditation_officer,
        source="un",
        path_or_file=UN_PATH,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
        rescreen=False,
    )
    assert version.entry_count == len(expected.entries) > 900
    assert version.name_count == sum(len(entry.names) for entry in expected.entries)
    assert SanctionsEntry.objects.filter(version=version).count() == version.entry_count
    assert version.is_current and version.sha256 == expected.sha256 and version.published == expected.published
    assert version.loaded_by == world.accreditation_officer and version.file_name == "UN_consolidated.xml"
    assert ("store", version.entry_count, version.entry_count) in seen and seen[0][0] == "parse"
    entry = SanctionsEntry.objects.get(version=version, entry_id="CDi.001")
    assert entry.primary_name == "ERIC BADEGE" and entry.entity_type == "individual"
    assert entry.names[0] == {"text": "ERIC BADEGE", "kind": "primary", "quality": ""}
    event = AuditEvent.objects.get(action="sanctions.import")
    assert event.changes["sha256"] == version.sha256 and event.changes["entries"] == version.entry_count


def test_the_real_ofac_list_loads_from_its_csv_set(world):
    expected = sanctions_parse.parse_ofac(OFAC_PATH)
    version = sanctions_import(actor=None, source="ofac", path_or_file=OFAC_PATH, rescreen=False)
    assert version.entry_count == len(expected.entries) > 7000
    assert SanctionsEntry.objects.filter(version=version).count() == version.entry_count
    assert version.name_count == sum(len(entry.names) for entry in expected.entries)
    assert version.loaded_by is None and version.is_current


def test_the_same_file_is_refused_naming_the_version_already_loaded(world):
    first = load_un()
    with pytest.raises(Conflict) as refused:
        load_un()
    assert refused.value.code == "already_loaded"
    assert str(first.pk) in str(refused.value.message) and str(first.entry_count) in str(refused.value.message)
    assert SanctionsListVersion.objects.count() == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>",  # cut short
        b"<?xml version='1.0'?><OTHER_LIST/>",
        b'<!DOCTYPE x [<!ENTITY a "b">]><CONSOLIDATED_LIST/>',
        b"\xff\xfe not utf-8",
        un_xml().replace(b"<REFERENCE_NUMBER>QDe.901</REFERENCE_NUMBER>", b""),  # an entry without reference
    ],
    ids=["empty", "truncated", "wrong-root", "doctype", "not-utf8", "no-reference"],
)
def test_a_malformed_file_is_refused_and_the_version_in_use_stays(world, content):
    current = load_un()
    entries = SanctionsEntry.objects.count()
    with pytest.raises(DomainError) as refused:
        sanctions_import(actor=world.accreditation_officer, source="un", path_or_file=content, rescreen=False)
    assert refused.value.code == "malformed_file"
    assert "version in use is unchanged" in str(refused.value.message)
    assert refused.value.fields["file"]
    current.refresh_from_db()
    assert current.is_current and list(SanctionsListVersion.objects.all()) == [current]
    assert SanctionsEntry.objects.count() == entries
    assert not AuditEvent.objects.filter(action="sanctions.import").exclude(subject_id=str(current.pk)).exists()


def test_an_incomplete_ofac_set_is_refused(tmp_path):
    (tmp_path / "sdn.csv").write_text('1,"SOMEONE","individual","SDGT",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\n')
    with pytest.raises(DomainError) as refused:
        sanctions_import(actor=None, source="ofac", path_or_file=tmp_path / "sdn.csv", rescreen=False)
    assert refused.value.code == "malformed_file" and "alt.csv" in str(refused.value.message)
    assert not SanctionsListVersion.objects.exists()


def test_every_version_is_kept_and_a_new_one_supersedes_the_old_open_hits(world):
    old = load_un()
    screen_partner(actor=world.accreditation_officer, partner=world.partner, trigger=ScreeningTrigger.REGISTRATION)
    hits = list(ScreeningHit.objects.filter(version=old))
    assert hits and all(hit.status == HitStatus.OPEN for hit in hits)
    cleared = hit_clear(actor=world.reviewer, hit=hits[0], reason="A different organisation, registered elsewhere.")
    new = load_un(generated="2026-02-01T00:00:00.000Z")
    old.refresh_from_db()
    assert not old.is_current and new.is_current
    assert SanctionsListVersion.objects.filter(source="un").count() == 2
    assert SanctionsEntry.objects.filter(version=old).count() == old.entry_count  # the old entries are kept
    statuses = dict(ScreeningHit.objects.filter(version=old).values_list("pk", "status"))
    assert statuses.pop(cleared.pk) == HitStatus.CLEARED  # a decision stays as it was
    assert set(statuses.values()) <= {HitStatus.SUPERSEDED}
    event = AuditEvent.objects.filter(action="sanctions.import").order_by("seq").last()
    assert event.changes["previous_version"] == old.pk and event.changes["hits_superseded"] == len(statuses)


def test_loading_a_list_rescreens_everyone_and_raises_the_alerts(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    monkeypatch.setattr(
        "shafaf.projects.oversight.services.alerts_raise", lambda **kwargs: calls.append(kwargs["project_ids"])
    )
    Project.objects.filter(pk=world.project_a.pk).update(status="under_review")
    with django_capture_on_commit_callbacks(execute=True):
        version = sanctions_import(actor=world.accreditation_officer, source="un", path_or_file=un_xml())
    screenings = Screening.objects.filter(trigger=ScreeningTrigger.LIST_UPDATE)
    assert screenings.filter(partner=world.partner, officer__isnull=True).count() == 1
    hit = ScreeningHit.objects.get(partner=world.partner, officer__isnull=True)
    assert hit.version == version and hit.entry.entry_id == HOPE[0] and hit.status == HitStatus.OPEN
    assert calls == [[world.project_a.pk]]
    assert AuditEvent.objects.filter(action="screening.rescreen").exists()


def test_only_accreditation_officers_and_ministry_admins_load_lists(world):
    for user in (world.najat, world.reviewer, world.auditor, world.partner_reporter):
        with pytest.raises(NotAllowed):
            sanctions_import(actor=user, source="un", path_or_file=un_xml(), rescreen=False)
    assert load_un(actor=world.ministry_admin).loaded_by == world.ministry_admin
    assert load_un(actor=world.mosa_officer, generated="2026-03-01T00:00:00Z").is_current


def test_the_command_shows_progress_and_exits_1_on_a_malformed_file(world, tmp_path):
    good = tmp_path / "un.xml"
    good.write_bytes(un_xml(entities=[HOPE, OTHER, *[(f"QDe.{n}", f"Company number {n}", []) for n in range(1, 30)]]))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sanctions", "un", str(good), "--no-rescreen", stdout=out, stderr=err)
    version = SanctionsListVersion.objects.get(is_current=True)
    assert f"Loaded version {version.pk}" in out.getvalue() and "32 entries" in out.getvalue()
    assert "stored: 32/32 entries (100%)" in err.getvalue() and "parsed: 32/32" in err.getvalue()

    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<CONSOLIDATED_LIST><INDIVIDUALS>")
    with pytest.raises(CommandError, match="not well-formed XML"):
        call_command("import_sanctions", "un", str(bad), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="already loaded"):
        call_command("import_sanctions", "un", str(good), stdout=io.StringIO(), stderr=io.StringIO())
    assert SanctionsListVersion.objects.get(is_current=True) == version


def test_the_command_exit_status_is_1(world, tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"not xml at all")
    manage = Path(__file__).resolve().parents[3] / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "import_sanctions", "un", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1  # the command speaks the platform's language (Arabic by default)
    assert "تعذّر تحميل ملف القائمة" in result.stderr and "لم يتغير إصدار القائمة المعمول به" in result.stderr
    assert "not well-formed XML" in result.stderr


def test_the_upload_page_loads_a_list_and_refuses_a_bad_file(world, login):
    client = login(world.accreditation_officer)
    url = reverse("screening:upload")
    assert client.get(url).status_code == 200
    response = client.post(url, {"source": "un", "un_file": SimpleUploadedFile("list.xml", un_xml())})
    version = SanctionsListVersion.objects.get(is_current=True)
    assert response.status_code == 302 and response["Location"] == reverse(
        "screening:version_detail", args=[version.pk]
    )
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'data-testid="rescreen-progress"' in page.content
    assert page.context["progress"]["total"] >= 1

    response = client.post(url, {"source": "un", "un_file": SimpleUploadedFile("list.xml", b"<broken")})
    assert response.status_code == 400 and "not well-formed XML" in response.content.decode()
    response = client.post(url, {"source": "un", "un_file": SimpleUploadedFile("again.xml", un_xml())})
    assert response.status_code == 409 and "already loaded" in response.content.decode()
    response = client.post(url, {"source": "ofac", "sdn_file": SimpleUploadedFile("sdn.csv", b"1")})
    assert response.status_code == 400 and set(response.context["form"].errors) >= {"alt_file", "add_file"}
    assert SanctionsListVersion.objects.get(is_current=True) == version


def test_the_upload_page_takes_an_ofac_set(world, login):
    folder = Path(OFAC_PATH).parent
    sdn = b"".join((folder / "sdn.csv").read_bytes().splitlines(keepends=True)[:50])
    files = {
        "source": "ofac",
        "sdn_file": SimpleUploadedFile("sdn.csv", sdn),
        "alt_file": SimpleUploadedFile("alt.csv", (folder / "alt.csv").read_bytes()),
        "add_file": SimpleUploadedFile("add.csv", (folder / "add.csv").read_bytes()),
    }
    response = login(world.ministry_admin).post(reverse("screening:upload"), files)
    assert response.status_code == 302
    version = SanctionsListVersion.objects.get(source="ofac")
    assert 0 < version.entry_count <= 50 and version.file_name == "sdn.csv"


@pytest.mark.parametrize("persona", ["reviewer", "najat", "auditor", "partner_reporter"])
def test_others_may_not_upload(world, login, persona):
    response = login(getattr(world, persona)).post(
        reverse("screening:upload"), {"source": "un", "un_file": SimpleUploadedFile("list.xml", un_xml())}
    )
    assert response.status_code == 403 and not SanctionsListVersion.objects.exists()


def test_the_list_pages_show_counts(world, login):
    version = load_un()
    client = login(world.reviewer)
    text = client.get(reverse("screening:version_list")).content.decode()
    assert str(version.entry_count) in text and version.sha256[:10] in text
    text = client.get(reverse("screening:version_detail", args=[version.pk])).content.decode()
    assert version.sha256 in text and FULANI[1] in text and OTHER[1] in text
    assert login(world.najat).get(reverse("screening:version_list")).status_code == 403
    assert login(world.najat).get(reverse("screening:version_detail", args=[version.pk])).status_code == 403


def test_the_command_can_rescreen_in_the_foreground_and_the_page_shows_its_progress(world, tmp_path, login):
    path = tmp_path / "un.xml"
    path.write_bytes(un_xml())
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sanctions", "un", str(path), "--rescreen-now", stdout=out, stderr=err)
    assert "Re-screened 1 partners" in out.getvalue() and "1 new hits" in out.getvalue()
    assert "screened: 1/1 partners" in err.getvalue()
    version = SanctionsListVersion.objects.get()
    response = login(world.reviewer).get(reverse("screening:version_progress", args=[version.pk]))
    assert response.status_code == 200
    assert response.context["progress"] == {"done": 1, "total": 1, "percent": 100, "finished": True}
    assert b"hx-trigger" not in response.content  # finished: no more polling
