"""Importing IATI 2.0x activities with their money: each activity becomes a project of one charity, with its budgets
(original and revised, by period) and its disbursements and expenditures (transaction types 3 and 4).

This is a documented import service rather than a walk through the pages' services, because an IATI activity is
not a charity's proposal going through the ministry's review (the publisher already says where it stands), and
because 2,441 activities must import in well under a minute. It writes the rows and audit events the services
write, in batches:

* The project: its fields come from ``shafaf.projects.demo.activities.draft_from_activity`` / ``complete`` (the
  demo seed's mapping; beneficiaries drawn deterministically per identifier), with the planned dates as published
  (not shifted) and the project's currency set to the activity's default-currency (or its budgets' currency when
  it has none). It is checked field by field as ``project_create`` checks a draft (full_clean), its reference
  claimed from the same yearly sequence, and audited "project.create" with the same changes.
* Its state: "submitted"; when the publisher reports the activity under way or finished (activity-status 2, 3
  or 4), "in execution", through "approved" with a licence number claimed from the ministry's sequence as an
  approval claims it. Each step is a ``ProjectTransition`` row and a ``project.<action>`` audit event (reason
  "IATI import ..."), as project_transition records them. The rulebook and the partner gate are not run: no
  partner is attached, and the ministry reviews imported projects like any other afterwards.
* Budgets become BudgetVersion 1 (the original budgets, type 1) and, when the file has revised budgets (type 2),
  version 2 in which each revised budget replaces the original of the same period (IATI's rule); each version has
  one line (code "IATI", programme) for its total and a BudgetPeriod per budget. Audit: ``budget.create`` /
  ``budget.revise`` with source "iati", as shafaf.finance.budgets writes them.
* Transactions of type 3 (disbursement) and 4 (expenditure) become Expenditure rows (source "iati", evidence
  "reported", negative values kept: reversals), converted to the project's currency at the ministry's rate of the
  value-date, bulk-created; one ``expenditure.import`` audit event per project. They are not posted to the
  ledger: the publisher reports money that did not move through the charity's accounts on the platform. An
  activity that has no budget gets no budget and its transactions are not imported (counted in the report): there
  is nothing to spend against, and a publisher that does not publish budgets is not over-spending.
* Then the roll-ups are refreshed set-based (shafaf.finance.rollup_bulk) and the deviations detected
  (shafaf.finance.deviations.deviations_detect) on the projects beyond a threshold.

Every activity is planned (values read, rounded, converted) before anything of it is written: an activity that
cannot be imported (a missing exchange rate, an unreadable amount or date, a negative budget) is reported with
its reason and leaves nothing behind; the others are kept. The file is streamed (shafaf.interop.iati.importer
runs this module's plan/build/write on batches and keeps each activity's IATI record); the whole run is one
transaction, so a file that turns out not well-formed XML, or not an IATI activities file, leaves nothing behind.
Re-importing a file skips the activities the charity already has unchanged (by iati-identifier and the hash of
their XML): nothing is written twice.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shafaf.audit import services as audit
from shafaf.core.bulk import insert_and_read_ids, insert_rows, insert_values
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.core.money import Money, MoneyError, minor_digits
from shafaf.projects import permissions as project_permissions
from shafaf.projects import services as project_services
from shafaf.projects.choices import ProjectAction, ProjectStatus
from shafaf.projects.codelists import CURRENCIES
from shafaf.projects.demo.activities import complete, draft_from_activity
from shafaf.projects.demo.iati import Activity, Budget, Transaction
from shafaf.projects.models import Project

from . import rates
from .models import (
    BudgetKind,
    BudgetLine,
    BudgetPeriod,
    BudgetStatus,
    BudgetVersion,
    BudgetVersionLine,
    EvidenceKind,
    Expenditure,
    ExpenditureSource,
    LineCategory,
)

ROUNDING = decimal.ROUND_HALF_EVEN
# IATI ActivityStatus: 2 implementation, 3 finalisation, 4 closed: the work is (or was) under way.
RUNNING_ACTIVITY_STATUSES = frozenset({"2", "3", "4"})
SPENDING_TYPES = ("3", "4")  # IATI TransactionType: 3 disbursement, 4 expenditure
ORIGINAL, REVISED = "1", "2"  # IATI BudgetType
COMMITTED = "2"  # IATI BudgetStatus (1 indicative)
LINE_CODE = "IATI"
LINE_NAME_AR = "ميزانية IATI"
LINE_NAME_EN = "IATI budget"
SOURCE = "iati"


class IatiFileError(DomainError):
    """The file cannot be imported at all (not XML, not IATI activities); nothing was written."""


class ActivityError(DomainError):
    """One activity cannot be imported (its reason is reported; nothing of it is written)."""


@dataclass
class PlannedPeriod:
    start: dt.date
    end: dt.date
    minor: int  # in the project's currency
    budget: Budget


@dataclass
class PlannedVersion:
    number: int
    kind: str
    status: str
    periods: list[PlannedPeriod]

    @property
    def total_minor(self) -> int:
        return sum(period.minor for period in self.periods)


@dataclass
class PlannedExpenditure:
    iati_type: str
    money: Money
    project_minor: int
    rate: str
    rate_date: dt.date | None
    spent_on: dt.date
    reference: str
    description: str


@dataclass
class Plan:
    identifier: str
    fields: dict
    locations: list[dict]
    status: str  # the IATI activity-status code
    versions: list[PlannedVersion]
    expenditures: list[PlannedExpenditure]
    rounded: int = 0  # values with more decimals than their currency, rounded
    zero: int = 0  # spending transactions of zero (after rounding): not stored
    unbudgeted: int = 0  # spending transactions of an activity with no budget: not stored


@dataclass
class ImportReport:
    file: str = ""
    read: int = 0
    imported: int = 0
    skipped: list[str] = field(default_factory=list)  # already imported (iati identifiers)
    unusable: list[str] = field(default_factory=list)  # no title / country / sector / date: not a project
    errors: list[tuple[str, str]] = field(default_factory=list)  # (identifier, reason)
    projects: list[int] = field(default_factory=list)  # the ids of the projects created
    in_execution: int = 0
    submitted: int = 0
    budget_versions: int = 0
    revisions: int = 0
    periods: int = 0
    transactions: int = 0
    rounded: int = 0
    zero: int = 0
    unbudgeted: int = 0
    deviations: int = 0
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        return [
            f"IATI import of {self.file}: {self.read} activities read in {self.seconds:.1f} s",
            f"  activities: {self.imported} imported ({self.submitted} submitted, {self.in_execution} in execution), "
            f"{len(self.skipped)} skipped, already imported; {len(self.unusable)} not usable as projects; "
            f"{len(self.errors)} errors",
            f"  budgets: {self.budget_versions} versions ({self.revisions} revisions), {self.periods} periods",
            f"  transactions: {self.transactions} disbursements and expenditures imported"
            f" ({self.rounded} values rounded to their currency's minor unit; {self.zero} of zero and"
            f" {self.unbudgeted} of activities without a budget not imported)",
            f"  deviations: {self.deviations} open",
        ]


# --- reading values -------------------------------------------------------------------------------------------------


def _date(raw: str, what: str, identifier: str) -> dt.date:
    """The date of `raw`; `what` (marked with gettext_noop) is translated only for the error, not on every call."""
    try:
        return dt.date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        raise ActivityError(
            _("Activity %(id)s: %(what)s “%(raw)s” is not a date.") % {"id": identifier, "what": _(what), "raw": raw},
            code="invalid",
        ) from None


def _decimal(raw: str, identifier: str) -> Decimal:
    try:
        value = Decimal((raw or "").strip().replace(",", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ActivityError(
            _("Activity %(id)s: the value “%(raw)s” is not an amount.") % {"id": identifier, "raw": raw},
            code="invalid",
        )
    return value


def _currency(code: str, identifier: str) -> str:
    try:
        minor_digits(code)
    except MoneyError:
        raise ActivityError(
            _("Activity %(id)s: “%(code)s” is not a known currency.") % {"id": identifier, "code": code},
            code="invalid",
        ) from None
    return code


class _RunningRounder:
    """Rounds a sequence of exact values of one currency to its minor unit, ROUND_HALF_EVEN, on the running total:
    each value becomes round(total so far) - round(total before it). A single value is at most one minor unit from
    its own rounding, and the values always add up to their exact sum rounded once.

    Why not round every value on its own: IATI values carry float noise and long fractions (1234.5600000001, or
    Sida's 18720.0187200187 spread over a budget of 353433.9534339534); rounding each one half-even adds up, and
    transactions that spend a budget exactly would show as a cent over it: a false deviation."""

    def __init__(self, currency: str):
        self.currency = currency
        self.exact = Decimal(0)
        self.rounded_total = 0
        self.rounded = 0  # how many values had more decimals than the currency

    def take(self, value: Decimal) -> Money:
        if Money.of(value, self.currency, rounding=ROUNDING).amount != value:
            self.rounded += 1
        self.exact += value
        total = Money.of(self.exact, self.currency, rounding=ROUNDING).minor
        minor, self.rounded_total = total - self.rounded_total, total
        return Money(minor, self.currency)


# --- planning one activity (no writes) ----------------------------------------------------------------------------


def project_currency(activity: Activity) -> str:
    """The activity's default-currency; without one, the currency of its budgets (then of its transactions)."""
    active = CURRENCIES.active_codes()
    candidates = [activity.default_currency]
    candidates += [budget.currency for budget in activity.budgets]
    candidates += [item.currency for item in activity.transactions if item.type in SPENDING_TYPES]
    for code in candidates:
        if code and code in active:
            return code
    return "USD"


class _Converter:
    """rates.convert_on with the ministry's settings read once."""

    def __init__(self):
        self.max_age_days = rates.settings().rate_max_age_days
        self.quotes: dict[tuple[str, dt.date], rates.RateQuote | None] = {}  # None: no rate

    def quote(self, currency: str, on_date: dt.date, *, max_age_days: int | None = None) -> rates.RateQuote:
        """rates.rate_on, remembered for the run (the rates do not change during an import; a missing rate is
        remembered too). Bounded by the currencies and dates of the file."""
        key = (currency, on_date)
        if key not in self.quotes:
            try:
                self.quotes[key] = rates.rate_on(currency, on_date, max_age_days=max_age_days)
            except rates.RateMissing as missing:
                self.quotes[key] = None
                raise missing from None
        found = self.quotes[key]
        if found is None:  # a new exception each time: one instance raised again would keep every traceback
            raise rates.RateMissing(currency.strip().upper(), on_date, max_age_days)
        return found

    def __call__(self, money: Money, to_currency: str, on_date: dt.date) -> rates.Conversion:
        return rates.convert_on(money, to_currency, on_date, max_age_days=self.max_age_days, quote=self.quote)


def _plan_versions(activity: Activity, currency: str, convert: _Converter, plan: Plan) -> list[PlannedVersion]:
    identifier = activity.identifier
    budgets = []
    for budget in activity.budgets:
        start = _date(budget.period_start, gettext_noop("the budget's period-start"), identifier)
        end = _date(budget.period_end, gettext_noop("the budget's period-end"), identifier)
        if end < start:
            raise ActivityError(
                _("Activity %(id)s: a budget period ends (%(end)s) before it starts (%(start)s).")
                % {"id": identifier, "start": start, "end": end},
                code="invalid",
            )
        value = _decimal(budget.value, identifier)
        if value < 0:
            raise ActivityError(
                _("Activity %(id)s: a budget of %(value)s is negative.") % {"id": identifier, "value": budget.value},
                code="invalid",
            )
        budgets.append((start, end, value, _currency(budget.currency or currency, identifier), budget))
    if not budgets:
        return []
    originals = [row for row in budgets if row[4].type != REVISED]
    revised = [row for row in budgets if row[4].type == REVISED]
    chosen: list[tuple[int, str, list]] = []
    if originals:
        chosen.append((1, BudgetKind.ORIGINAL, originals))
        if revised:
            # A revised budget replaces the original of the same period; the other periods keep their original.
            revised_periods = {(row[0], row[1]) for row in revised}
            kept = [row for row in originals if (row[0], row[1]) not in revised_periods]
            chosen.append((2, BudgetKind.REVISION, kept + revised))
    else:
        chosen.append((1, BudgetKind.ORIGINAL, revised))  # only revised budgets: they are the budget

    versions = []
    for number, kind, rows in chosen:
        rows = sorted(rows, key=lambda row: (row[0], row[1]))
        rounders: dict[str, _RunningRounder] = {}
        periods = []
        for start, end, value, code, budget in rows:
            rounder = rounders.setdefault(code, _RunningRounder(code))
            money = rounder.take(value)
            # A budget in another currency is converted at the ministry's rate of the period's first day.
            minor = convert(money, currency, start).money.minor
            periods.append(PlannedPeriod(start, end, minor, budget))
        if number == 1:
            plan.rounded += sum(rounder.rounded for rounder in rounders.values())
        status = (
            BudgetStatus.COMMITTED if all(p.budget.status == COMMITTED for p in periods) else BudgetStatus.INDICATIVE
        )
        versions.append(PlannedVersion(number, kind, status, periods))
    return versions


def _plan_expenditures(
    activity: Activity, currency: str, convert: _Converter, plan: Plan, *, has_budget: bool
) -> list[PlannedExpenditure]:
    identifier = activity.identifier
    spending = [item for item in activity.transactions if item.type in SPENDING_TYPES]
    if not has_budget:
        plan.unbudgeted += len(spending)
        return []
    rounders: dict[str, _RunningRounder] = {}
    planned = []
    for item in spending:
        item: Transaction
        value = _decimal(item.value, identifier)
        code = _currency(item.currency or activity.default_currency or currency, identifier)
        if not (item.value_date or item.transaction_date):
            raise ActivityError(
                _("Activity %(id)s: a transaction of %(value)s %(currency)s has neither a value-date nor a date.")
                % {"id": identifier, "value": item.value, "currency": code},
                code="invalid",
            )
        value_date = _date(item.value_date or item.transaction_date, gettext_noop("the value-date"), identifier)
        spent_on = _date(item.transaction_date or item.value_date, gettext_noop("the transaction-date"), identifier)
        rounder = rounders.setdefault(code, _RunningRounder(code))
        before = rounder.rounded
        money = rounder.take(value)
        if money.is_zero():
            plan.zero += 1
            continue
        conversion = convert(money, currency, value_date)
        description = item.description[:400]
        if rounder.rounded != before:
            # The rounding is noted on the row: the publisher's exact value stays readable.
            description = (f"IATI {item.value} {code} · " + description).strip(" ·")[:500]
        planned.append(
            PlannedExpenditure(
                iati_type=item.type,
                money=money,
                project_minor=conversion.money.minor,
                rate=conversion.rate_text,
                rate_date=conversion.rate_date,
                spent_on=spent_on,
                reference=item.ref[:100],
                description=description,
            )
        )
    plan.rounded += sum(rounder.rounded for rounder in rounders.values())
    return planned


def plan_activity(activity: Activity, convert: _Converter) -> Plan | None:
    """What the activity becomes, computed without writing; None when it cannot be a project (no title, recipient
    country, DAC sector or date). Raises ActivityError, or rates.RateMissing naming the currency and the date."""
    draft = draft_from_activity(activity)
    if draft is None:
        return None
    currency = project_currency(activity)
    # Deterministic per activity: the same file gives the same projects whatever else it holds.
    fields = complete(draft, random.Random(activity.identifier))
    fields["currency"] = currency
    plan = Plan(
        identifier=activity.identifier,
        fields=fields,
        locations=[dict(location) for location in draft.locations],
        status=activity.status,
        versions=[],
        expenditures=[],
    )
    plan.versions = _plan_versions(activity, currency, convert, plan)
    plan.expenditures = _plan_expenditures(activity, currency, convert, plan, has_budget=bool(plan.versions))
    return plan


# --- writing ----------------------------------------------------------------------------------------------------------

WRITE_BATCH = 200


class _AuditBatch:
    """Appends events to the audit chain as audit.services.record does (same fields, same hash chain), many at a
    time: the chain's head is locked once per batch and the events are inserted together."""

    def __init__(self, *, actor, organization):
        self.actor = actor
        self.organization = organization
        self.role = audit._role_for(actor, organization)
        self.pending: list[dict] = []

    def add(self, *, action: str, subject, changes: dict, reason: str = "", role: str | None = None) -> None:
        self.pending.append({"action": action, "subject": subject, "changes": changes, "reason": reason, "role": role})

    def flush(self) -> None:
        from shafaf.audit.chain import HASHED_FIELDS, hash_json_ready, jsonable
        from shafaf.audit.models import AuditChainHead, AuditEvent
        from shafaf.core import context

        if not self.pending:
            return
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        seq, previous = head.seq, head.hash
        rows = []
        request_id = context.get_request_id() or ""
        actor_id, username = self.actor.pk, self.actor.get_username()
        organization_id = self.organization.pk if self.organization is not None else None
        # The events' fields as AuditEvent(...) would hold them, hashed as audit.chain hashes an event's content;
        # written without a model instance per event (thousands per batch).
        for item in self.pending:
            seq += 1
            subject = item["subject"]
            row = {
                "seq": seq,
                "occurred_at": timezone.now(),
                "actor_id": actor_id,
                "actor_username": username,
                "actor_role": item["role"] if item["role"] is not None else self.role,
                "organization_id": organization_id,
                "action": item["action"],
                "subject_type": audit.subject_type_of(subject),
                "subject_id": str(subject.pk),
                "subject_repr": str(subject)[:300],
                "changes": jsonable(item["changes"] or {}),
                "reason": item["reason"] or "",
                "request_id": request_id,
                "prev_hash": previous,
            }
            content = {name: row[name] for name in HASHED_FIELDS}
            content["occurred_at"] = jsonable(row["occurred_at"])  # the one value `changes` aside not yet JSON
            row["hash"] = previous = hash_json_ready(content)
            rows.append(row)
        insert_values(AuditEvent, rows, [*HASHED_FIELDS, "hash"])
        AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=previous)
        self.pending.clear()


def _claim_numbers(sequence_model, year: int, count: int) -> list[int]:
    """`count` consecutive numbers of the year's sequence, claimed under its row lock (as the services claim one)."""
    sequence, _created = sequence_model.objects.select_for_update().get_or_create(year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return list(range(first, first + count))


@dataclass
class _Built:
    plan: Plan
    project: Project
    locations: list


def build_project(*, actor, charity, plan: Plan, allowed: bool = False) -> _Built:
    """The project of a plan, checked as project_create checks a draft (DomainError with the fields otherwise),
    not saved. Uniqueness is the importer's: it skips the identifiers the charity already has. `allowed`: the
    caller has checked once for the whole run that the actor may create the charity's projects."""
    if not allowed and not project_permissions.can_create_project(actor, charity):
        raise NotAllowed(_("You cannot create projects for this charity."))
    project = Project(charity=charity, created_by=actor, **plan.fields)
    for name in ("title_ar", "title_en", "description_ar", "description_en"):
        setattr(project, name, (getattr(project, name) or "").strip())
    try:
        # The charity and the actor are known to exist: their foreign keys are not looked up again per project.
        project.full_clean(
            exclude=["reference", "created_by", "charity", "implementing_partner"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        raise ActivityError(
            _("Activity %(id)s cannot be a project: %(errors)s")
            % {
                "id": plan.identifier,
                "errors": "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in error.message_dict.items()),
            },
            code="invalid",
        ) from None
    return _Built(plan, project, _build_locations(plan))


def _build_locations(plan: Plan) -> list:
    """The locations, checked field by field as project_create checks them (without its per-row constraint
    queries: the constraints are the database's, and a location of the mapping never breaks them)."""
    from shafaf.projects.models import ProjectLocation

    built = []
    for raw in plan.locations:
        location = ProjectLocation(**{k: raw.get(k) for k in project_services.LOCATION_FIELDS if k in raw})
        location.admin_area_ar = (location.admin_area_ar or "").strip()
        location.admin_area_en = (location.admin_area_en or "").strip()
        try:
            location.full_clean(exclude=["project"], validate_unique=False, validate_constraints=False)
        except ValidationError:
            continue  # a place the mapping could not read well is left out; the country stays
        project_services._quantize_point(location)
        built.append(location)
    return built


def _transitions(plan: Plan) -> list[tuple[str, str, str]]:
    """(action, from, to) from a draft to where the publisher says the activity stands."""
    steps = [(ProjectAction.SUBMIT, ProjectStatus.DRAFT, ProjectStatus.SUBMITTED)]
    if plan.status in RUNNING_ACTIVITY_STATUSES:
        steps += [
            (ProjectAction.APPROVE, ProjectStatus.SUBMITTED, ProjectStatus.APPROVED),
            (ProjectAction.START, ProjectStatus.APPROVED, ProjectStatus.IN_EXECUTION),
        ]
    return steps


def write_batch(*, actor, charity, built: list[_Built], events: _AuditBatch) -> list[Project]:
    """Writes the projects of a batch with their locations, history, budgets and expenditures, and queues their
    audit events (in the caller's transaction). The roll-ups are refreshed by the caller."""
    from shafaf.projects.models import LicenceSequence, ProjectLocation, ProjectSequence, ProjectTransition

    if not built:
        return []
    now = timezone.now()
    today = timezone.localdate()
    references = _claim_numbers(ProjectSequence, now.year, len(built))
    running = [item for item in built if item.plan.status in RUNNING_ACTIVITY_STATUSES]
    licences = iter(_claim_numbers(LicenceSequence, today.year, len(running)) if running else [])
    for item, number in zip(built, references, strict=True):
        project = item.project
        project.reference = f"PRJ-{now.year}-{number:06d}"
        project.status = _transitions(item.plan)[-1][2]
        project.submitted_at = project.status_changed_at = now
        if item.plan.status in RUNNING_ACTIVITY_STATUSES:
            project.licence_number = f"MOSA-{today.year}-{next(licences):06d}"
            project.licence_date = today
    projects = insert_and_read_ids(Project, [item.project for item in built], key=("reference",))
    for item in built:
        for location in item.locations:
            location.project = item.project
    insert_rows(ProjectLocation, [location for item in built for location in item.locations])

    transitions = []
    reasons: dict[str, str] = {}  # the transitions' reason per activity status, translated once per batch
    for item in built:
        project, plan = item.project, item.plan
        draft = project_services._snapshot(project)
        draft.pop("status", None)
        changes = audit.diff({}, draft)
        if item.locations:
            located = [
                {name: getattr(loc, name) for name in project_services.LOCATION_FIELDS} for loc in item.locations
            ]
            changes.update(audit.diff({}, {"locations": located}))
        changes["reference"] = [None, project.reference]
        events.add(action="project.create", subject=project, changes=changes)
        reason = reasons.get(plan.status)
        if reason is None:
            reason = reasons[plan.status] = _("IATI import: the publisher reports activity-status %(status)s.") % {
                "status": plan.status or "-"
            }
        for action, old, new in _transitions(plan):
            step = {"status": [old, new]}
            if action == ProjectAction.APPROVE:
                step.update(licence_number=[None, project.licence_number], licence_date=[None, project.licence_date])
            transitions.append(
                {
                    "project_id": project.pk,
                    "action": action,
                    "from_status": old,
                    "to_status": new,
                    "actor_id": actor.pk,
                    "actor_role": events.role,
                    "reason": reason,
                    "at": now,
                }
            )
            events.add(action=f"project.{action}", subject=project, changes=step, reason=reason)
    insert_values(ProjectTransition, transitions)

    with_budget = [item for item in built if item.plan.versions]
    lines = insert_and_read_ids(
        BudgetLine,
        [
            BudgetLine(
                project=item.project,
                code=LINE_CODE,
                category=LineCategory.PROGRAMME,
                name_ar=LINE_NAME_AR,
                name_en=LINE_NAME_EN,
            )
            for item in with_budget
        ],
        key=("project_id", "code"),
    )
    revised = _("Revised budgets published in IATI.")
    versions = []
    for item in with_budget:
        for planned in item.plan.versions:
            versions.append(
                BudgetVersion(
                    project=item.project,
                    number=planned.number,
                    kind=planned.kind,
                    status=planned.status,
                    reason=revised if planned.number > 1 else "",
                    currency=item.project.currency,
                    total_minor=planned.total_minor,
                    admin_minor=0,
                    source=SOURCE,
                    created_by=actor,
                    created_at=now,
                )
            )
    versions = insert_and_read_ids(BudgetVersion, versions, key=("project_id", "number"))
    version_rows = iter(versions)
    version_lines, periods, expenditures = [], [], []
    for item, line in zip(with_budget, lines, strict=True):
        project, previous = item.project, None
        for planned in item.plan.versions:
            row = next(version_rows)
            version_lines.append({"version_id": row.pk, "line_id": line.pk, "amount_minor": planned.total_minor})
            periods += [
                {"version_id": row.pk, "start": period.start, "end": period.end, "amount_minor": period.minor}
                for period in planned.periods
            ]
            events.add(
                action="budget.create" if planned.number == 1 else "budget.revise",
                subject=row,
                reason=row.reason,
                changes={
                    "project": [None, project.pk],
                    "number": [None, planned.number],
                    "kind": [None, planned.kind],
                    "status": [None, planned.status],
                    "source": [None, SOURCE],
                    "total": [previous.total.to_dict() if previous else None, row.total.to_dict()],
                    "admin": [
                        Money(0, project.currency).to_dict() if previous else None,
                        Money(0, project.currency).to_dict(),
                    ],
                    "lines": {LINE_CODE: [previous.total_minor if previous else 0, planned.total_minor]},
                    "periods": [None, [[p.start, p.end, p.minor] for p in planned.periods] or None],
                    "project_licensed": [None, project.status == ProjectStatus.IN_EXECUTION],
                },
            )
            previous = row
        if item.plan.expenditures:
            expenditures += [
                {
                    "project_id": project.pk,
                    "line_id": line.pk,
                    "amount_minor": spending.money.minor,
                    "currency": spending.money.currency,
                    "project_amount_minor": spending.project_minor,
                    "rate": spending.rate,
                    "rate_date": spending.rate_date,
                    "spent_on": spending.spent_on,
                    "reference": spending.reference,
                    "description": spending.description,
                    "evidence_kind": EvidenceKind.REPORTED,
                    "source": ExpenditureSource.IATI,
                    "iati_type": spending.iati_type,
                    "recorded_by_id": actor.pk,
                    "recorded_at": now,
                }
                for spending in item.plan.expenditures
            ]
            spent = sum(spending.project_minor for spending in item.plan.expenditures)
            events.add(
                action="expenditure.import",
                subject=project,
                changes={
                    "source": [None, SOURCE],
                    "rows": [None, len(item.plan.expenditures)],
                    "total": [None, Money(spent, project.currency).to_dict()],
                },
            )
    # Leaf rows nothing else in the run refers to: inserted without reading their ids back (shafaf.core.bulk).
    insert_values(BudgetVersionLine, version_lines)
    insert_values(BudgetPeriod, periods)
    insert_values(Expenditure, expenditures)
    events.flush()
    return projects


def projects_beyond_threshold(projects: list[Project]) -> list[int]:
    """The ids of the projects whose roll-up is beyond the lowest deviation threshold: a new project within every
    threshold has nothing for the deviation detection to open."""
    from . import variance
    from .models import ProjectFinance

    config = rates.settings()
    lowest = min(config.line_threshold_bp, config.total_threshold_bp)
    finance = ProjectFinance.objects.filter(project__in=projects).values_list(
        "project_id", "budget_minor", "spent_minor"
    )
    return sorted(pk for pk, budget, spent in finance if variance.is_beyond(int(spent), int(budget), lowest))


def iati_import(
    *, actor, charity, path: str | Path, limit: int | None = None, say: Callable[[str], None] = lambda line: None
) -> ImportReport:
    """Imports the file's activities as projects of `charity` (see the module's docstring), through the streaming
    importer shafaf.interop.iati.importer.import_file (which also keeps each activity's IATI record). `actor` is a
    member of the charity who may create its projects. Returns this module's report (skipped = already imported
    and unchanged); raises IatiFileError for an unreadable file."""
    from shafaf.interop.iati.importer import import_file

    return import_file(actor=actor, charity=charity, path=path, limit=limit, progress=say).detail


def _count(report: ImportReport, plan: Plan, project: Project) -> None:
    report.imported += 1
    report.projects.append(project.pk)
    if project.status == ProjectStatus.IN_EXECUTION:
        report.in_execution += 1
    else:
        report.submitted += 1
    report.budget_versions += len(plan.versions)
    report.revisions += sum(1 for version in plan.versions if version.number > 1)
    report.periods += sum(len(version.periods) for version in plan.versions)
    report.transactions += len(plan.expenditures)
    report.rounded += plan.rounded
    report.zero += plan.zero
    report.unbudgeted += plan.unbudgeted
