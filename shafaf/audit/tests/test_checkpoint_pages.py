"""Auditors take checkpoints in the UI, download them, and check the chain against one kept outside."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shafaf.audit.models import AuditCheckpoint, AuditEvent
from tests.factories import make_project

from . import tampering

pytestmark = pytest.mark.django_db


def test_an_auditor_takes_a_checkpoint_and_downloads_it(world, login):
    client = login(world.auditor)
    events_before = AuditEvent.objects.count()
    response = client.post(reverse("audit:checkpoints"))
    assert response.status_code == 302
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.count == events_before
    taken = AuditEvent.objects.get(action="audit.checkpoint")
    assert (taken.seq, taken.actor) == (events_before + 1, world.auditor)

    download = client.get(reverse("audit:checkpoint_download", args=[checkpoint.pk]))
    assert download["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.content) | {"created_at": None} == {
        "count": checkpoint.count,
        "head_hash": checkpoint.head_hash,
        "created_at": None,
    }
    assert checkpoint.head_hash in client.get(reverse("audit:checkpoints")).text


@pytest.mark.parametrize("persona", ["reviewer", "najat", "donor", "partner_reporter"])
def test_only_auditors_and_ministry_admins_take_checkpoints(world, login, persona):
    response = login(getattr(world, persona)).post(reverse("audit:checkpoints"))
    assert response.status_code == 403
    assert not AuditCheckpoint.objects.exists()


def _check(client, payload: str, *, as_file: bool):
    data = {"file": SimpleUploadedFile("cp.json", payload.encode())} if as_file else {"text": payload}
    return client.post(reverse("audit:verify"), data)


@pytest.mark.parametrize("as_file", [True, False])
def test_a_checkpoint_kept_outside_proves_the_history_then_finds_a_cut_tail(world, login, as_file):
    for _ in range(3):
        make_project(world.najat, world.charity_a)
    client = login(world.auditor)
    client.post(reverse("audit:checkpoints"))
    kept = client.get(reverse("audit:checkpoint_download", args=[AuditCheckpoint.objects.get().pk])).content.decode()

    response = _check(client, kept, as_file=as_file)
    assert response.status_code == 200
    assert 'data-testid="checkpoint-ok"' in response.text

    # Someone with the database cuts the last events, fixes the head row and empties the checkpoints.
    tampering.install_triggers()  # the production state, which they must undo first
    count = json.loads(kept)["count"]
    tampering.drop_triggers()
    tampering.delete_events(*range(count - 1, tampering.last_seq() + 1))
    tampering.set_head_to_last()
    tampering.forget_checkpoints()
    response = _check(client, kept, as_file=as_file)
    assert 'data-testid="checkpoint-broken"' in response.text
    assert "tail cut" in response.text


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        '{"count": 3}',
        '{"count": -1, "head_hash": "' + "a" * 64 + '"}',
        '{"count": 3, "head_hash": "xyz"}',
    ],
)
def test_a_malformed_checkpoint_is_refused_with_a_clear_error(world, login, payload):
    response = _check(login(world.auditor), payload, as_file=False)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert 'data-testid="checkpoint-' not in response.text


def test_the_api_checks_the_chain_against_a_checkpoint(world, login):
    for _ in range(3):
        make_project(world.najat, world.charity_a)
    client = login(world.auditor)
    client.post(reverse("audit:checkpoints"))
    checkpoint = AuditCheckpoint.objects.get()
    url = reverse("audit-event-verify")
    query = {"count": checkpoint.count, "head_hash": checkpoint.head_hash}
    assert client.get(url, query).json() | {"head_hash": None} == {
        "ok": True,
        "count": checkpoint.count,
        "head_hash": None,
        "problem": None,
    }
    wrong = client.get(url, {"count": checkpoint.count, "head_hash": "0" * 64}).json()
    assert wrong["ok"] is False and "rewritten" in wrong["problem"]
    malformed = client.get(url, {"count": "many", "head_hash": "x"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["fields"]["checkpoint"]
