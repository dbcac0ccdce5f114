"""Receipt key rotation: receipts signed with a retired key still verify; codes without a key id mean the first
key; the public key page lists every key with its id and dates."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from shafaf.donations import receipts
from shafaf.donations.models import Donation

from .test_receipts import make_donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "keys" / "receipt.pem"
    path.parent.mkdir()
    path.write_bytes(receipts.generate_private_key_pem())
    with override_settings(SHAFAF_RECEIPT_KEY=str(path), SHAFAF_RECEIPT_KEYRING=""):
        yield path


def _legacy(code: str) -> str:
    """The code as it was printed before keys had ids (payload and signature only)."""
    return "-".join(code.split("-")[:2])


def test_new_codes_carry_the_key_id(world, key_file):
    donation = make_donation(world)
    code = receipts.receipt_code(donation)
    assert code.split("-")[2] == receipts.current_key_id()
    assert receipts.decode(code).key_id == receipts.current_key_id()
    assert [key.id for key in receipts.all_keys()] == [receipts.current_key_id()]


def test_receipts_signed_with_a_retired_key_still_verify(world, key_file):
    old = make_donation(world)
    old_code = receipts.receipt_code(old)
    old_id = receipts.current_key_id()
    legacy = _legacy(old_code)
    assert receipts.verify_code(legacy).status == "valid"  # no key id: the first key
    new_key = receipts.rotate_key(today=dt.date(2026, 6, 1))
    assert receipts.current_key_id() == new_key.id != old_id
    new = make_donation(world)
    new_code = receipts.receipt_code(new)
    assert new_code.split("-")[2] == new_key.id
    for code in (old_code, legacy, new_code):
        assert receipts.verify_code(code).status == "valid"
    assert receipts.receipt_code(Donation.objects.get(pk=old.pk)) == old_code
    # A second rotation: the first key stays the first, codes without an id still mean it.
    receipts.rotate_key(today=dt.date(2027, 6, 1))
    ring = receipts.all_keys()
    assert [key.id for key in ring][:2] == [old_id, new_key.id] and len(ring) == 3
    assert ring[0].retired == dt.date(2026, 6, 1) and ring[1].retired == dt.date(2027, 6, 1)
    assert ring[2].is_current and ring[2].created == dt.date(2027, 6, 1)
    for code in (old_code, legacy, new_code):
        assert receipts.verify_code(code).status == "valid"
    # Offline, against the published keys (a list, or ids to PEMs).
    pems = [key.public_key_pem for key in ring]
    by_id = {key.id: key.public_key_pem for key in ring}
    for code in (old_code, legacy, new_code):
        assert receipts.verify_offline(code, pems)["receipt_number"] in {old.receipt_number, new.receipt_number}
        assert receipts.verify_offline(code, by_id) is not None
    assert receipts.verify_offline(new_code, ring[0].public_key_pem) is None


def test_a_legacy_code_with_a_later_key_or_an_unknown_key_id_is_forged(world, key_file):
    donation = make_donation(world)
    code = receipts.receipt_code(donation)
    receipts.rotate_key()
    fresh = make_donation(world)
    fresh_code = receipts.receipt_code(fresh)
    assert receipts.verify_code(_legacy(fresh_code)).status == "forged"  # no id means the first key, which did not sign
    payload, signature, _key_id = code.split("-")
    assert receipts.verify_code(f"{payload}-{signature}-AAAAAAAA").status == "forged"
    other_id = fresh_code.split("-")[2]
    assert receipts.verify_code(f"{payload}-{signature}-{other_id}").status == "forged"


def test_the_public_key_page_lists_every_key(world, client, key_file):
    first = receipts.current_key_id()
    receipts.rotate_key(today=dt.date(2026, 6, 1))
    current = receipts.current_key_id()
    text = client.get(reverse("donations:public_key")).content.decode()
    assert first in text and current in text and "2026-06-01" in text
    assert receipts.public_key_pem().strip().splitlines()[1] in text
    url = reverse("donations:public_key_pem")
    old_pem = client.get(url, {"key": first}).content.decode()
    assert old_pem == receipts.key_for(first).public_key_pem != receipts.public_key_pem()
    assert client.get(url).content.decode() == receipts.public_key_pem()
    assert client.get(url, {"key": "ZZZZZZZZ"}).status_code == 404


def test_the_rotation_command(world, key_file):
    first = receipts.current_key_id()
    out = io.StringIO()
    call_command("rotate_receipt_key", stdout=out)
    assert receipts.current_key_id() != first
    assert first in out.getvalue() and receipts.current_key_id() in out.getvalue()
    assert receipts.keyring_path().exists()
    listed = io.StringIO()
    call_command("rotate_receipt_key", "--list", stdout=listed)
    assert receipts.current_key_id() in listed.getvalue() and len(receipts.all_keys()) == 2
