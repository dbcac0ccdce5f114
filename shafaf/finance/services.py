"""Every write to contracts and disbursements. Each is atomic, checked and audited.

The accreditation gate (shafaf.partners.gate) stands in front of every one: a contract is registered only with
a partner accredited by both ministries, and free of an open or confirmed screening hit, on the day it was
signed and today; a disbursement only with a partner accredited on the day it is paid. A suspended partner
may be paid only to settle a contract signed before its suspension, with the signed contract uploaded, until
the ministry's settlement deadline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money, MoneyError, parse_money
from shafaf.partners.gate import PartnerRefused, partner_gate, partner_gate_status, refusal
from shafaf.projects.models import Project
from shafaf.projects.services import check_upload

from . import ledger, permissions, rates, rollup
from .models import Contract, Disbursement, Tranche
from .selectors import disbursed_total, money_text

# A signed contract is a PDF or a scan of it.
CONTRACT_CONTENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})
NUMBER_MAX_LENGTH = Contract._meta.get_field("number").max_length
REFERENCE_MAX_LENGTH = Disbursement._meta.get_field("reference").max_length


def _invalid(field: str, message) -> DomainError:
    return DomainError(_("Please correct the errors below."), code="invalid", fields={field: [message]})


def _amount(amount, currency: str) -> Money:
    """The amount as Money in `currency`: Money, or text / Decimal / int in major units ("1250.500")."""
    if isinstance(amount, float):
        raise TypeError("amounts are never floats")
    try:
        if isinstance(amount, Money):
            if amount.currency != currency:
                raise _invalid(
                    "amount",
                    _("The amount must be in %(currency)s, not %(other)s.")
                    % {"currency": currency, "other": amount.currency},
                )
            money = amount
        elif isinstance(amount, str):
            if not amount.strip():
                raise _invalid("amount", _("Give the amount."))
            money = parse_money(amount, currency)
        elif isinstance(amount, (int, Decimal)) and not isinstance(amount, bool):
            money = Money.of(amount, currency)
        else:
            raise _invalid("amount", _("Give the amount."))
    except MoneyError as error:
        raise _invalid("amount", error.message) from error
    if not money.is_positive():
        raise _invalid("amount", _("The amount must be more than zero."))
    return money


def _check_contract_file(file) -> tuple[str, int, str]:
    content_type, size, sha256 = check_upload(file)
    if content_type not in CONTRACT_CONTENT_TYPES:
        raise _invalid("file", _("Upload the signed contract as a PDF or an image (JPEG, PNG or WebP)."))
    return content_type, size, sha256


def not_licensed_refusal(project: Project) -> Conflict:
    return Conflict(
        _(
            "Contracts and disbursements are recorded only for a licensed project (approved or in execution); "
            "this project is “%(status)s”."
        )
        % {"status": project.get_status_display()},
        code="project_not_licensed",
    )


def _gate(project: Project, on_date: dt.date):
    """The gate's answer for the project's partner on a date; PartnerRefused naming the date otherwise."""
    try:
        return partner_gate(
            project.implementing_partner,
            on_date=on_date,
            country=project.country,
            project_model=project.project_model,
        )
    except PartnerRefused as error:
        raise _dated(error, on_date) from error


def _dated(error: PartnerRefused, on_date: dt.date) -> PartnerRefused:
    """The gate's refusal, its message naming the date it applies to."""
    return PartnerRefused(
        _("On %(date)s: %(reason)s") % {"date": on_date.isoformat(), "reason": error.message},
        code=error.code,
        fields=error.fields,
    )


def contract_register(
    *, actor, project: Project, number: str, signed_on: dt.date, amount, currency: str | None = None, file=None
) -> Contract:
    """Registers a contract signed with the project's implementing partner: by the charity's administrators and
    finance officers, for a licensed project, with a partner the gate lets through on `signed_on` and today.
    `amount` is Money or major units as text ("1250.500"); `currency` defaults to the project's; `file`, the
    signed contract (PDF or image), may also be uploaded later (contract_attach_document)."""
    if not permissions.is_finance_officer(actor, project):
        raise NotAllowed(_("Only the charity's administrators and finance officers register contracts."))
    if not permissions.project_accepts_money(project):
        raise not_licensed_refusal(project)
    if project.implementing_partner_id is None:
        raise Conflict(
            _("This project has no implementing partner: name one before registering a contract."),
            code="no_partner",
        )
    number = (number or "").strip()
    if not number:
        raise _invalid("number", _("Give the contract's number."))
    if len(number) > NUMBER_MAX_LENGTH:
        raise _invalid("number", _("At most %(count)s characters.") % {"count": NUMBER_MAX_LENGTH})
    today = timezone.localdate()
    if not isinstance(signed_on, dt.date):
        raise _invalid("signed_on", _("Give the date the contract was signed."))
    if signed_on > today:
        raise _invalid("signed_on", _("A contract cannot be signed in the future."))
    currency = (currency or project.currency or "").strip().upper()
    money = _amount(amount, currency)
    checked = _check_contract_file(file) if file is not None else None

    _gate(project, signed_on)
    if signed_on != today:
        _gate(project, today)

    contract = Contract(
        project=project,
        partner_id=project.implementing_partner_id,
        number=number,
        signed_on=signed_on,
        amount_minor=money.minor,
        currency=money.currency,
        registered_by=actor,
    )
    if checked is not None:
        contract.sha256 = checked[2]
        contract.file.save(getattr(file, "name", "contract.pdf"), file, save=False)
    try:
        with transaction.atomic():
            locked = Project.objects.select_for_update().get(pk=project.pk)
            if not permissions.project_accepts_money(locked) or locked.implementing_partner_id != contract.partner_id:
                raise Conflict(
                    _("Someone else changed this project first. Reload it to see its current state."),
                    code="conflict",
                )
            if Contract.objects.filter(project=project, number=number).exists():
                raise _invalid("number", _("This project already has a contract with this number."))
            try:
                with transaction.atomic():
                    contract.save()
            except IntegrityError as error:
                raise _invalid("number", _("This project already has a contract with this number.")) from error
            audit.record(
                actor=actor,
                action="contract.register",
                subject=contract,
                organization=project.charity,
                changes={
                    "project": [None, project.pk],
                    "partner": [None, contract.partner_id],
                    "number": [None, number],
                    "signed_on": [None, signed_on],
                    "amount": [None, money.to_dict()],
                    "sha256": [None, contract.sha256 or None],
                },
            )
    except Exception:
        if contract.file:
            contract.file.delete(save=False)
        raise
    return contract


def contract_attach_document(*, actor, contract: Contract, file) -> Contract:
    """Uploads the signed contract (PDF or image) of a contract registered without it; its SHA-256 is kept in
    the contract and the audit chain. Once uploaded it is not replaced."""
    if not permissions.is_finance_officer(actor, contract.project):
        raise NotAllowed(_("Only the charity's administrators and finance officers upload signed contracts."))
    if not permissions.project_accepts_money(contract.project):
        raise not_licensed_refusal(contract.project)
    if contract.has_document:
        raise Conflict(_("The signed contract is already uploaded."), code="document_present")
    _content_type, size, sha256 = _check_contract_file(file)
    stored = Contract.objects.get(pk=contract.pk)
    stored.file.save(getattr(file, "name", "contract.pdf"), file, save=False)
    try:
        with transaction.atomic():
            locked = Contract.objects.select_for_update().get(pk=contract.pk)
            if locked.has_document:
                raise Conflict(_("The signed contract is already uploaded."), code="document_present")
            locked.file.name = stored.file.name
            locked.sha256 = sha256
            locked.save(update_fields=["file", "sha256"])
            audit.record(
                actor=actor,
                action="contract.attach_document",
                subject=locked,
                organization=contract.project.charity,
                changes={"sha256": [None, sha256], "size": [None, size]},
            )
    except Exception:
        stored.file.delete(save=False)
        raise
    contract.file.name, contract.sha256 = locked.file.name, locked.sha256
    return contract


def _settlement_problems(contract: Contract, status, paid_on: dt.date) -> list[str]:
    """Why a transfer to a suspended partner is not a settlement the ministry allows ([] when it is)."""
    problems = []
    for suspension in status.suspensions:
        if contract.signed_on >= suspension.suspended_on:
            problems.append(
                _(
                    "The contract was signed on %(signed)s, not before the suspension on %(suspended)s: only "
                    "contracts signed before it may be settled."
                )
                % {"signed": contract.signed_on.isoformat(), "suspended": suspension.suspended_on.isoformat()}
            )
        if suspension.settlement_deadline is None:
            problems.append(
                _("The ministry has set no settlement deadline for this suspension (%(number)s).")
                % {"number": suspension.number}
            )
        elif paid_on > suspension.settlement_deadline:
            problems.append(
                _("The settlement deadline (%(deadline)s) has passed.")
                % {"deadline": suspension.settlement_deadline.isoformat()}
            )
    if not contract.has_document:
        problems.append(_("Upload the signed contract first: a settlement needs it."))
    return list(dict.fromkeys(problems))


def disbursement_record(
    *, actor, contract: Contract, amount, paid_on: dt.date, reference: str, tranche: Tranche | None = None
) -> Disbursement:
    """Records a transfer to the partner under a contract: by the charity's administrators and finance officers,
    for a licensed project, in the contract's currency, never beyond the contract's amount, with a partner the
    gate lets through on `paid_on`. A suspended partner is paid only as a settlement (is_settlement): a
    contract signed before the suspension, its signed copy uploaded, on or before the ministry's deadline.

    The transfer may pay a planned tranche of the contract. Its amount is also kept in the project's currency at
    the ministry's rate of `paid_on` (refused when there is none), posted to the ledger (the charity's bank to the
    partner's advance) and added to the project's roll-ups, all in the same transaction."""
    project = contract.project
    if not permissions.is_finance_officer(actor, project):
        raise NotAllowed(_("Only the charity's administrators and finance officers record disbursements."))
    if not permissions.project_accepts_money(project):
        raise not_licensed_refusal(project)
    reference = (reference or "").strip()
    if not reference:
        raise _invalid("reference", _("Give the transfer's reference."))
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise _invalid("reference", _("At most %(count)s characters.") % {"count": REFERENCE_MAX_LENGTH})
    if not isinstance(paid_on, dt.date):
        raise _invalid("paid_on", _("Give the date of the transfer."))
    if paid_on > timezone.localdate():
        raise _invalid("paid_on", _("A disbursement cannot be recorded before it is paid: the date is in the future."))
    if paid_on < contract.signed_on:
        raise _invalid(
            "paid_on",
            _("The transfer cannot precede the contract, signed on %(date)s.")
            % {"date": contract.signed_on.isoformat()},
        )
    money = _amount(amount, contract.currency)
    if tranche is not None and tranche.contract_id != contract.pk:
        raise _invalid("tranche", _("This tranche belongs to another contract."))
    try:
        conversion = rates.convert_on(money, project.currency, paid_on)
    except rates.RateMissing as error:
        raise _invalid("paid_on", error.message) from error

    with transaction.atomic():
        # The contract's row lock serialises the disbursements under it: two at once cannot exceed its amount.
        contract = (
            Contract.objects.select_for_update().select_related("project__charity", "partner").get(pk=contract.pk)
        )
        project = contract.project
        if not permissions.project_accepts_money(project):
            raise not_licensed_refusal(project)
        status = partner_gate_status(
            contract.partner, on_date=paid_on, country=project.country, project_model=project.project_model
        )
        is_settlement = False
        if not status.allowed:
            if status.screening_blocked or not status.suspended:
                raise _dated(refusal(status, partner=contract.partner), paid_on)
            problems = _settlement_problems(contract, status, paid_on)
            if problems:
                raise PartnerRefused(
                    _(
                        "The partner (%(partner)s) is suspended: transfers are allowed only to settle contracts "
                        "signed before the suspension, with the signed contract uploaded, before the ministry's "
                        "deadline."
                    )
                    % {"partner": contract.partner},
                    code="settlement_refused",
                    fields={"partner": [*status.messages(), *problems]},
                )
            is_settlement = True

        disbursed = disbursed_total(contract)
        if disbursed + money > contract.amount:
            remaining = contract.amount - disbursed
            raise DomainError(
                _("Please correct the errors below."),
                code="contract_exceeded",
                fields={
                    "amount": [
                        _(
                            "This transfer (%(amount)s) would bring the total disbursed to %(total)s, above the "
                            "contract's amount (%(contract)s); %(remaining)s remains."
                        )
                        % {
                            "amount": money_text(money),
                            "total": money_text(disbursed + money),
                            "contract": money_text(contract.amount),
                            "remaining": money_text(remaining),
                        }
                    ]
                },
            )
        duplicate = _invalid("reference", _("This project already has a disbursement with this reference."))
        if Disbursement.objects.filter(project=project, reference=reference).exists():
            raise duplicate
        disbursement = Disbursement(
            project=project,
            contract=contract,
            partner=contract.partner,
            amount_minor=money.minor,
            currency=money.currency,
            paid_on=paid_on,
            reference=reference,
            tranche=tranche,
            project_amount_minor=conversion.money.minor,
            rate=conversion.rate_text,
            rate_date=conversion.rate_date,
            is_settlement=is_settlement,
            recorded_by=actor,
        )
        try:
            with transaction.atomic():
                disbursement.save()
        except IntegrityError as error:
            raise duplicate from error
        audit.record(
            actor=actor,
            action="disbursement.record",
            subject=disbursement,
            organization=project.charity,
            changes={
                "project": [None, project.pk],
                "contract": [None, contract.pk],
                "partner": [None, contract.partner_id],
                "amount": [None, money.to_dict()],
                "paid_on": [None, paid_on],
                "reference": [None, reference],
                "tranche": [None, tranche.number if tranche else None],
                "project_amount": [None, conversion.money.to_dict()],
                "rate": [None, conversion.rate_text],
                "is_settlement": [None, is_settlement],
            },
        )
        ledger.post_disbursement(disbursement, actor)
        rollup.refresh(project)
    return disbursement
