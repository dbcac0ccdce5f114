"""Writing donors, donations, refunds, corrections and allocations (DESIGN.md: services are atomic and audited).

Every donation and allocation posts to the finance ledger in the same transaction:

- a donation: Dr the charity's bank / Cr its fund — the project's restricted fund for a donation to a project
  (allocated to it at once), the campaign's fund, or the charity's general fund;
- an allocation of a general or campaign donation: Dr that fund / Cr the project's fund;
- a refund or a negative correction: the reverse, taking back from the allocations first what the unallocated
  remainder cannot cover (largest remainder, so nothing is lost).

Idempotency: a donation recorded with an ``idempotency_key`` is recorded once per charity and key. The same key
with the same request fingerprint returns the first donation (``donation.replayed`` is True); with another
fingerprint it is refused (``IdempotencyMismatch``, HTTP 422). Two concurrent requests with one key make one
donation: the database's unique constraint decides, and the loser returns the winner's donation.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import secrets
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit.services import record
from shafaf.core.allocation import split_by_weights
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money, MoneyError, known_currencies
from shafaf.core.prepared import prepared_cursor
from shafaf.finance import ledger
from shafaf.finance.models import AccountKind
from shafaf.projects.choices import ACTIVE_STATUSES

from . import permissions
from .models import (
    Allocation,
    BankAccount,
    Campaign,
    Channel,
    Donation,
    Donor,
    DonorKind,
    EntryKind,
    Purpose,
)

KUWAIT = ZoneInfo("Asia/Kuwait")
# Kuwait's weekend: Friday and Saturday (Monday is 0).
WEEKEND = frozenset({4, 5})
# A received_at this far ahead of the server's clock is still accepted (clocks of channels drift).
CLOCK_SKEW = dt.timedelta(minutes=5)

DONOR_FIELDS = (
    "kind",
    "name_ar",
    "name_en",
    "email",
    "phone",
    "consent_to_contact",
    "show_name_publicly",
    "user",
    "external_ref",
)


class IdempotencyMismatch(DomainError):
    """The idempotency key was used before with another request."""

    status = 422

    def __init__(self, message=None):
        super().__init__(
            message
            or _(
                "This Idempotency-Key was already used with a different request. "
                "Send the same request again, or use a new key for a new donation."
            ),
            code="idempotency_key_reused",
        )


# --------------------------------------------------------------------------------------------------------------------
# Helpers


def _field_error(field: str, message, code: str = "invalid") -> DomainError:
    return DomainError(message, code=code, fields={field: [str(message)]})


def _charity_id(charity) -> int:
    return getattr(charity, "pk", charity)


def general_fund(charity, currency: str):
    """The charity's unrestricted donations not yet allocated to a project (a liability)."""
    return ledger.account(
        code=f"charity:{charity.pk}:general:{currency}",
        kind=AccountKind.LIABILITY,
        name=f"{charity.slug} general fund {currency}",
        currency=currency,
        charity=charity,
    )


def campaign_fund(campaign, currency: str):
    """A campaign's donations not yet allocated to a project (a liability)."""
    return ledger.account(
        code=f"campaign:{campaign.pk}:fund:{currency}",
        kind=AccountKind.LIABILITY,
        name=f"campaign {campaign.pk} fund {currency}",
        currency=currency,
        charity=campaign.charity,
    )


def source_fund(donation):
    """The fund account a donation is credited to before (or without) allocation."""
    if donation.purpose == Purpose.PROJECT:
        return ledger.project_fund(donation.project, donation.currency)
    if donation.purpose == Purpose.CAMPAIGN:
        return campaign_fund(donation.campaign, donation.currency)
    return general_fund(donation.charity, donation.currency)


def new_receipt_number(year: int) -> str:
    """A unique, non-guessable short code: ``R-<year>-`` and 10 base32 characters (50 random bits)."""
    return f"R-{year}-{receipt_codes(1)[0]}"


def receipt_codes(count: int) -> list[str]:
    """`count` codes of 10 base32 characters, 50 random bits each, drawn at once (25 random bytes make 4)."""
    text = base64.b32encode(secrets.token_bytes(25 * -(-count // 4))).decode("ascii")
    return [text[start : start + 10] for start in range(0, 10 * count, 10)]


def next_business_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() in WEEKEND:
        day += dt.timedelta(days=1)
    return day


def is_late_entry(received_at: dt.datetime, entered_at: dt.datetime) -> bool:
    """Entered after the next business day (Kuwait time; Friday and Saturday are the weekend) after receipt."""
    received_day = received_at.astimezone(KUWAIT).date()
    return entered_at.astimezone(KUWAIT).date() > next_business_day(received_day)


def parse_amount(amount, currency: str, field: str = "amount") -> Money:
    """Money in the currency from Money, Decimal, int or text; refuses floats, too many decimals, unknown
    currencies (as field errors)."""
    currency = (currency or "").strip().upper() if isinstance(currency, str) else currency
    if not isinstance(currency, str) or currency not in known_currencies():
        raise _field_error("currency", _("Unknown currency code: %(code)s.") % {"code": currency}, "unknown_currency")
    if isinstance(amount, Money):
        if amount.currency != currency:
            raise _field_error(field, _("The amount is not in %(currency)s.") % {"currency": currency})
        return amount
    if isinstance(amount, float | bool) or amount is None:
        raise _field_error(field, _("Enter the amount as a number with the currency's decimals."))
    try:
        return Money.of(amount if not isinstance(amount, str) else amount.strip(), currency)
    except MoneyError as error:
        raise DomainError(error.message, code=error.code, fields={field: [str(error.message)]}) from error
    except (TypeError, ValueError, ArithmeticError) as error:
        raise _field_error(field, _("Enter a valid amount.")) from error


def request_fingerprint(data: dict) -> str:
    """A SHA-256 of a request's content (canonical JSON: sorted keys, text values), for idempotency."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _signature(donation: Donation) -> str:
    """The receipt's signature over the donation's facts (none of which is its id), before it is written."""
    from . import receipts

    return receipts.sign_donation(donation)


def _check_project(project, charity_id: int, field: str = "project") -> None:
    if project.charity_id != charity_id:
        raise _field_error(field, _("This project is not one of this charity's projects."), "project_other_charity")
    if project.status not in ACTIVE_STATUSES:
        raise _field_error(
            field,
            _("Donations go to licensed projects only (approved or in execution); %(reference)s is “%(status)s”.")
            % {"reference": project.reference, "status": project.get_status_display()},
            "project_not_licensed",
        )


# --------------------------------------------------------------------------------------------------------------------
# Donors


def _clean_donor(donor: Donor) -> None:
    if not (donor.name_ar or "").strip() and not (donor.name_en or "").strip():
        raise DomainError(
            _("Give the donor a name in Arabic or in English."),
            code="donor_without_name",
            fields={"name_ar": [_("Give the donor a name in Arabic or in English.")]},
        )
    if donor.kind not in DonorKind.values:
        raise _field_error("kind", _("Unknown kind of donor."))
    if donor.external_ref:
        clash = Donor.objects.filter(charity_id=donor.charity_id, external_ref=donor.external_ref)
        if donor.pk:
            clash = clash.exclude(pk=donor.pk)
        if clash.exists():
            raise _field_error("external_ref", _("Another donor already has this number."), "donor_duplicate_ref")


@transaction.atomic
def donor_create(
    *,
    actor,
    charity,
    kind=DonorKind.PERSON,
    name_ar="",
    name_en="",
    email="",
    phone="",
    consent_to_contact=False,
    show_name_publicly=False,
    user=None,
    external_ref="",
) -> Donor:
    if not permissions.can_create_donor(actor, charity):
        raise NotAllowed(_("You cannot add donors to this charity."))
    donor = Donor(
        charity=charity,
        kind=kind,
        name_ar=(name_ar or "").strip(),
        name_en=(name_en or "").strip(),
        email=(email or "").strip(),
        phone=(phone or "").strip(),
        consent_to_contact=bool(consent_to_contact),
        show_name_publicly=bool(show_name_publicly),
        user=user,
        external_ref=(external_ref or "").strip(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _clean_donor(donor)
    donor.save()
    record(
        actor=actor,
        action="donor.create",
        subject=donor,
        organization=charity,
        changes={name: getattr(donor, name if name != "user" else "user_id") for name in DONOR_FIELDS},
    )
    return donor


@transaction.atomic
def donor_update(*, actor, donor: Donor, **fields) -> Donor:
    if not permissions.can_edit_donor(actor, donor):
        raise NotAllowed(_("You cannot edit this donor."))
    unknown = set(fields) - set(DONOR_FIELDS)
    if unknown:
        raise TypeError(f"donor_update() got unknown fields: {sorted(unknown)}")
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    before = {name: getattr(donor, name if name != "user" else "user_id") for name in fields}
    for name, value in fields.items():
        setattr(donor, name, value.strip() if isinstance(value, str) else value)
    _clean_donor(donor)
    donor.save()
    after = {name: getattr(donor, name if name != "user" else "user_id") for name in fields}
    changes = {name: [before[name], after[name]] for name in fields if before[name] != after[name]}
    if changes:
        record(actor=actor, action="donor.update", subject=donor, organization=donor.charity, changes=changes)
    return donor


# --------------------------------------------------------------------------------------------------------------------
# Bank accounts and campaigns


def _normalise_iban(iban: str) -> str:
    return "".join((iban or "").split()).upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: two letters, two check digits, up to 30 alphanumerics; mod 97 of the rearranged number is 1."""
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


@transaction.atomic
def bank_account_register(*, actor, charity, bank_name, iban, currency="KWD") -> BankAccount:
    if not permissions.can_register_bank_account(actor, charity):
        raise NotAllowed(_("You cannot register bank accounts for this charity."))
    iban = _normalise_iban(iban)
    bank_name = (bank_name or "").strip()
    currency = (currency or "").strip().upper()
    if not bank_name:
        raise _field_error("bank_name", _("Name the bank."), "required")
    if not iban_is_valid(iban):
        raise _field_error("iban", _("This is not a valid IBAN."), "invalid_iban")
    if currency not in known_currencies():
        raise _field_error("currency", _("Unknown currency code: %(code)s.") % {"code": currency}, "unknown_currency")
    if BankAccount.objects.filter(iban=iban).exists():
        raise _field_error("iban", _("This IBAN is already registered."), "duplicate_iban")
    account = BankAccount.objects.create(charity=charity, bank_name=bank_name, iban=iban, currency=currency)
    record(
        actor=actor,
        action="bank_account.register",
        subject=account,
        organization=charity,
        changes={"bank_name": bank_name, "iban": iban, "currency": currency},
    )
    return account


@transaction.atomic
def bank_account_approve(*, actor, account: BankAccount) -> BankAccount:
    if not permissions.can_approve_bank_account(actor, account):
        raise NotAllowed(_("Only the ministry approves the bank accounts that receive donations."))
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    if account.approved_at is not None:
        raise Conflict(_("This bank account is already approved."), code="already_approved")
    account.approved_by = actor
    account.approved_at = timezone.now()
    account.save(update_fields=["approved_by", "approved_at"])
    record(
        actor=actor,
        action="bank_account.approve",
        subject=account,
        organization=account.charity,
        changes={"approved_at": account.approved_at},
    )
    return account


@transaction.atomic
def campaign_create(
    *, actor, charity, name_ar, starts_on: dt.date, ends_on: dt.date, name_en="", licence_number=""
) -> Campaign:
    if not permissions.can_create_campaign(actor, charity):
        raise NotAllowed(_("You cannot create campaigns for this charity."))
    if not (name_ar or "").strip():
        raise _field_error("name_ar", _("Name the campaign in Arabic."), "required")
    if ends_on < starts_on:
        raise _field_error("ends_on", _("A campaign cannot end before it starts."), "campaign_dates")
    campaign = Campaign.objects.create(
        charity=charity,
        name_ar=name_ar.strip(),
        name_en=(name_en or "").strip(),
        licence_number=(licence_number or "").strip(),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    record(
        actor=actor,
        action="campaign.create",
        subject=campaign,
        organization=charity,
        changes={"name_ar": campaign.name_ar, "starts_on": starts_on, "ends_on": ends_on},
    )
    return campaign


# --------------------------------------------------------------------------------------------------------------------
# Donations


def _fingerprint_of(*, donor, amount: Money, received_at, channel, bank_account, purpose, project, campaign,
                    anonymous, channel_ref) -> str:  # fmt: skip
    return request_fingerprint(
        {
            "donor": donor.pk,
            "amount": amount.amount_text,
            "currency": amount.currency,
            "received_at": received_at.astimezone(dt.UTC).isoformat(),
            "channel": channel,
            "bank_account": bank_account.pk,
            "purpose": purpose,
            "project": getattr(project, "pk", None),
            "campaign": getattr(campaign, "pk", None),
            "anonymous": bool(anonymous),
            "channel_ref": channel_ref,
        }
    )


def replayed_donation(charity_id: int, idempotency_key: str, request_hash: str) -> Donation | None:
    """The donation already recorded with this key (marked replayed), or None; IdempotencyMismatch if the key
    was used with another request."""
    existing = Donation.objects.filter(charity_id=charity_id, idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    return replay_of(existing, request_hash)


def replay_of(existing: Donation, request_hash: str) -> Donation:
    """The donation recorded before with the same idempotency key, marked replayed; IdempotencyMismatch when it
    was recorded for another request."""
    if existing.request_hash != request_hash:
        raise IdempotencyMismatch()
    existing.replayed = True
    return existing


def validate_donation(
    *,
    charity,
    donor,
    amount,
    currency,
    received_at,
    channel,
    bank_account,
    purpose,
    project=None,
    campaign=None,
    now=None,
) -> tuple[Money, dt.datetime]:
    """Checks a donation's facts without writing; returns the amount as Money and received_at (aware)."""
    charity_id = _charity_id(charity)
    errors: dict[str, list[str]] = {}

    def refuse(field, message):
        errors.setdefault(field, []).append(str(message))

    money = None
    try:
        money = parse_amount(amount, currency)
    except DomainError as error:
        for field, messages in (error.fields or {"amount": [str(error.message)]}).items():
            errors.setdefault(field, []).extend(messages)
    if money is not None and money.minor <= 0:
        refuse("amount", _("A donation must be more than zero."))
    if channel not in Channel.values:
        refuse("channel", _("Unknown channel: %(channel)s.") % {"channel": channel})
    if purpose not in Purpose.values:
        refuse("purpose", _("Unknown purpose: %(purpose)s.") % {"purpose": purpose})
    if not isinstance(received_at, dt.datetime):
        refuse("received_at", _("Give the date and time the donation was received."))
    else:
        if timezone.is_naive(received_at):
            received_at = timezone.make_aware(received_at, KUWAIT)
        if received_at > (now or timezone.now()) + CLOCK_SKEW:
            refuse("received_at", _("A donation cannot be received in the future."))
    if donor is None or donor.charity_id != charity_id:
        refuse("donor", _("This donor is not one of this charity's donors."))
    if bank_account is None or bank_account.charity_id != charity_id:
        refuse("bank_account", _("This bank account is not one of this charity's accounts."))
    elif not bank_account.is_approved:
        refuse("bank_account", _("This bank account is not approved by the ministry to receive donations."))
    elif money is not None and bank_account.currency != money.currency:
        refuse(
            "currency",
            _("The bank account receives %(account)s, not %(currency)s.")
            % {"account": bank_account.currency, "currency": money.currency},
        )
    if purpose == Purpose.PROJECT:
        if project is None:
            refuse("project", _("Choose the project the donation is for."))
        else:
            try:
                _check_project(project, charity_id)
            except DomainError as error:
                refuse("project", error.message)
        if campaign is not None:
            refuse("campaign", _("A donation to a project is not also to a campaign."))
    elif purpose == Purpose.CAMPAIGN:
        if campaign is None:
            refuse("campaign", _("Choose the campaign the donation is for."))
        elif campaign.charity_id != charity_id:
            refuse("campaign", _("This campaign is not one of this charity's campaigns."))
        if project is not None:
            refuse("project", _("A campaign donation is allocated to projects later, not now."))
    elif purpose == Purpose.GENERAL:
        if project is not None:
            refuse("project", _("A general donation has no project; choose the purpose “project”."))
        if campaign is not None:
            refuse("campaign", _("A general donation has no campaign; choose the purpose “campaign”."))
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, code="invalid_donation", fields=errors)
    return money, received_at


def donation_posting(donation: Donation) -> ledger.Posting:
    """Dr charity bank / Cr the donation's fund (either sign: a refund reverses it)."""
    money = donation.amount
    return ledger.Posting(
        donation.kind,
        donation.received_at.astimezone(KUWAIT).date(),
        [(ledger.charity_bank(donation.charity, money.currency), money), (source_fund(donation), -money)],
        memo=f"{donation.receipt_number}",
        source=f"donation:{donation.pk}",
    )


def allocation_posting(allocation: Allocation, donation: Donation) -> ledger.Posting:
    """Dr the donation's general or campaign fund / Cr the project's fund (either sign)."""
    money = allocation.amount
    return ledger.Posting(
        "allocation",
        timezone.localdate(allocation.allocated_at, KUWAIT),
        [(source_fund(donation), money), (ledger.project_fund(allocation.project, money.currency), -money)],
        memo=f"{donation.receipt_number} → {allocation.project.reference}",
        source=f"allocation:{allocation.pk}",
    )


def donation_record(
    *,
    actor,
    charity,
    donor,
    amount,
    currency,
    received_at,
    channel,
    bank_account,
    purpose,
    project=None,
    campaign=None,
    anonymous=False,
    idempotency_key="",
    request_hash="",
    channel_ref="",
    replay_checked=False,
) -> Donation:
    """Records a donation (see the module's documentation for idempotency). A donation to a project is allocated
    to it at once. The returned donation has ``replayed`` True when it was recorded before with the same key.
    ``replay_checked``: the caller has already looked the key and ``request_hash`` up (and found nothing)."""
    if not permissions.can_record_donation(actor, charity):
        raise NotAllowed(_("You cannot record donations for this charity."))
    idempotency_key = (idempotency_key or "").strip()
    channel_ref = (channel_ref or "").strip()
    if len(idempotency_key) > 200:
        raise _field_error("idempotency_key", _("The idempotency key is too long (200 characters at most)."))
    if len(channel_ref) > 100:
        raise _field_error("channel_ref", _("The channel reference is too long (100 characters at most)."))
    charity_id = _charity_id(charity)
    if idempotency_key and request_hash and not replay_checked:
        replay = replayed_donation(charity_id, idempotency_key, request_hash)
        if replay is not None:
            return replay
    money, received_at = validate_donation(
        charity=charity,
        donor=donor,
        amount=amount,
        currency=currency,
        received_at=received_at,
        channel=channel,
        bank_account=bank_account,
        purpose=purpose,
        project=project,
        campaign=campaign,
    )
    if idempotency_key and not request_hash:
        request_hash = _fingerprint_of(
            donor=donor,
            amount=money,
            received_at=received_at,
            channel=channel,
            bank_account=bank_account,
            purpose=purpose,
            project=project,
            campaign=campaign,
            anonymous=anonymous,
            channel_ref=channel_ref,
        )
        replay = replayed_donation(charity_id, idempotency_key, request_hash)
        if replay is not None:
            return replay
    now = timezone.now()
    donation = Donation(
        charity=charity,
        donor=donor,
        kind=EntryKind.DONATION,
        amount_minor=money.minor,
        currency=money.currency,
        received_at=received_at,
        channel=channel,
        bank_account=bank_account,
        purpose=purpose,
        project=project if purpose == Purpose.PROJECT else None,
        campaign=campaign if purpose == Purpose.CAMPAIGN else None,
        anonymous=bool(anonymous),
        entered_at=now,
        entered_by=actor if getattr(actor, "pk", None) else None,
        entered_late=is_late_entry(received_at, now),
        channel_ref=channel_ref,
        idempotency_key=idempotency_key,
        request_hash=request_hash if idempotency_key else "",
        receipt_number=new_receipt_number(received_at.astimezone(KUWAIT).year),
    )
    donation.receipt_signature = _signature(donation)
    allocation = None
    if purpose == Purpose.PROJECT:
        # A restricted donation is allocated to its project at once (written with it on PostgreSQL).
        allocation = Allocation(
            donation=donation,
            project=donation.project,
            amount_minor=donation.amount_minor,
            currency=donation.currency,
            allocated_by=donation.entered_by,
            allocated_at=donation.entered_at,
            reason="",
        )
    with transaction.atomic():
        try:
            allocation = _insert_once(donation, allocation)
        except IntegrityError:
            if idempotency_key:
                replay = replayed_donation(charity_id, idempotency_key, donation.request_hash)
                if replay is not None:
                    return replay
            if (
                channel_ref
                and Donation.objects.filter(charity_id=charity_id, channel=channel, channel_ref=channel_ref).exists()
            ):
                raise Conflict(
                    _("A donation with this channel reference is already recorded."),
                    code="duplicate_channel_ref",
                    fields={"channel_ref": [_("A donation with this channel reference is already recorded.")]},
                ) from None
            raise
        _after_entry(actor=actor, donation=donation, action="donation.record", allocation=allocation)
    donation.replayed = False
    return donation


@functools.cache
def _insert_sql(*, with_allocation: bool) -> tuple[str, list, list]:
    """The INSERT ... ON CONFLICT DO NOTHING of _insert_once (PostgreSQL), made once per process: its text and the
    fields whose values it takes, in order."""
    quote = connection.ops.quote_name

    def columns(model, skip=()):
        fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in skip]
        casts = ", ".join(f"%s::{f.db_type(connection)}" for f in fields)
        return fields, ", ".join(quote(f.column) for f in fields), casts

    donation_fields, d_columns, d_casts = columns(Donation)
    sql = (
        f"INSERT INTO {quote(Donation._meta.db_table)} ({d_columns}) VALUES ({d_casts}) "  # noqa: S608
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    allocation_fields = []
    if with_allocation:
        allocation_fields, a_columns, a_casts = columns(Allocation, skip=("donation_id",))
        sql = (
            f"WITH d AS ({sql}) INSERT INTO {quote(Allocation._meta.db_table)} "  # noqa: S608
            f"({quote('donation_id')}, {a_columns}) SELECT d.id, {a_casts} FROM d RETURNING {quote('donation_id')}, id"
        )
    return sql, donation_fields, allocation_fields


def _insert_once(donation: Donation, allocation: Allocation | None = None) -> Allocation | None:
    """Inserts the donation (and its allocation, when given); IntegrityError when a unique key (idempotency key,
    channel reference, receipt number) is taken, leaving the transaction usable: one statement with ON CONFLICT
    DO NOTHING on PostgreSQL, a savepoint elsewhere. Returns the allocation if it was written, else None."""
    if connection.vendor != "postgresql":
        with transaction.atomic():  # a savepoint: a unique violation leaves the outer transaction usable
            donation.save(force_insert=True)
        return None
    sql, donation_fields, allocation_fields = _insert_sql(with_allocation=allocation is not None)
    params = [f.get_db_prep_save(f.pre_save(donation, add=True), connection) for f in donation_fields]
    if allocation is not None:
        params += [f.get_db_prep_save(f.pre_save(allocation, add=True), connection) for f in allocation_fields]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise IntegrityError("a donation with this idempotency key, channel reference or receipt number exists")
    for instance, pk in ((donation, row[0]), (allocation, row[1] if allocation is not None else None)):
        if instance is not None:
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = connection.alias
    if allocation is not None:
        allocation.donation_id = donation.pk
    return allocation


def _after_entry(*, actor, donation: Donation, action: str, allocation: Allocation | None = None) -> None:
    """Posts a new entry (donation, refund or correction), allocates what a restricted entry brings or takes
    (unless ``allocation`` was written with it) and audits it. Inside the caller's transaction."""
    postings = [donation_posting(donation)]
    allocations: list[Allocation] = []
    if allocation is not None:
        allocations.append(allocation)
    elif donation.purpose == Purpose.PROJECT:
        # A restricted entry goes to (or comes back from) its project at once; the donation's posting already
        # credits the project's fund, so the allocation needs no posting of its own.
        allocations.append(
            Allocation.objects.create(
                donation=donation.corrects or donation,
                project=donation.project,
                amount_minor=donation.amount_minor,
                currency=donation.currency,
                allocated_by=donation.entered_by,
                allocated_at=donation.entered_at,
                reason=donation.reason[:300] if donation.kind != EntryKind.DONATION else "",
            )
        )
    elif donation.amount_minor < 0:
        original = donation.corrects
        available = unallocated(original)
        # What the unallocated remainder cannot cover comes back from the projects, by largest remainder.
        shortfall = -available.minor if available.minor < 0 else 0
        if shortfall:
            allocations.extend(_take_back(original, Money(shortfall, donation.currency), donation))
            postings.extend(allocation_posting(a, original) for a in allocations)
    ledger.post_many(postings, actor=actor)
    record(
        actor=actor,
        action=action,
        subject=donation,
        organization=donation.charity,
        changes={
            "receipt_number": donation.receipt_number,
            "amount": donation.amount.to_dict(),
            "donor": donation.donor_id,
            "channel": donation.channel,
            "purpose": donation.purpose,
            "project": donation.project_id,
            "campaign": donation.campaign_id,
            "entered_late": donation.entered_late,
            "corrects": donation.corrects_id,
        },
        reason=donation.reason,
    )


def net_amount(donation: Donation) -> Money:
    """The donation plus its refunds and corrections."""
    total = donation.amount_minor + (
        Donation.objects.filter(corrects=donation).aggregate(total=Sum("amount_minor"))["total"] or 0
    )
    return Money(total, donation.currency)


def allocated(donation: Donation) -> Money:
    total = Allocation.objects.filter(donation=donation).aggregate(total=Sum("amount_minor"))["total"] or 0
    return Money(total, donation.currency)


def unallocated(donation: Donation) -> Money:
    """What of the donation (net of refunds and corrections) is not allocated to a project."""
    return net_amount(donation) - allocated(donation)


def _allocated_by_project(donation: Donation) -> list[tuple[int, int]]:
    rows = (
        Allocation.objects.filter(donation=donation)
        .values("project_id")
        .annotate(total=Sum("amount_minor"))
        .order_by("project_id")
    )
    return [(row["project_id"], row["total"]) for row in rows if row["total"] > 0]


def _take_back(original: Donation, amount: Money, entry: Donation) -> list[Allocation]:
    """Negative allocations taking ``amount`` back from the projects the donation went to, in proportion."""
    from shafaf.projects.models import Project

    by_project = _allocated_by_project(original)
    parts = split_by_weights(amount, [total for _pid, total in by_project])
    projects = Project.objects.in_bulk([pid for pid, _total in by_project])
    made = []
    for (project_id, _total), part in zip(by_project, parts, strict=True):
        if part.minor:
            made.append(
                Allocation.objects.create(
                    donation=original,
                    project=projects[project_id],
                    amount_minor=-part.minor,
                    currency=part.currency,
                    allocated_by=entry.entered_by,
                    allocated_at=entry.entered_at,
                    reason=(_("Taken back: %(receipt)s") % {"receipt": entry.receipt_number})[:300],
                )
            )
    return made


def _new_entry(*, actor, donation: Donation, kind: str, money: Money, reason: str) -> Donation:
    now = timezone.now()
    entry = Donation(
        charity=donation.charity,
        donor=donation.donor,
        kind=kind,
        corrects=donation,
        amount_minor=money.minor,
        currency=donation.currency,
        received_at=now,
        channel=donation.channel,
        bank_account_id=donation.bank_account_id,
        purpose=donation.purpose,
        project=donation.project,
        campaign_id=donation.campaign_id,
        anonymous=donation.anonymous,
        entered_at=now,
        entered_by=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        receipt_number=new_receipt_number(timezone.localdate(now, KUWAIT).year),
    )
    entry.receipt_signature = _signature(entry)
    entry.save(force_insert=True)
    return entry


def _lock_original(donation: Donation) -> Donation:
    original = (
        Donation.objects.select_for_update(of=("self",))
        .select_related("charity", "project", "campaign")
        .get(pk=donation.pk)
    )
    if original.kind != EntryKind.DONATION:
        raise DomainError(_("Refund or correct the original donation, not one of its entries."), code="not_a_donation")
    return original


@transaction.atomic
def donation_refund(*, actor, donation: Donation, amount, reason: str) -> Donation:
    """A refund of (part of) a donation: a new negative entry. At most what is left of the donation."""
    if not permissions.can_refund_donation(actor, donation):
        raise NotAllowed(_("You cannot refund this charity's donations."))
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("Say why the donation is refunded."), "required")
    original = _lock_original(donation)
    money = parse_amount(amount, original.currency)
    if money.minor <= 0:
        raise _field_error("amount", _("The refunded amount must be more than zero."))
    left = net_amount(original)
    if money > left:
        raise _field_error(
            "amount",
            _("At most %(left)s of this donation can be refunded.") % {"left": left.amount_text},
            "refund_too_large",
        )
    entry = _new_entry(actor=actor, donation=original, kind=EntryKind.REFUND, money=-money, reason=reason)
    _after_entry(actor=actor, donation=entry, action="donation.refund")
    return entry


@transaction.atomic
def donation_correct(*, actor, donation: Donation, amount, reason: str) -> Donation:
    """A correction of a donation's amount: a new entry of the difference (either sign), never an edit.
    ``amount`` is the signed difference; the donation's net amount cannot become negative."""
    if not permissions.can_correct_donation(actor, donation):
        raise NotAllowed(_("You cannot correct this charity's donations."))
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("Say why the donation is corrected."), "required")
    original = _lock_original(donation)
    money = parse_amount(amount, original.currency)
    if money.minor == 0:
        raise _field_error("amount", _("A correction cannot be zero."))
    if money.minor > 0 and original.purpose == Purpose.PROJECT:
        _check_project(original.project, original.charity_id)
    if (net_amount(original) + money).minor < 0:
        raise _field_error("amount", _("A correction cannot make the donation negative."), "correction_too_large")
    entry = _new_entry(actor=actor, donation=original, kind=EntryKind.CORRECTION, money=money, reason=reason)
    _after_entry(actor=actor, donation=entry, action="donation.correct")
    return entry


# --------------------------------------------------------------------------------------------------------------------
# Allocation


@transaction.atomic
def allocate(
    *,
    actor,
    donation: Donation,
    parts: Sequence[tuple] | None = None,
    shares: Sequence[tuple] | None = None,
    reason: str = "",
) -> list[Allocation]:
    """Allocates a general or campaign donation's unallocated remainder to licensed projects of its charity.

    ``parts``: [(project, amount)] with amounts as Money or text in the donation's currency, positive, summing
    to at most the remainder. ``shares``: [(project, weight)] splitting the whole remainder by largest
    remainder (parts sum exactly to it, each within one minor unit of its exact share). One of the two."""
    if not permissions.can_allocate(actor, donation):
        raise NotAllowed(_("You cannot allocate this charity's donations."))
    if (parts is None) == (shares is None):
        raise DomainError(_("Allocate either by amounts or by shares."), code="allocation_mode")
    original = _lock_original(donation)
    if original.purpose == Purpose.PROJECT:
        raise DomainError(
            _("A donation to a project is allocated to it already; it cannot be reallocated."),
            code="restricted_donation",
        )
    rows = list(parts if parts is not None else shares)
    if not rows:
        raise DomainError(_("There is nothing to allocate to."), code="allocation_empty")
    projects = [project for project, _value in rows]
    if len({p.pk for p in projects}) != len(projects):
        raise DomainError(_("Name each project once."), code="allocation_duplicate_project")
    for project in projects:
        _check_project(project, original.charity_id, field="parts")
    remainder = unallocated(original)
    if remainder.minor <= 0:
        raise Conflict(_("This donation is fully allocated already."), code="nothing_to_allocate")
    if parts is not None:
        amounts = [parse_amount(value, original.currency, field="parts") for _p, value in rows]
        if any(amount.minor <= 0 for amount in amounts):
            raise _field_error("parts", _("Each part must be more than zero."), "allocation_sign")
        total = Money(sum(a.minor for a in amounts), original.currency)
        if total > remainder:
            raise _field_error(
                "parts",
                _("The parts add up to %(total)s, more than the %(left)s left to allocate.")
                % {"total": total.amount_text, "left": remainder.amount_text},
                "allocation_too_much",
            )
    else:
        weights = []
        for _p, weight in rows:
            if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
                raise _field_error("shares", _("Shares are whole or decimal numbers."), "allocation_weight")
            weights.append(weight)
        amounts = split_by_weights(remainder, weights)
    now = timezone.now()
    made = []
    for project, amount in zip(projects, amounts, strict=True):
        if amount.minor == 0:
            continue
        made.append(
            Allocation.objects.create(
                donation=original,
                project=project,
                amount_minor=amount.minor,
                currency=amount.currency,
                allocated_by=actor if getattr(actor, "pk", None) else None,
                allocated_at=now,
                reason=(reason or "")[:300],
            )
        )
    ledger.post_many([allocation_posting(a, original) for a in made], actor=actor)
    record(
        actor=actor,
        action="donation.allocate",
        subject=original,
        organization=original.charity,
        changes={"allocations": [{"project": a.project_id, "amount": a.amount.to_dict()} for a in made]},
        reason=reason,
    )
    return made
