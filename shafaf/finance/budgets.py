"""Every write to a project's budget: its versions (the original, then revisions with their reasons), their lines
and periods, their commitment; the charity's licensed administrative share; the tranches planned under a contract.
Each service is keyword-only, atomic, checked and audited.

Amounts are read exactly in the project's currency (shafaf.core.money): text in major units ("1250.500") or
Money; too many decimals, a negative or absurd amount, an unknown or other currency is a field error naming the
row ("lines-0-amount"), and nothing is written. A version is never edited once saved; the newest is the budget.

DESIGN.md §3: "An edit to an approved project's scope or budget goes back to review". A revision of a licensed
project's budget is recorded here with its reason, seen by the ministry in the history, and its deviations are
re-evaluated by the roll-up; the re-review itself is not started from here."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money, MoneyError, parse_money
from shafaf.donations import notifications as donor_notifications
from shafaf.projects.choices import ACTIVE_STATUSES
from shafaf.projects.models import Project

from . import permissions
from .models import (
    AdminShareLicence,
    BudgetKind,
    BudgetLine,
    BudgetPeriod,
    BudgetStatus,
    BudgetVersion,
    BudgetVersionLine,
    Contract,
    LineCategory,
    Tranche,
)

# No budget line is larger than a trillion major units (10^12): beyond it an amount is a typing mistake.
ABSURD_MAJOR_UNITS = 10**12
CODE_MAX_LENGTH = BudgetLine._meta.get_field("code").max_length
NAME_MAX_LENGTH = BudgetLine._meta.get_field("name_ar").max_length
SOURCES = ("entered", "import", "iati", "spreadsheet")
ADMIN_SHARE_MAX_BP = 10000


def _refusal(fields: dict) -> DomainError:
    return DomainError(_("Please correct the errors below."), code="invalid", fields=fields)


class _Errors:
    """Collects field errors so that every bad row is reported at once."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message) -> None:
        self.fields.setdefault(field, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.fields:
            raise _refusal(self.fields)


def parse_amount(value, currency: str, *, allow_zero: bool = True) -> Money:
    """An amount in `currency`, exactly: Money, or text / int / Decimal in major units. Raises MoneyError or
    DomainError (code "invalid") with a translated message; floats are refused."""
    if isinstance(value, float):
        raise DomainError(_("Give the amount as text, not a floating-point number."), code="invalid")
    if isinstance(value, Money):
        if value.currency != currency:
            raise DomainError(
                _("The amount must be in %(currency)s, not %(other)s.")
                % {"currency": currency, "other": value.currency},
                code="invalid",
            )
        money = value
    elif isinstance(value, str):
        if not value.strip():
            raise DomainError(_("Give the amount."), code="required")
        money = parse_money(value, currency)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        money = Money.of(value, currency)
    else:
        raise DomainError(_("Give the amount."), code="required")
    if money.is_negative():
        raise DomainError(_("The amount cannot be negative."), code="invalid")
    if not allow_zero and money.is_zero():
        raise DomainError(_("The amount must be more than zero."), code="invalid")
    if abs(money.minor) > ABSURD_MAJOR_UNITS * 10**money.digits:
        raise DomainError(
            _("The amount is beyond any budget (more than %(limit)s %(currency)s).")
            % {"limit": f"{ABSURD_MAJOR_UNITS:,}", "currency": currency},
            code="amount_out_of_range",
        )
    return money


def _amount_or_error(errors: _Errors, field: str, value, currency: str, *, allow_zero: bool = True) -> Money | None:
    try:
        return parse_amount(value, currency, allow_zero=allow_zero)
    except (MoneyError, DomainError) as error:
        errors.add(field, error.message)
        return None
    except (TypeError, ValueError):
        errors.add(field, _("This is not an amount."))
        return None


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _refresh(project: Project) -> None:
    """The project's roll-up (budget, spent, ratios, deviations) recomputed in the same transaction."""
    from . import deviations, rollup

    rollup.refresh(project)
    deviations.deviations_detect(project)  # a revision may open or resolve deviations (DEVIATIONS)


def _coordinate(actor, project: Project) -> None:
    """A revised budget is a scope edit for coordination across charities: the budget is one of the signals it
    compares, so a project it compares is checked again at once, in the same transaction (not at the nightly
    scan)."""
    from django.apps import apps

    if apps.is_installed("shafaf.coordination"):
        from shafaf.coordination import services as coordination

        coordination.check_after_edit(actor=actor, project=project)


def current_version(project: Project) -> BudgetVersion | None:
    return BudgetVersion.objects.filter(project=project).order_by("-number").first()


# --- budget versions ------------------------------------------------------------------------------------------------


def _check_lines(project: Project, lines, errors: _Errors) -> list[dict]:
    """The rows, checked: each {"code", "category", "name_ar", "name_en", "money"}; errors named lines-<i>-<field>."""
    currency = project.currency
    if isinstance(lines, dict) or not isinstance(lines, (list, tuple)):
        errors.add("lines", _("Give the budget's lines."))
        return []
    if not lines:
        errors.add("lines", _("A budget needs at least one line."))
        return []
    checked, codes = [], {}
    for index, row in enumerate(lines):
        prefix = f"lines-{index}-"
        if not isinstance(row, dict):
            errors.add(f"{prefix}amount", _("This line is not readable."))
            continue
        code = row.get("code")
        code = str(code).strip() if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
        if len(code) > CODE_MAX_LENGTH:
            errors.add(f"{prefix}code", _("At most %(count)s characters.") % {"count": CODE_MAX_LENGTH})
        elif code and code in codes:
            errors.add(
                f"{prefix}code",
                _("The code %(code)s is given to two lines (rows %(first)s and %(second)s).")
                % {"code": code, "first": codes[code] + 1, "second": index + 1},
            )
        elif code:
            codes[code] = index
        category = row.get("category")
        if category not in LineCategory.values:
            errors.add(f"{prefix}category", _("Choose the line's category."))
        name_ar, name_en = _text(row.get("name_ar")), _text(row.get("name_en"))
        if not name_ar and not name_en:
            errors.add(f"{prefix}name_ar", _("Give the line's name, in Arabic or in English."))
        for field, name in (("name_ar", name_ar), ("name_en", name_en)):
            if len(name) > NAME_MAX_LENGTH:
                errors.add(f"{prefix}{field}", _("At most %(count)s characters.") % {"count": NAME_MAX_LENGTH})
        money = _amount_or_error(errors, f"{prefix}amount", row.get("amount"), currency)
        checked.append(
            {"code": code, "category": category, "name_ar": name_ar, "name_en": name_en, "money": money, "row": index}
        )
    return checked


def _check_periods(project: Project, periods, errors: _Errors) -> list[dict]:
    if not periods:
        return []
    if isinstance(periods, dict) or not isinstance(periods, (list, tuple)):
        errors.add("periods", _("Give the budget's periods as a list."))
        return []
    start_limit, end_limit = project.planned_start, project.planned_end
    checked = []
    for index, row in enumerate(periods):
        prefix = f"periods-{index}-"
        if not isinstance(row, dict):
            errors.add(f"{prefix}start", _("This period is not readable."))
            continue
        start, end = _date(row.get("start")), _date(row.get("end"))
        if start is None:
            errors.add(f"{prefix}start", _("Give the period's first day (YYYY-MM-DD)."))
        if end is None:
            errors.add(f"{prefix}end", _("Give the period's last day (YYYY-MM-DD)."))
        money = _amount_or_error(errors, f"{prefix}amount", row.get("amount"), project.currency)
        if start is None or end is None:
            continue
        if end < start:
            errors.add(f"{prefix}end", _("The period ends before it starts."))
            continue
        if start < start_limit or end > end_limit:
            errors.add(
                f"{prefix}start" if start < start_limit else f"{prefix}end",
                _("The period %(start)s – %(end)s is outside the project's planned dates (%(first)s – %(last)s).")
                % {
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "first": start_limit.isoformat(),
                    "last": end_limit.isoformat(),
                },
            )
            continue
        checked.append({"start": start, "end": end, "money": money, "row": index})
    ordered = sorted(checked, key=lambda period: (period["start"], period["end"]))
    for before, after in itertools.pairwise(ordered):
        if after["start"] <= before["end"]:
            errors.add(
                f"periods-{after['row']}-start",
                _("The period starting on %(start)s overlaps the one ending on %(end)s.")
                % {"start": after["start"].isoformat(), "end": before["end"].isoformat()},
            )
    return checked


def _next_codes(project: Project, taken: set[str]):
    """Free numeric codes for new lines: "1", "2", ... after the highest numeric code in use."""
    numbers = [int(code) for code in taken if code.isdigit()]
    following = max(numbers, default=0) + 1
    while True:
        code = str(following)
        following += 1
        if code not in taken:
            taken.add(code)
            yield code


def budget_version_create(
    *,
    actor,
    project: Project,
    lines: list[dict],
    periods: list[dict] = (),
    status: str = BudgetStatus.INDICATIVE,
    reason: str = "",
    source: str = "entered",
) -> BudgetVersion:
    """Saves a new version of the project's budget: number 1 is the original, each later one a revision that
    needs a reason and states every line it keeps (a line it leaves out is 0 in it; the line itself stays, since
    expenditures point to it). Each line is {"code" (optional: "1", "2", ... by default), "category", "name_ar",
    "name_en", "amount"}, the amount in the project's currency; periods [{"start", "end", "amount"}] lie within the
    project's planned dates and do not overlap. By the charity's administrators and finance officers: the original
    while the project is a draft or back for changes (or by an import, source != "entered"), a revision also while
    it is licensed and running."""
    source = source if source in SOURCES else "entered"
    importing = source != "entered"
    allowed = (
        permissions.can_import_budget(actor, project) if importing else permissions.is_finance_officer(actor, project)
    )
    if not allowed:
        raise NotAllowed(_("Only the charity's administrators and finance officers enter the project's budget."))
    if not importing and project.status not in permissions.BUDGET_EDIT_STATUSES:
        raise Conflict(
            _("The budget cannot be changed while the project is “%(status)s”.")
            % {"status": project.get_status_display()},
            code="budget_locked",
        )
    errors = _Errors()
    if status not in BudgetStatus.values:
        errors.add("status", _("Choose indicative or committed."))
    reason = _text(reason)
    checked_lines = _check_lines(project, lines, errors)
    checked_periods = _check_periods(project, periods, errors)
    errors.raise_if_any()

    with transaction.atomic():
        # The project's row lock serialises the versions of one project: two revisions at once get 2 and 3.
        project = Project.objects.select_for_update().select_related("charity").get(pk=project.pk)
        if not importing and project.status not in permissions.BUDGET_EDIT_STATUSES:
            raise Conflict(_("Someone else changed this project first. Reload it to see its current state."))
        number = (BudgetVersion.objects.filter(project=project).aggregate(top=Max("number"))["top"] or 0) + 1
        if number == 1 and not importing and project.status not in permissions.BUDGET_DRAFT_STATUSES:
            raise Conflict(
                _(
                    "The original budget is entered while the project is prepared (a draft, or back for changes); "
                    "this project is “%(status)s”."
                )
                % {"status": project.get_status_display()},
                code="original_budget_locked",
            )
        if number > 1 and not reason:
            raise _refusal({"reason": [_("A revision of the budget needs its reason.")]})
        previous = current_version(project)
        previous_amounts = (
            {row.line_id: row.amount_minor for row in previous.line_amounts.all()} if previous is not None else {}
        )
        existing = {line.code: line for line in BudgetLine.objects.filter(project=project)}
        codes = _next_codes(project, set(existing) | {row["code"] for row in checked_lines if row["code"]})

        version = BudgetVersion(
            project=project,
            number=number,
            kind=BudgetKind.ORIGINAL if number == 1 else BudgetKind.REVISION,
            status=status,
            reason=reason,
            currency=project.currency,
            source=source,
            created_by=actor,
        )
        try:
            with transaction.atomic():
                version.save()
        except IntegrityError as error:
            raise Conflict(_("Another version of this budget was saved at the same moment; try again.")) from error

        amounts: dict[int, int] = {}
        line_changes = {}
        total = admin = 0
        for row in checked_lines:
            code = row["code"] or next(codes)
            line = existing.get(code)
            if line is None:
                line = BudgetLine.objects.create(
                    project=project, code=code, category=row["category"], name_ar=row["name_ar"], name_en=row["name_en"]
                )
                existing[code] = line
            elif (line.category, line.name_ar, line.name_en) != (row["category"], row["name_ar"], row["name_en"]):
                line.category, line.name_ar, line.name_en = row["category"], row["name_ar"], row["name_en"]
                line.save(update_fields=["category", "name_ar", "name_en"])
            minor = row["money"].minor
            amounts[line.pk] = amounts.get(line.pk, 0) + minor
            total += minor
            if line.category == LineCategory.ADMINISTRATION:
                admin += minor
        # A line the revision leaves out is 0 in it: every line of the project has its amount in every version.
        for line in existing.values():
            amounts.setdefault(line.pk, 0)
        by_pk = {line.pk: line for line in existing.values()}
        for line_pk, minor in amounts.items():
            old = previous_amounts.get(line_pk, 0)
            if old != minor or previous is None:
                line_changes[by_pk[line_pk].code] = [old, minor]
        Money(total, project.currency)  # a total beyond a BIGINT raises here, before anything is stored
        BudgetVersionLine.objects.bulk_create(
            BudgetVersionLine(version=version, line_id=line_pk, amount_minor=minor)
            for line_pk, minor in amounts.items()
        )
        BudgetPeriod.objects.bulk_create(
            BudgetPeriod(version=version, start=row["start"], end=row["end"], amount_minor=row["money"].minor)
            for row in checked_periods
        )
        version.total_minor, version.admin_minor = total, admin
        version.save(update_fields=["total_minor", "admin_minor"])
        audit.record(
            actor=actor,
            action="budget.create" if number == 1 else "budget.revise",
            subject=version,
            organization=project.charity,
            reason=reason,
            changes={
                "project": [None, project.pk],
                "number": [None, number],
                "kind": [None, version.kind],
                "status": [None, status],
                "source": [None, source],
                "total": [previous.total.to_dict() if previous else None, Money(total, project.currency).to_dict()],
                "admin": [
                    Money(previous.admin_minor, previous.currency).to_dict() if previous else None,
                    Money(admin, project.currency).to_dict(),
                ],
                "lines": line_changes,
                "periods": [
                    None,
                    [[row["start"], row["end"], row["money"].minor] for row in checked_periods] or None,
                ],
                # A revision of a licensed project's budget: the ministry sees it, deviations are re-evaluated.
                "project_licensed": [None, project.status in ACTIVE_STATUSES],
            },
        )
        donor_notifications.budget_revised(version=version)  # a revision reaches the project's donors
        _refresh(project)
        _coordinate(actor, project)
    return version


def budget_commit(*, actor, version: BudgetVersion) -> BudgetVersion:
    """Marks the project's current budget version as committed (no longer indicative)."""
    project = version.project
    if not permissions.is_finance_officer(actor, project):
        raise NotAllowed(_("Only the charity's administrators and finance officers commit the project's budget."))
    if project.status not in permissions.BUDGET_EDIT_STATUSES:
        raise Conflict(
            _("The budget cannot be changed while the project is “%(status)s”.")
            % {"status": project.get_status_display()},
            code="budget_locked",
        )
    with transaction.atomic():
        project = Project.objects.select_for_update().select_related("charity").get(pk=project.pk)
        latest = current_version(project)
        if latest is None or latest.pk != version.pk:
            raise Conflict(_("Only the current version of the budget can be committed."), code="not_current")
        claimed = BudgetVersion.objects.filter(pk=version.pk, status=BudgetStatus.INDICATIVE).update(
            status=BudgetStatus.COMMITTED
        )
        if not claimed:
            raise Conflict(_("This version of the budget is already committed."), code="already_committed")
        version.status = BudgetStatus.COMMITTED
        audit.record(
            actor=actor,
            action="budget.commit",
            subject=version,
            organization=project.charity,
            changes={"status": [BudgetStatus.INDICATIVE, BudgetStatus.COMMITTED]},
        )
        _refresh(project)
    return version


# --- the licensed administrative share --------------------------------------------------------------------------


def parse_percent(value) -> int:
    """A licensed share typed by a person ("12.5", "١٢٫٥") in basis points (1250), 0–100 %; DomainError otherwise."""
    if isinstance(value, (float, bool)):
        raise _refusal({"percent": [_("Give the percentage as text, such as 12.5.")]})
    from .deviations import parse_percent as parse_bp

    return parse_bp(value, field="percent", maximum_bp=ADMIN_SHARE_MAX_BP)


def admin_share_licence_set(*, actor, charity, percent) -> AdminShareLicence:
    """Sets the administrative share the ministry licenses the charity to take from its projects' budgets."""
    if not permissions.can_set_admin_share(actor):
        raise NotAllowed(_("Only the ministry's administrators set a charity's licensed administrative share."))
    if getattr(charity, "kind", None) != "charity":
        raise _refusal({"charity": [_("Choose a charity.")]})
    percent_bp = parse_percent(percent)
    with transaction.atomic():
        licence = AdminShareLicence.objects.select_for_update().filter(charity=charity).first()
        old = licence.percent_bp if licence is not None else None
        if licence is None:
            licence = AdminShareLicence(charity=charity, percent_bp=percent_bp, set_by=actor)
        else:
            licence.percent_bp, licence.set_by = percent_bp, actor
        from django.utils import timezone

        licence.set_at = timezone.now()
        try:
            with transaction.atomic():
                licence.save()
        except IntegrityError as error:
            raise Conflict(_("Someone else set this charity's share at the same moment; try again.")) from error
        audit.record(
            actor=actor,
            action="admin_share.set",
            subject=licence,
            organization=charity,
            changes={"charity": [None, charity.pk], "percent_bp": [old, percent_bp]},
        )
    return licence


# --- tranches ---------------------------------------------------------------------------------------------------


def tranche_plan(*, actor, contract: Contract, number, planned_on, amount) -> Tranche:
    """Plans a tranche (a disbursement to come) under a contract, in the contract's currency: by the charity's
    administrators and finance officers, on a licensed project; the tranches never add up to more than the
    contract."""
    from .services import not_licensed_refusal

    project = contract.project
    if not permissions.is_finance_officer(actor, project):
        raise NotAllowed(_("Only the charity's administrators and finance officers plan tranches."))
    if not permissions.project_accepts_money(project):
        raise not_licensed_refusal(project)
    errors = _Errors()
    try:
        number = int(number)
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= 32767:
        errors.add("number", _("Give the tranche's number (1, 2, ...)."))
    planned = _date(planned_on)
    if planned is None:
        errors.add("planned_on", _("Give the date the tranche is planned for."))
    elif planned < contract.signed_on:
        errors.add(
            "planned_on",
            _("A tranche cannot be planned before the contract, signed on %(date)s.")
            % {"date": contract.signed_on.isoformat()},
        )
    money = _amount_or_error(errors, "amount", amount, contract.currency, allow_zero=False)
    errors.raise_if_any()
    from .selectors import money_text

    with transaction.atomic():
        contract = Contract.objects.select_for_update().select_related("project__charity").get(pk=contract.pk)
        if Tranche.objects.filter(contract=contract, number=number).exists():
            raise _refusal({"number": [_("This contract already has a tranche with this number.")]})
        planned_total = Money(
            int(Tranche.objects.filter(contract=contract).aggregate(total=Sum("amount_minor"))["total"] or 0),
            contract.currency,
        )
        if planned_total + money > contract.amount:
            raise _refusal(
                {
                    "amount": [
                        _(
                            "This tranche (%(amount)s) would bring the tranches planned to %(total)s, above the "
                            "contract's amount (%(contract)s); %(remaining)s remains."
                        )
                        % {
                            "amount": money_text(money),
                            "total": money_text(planned_total + money),
                            "contract": money_text(contract.amount),
                            "remaining": money_text(contract.amount - planned_total),
                        }
                    ]
                }
            )
        tranche = Tranche(
            project=contract.project,
            contract=contract,
            number=number,
            planned_on=planned,
            amount_minor=money.minor,
            currency=money.currency,
        )
        try:
            with transaction.atomic():
                tranche.save()
        except IntegrityError as error:
            raise _refusal({"number": [_("This contract already has a tranche with this number.")]}) from error
        audit.record(
            actor=actor,
            action="tranche.plan",
            subject=tranche,
            organization=contract.project.charity,
            changes={
                "contract": [None, contract.pk],
                "number": [None, number],
                "planned_on": [None, planned],
                "amount": [None, money.to_dict()],
            },
        )
    return tranche
