"""Receipts anyone can verify: the signed code, the public verification page, the public key, the PDFs."""

from __future__ import annotations

import base64
import datetime as dt
import itertools

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from shafaf.accounts.choices import Role
from shafaf.accounts.models import Organization
from shafaf.donations import receipts
from shafaf.donations.models import BankAccount, Campaign, Donation, Donor
from shafaf.finance.statements import document_text
from shafaf.projects.models import Project
from tests.factories import member, verified_login

KUWAIT = dt.timezone(dt.timedelta(hours=3))
_numbers = itertools.count(1)


def make_donor(charity, *, name_ar="سارة الأحمد", name_en="Sara Al-Ahmad", user=None, show=False) -> Donor:
    return Donor.objects.create(
        charity=charity, name_ar=name_ar, name_en=name_en, email="sara@example.com", user=user, show_name_publicly=show
    )


def make_donation(world, *, charity=None, donor=None, project=None, amount_minor=12_500, sign=True, **fields):
    """A donation row written directly (the services are tested elsewhere), signed as donation_record signs it."""
    charity = charity or world.charity_a
    donor = donor or make_donor(charity)
    account = BankAccount.objects.filter(charity=charity).first() or BankAccount.objects.create(
        charity=charity, bank_name="NBK", iban=f"KW81CBKU00000000000012345{charity.pk:05d}", approved_at=timezone.now()
    )
    purpose = fields.pop("purpose", "project" if project else "general")
    donation = Donation.objects.create(
        charity=charity,
        donor=donor,
        amount_minor=amount_minor,
        currency=fields.pop("currency", "KWD"),
        received_at=fields.pop("received_at", dt.datetime(2026, 3, 14, 23, 30, tzinfo=KUWAIT)),
        channel=fields.pop("channel", "knet"),
        bank_account=account,
        purpose=purpose,
        project=project,
        receipt_number=f"T-2026-{next(_numbers):06d}",
        **fields,
    )
    if sign:
        donation.receipt_signature = receipts.sign_donation(donation)
        Donation.objects.filter(pk=donation.pk).update(receipt_signature=donation.receipt_signature)
    return donation


def reencode(code: str, **changes) -> str:
    """The same signature over facts changed as given: what a forger who edits a code produces."""
    decoded = receipts.decode(code)
    facts = {**decoded.facts, **changes}
    signature = code.split("-")[1]
    return receipts._encode(facts, signature)


def other_key_settings(tmp_path):
    path = tmp_path / "other.pem"
    path.write_bytes(receipts.generate_private_key_pem())
    return override_settings(SHAFAF_RECEIPT_KEY=str(path))


# ------------------------------------------------------------------------------------------------------------------
# No database: the standalone verifier


def test_verify_offline_needs_no_database():
    """A code made from unsaved objects checks against the public key alone (this test has no database)."""
    charity = Organization(slug="charity-x", name_ar="جمعية", name_en="Charity X")
    donor = Donor(charity=charity, name_ar="سارة", name_en="Sara", show_name_publicly=True)
    project = Project(reference="KW-2026-0042", title_en="Wells")
    donation = Donation(
        charity=charity,
        donor=donor,
        amount_minor=1_000_001,
        currency="KWD",
        received_at=dt.datetime(2026, 1, 1, 0, 30, tzinfo=KUWAIT),
        purpose="project",
        project=project,
        receipt_number="R-1",
    )
    code = receipts._encode(receipts.receipt_facts(donation), receipts.sign_donation(donation))
    assert code == code.upper() and " " not in code
    facts = receipts.verify_offline(code, receipts.public_key_pem())
    assert facts == {
        "receipt_number": "R-1",
        "charity": "charity-x",
        "amount": "1000.001",
        "currency": "KWD",
        "date": "2026-01-01",
        "target": "KW-2026-0042",
        "donor": "سارة",
    }
    # Pasted in lower case, wrapped over lines, or as the verification address: the same facts.
    assert receipts.verify_offline(code.lower()[:40] + "\n " + code.lower()[40:], receipts.public_key_pem()) == facts
    assert receipts.verify_offline(f"https://shafaf.example/verify/{code}/", receipts.public_key_pem()) == facts
    for field, value in (("amount", "1000.002"), ("charity", "charity-y"), ("date", "2026-01-02")):
        assert receipts.verify_offline(reencode(code, **{field: value}), receipts.public_key_pem()) is None
    assert receipts.verify_offline(reencode(code, target="general"), receipts.public_key_pem()) is None
    other_pem = _public_pem(receipts.generate_private_key_pem())
    assert receipts.verify_offline(code, other_pem) is None
    assert receipts.verify_offline("not a code", receipts.public_key_pem()) is None
    assert receipts.verify_offline(code, "not a key") is None


def _public_pem(private_pem: bytes) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem, password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_the_development_key_is_generated_once(tmp_path):
    path = tmp_path / "keys" / "receipt.pem"
    with override_settings(SHAFAF_RECEIPT_KEY="", SHAFAF_RECEIPT_DEV_KEY=path):
        first = receipts.public_key_pem()
        assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
        assert receipts.public_key_pem() == first
    with override_settings(SHAFAF_RECEIPT_KEY=str(tmp_path / "missing.pem")), pytest.raises(receipts.ReceiptKeyError):
        receipts.public_key_pem()


# ------------------------------------------------------------------------------------------------------------------
# Against the record

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_genuine_code_is_valid_and_confirms_the_facts(world):
    donation = make_donation(world, project=world.project_a)
    code = receipts.receipt_code(donation)
    result = receipts.verify_code(code)
    assert result.status == "valid" and result.donation == donation
    assert result.facts["charity"] == "charity-a"
    assert result.facts["charity_name_en"] == world.charity_a.name_en
    assert result.facts["amount"] == "12.500" and result.facts["currency"] == "KWD"
    assert result.facts["date"] == "2026-03-14"  # received at 23:30 in Kuwait (20:30 UTC)
    assert result.facts["project_reference"] == world.project_a.reference
    assert result.facts["donor"] == ""  # the donor did not allow the name to be shown


@pytestmark_db
@pytest.mark.parametrize(
    "changes", [{"amount": "125.000"}, {"charity": "charity-b"}, {"date": "2026-03-15"}, {"target": "general"}]
)
def test_a_tampered_code_is_forged(world, changes):
    donation = make_donation(world, project=world.project_a)
    code = reencode(receipts.receipt_code(donation), **changes)
    result = receipts.verify_code(code)
    assert result.status == "forged"
    assert result.facts == {} and result.donation is None


@pytestmark_db
def test_a_code_signed_by_another_key_is_forged(world, tmp_path):
    donation = make_donation(world, sign=False)
    with other_key_settings(tmp_path):
        foreign = receipts._encode(receipts.receipt_facts(donation), receipts.sign_donation(donation))
        assert receipts.verify_code(foreign).status == "valid"  # genuine for the other key's holder
    assert receipts.verify_code(foreign).status == "forged"
    assert receipts.verify_offline(foreign, receipts.public_key_pem()) is None


@pytestmark_db
def test_a_genuine_code_whose_record_was_changed_is_altered(world):
    donation = make_donation(world, project=world.project_a)
    code = receipts.receipt_code(donation)
    Donation.objects.filter(pk=donation.pk).update(amount_minor=1_250)  # behind the platform's back
    result = receipts.verify_code(code)
    assert result.status == "altered"
    assert result.differences == ("amount",)
    assert result.claimed["amount"] == "12.500" and result.facts["amount"] == "1.250"
    # A receipt printed from the changed record does not vouch for it either.
    donation.refresh_from_db()
    assert receipts.verify_code(receipts.receipt_code(donation)).status == "forged"


@pytestmark_db
def test_unknown_codes(world):
    assert receipts.verify_code("hello").status == "unknown"
    assert receipts.verify_code("").status == "unknown"
    assert receipts.verify_code("AAAA-BBBB").status == "unknown"
    donation = make_donation(world)
    facts = {**receipts.receipt_facts(donation), "receipt_number": "NEVER-ISSUED"}
    genuine_but_unrecorded = receipts._encode(facts, receipts._sign(receipts.payload_bytes(facts)))
    assert receipts.verify_code(genuine_but_unrecorded).status == "unknown"


@pytestmark_db
def test_the_code_survives_the_donor_changing_the_names_visibility(world):
    donor = make_donor(world.charity_a, show=True)
    donation = make_donation(world, donor=donor)
    assert receipts.decode(receipts.receipt_code(donation)).facts["donor"] == "سارة الأحمد"
    Donor.objects.filter(pk=donor.pk).update(show_name_publicly=False)
    donation = Donation.objects.select_related("donor", "charity").get(pk=donation.pk)
    code = receipts.receipt_code(donation)
    result = receipts.verify_code(code)
    assert result.status == "valid"
    assert result.facts["donor"] == ""  # hidden now, although the printed code still names the donor


@pytestmark_db
def test_an_unsigned_donation_is_signed_once_on_first_use(world):
    donation = make_donation(world, sign=False)
    assert donation.receipt_signature == ""
    code = receipts.receipt_code(donation)
    stored = Donation.objects.get(pk=donation.pk).receipt_signature
    assert stored and code.endswith(stored)
    assert receipts.receipt_code(Donation.objects.get(pk=donation.pk)) == code
    assert receipts.verify_code(code).status == "valid"


@pytestmark_db
def test_campaign_and_refund_facts(world):
    campaign = Campaign.objects.create(
        charity=world.charity_a, name_ar="حملة الشتاء", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)
    )
    donation = make_donation(world, purpose="campaign", campaign=campaign)
    refund = make_donation(world, donor=donation.donor, amount_minor=-2_500, kind="refund", corrects=donation)
    result = receipts.verify_code(receipts.receipt_code(donation))
    assert result.status == "valid" and result.facts["target"] == f"campaign-{campaign.pk}"
    assert result.facts["corrected"] and result.facts["net_money"].amount_text == "10.000"
    assert receipts.verify_code(receipts.receipt_code(refund)).facts["amount"] == "-2.500"


# ------------------------------------------------------------------------------------------------------------------
# Pages


@pytestmark_db
@pytest.mark.parametrize(
    ("show", "anonymous", "shown"), [(False, False, False), (True, True, False), (True, False, True)]
)
def test_the_verification_page_shows_the_donors_name_only_if_allowed(world, client, show, anonymous, shown):
    donor = make_donor(world.charity_a, show=show)
    donation = make_donation(world, donor=donor, project=world.project_a, anonymous=anonymous)
    response = client.get(reverse("donations:verify", kwargs={"code": receipts.receipt_code(donation)}))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-status="valid"' in text
    assert "12.500 KWD" in text and world.project_a.reference in text and "2026-03-14" in text
    assert ("سارة الأحمد" in text) is shown
    assert "Sara Al-Ahmad" not in text and "sara@example.com" not in text


@pytestmark_db
def test_the_verification_page_reports_forged_and_unknown_codes_and_shows_nothing(world, client):
    donor = make_donor(world.charity_a, show=True)
    donation = make_donation(world, donor=donor, project=world.project_a)
    forged = reencode(receipts.receipt_code(donation), amount="1000.000")
    for code, status in ((forged, "forged"), ("NOTACODE", "unknown")):
        text = client.get(reverse("donations:verify", kwargs={"code": code})).content.decode()
        assert f'data-status="{status}"' in text
        for secret in ("سارة الأحمد", world.charity_a.name_en, world.project_a.reference, "12.500"):
            assert secret not in text


@pytestmark_db
def test_the_verification_form(world, client):
    donation = make_donation(world)
    code = receipts.receipt_code(donation)
    url = reverse("donations:verify_form")
    assert client.get(url).status_code == 200
    response = client.get(url, {"code": f"https://anywhere.example/verify/{code.lower()}/"})
    assert response.status_code == 302 and response["Location"] == reverse("donations:verify", kwargs={"code": code})
    response = client.get(url, {"code": "what is this?"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert client.post(url, {"code": code}).status_code == 405


@pytestmark_db
def test_the_public_key_pages(client):
    text = client.get(reverse("donations:public_key")).content.decode()
    assert receipts.public_key_pem().strip().splitlines()[1] in text
    assert receipts.public_key_base64() in text
    assert len(base64.b64decode(receipts.public_key_base64())) == 32
    response = client.get(reverse("donations:public_key_pem"))
    assert response.status_code == 200 and response.content.decode() == receipts.public_key_pem()


@pytestmark_db
def test_the_receipt_pdf_is_for_the_charity_the_ministry_and_the_donor_only(world, client):
    account = world.donor
    donor = make_donor(world.charity_a, user=account)
    donation = make_donation(world, donor=donor, project=world.project_a)
    other_donor_account = member(Role.DONOR, world.donor_org, "other_donor")
    make_donor(world.charity_a, user=other_donor_account, name_ar="آخر", name_en="Other")
    url = reverse("donations:receipt_pdf", kwargs={"pk": donation.pk})
    expected = {
        world.najat: 200,
        world.staff_a: 200,
        world.reviewer: 200,
        world.auditor: 200,
        account: 200,
        world.rahma: 404,
        world.staff_b: 404,
        other_donor_account: 404,
        world.partner_reporter: 404,
    }
    for user, status in expected.items():
        client.logout()
        verified_login(client, user)
        response = client.get(url)
        assert response.status_code == status, user.username
        if status == 200:
            assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


@pytestmark_db
def test_the_receipt_pdf_holds_both_languages_and_the_code(world):
    donation = make_donation(world, project=world.project_a)
    text = document_text(receipts.receipt_document(donation, "en"))
    assert donation.receipt_number in text
    assert "Donation receipt" in text and "KWD 12.500" in text
    assert world.charity_a.name_en in text and world.charity_a.name_ar in text
    code = receipts.receipt_code(donation)
    assert code[:52] in text.replace(" ", "")
    assert receipts.qr_svg("x").startswith("<svg")


@pytestmark_db
def test_the_annual_statement(world, client):
    account = world.donor
    donor = make_donor(world.charity_a, user=account)
    make_donation(world, donor=donor, amount_minor=10_000)
    make_donation(world, donor=donor, amount_minor=5_250, received_at=dt.datetime(2026, 12, 31, 23, 59, tzinfo=KUWAIT))
    make_donation(world, donor=donor, amount_minor=99_000, received_at=dt.datetime(2025, 12, 31, 23, 59, tzinfo=KUWAIT))
    statement = receipts.annual_statement(donor, 2026)
    assert [line.money.minor for line in statement["lines"]] == [10_000, 5_250]
    assert [total.amount_text for total in statement["totals"]] == ["15.250"]
    text = document_text(receipts.annual_statement_document(donor, 2026, "ar"))
    assert "15.250 KWD" in text and "Annual donation statement 2026" in text
    url = reverse("donations:annual_statement", kwargs={"pk": donor.pk, "year": 2026})
    for user, status in ((account, 200), (world.najat, 200), (world.reviewer, 200), (world.rahma, 404)):
        client.logout()
        verified_login(client, user)
        assert client.get(url).status_code == status, user.username
    verified_login(client, account)
    assert client.get(reverse("donations:annual_statement", kwargs={"pk": donor.pk, "year": 1999})).status_code == 404


@pytestmark_db
def test_a_donation_recorded_by_the_service_carries_a_valid_receipt(world):
    """donation_record signs the receipt as it records the donation (shafaf.donations.services)."""
    from decimal import Decimal

    from shafaf.donations import services

    account = services.bank_account_register(
        actor=world.najat, charity=world.charity_a, bank_name="NBK", iban="KW81CBKU0000000000001234560101"
    )
    account = services.bank_account_approve(actor=world.ministry_admin, account=account)
    donor = services.donor_create(actor=world.najat, charity=world.charity_a, name_en="Sara", show_name_publicly=True)
    donation = services.donation_record(
        actor=world.najat,
        charity=world.charity_a,
        donor=donor,
        amount=Decimal("7.125"),
        currency="KWD",
        received_at=timezone.now(),
        channel="knet",
        bank_account=account,
        purpose="general",
    )
    donation.refresh_from_db()
    assert donation.receipt_signature
    code = receipts.receipt_code(donation)
    assert code.endswith(donation.receipt_signature)
    result = receipts.verify_code(code)
    assert result.status == "valid" and result.facts["amount"] == "7.125" and result.facts["donor"] == "Sara"
    assert receipts.verify_offline(code, receipts.public_key_pem())["target"] == "general"
