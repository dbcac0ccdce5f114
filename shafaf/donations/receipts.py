"""Receipts anyone can verify: the platform signs each donation's public facts with its Ed25519 key.

The code printed on a receipt (and put in its QR code) carries the facts it vouches for and the signature over
them, so that anyone holding the published public key can check a receipt without trusting the database
(`verify_offline`), and the public verification page can also compare it with the record (`verify_code`):

    code      = BASE32(payload) "-" BASE32(signature) "-" key id   (RFC 4648 base32, upper case, no padding)
    payload   = UTF-8 of the lines  "SR1", receipt number, charity slug, amount, currency, date, target, donor
    signature = Ed25519(platform key, payload)                 (64 bytes)

where `amount` is the exact amount in major units ("12.500"), `date` the day the donation was received in
Kuwait (ISO 8601), `target` the project's reference, "campaign-<id>" or "general", and `donor` the donor's
name only when the donor allows it to be shown publicly and did not give anonymously (empty otherwise). Each
field has its white space collapsed, so a field never holds a line break. Base32 keeps the code case-insensitive
(it can be read aloud or typed) and within QR's alphanumeric mode.

The key id (8 base32 characters of the SHA-256 of the raw public key) names the key that made the signature; a
code without one (made before keys were rotated) was signed by the first key of the key ring.

The key: settings.SHAFAF_RECEIPT_KEY names a PEM (PKCS#8) Ed25519 private key. When it is unset (development,
tests), a key is generated once into settings.SHAFAF_RECEIPT_DEV_KEY (var/keys/, never committed).

The key ring: every public key that has signed receipts, oldest first, with the dates it was brought in and
retired, in a JSON file next to the private key (``<key file name>.keyring.json``, or
settings.SHAFAF_RECEIPT_KEYRING). `rotate_key` (``manage.py rotate_receipt_key``) retires the current key and
brings in a new one; receipts signed with a retired key still verify. Without a key ring file, the ring is the
current key alone.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation

from shafaf.core.money import Money, format_money

from .models import Donation, Donor, EntryKind, Purpose

VERSION = "SR1"
FIELDS = ("receipt_number", "charity", "amount", "currency", "date", "target", "donor")
# The facts compared with the record: all but the donor's name, which the donor may later hide or correct.
COMPARED = ("receipt_number", "charity", "amount", "currency", "date", "target")
SEPARATOR = "-"
_B32 = re.compile(r"^[A-Z2-7]+$")


class ReceiptKeyError(ImproperlyConfigured):
    pass


# ------------------------------------------------------------------------------------------------------------------
# The platform key

_lock = threading.Lock()
_cache: dict[tuple, object] = {}


def _key_path() -> tuple[Path, bool]:
    configured = getattr(settings, "SHAFAF_RECEIPT_KEY", "")
    if configured:
        return Path(configured), False
    return Path(getattr(settings, "SHAFAF_RECEIPT_DEV_KEY", Path(settings.BASE_DIR) / "var" / "keys" / "k.pem")), True


def generate_private_key_pem() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM (for `make setup`, tests and key rotation)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _create_dev_key(path: Path) -> None:
    """Writes a new key to `path` unless one is there: atomically (link of a complete temporary file), so that
    processes starting together all end up with the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(generate_private_key_pem())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def private_key():
    """The platform's Ed25519 private key (loaded once per path and modification time)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path, generated = _key_path()
    with _lock:
        if not path.exists():
            if not generated:
                raise ReceiptKeyError(f"SHAFAF_RECEIPT_KEY names {path}, which does not exist.")
            _create_dev_key(path)
        stat = path.stat()
        cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
        key = _cache.get(cache_key)
        if key is None:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ReceiptKeyError(f"{path} does not hold an Ed25519 private key.")
            _cache.clear()
            _cache[cache_key] = key
        return key


def public_key():
    return private_key().public_key()


# ------------------------------------------------------------------------------------------------------------------
# The key ring: current and retired public keys


@dataclass(frozen=True)
class ReceiptKey:
    """A public key of the ring: its id, the dates it was brought in and retired (None while current)."""

    id: str
    public_key_pem: str
    created: dt.date | None
    retired: dt.date | None = None

    @property
    def is_current(self) -> bool:
        return self.retired is None

    @property
    def key(self):
        return _load_public(self.public_key_pem)

    @property
    def raw_base64(self) -> str:
        from cryptography.hazmat.primitives import serialization

        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(base64.b64decode(self.raw_base64)).hexdigest()
        return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


_public_cache: dict[str, object] = {}


def _load_public(pem: str):
    from cryptography.hazmat.primitives import serialization

    key = _public_cache.get(pem)
    if key is None:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
        _public_cache[pem] = key
    return key


def _pem_of(public) -> str:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def key_id_of(public) -> str:
    """The key id: the first 8 base32 characters of the SHA-256 of the raw public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b32encode(hashlib.sha256(raw).digest()).decode("ascii")[:8]


def keyring_path() -> Path:
    configured = getattr(settings, "SHAFAF_RECEIPT_KEYRING", "")
    if configured:
        return Path(configured)
    path, _generated = _key_path()
    return path.with_name(f"{path.name}.keyring.json")


_ring_cache: dict[tuple, list[ReceiptKey]] = {}


def _read_ring(path: Path) -> list[ReceiptKey]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    ring = _ring_cache.get(cache_key)
    if ring is None:
        data = json.loads(path.read_text(encoding="utf-8"))
        ring = [
            ReceiptKey(
                id=item["id"],
                public_key_pem=item["public_key"],
                created=dt.date.fromisoformat(item["created"]) if item.get("created") else None,
                retired=dt.date.fromisoformat(item["retired"]) if item.get("retired") else None,
            )
            for item in data.get("keys", [])
        ]
        _ring_cache.clear()
        _ring_cache[cache_key] = ring
    return ring


def _current_entry() -> ReceiptKey:
    public = public_key()
    path, _generated = _key_path()
    created = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date() if path.exists() else None
    return ReceiptKey(id=key_id_of(public), public_key_pem=_pem_of(public), created=created)


def all_keys() -> list[ReceiptKey]:
    """Every public key that signs or has signed receipts, oldest first (the current key last)."""
    current = _current_entry()
    ring = _read_ring(keyring_path())
    if any(key.id == current.id for key in ring):
        return [key if key.id != current.id else ReceiptKey(key.id, key.public_key_pem, key.created) for key in ring]
    return [*ring, current]


def current_key_id() -> str:
    return key_id_of(public_key())


def key_for(key_id: str) -> ReceiptKey | None:
    """The ring's key with this id; with no id, the first key (codes made before keys were rotated)."""
    ring = all_keys()
    if not key_id:
        return ring[0]
    return next((key for key in ring if key.id == key_id), None)


def _write_atomically(path: Path, content: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def rotate_key(today: dt.date | None = None) -> ReceiptKey:
    """Retires the current key and brings in a new one: the key ring is written first (with the new public
    key), then the new private key replaces the old one. Receipts signed before keep verifying."""
    from cryptography.hazmat.primitives import serialization

    today = today or timezone.localdate()
    path, _generated = _key_path()
    ring = all_keys()
    new_pem = generate_private_key_pem()
    new_public = serialization.load_pem_private_key(new_pem, password=None).public_key()
    new = ReceiptKey(id=key_id_of(new_public), public_key_pem=_pem_of(new_public), created=today)
    entries = [
        {
            "id": key.id,
            "public_key": key.public_key_pem,
            "created": key.created.isoformat() if key.created else None,
            "retired": (key.retired or today).isoformat(),
        }
        for key in ring
    ]
    entries.append({"id": new.id, "public_key": new.public_key_pem, "created": today.isoformat(), "retired": None})
    ring_text = json.dumps({"keys": entries}, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(keyring_path(), ring_text.encode("utf-8"), 0o644)
    _write_atomically(path, new_pem, 0o600)
    with _lock:
        _cache.clear()
    return new


def public_key_pem() -> str:
    """The current public key (SubjectPublicKeyInfo PEM) against which anyone checks a new receipt."""
    return _pem_of(public_key())


def public_key_base64() -> str:
    """The raw 32-byte public key in base64 (as other Ed25519 tools print it)."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_fingerprint() -> str:
    """SHA-256 of the raw public key, hexadecimal in groups of four (to read it over the phone)."""
    import hashlib

    digest = hashlib.sha256(base64.b64decode(public_key_base64())).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


# ------------------------------------------------------------------------------------------------------------------
# The facts, the payload and the code


def _clean(text: object) -> str:
    return " ".join(str(text or "").split())


def public_donor_name(donation: Donation) -> str:
    """The donor's name when the donor allows it to be shown publicly and did not give anonymously; else ""."""
    donor = donation.donor
    if donation.anonymous or not donor.show_name_publicly:
        return ""
    return _clean(str(donor))


def _target(donation: Donation) -> str:
    if donation.purpose == Purpose.PROJECT and donation.project is not None:
        return donation.project.reference
    if donation.purpose == Purpose.CAMPAIGN and donation.campaign_id:
        return f"campaign-{donation.campaign_id}"
    return "general"


def _received_on(donation: Donation) -> dt.date:
    received = donation.received_at
    if timezone.is_aware(received):
        received = timezone.localtime(received)
    return received.date()


def receipt_facts(donation: Donation, *, with_name: bool = True) -> dict[str, str]:
    """The canonical facts a receipt vouches for (the donor's name only if allowed and `with_name`)."""
    return {
        "receipt_number": _clean(donation.receipt_number),
        "charity": _clean(donation.charity.slug),
        "amount": Money(donation.amount_minor, donation.currency).amount_text,
        "currency": _clean(donation.currency),
        "date": _received_on(donation).isoformat(),
        "target": _clean(_target(donation)),
        "donor": public_donor_name(donation) if with_name else "",
    }


def payload_bytes(facts: dict[str, str]) -> bytes:
    return "\n".join([VERSION, *(_clean(facts.get(name, "")) for name in FIELDS)]).encode("utf-8")


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _b32decode(text: str) -> bytes:
    if not text or not _B32.match(text):
        raise ValueError("not base32")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _sign(payload: bytes) -> str:
    """The signature text stored with a donation: the base32 signature, "-", the signing key's id."""
    key = private_key()
    return f"{_b32encode(key.sign(payload))}{SEPARATOR}{key_id_of(key.public_key())}"


def _split_signature(text: str) -> tuple[bytes, str]:
    """The raw signature and the key id ("" for a signature made before keys were rotated) of a stored
    signature text; (b"", "") when it is not one."""
    signature, _sep, key_id = (text or "").partition(SEPARATOR)
    try:
        return _b32decode(signature), key_id
    except (ValueError, binascii.Error):
        return b"", ""


def _signature_ok(payload: bytes, signature: bytes, key) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def sign_donation(donation: Donation) -> str:
    """The signature over the donation's receipt facts, with the signing key's id (base32 text, 112
    characters): what is stored in `receipt_signature` when the donation is recorded."""
    return _sign(payload_bytes(receipt_facts(donation)))


def _encode(facts: dict[str, str], signature: str) -> str:
    return f"{_b32encode(payload_bytes(facts))}{SEPARATOR}{signature}"


def receipt_code(donation: Donation) -> str:
    """The code printed on the receipt and put in its QR code.

    It uses the signature stored when the donation was recorded: with the donor's name or without it,
    whichever the signature covers (the donor may have changed the name's visibility since: the printed code
    keeps what was signed; the verification page shows the name only if the donor allows it now). A donation
    recorded without a signature (a bulk import) is signed now, once. If the record no longer matches its
    stored signature (it was changed behind the platform's back), the code is built from the record and the
    stored signature, and so does not verify: the receipt never vouches for a changed record."""
    signature = donation.receipt_signature
    variants = [receipt_facts(donation, with_name=True)]
    for other in (receipt_facts(donation, with_name=False), {**variants[0], "donor": _clean(str(donation.donor))}):
        if other not in variants:
            variants.append(other)
    if not signature:
        signature = _sign(payload_bytes(variants[0]))
        Donation.objects.filter(pk=donation.pk, receipt_signature="").update(receipt_signature=signature)
        stored = Donation.objects.filter(pk=donation.pk).values_list("receipt_signature", flat=True).first()
        signature = stored or signature  # a concurrent first use stored its own (equally valid) signature
        donation.receipt_signature = signature
    raw, key_id = _split_signature(signature)
    ring_key = key_for(key_id) if raw else None
    if ring_key is not None:
        key = ring_key.key
        for facts in variants:
            if _signature_ok(payload_bytes(facts), raw, key):
                return _encode(facts, signature)
    return _encode(variants[0], signature)


def verification_url(code: str) -> str:
    from django.urls import reverse

    return settings.SHAFAF_BASE_URL.rstrip("/") + reverse("donations:verify", kwargs={"code": code})


def normalise_code(text: str) -> str:
    """What a person pasted (the code, with spaces or line breaks, in any case, or the verification URL) as
    the code itself."""
    text = (text or "").strip()
    if "/verify/" in text:
        path = urlsplit(text).path if "://" in text else text
        text = unquote(path.split("/verify/", 1)[1]).strip("/")
    return "".join(text.split()).upper()


@dataclass(frozen=True)
class Decoded:
    facts: dict[str, str]
    payload: bytes
    signature: bytes
    key_id: str = ""


KEY_ID = re.compile(r"^[A-Z2-7]{8}$")


def decode(code: str) -> Decoded | None:
    """The facts, signature and key id a code carries, or None when it is not a receipt code at all."""
    code = normalise_code(code)
    if code.count(SEPARATOR) not in (1, 2) or len(code) > 2000:
        return None
    payload_text, signature_text, *rest = code.split(SEPARATOR)
    key_id = rest[0] if rest else ""
    if key_id and not KEY_ID.match(key_id):
        return None
    try:
        payload = _b32decode(payload_text)
        signature = _b32decode(signature_text)
        lines = payload.decode("utf-8").split("\n")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if len(signature) != 64 or len(lines) != len(FIELDS) + 1 or lines[0] != VERSION:
        return None
    facts = dict(zip(FIELDS, lines[1:], strict=True))
    return Decoded(facts=facts, payload=payload, signature=signature, key_id=key_id)


def verify_offline(code: str, public_key_pem) -> dict | None:
    """The facts a code vouches for if it is signed by the holder of `public_key_pem` (one PEM, or several: a
    list of PEMs or a mapping of key id to PEM, as the public key page lists them); None otherwise (not a code,
    a forged or altered code, or another key's). Needs no database and no Django settings."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    decoded = decode(code)
    if decoded is None:
        return None
    if isinstance(public_key_pem, str | bytes):
        candidates = [public_key_pem]
    elif isinstance(public_key_pem, dict):
        wanted = decoded.key_id or next(iter(public_key_pem), "")
        candidates = [public_key_pem[wanted]] if wanted in public_key_pem else []
    else:
        candidates = list(public_key_pem)
    for candidate in candidates:
        pem = candidate.encode("ascii") if isinstance(candidate, str) else candidate
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError):
            continue
        if isinstance(key, Ed25519PublicKey) and _signature_ok(decoded.payload, decoded.signature, key):
            return dict(decoded.facts)
    return None


# ------------------------------------------------------------------------------------------------------------------
# Verification against the record


class Status:
    VALID = "valid"
    FORGED = "forged"
    ALTERED = "altered"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a code: `facts` are what the page may show (never the donor's name unless
    the donor allows it); for an altered code, `claimed` holds what the code says and `differences` names the
    facts that differ from the record."""

    status: str
    facts: dict = field(default_factory=dict)
    donation: Donation | None = None
    claimed: dict = field(default_factory=dict)
    differences: tuple[str, ...] = ()

    @property
    def is_valid(self) -> bool:
        return self.status == Status.VALID


def public_facts(donation: Donation) -> dict:
    """What the public verification page confirms: charity, amount, date, project (or campaign, or the
    general fund) and, only if the donor allows it, the donor's name; plus any later refund or correction."""
    facts = receipt_facts(donation)
    project = donation.project if donation.purpose == Purpose.PROJECT else None
    campaign = donation.campaign if donation.purpose == Purpose.CAMPAIGN else None
    net = donation.amount_minor + (
        Donation.objects.filter(corrects=donation).aggregate(total=Sum("amount_minor"))["total"] or 0
    )
    return {
        **facts,
        "kind": donation.kind,
        "money": donation.amount,
        "received_on": _received_on(donation),
        "charity_name_ar": donation.charity.name_ar,
        "charity_name_en": donation.charity.name_en,
        "purpose": donation.purpose,
        "project_reference": project.reference if project else "",
        "project_title_ar": project.title_ar if project else "",
        "project_title_en": project.title_en if project else "",
        "campaign_name_ar": campaign.name_ar if campaign else "",
        "campaign_name_en": campaign.name_en if campaign else "",
        "net_money": Money(net, donation.currency),
        "corrected": net != donation.amount_minor,
    }


def verify_code(code: str) -> Verification:
    """Checks a code with the platform's key, then against the record:

    - "forged": it is a receipt code, but its signature is not the platform's over these facts (a changed
      amount, charity, date or project; another key's signature);
    - "altered": the signature is genuine but the record now differs from what the receipt vouches for;
    - "unknown": not a receipt code, or a genuine code whose receipt number is not on record;
    - "valid": genuine and matching the record."""
    decoded = decode(code)
    if decoded is None:
        return Verification(Status.UNKNOWN)
    signer = key_for(decoded.key_id)
    if signer is None or not _signature_ok(decoded.payload, decoded.signature, signer.key):
        return Verification(Status.FORGED)
    donation = (
        Donation.objects.select_related("charity", "donor", "project", "campaign")
        .filter(receipt_number=decoded.facts["receipt_number"])
        .first()
    )
    if donation is None:
        return Verification(Status.UNKNOWN)
    record = receipt_facts(donation, with_name=False)
    differences = tuple(name for name in COMPARED if record[name] != decoded.facts[name])
    facts = public_facts(donation)
    if differences:
        claimed = {name: decoded.facts[name] for name in COMPARED}
        return Verification(Status.ALTERED, facts, donation, claimed=claimed, differences=differences)
    return Verification(Status.VALID, facts, donation)


# ------------------------------------------------------------------------------------------------------------------
# PDFs: the receipt and the donor's annual statement (WeasyPrint, the finance fonts, both languages)


def qr_svg(data: str) -> str:
    """The QR code of `data` as an inline SVG element (no file, no network)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(data, image_factory=SvgPathImage, error_correction=qrcode.constants.ERROR_CORRECT_M)
    text = image.to_string(encoding="unicode")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    return re.sub(r'\sid="[^"]*"', "", text)  # the receipt shows it twice (one per language): no duplicate ids


def _other(language: str) -> str:
    return "en" if language.startswith("ar") else "ar"


def _languages(language: str) -> tuple[str, str]:
    primary = "en" if (language or "").startswith("en") else "ar"
    return primary, _other(primary)


def _render_pdf(template: str, context: dict, language: str):
    from weasyprint import HTML

    from shafaf.finance.statements import FONT_DIR, _fetcher

    parts = []
    for code in _languages(language):
        with translation.override(code):
            parts.append(
                {
                    "language": code,
                    "rtl": code == "ar",
                    "html": render_to_string(template, {**context, "LANGUAGE": code, "RTL": code == "ar"}),
                }
            )
    html = render_to_string(
        "donations/receipt_pdf.html",
        {
            "parts": parts,
            "font_regular": (FONT_DIR / "DejaVuSans.ttf").as_uri(),
            "font_bold": (FONT_DIR / "DejaVuSans-Bold.ttf").as_uri(),
        },
    )
    return HTML(string=html, url_fetcher=_fetcher()).render()


def receipt_document(donation: Donation, language: str = "ar"):
    """The rendered receipt (WeasyPrint document; its boxes hold the text, for tests)."""
    code = receipt_code(donation)
    url = verification_url(code)
    context = {
        "donation": donation,
        "donor": donation.donor,
        "facts": public_facts(donation),
        "code": code,
        "code_lines": [code[i : i + 52] for i in range(0, len(code), 52)],
        "url": url,
        "qr": qr_svg(url),
        "amount_ar": format_money(donation.amount, "ar"),
        "amount_en": format_money(donation.amount, "en"),
        "fingerprint": public_key_fingerprint(),
    }
    return _render_pdf("donations/receipt_body.html", context, language)


def receipt_pdf(donation: Donation, language: str = "ar") -> bytes:
    """The bilingual PDF receipt (the primary `language` first, then the other) with its code and QR code."""
    return receipt_document(donation, language).write_pdf()


@dataclass
class StatementLine:
    donation: Donation
    code: str
    money: Money


def annual_statement(donor: Donor, year: int) -> dict:
    """The donor's donations (and refunds, corrections) received in `year` (Kuwait time), with totals per
    currency and each entry's verification code."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    donations = list(
        Donation.objects.filter(donor=donor, received_at__gte=start, received_at__lt=end)
        .select_related("charity", "donor", "project", "campaign")
        .order_by("received_at", "id")
    )
    totals: dict[str, int] = {}
    for donation in donations:
        totals[donation.currency] = totals.get(donation.currency, 0) + donation.amount_minor
    return {
        "donor": donor,
        "charity": donor.charity,
        "year": year,
        "lines": [StatementLine(donation, receipt_code(donation), donation.amount) for donation in donations],
        "totals": [Money(total, currency) for currency, total in sorted(totals.items())],
        "count": sum(1 for d in donations if d.kind == EntryKind.DONATION),
        "generated_at": timezone.now(),
    }


def annual_statement_document(donor: Donor, year: int, language: str = "ar"):
    context = {"statement": annual_statement(donor, year), "fingerprint": public_key_fingerprint()}
    return _render_pdf("donations/annual_statement_body.html", context, language)


def annual_statement_pdf(donor: Donor, year: int, language: str = "ar") -> bytes:
    """The donor's bilingual annual statement: every entry of the year with its receipt code, totals per
    currency."""
    return annual_statement_document(donor, year, language).write_pdf()
