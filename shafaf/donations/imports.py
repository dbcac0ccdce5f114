"""Importing a channel's settlement file (K-Net, card acquirer, bank, SMS operator, donation devices).

The file: CSV, UTF-8 (with or without BOM), comma- or semicolon-separated, one header row, then one donation a
row. Columns (header names as below, in any order; unknown columns are ignored):

====================  ========  ==================================================================================
column                required  content
====================  ========  ==================================================================================
``channel_ref``       yes       the channel's own reference of the payment (unique per charity and channel)
``received_at``       yes       ISO 8601 date and time (``2026-01-05 14:30`` or ``2026-01-05T14:30:00+03:00``);
                                Kuwait time when it has no offset; a date alone is midnight in Kuwait
``amount``            yes       decimal major units, at most the currency's decimals (``25.125``), more than zero
``currency``          no        ISO 4217 code; the bank account's currency when empty (and it must be that one)
``donor_ref``         no        the charity's donor number (``Donor.external_ref``); empty: the charity's
                                "unidentified donor" record
``project``           no        a licensed project's reference (``PRJ-2026-000001``): a restricted donation,
                                allocated to it at once
``campaign``          no        a campaign's id: a campaign donation (not with ``project``)
``anonymous``         no        ``yes``/``no`` (``1``/``0``, ``true``/``false``): hidden from the public
====================  ========  ==================================================================================

Every row is checked like a donation recorded one by one (services.validate_donation's rules: amount, currency,
date not in the future, licensed project of the charity); good rows are kept, each bad row is reported with its
row number, column and message (DonationImport.errors, the first MAX_ERRORS), and a row already recorded (the same
charity, channel and ``channel_ref``: from an earlier file, or earlier in this one) is counted as a duplicate and
skipped — importing a file twice records nothing the second time. A line that is not UTF-8 is reported as a bad
row; the others are kept.

Speed: rows are written in chunks of CHUNK_ROWS, one database transaction each: the donations, the allocations
of restricted rows and the ledger postings (one transaction per date received: Dr the bank account's charity
bank, Cr each fund by the rows' sum), by COPY on PostgreSQL (its text written straight from the parsed rows) and
by bulk inserts elsewhere; then the import's counts (a page polls them). On PostgreSQL, outside a transaction,
WRITERS threads write chunks at once, each with its own connection (_Writers): the database's work for a row (its
foreign keys, indexes and COPY) is most of an import's time, and several backends use every core. A reference
seen twice in the file keeps its first row even then: a row whose reference is in a chunk not yet committed is
counted as a duplicate, and the unique index settles a race with another import. Receipts are signed on demand
(receipts.receipt_code signs an unsigned donation the first time its code is asked for).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import queue
import re
import threading
from collections import defaultdict
from pathlib import PurePath

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shafaf.audit.services import record
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.core.money import BIGINT_MAX, Money, known_currencies, minor_digits
from shafaf.finance import ledger
from shafaf.finance.expenditures import _copy, _copy_postings, _copy_text
from shafaf.interop.rows import RowError
from shafaf.projects.choices import ACTIVE_STATUSES
from shafaf.projects.models import Project

from . import permissions, services
from .models import Allocation, Campaign, Channel, Donation, DonationImport, Donor, EntryKind, Purpose

CHUNK_ROWS = 5000
MAX_ERRORS = 1000
REQUIRED = ("channel_ref", "received_at", "amount")
COLUMNS = (*REQUIRED, "currency", "donor_ref", "project", "campaign", "anonymous")
UNIDENTIFIED_REF = "unidentified"
TRUE = frozenset({"yes", "y", "true", "1", "نعم"})
FALSE = frozenset({"no", "n", "false", "0", "", "لا"})
_AMOUNT = re.compile(r"^(\d{1,18})(?:\.(\d+))?$")
_SURROGATE = re.compile("[\udc80-\udcff]")

INSERT_FIELDS = (
    "id",
    "charity",
    "donor",
    "kind",
    "amount_minor",
    "currency",
    "received_at",
    "channel",
    "bank_account",
    "purpose",
    "project",
    "campaign",
    "anonymous",
    "entered_at",
    "entered_by",
    "entered_late",
    "channel_ref",
    "idempotency_key",
    "request_hash",
    "batch",
    "reason",
    "receipt_number",
    "receipt_signature",
)


class ImportRefused(DomainError):
    def __init__(self, message):
        super().__init__(message, code="import_refused", fields={"file": [str(message)]})


def unidentified_donor(*, actor, charity) -> Donor:
    """The charity's record for donations whose donor the channel does not name (made by the first import; when
    two imports make it at once, the donors' unique number lets one of them, and the other reads it)."""
    donor = Donor.objects.filter(charity=charity, external_ref=UNIDENTIFIED_REF).first()
    if donor is None:
        try:
            with transaction.atomic():
                donor = services.donor_create(
                    actor=actor,
                    charity=charity,
                    name_ar="متبرع غير معرّف",
                    name_en="Unidentified donor",
                    external_ref=UNIDENTIFIED_REF,
                )
        except (DomainError, IntegrityError):
            donor = Donor.objects.filter(charity=charity, external_ref=UNIDENTIFIED_REF).first()
            if donor is None:
                raise
    return donor


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def _count_lines(handle) -> int:
    count = 0
    for block in iter(lambda: handle.read(1 << 20), b""):
        count += block.count(b"\n")
    handle.seek(0)
    return count


class _Run:
    """What one import keeps while it reads the file."""

    def __init__(self, batch: DonationImport, *, actor, bank_account, now):
        self.batch = batch
        self.actor = actor
        self.charity = batch.charity
        self.channel = batch.channel
        self.bank_account = bank_account
        self.currency = bank_account.currency
        self.digits = minor_digits(self.currency)
        self.now = now
        self.latest = now + services.CLOCK_SKEW
        self.entered_at = now.isoformat()
        self.donors: dict[str, int | None] = {}
        self.projects: dict[str, Project | str] = {}
        self.campaigns: dict[str, int | str] = {}
        self.unidentified: int | None = None
        self.pending: list[tuple] = []
        self.refs: set[str] = set()
        self.errors: list[dict] = []
        self.counts = {"done": 0, "ok": 0, "duplicate": 0, "failed": 0}
        self.late_cache: dict[dt.date, dt.date] = {}
        self.progress = None
        self.writers: _Writers | None = None


def import_start(
    *, actor, charity, channel: str, bank_account, file, file_name: str = "", progress=None
) -> DonationImport:
    """Reads a settlement file (a binary file object) and records its good rows; returns the finished import."""
    if not permissions.can_import_settlement(actor, charity):
        raise NotAllowed(_("You cannot import settlement files for this charity."))
    if channel not in Channel.values:
        raise DomainError(
            _("Unknown channel: %(channel)s.") % {"channel": channel},
            code="invalid",
            fields={"channel": [_("Unknown channel.")]},
        )
    if bank_account.charity_id != charity.pk or not bank_account.is_approved:
        raise DomainError(
            _("Choose an approved bank account of this charity."),
            code="invalid",
            fields={"bank_account": [_("Choose an approved bank account of this charity.")]},
        )
    name = PurePath(file_name or getattr(file, "name", "") or "settlement.csv").name[:255]
    sha256 = _sha256(file)
    total = max(_count_lines(file) - 1, 0)
    with transaction.atomic():
        batch = DonationImport.objects.create(
            charity=charity, channel=channel, file_name=name, sha256=sha256, rows_total=total, created_by=actor
        )
        record(
            actor=actor,
            action="donation_import.start",
            subject=batch,
            organization=charity,
            changes={"file_name": name, "sha256": sha256, "channel": channel, "bank_account": bank_account.pk},
        )
    unidentified_donor(actor=actor, charity=charity)
    return run_import(batch, file, actor=actor, bank_account=bank_account, progress=progress)


def run_import(batch: DonationImport, file, *, actor, bank_account, progress=None) -> DonationImport:
    """Reads the rows into the import `batch`; progress(counts) is called after each chunk."""
    run = _Run(batch, actor=actor, bank_account=bank_account, now=timezone.now())
    run.progress = progress
    run.unidentified = (
        Donor.objects.filter(charity=batch.charity, external_ref=UNIDENTIFIED_REF).values_list("pk", flat=True).first()
    )
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        first = text.readline()
        if not first.strip():
            raise ImportRefused(_("The file is empty."))
        dialect = ";" if first.count(";") > first.count(",") else ","
        header = [cell.strip().lower() for cell in next(csv.reader([first], delimiter=dialect))]
        if any(_SURROGATE.search(cell) for cell in header):
            raise ImportRefused(_("The file is not UTF-8 text: save it as CSV UTF-8 and import it again."))
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise ImportRefused(_("The header lacks the column(s): %(columns)s.") % {"columns": ", ".join(missing)})
        positions = tuple(header.index(column) if column in header else None for column in COLUMNS)
        if _Writers.usable():
            run.writers = _Writers(run)
        for number, values in enumerate(csv.reader(text, delimiter=dialect), start=2):
            if not values or not any(v.strip() for v in values):
                continue
            _row(run, number, values, positions)
            if len(run.pending) >= CHUNK_ROWS:
                _flush(run)
        _flush(run, final=True)
    except ImportRefused as error:
        _flush(run, final=True, failed=str(error.message))
    except csv.Error as error:
        _flush(run, final=True, failed=_("The file is not a readable CSV: %(error)s") % {"error": error})
    finally:
        text.detach()
        if run.writers is not None:
            run.writers.close()  # after an unexpected error: the chunks taken are still written, then it ends
    batch.refresh_from_db()
    return batch


def _error(run: _Run, number: int, column: str, message, *, value: str = "", code: str = "invalid") -> None:
    """A bad row, in the platform's row-error format (shafaf.interop.rows.RowError: row, column, value, code,
    message)."""
    run.counts["failed"] += 1
    if len(run.errors) < MAX_ERRORS:
        run.errors.append(RowError(number, column, str(message), value, code).as_dict())


def _cells(values: list[str], positions: tuple) -> list[str]:
    """The row's cells of COLUMNS, in that order, stripped ("" for a column the file lacks or the row omits)."""
    n = len(values)
    return [values[i].strip() if i is not None and i < n else "" for i in positions]


def _amount_minor(run: _Run, text: str) -> int | str:
    match = _AMOUNT.match(text)
    if match:
        whole, fraction = match.groups()
        fraction = fraction or ""
        if len(fraction) <= run.digits:
            minor = int(whole) * 10**run.digits + int(fraction.ljust(run.digits, "0") or 0)
            if 0 < minor <= BIGINT_MAX:
                return minor
            if minor == 0:
                return _("A donation must be more than zero.")
    try:
        money = services.parse_amount(text, run.currency)
    except DomainError as error:
        return next(iter(error.fields.values()))[0] if error.fields else str(error.message)
    if money.minor <= 0:
        return _("A donation must be more than zero.")
    return money.minor


def _received(text: str) -> dt.datetime | str:
    try:
        if len(text) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        else:
            value = dt.datetime.fromisoformat(text)
    except ValueError:
        return _("Not a date and time (write 2026-01-05 14:30).")
    if value.tzinfo is None:
        value = value.replace(tzinfo=services.KUWAIT)
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        return _("Not a date and time (write 2026-01-05 14:30).")
    return value


def _project(run: _Run, reference: str) -> Project | str:
    found = run.projects.get(reference)
    if found is None:
        project = Project.objects.filter(charity=run.charity, reference=reference).first()
        if project is None:
            found = _("No project of this charity has the reference %(reference)s.") % {"reference": reference}
        elif project.status not in ACTIVE_STATUSES:
            found = _("Donations go to licensed projects only (approved or in execution); %(reference)s is not.") % {
                "reference": reference
            }
        else:
            found = project
        run.projects[reference] = found
    return found


def _row(run: _Run, number: int, values: list[str], positions: tuple) -> None:
    run.counts["done"] += 1
    if not all(map(str.isascii, values)) and any(_SURROGATE.search(value) for value in values):
        _error(run, number, "", _("This line is not UTF-8 text."), code="encoding")
        return
    ref, received_text, amount_text, currency, donor_ref, project_ref, campaign_ref, anonymous_text = _cells(
        values, positions
    )
    if not ref:
        _error(run, number, "channel_ref", _("The channel reference is required."), code="required")
        return
    if len(ref) > 100:
        _error(
            run,
            number,
            "channel_ref",
            _("The channel reference is too long (100 characters at most)."),
            value=ref,
            code="too_long",
        )
        return
    currency = currency.upper() or run.currency
    if currency != run.currency:
        if currency not in known_currencies():
            _error(
                run,
                number,
                "currency",
                _("Unknown currency code: %(code)s.") % {"code": currency},
                value=currency,
                code="unknown_currency",
            )
        else:
            _error(
                run,
                number,
                "currency",
                _("The bank account receives %(account)s, not %(currency)s.")
                % {"account": run.currency, "currency": currency},
                value=currency,
                code="currency_mismatch",
            )
        return
    minor = _amount_minor(run, amount_text)
    if isinstance(minor, str):
        _error(run, number, "amount", minor, value=amount_text, code="invalid_amount")
        return
    received = _received(received_text)
    if isinstance(received, str):
        _error(run, number, "received_at", received, value=received_text, code="invalid_date")
        return
    if received > run.latest:
        _error(
            run,
            number,
            "received_at",
            _("A donation cannot be received in the future."),
            value=received_text,
            code="future_date",
        )
        return
    if donor_ref:
        donor_id = run.donors.get(donor_ref, 0)
        if donor_id == 0:
            donor_id = run.donors[donor_ref] = (
                Donor.objects.filter(charity=run.charity, external_ref=donor_ref).values_list("pk", flat=True).first()
            )
        if donor_id is None:
            _error(
                run,
                number,
                "donor_ref",
                _("No donor of this charity has the number %(ref)s.") % {"ref": donor_ref},
                value=donor_ref,
                code="unknown_donor",
            )
            return
    else:
        donor_id = run.unidentified
    project_id = campaign_id = None
    purpose = Purpose.GENERAL
    if project_ref and campaign_ref:
        _error(
            run,
            number,
            "campaign",
            _("A donation to a project is not also to a campaign."),
            value=campaign_ref,
            code="project_and_campaign",
        )
        return
    if project_ref:
        project = _project(run, project_ref)
        if isinstance(project, str):
            _error(run, number, "project", project, value=project_ref, code="invalid_project")
            return
        project_id, purpose = project.pk, Purpose.PROJECT
    elif campaign_ref:
        campaign_id = run.campaigns.get(campaign_ref)
        if campaign_id is None:
            found = (
                Campaign.objects.filter(charity=run.charity, pk=int(campaign_ref)).values_list("pk", flat=True).first()
                if campaign_ref.isdigit() and len(campaign_ref) < 18
                else None
            )
            campaign_id = run.campaigns[campaign_ref] = found or _("No campaign of this charity has the id %(id)s.") % {
                "id": campaign_ref
            }
        if isinstance(campaign_id, str):
            _error(run, number, "campaign", campaign_id, value=campaign_ref, code="unknown_campaign")
            return
        purpose = Purpose.CAMPAIGN
    anonymous_text = anonymous_text.lower()
    if anonymous_text not in TRUE and anonymous_text not in FALSE:
        _error(run, number, "anonymous", _("Write yes or no."), value=anonymous_text, code="invalid_choice")
        return
    if ref in run.refs or (run.writers is not None and run.writers.in_flight(ref)):
        run.counts["duplicate"] += 1  # the first row of the file with the reference is the one kept
        return
    run.refs.add(ref)
    run.pending.append(
        (number, ref, donor_id, minor, received, purpose, project_id, campaign_id, anonymous_text in TRUE)
    )


def _late(run: _Run, received: dt.datetime) -> bool:
    day = received.astimezone(services.KUWAIT).date()
    limit = run.late_cache.get(day)
    if limit is None:
        limit = run.late_cache[day] = services.next_business_day(day)
    return run.now.astimezone(services.KUWAIT).date() > limit


def _keep_new(run: _Run, pending: list[tuple]) -> tuple[int, int]:
    """Writes the chunk's rows whose channel reference is not recorded yet (inside the caller's transaction);
    returns (kept, already recorded)."""
    existing = _existing_refs(run, [row[1] for row in pending])
    kept = [row for row in pending if row[1] not in existing]
    if kept:
        _write(run, kept)
    return len(kept), len(pending) - len(kept)


def _flush(run: _Run, *, final: bool = False, failed: str = "") -> None:
    pending, refs, run.pending, run.refs = run.pending, run.refs, [], set()
    if run.writers is not None:
        if pending:
            run.writers.submit(pending, refs)
        if not final:
            return
        run.writers.finish()  # every chunk committed (or the first writer's error raised)
        pending = []
    with transaction.atomic():
        if pending:
            ok, duplicate = _keep_new(run, pending)
            run.counts["duplicate"] += duplicate
            run.counts["ok"] += ok
        fields = {
            "rows_done": run.counts["done"],
            "rows_ok": run.counts["ok"],
            "rows_duplicate": run.counts["duplicate"],
            "rows_failed": run.counts["failed"],
            "errors": run.errors,
        }
        if final:
            fields["status"] = DonationImport.Status.FAILED if failed else DonationImport.Status.DONE
            fields["finished_at"] = timezone.now()
            if failed:
                fields["errors"] = [RowError(0, "", str(failed), code="file").as_dict(), *run.errors][:MAX_ERRORS]
            if run.counts["done"] > run.batch.rows_total:
                fields["rows_total"] = run.counts["done"]
        DonationImport.objects.filter(pk=run.batch.pk).update(**fields)
        if run.progress is not None:
            run.progress(dict(run.counts, total=run.batch.rows_total))
        if final:
            run.batch.refresh_from_db()
            record(
                actor=run.actor,
                action="donation_import.finish",
                subject=run.batch,
                organization=run.charity,
                changes={
                    "status": run.batch.status,
                    "rows_ok": run.batch.rows_ok,
                    "rows_duplicate": run.batch.rows_duplicate,
                    "rows_failed": run.batch.rows_failed,
                },
            )


# Chunks written at once on PostgreSQL, each by its own thread, database connection and transaction. On two cores
# (bench/donations.py --writers N, 200k rows): one after another 14.8k rows/s, 2 writers 22.5k, 3 writers 23.4k,
# 4 writers 25.2k, within the runs' spread of 3 and 4 at 1M rows; 3 keeps one connection fewer. One chunk more
# waits its turn, which bounds the rows held in memory.
WRITERS = 3
CHUNK_ATTEMPTS = 5
RETRYABLE_SQLSTATES = frozenset({"23505", "40P01"})  # a reference written at once by two chunks; a deadlock


class _Writers:
    """The writing threads of one import (PostgreSQL, outside any transaction). Each chunk commits on its own
    with its counts (added to the import's row by the database, so chunks may commit in any order) and its new
    row errors; a chunk that meets another's uncommitted channel reference, or a deadlock with it, is rolled back
    and written again. The first error of a writer stops the import: no further chunk is taken, and finish()
    raises it once the chunks already taken are done."""

    def __init__(self, run: _Run):
        self.run = run
        self.lock = threading.Lock()
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.written = {"ok": 0, "duplicate": 0}  # the writers' own counts, added to run.counts by finish()
        self.closed = False
        self.submitted = dict(run.counts)
        self.errors_submitted = 0
        self.sequence = 0
        self.uncommitted: dict[int, set[str]] = {}  # chunk -> its channel references, until it commits
        self.language = translation.get_language()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(WRITERS)]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def usable() -> bool:
        return WRITERS > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block

    def in_flight(self, ref: str) -> bool:
        """Whether a chunk not committed yet holds this channel reference (a later row with it is a duplicate:
        the database could not tell which chunk came first in the file)."""
        with self.lock:
            return any(ref in refs for refs in self.uncommitted.values())

    def submit(self, pending: list[tuple], refs: set[str]) -> None:
        run = self.run
        with self.lock:
            if self.error is not None:
                raise self.error
            self.sequence += 1
            self.uncommitted[self.sequence] = refs
            delta = {key: run.counts[key] - self.submitted[key] for key in ("done", "duplicate", "failed")}
            self.submitted.update(run.counts)
            errors = run.errors[self.errors_submitted :]
            self.errors_submitted = len(run.errors)
        self.queue.put((self.sequence, pending, delta, errors))

    def finish(self) -> None:
        self.close()
        for key, count in self.written.items():
            self.run.counts[key] += count
        self.written = dict.fromkeys(self.written, 0)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Lets the writers end once the chunks already taken are written, and waits for them."""
        if self.closed:
            return
        self.closed = True
        for _thread in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()

    def _work(self) -> None:
        from django.db import connection as own  # this thread's connection

        try:
            with translation.override(self.language):  # the importing thread's language, should text be made
                self._take()
        finally:
            own.close()

    def _take(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self._write(*item)
                except BaseException as error:  # handed to the reading thread, which raises it
                    with self.lock:
                        self.error = self.error or error

    def _write(self, sequence: int, pending: list[tuple], delta: dict, errors: list[dict]) -> None:
        run = self.run
        for attempt in range(CHUNK_ATTEMPTS):
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        # Foreign keys checked by each statement, not at the commit: the import's row (updated
                        # below) is then locked only for the instant before the commit.
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    ok, duplicate = _keep_new(run, pending)
                    _add_counts(run.batch.pk, dict(delta, ok=ok, duplicate=delta["duplicate"] + duplicate), errors)
                break
            except Exception as error:  # Django's IntegrityError, or psycopg's own from a COPY
                state = getattr(error, "sqlstate", None) or getattr(error.__cause__, "sqlstate", None)
                if attempt + 1 == CHUNK_ATTEMPTS or state not in RETRYABLE_SQLSTATES:
                    raise
        with self.lock:
            del self.uncommitted[sequence]
            self.written["ok"] += ok
            self.written["duplicate"] += duplicate
            if run.progress is not None:
                counts = dict(self.submitted)
                for key, count in self.written.items():
                    counts[key] += count
                run.progress(dict(counts, total=run.batch.rows_total))


def _add_counts(batch_id: int, delta: dict, errors: list[dict]) -> None:
    """Adds a chunk's counts to its import's row, and its row errors while there are fewer than MAX_ERRORS."""
    table = connection.ops.quote_name(DonationImport._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET rows_done = rows_done + %s, rows_ok = rows_ok + %s, "  # noqa: S608
            "rows_duplicate = rows_duplicate + %s, rows_failed = rows_failed + %s, "
            f"errors = jsonb_path_query_array(errors || %s::jsonb, '$[0 to {MAX_ERRORS - 1}]') WHERE id = %s",
            [delta["done"], delta["ok"], delta["duplicate"], delta["failed"], json.dumps(errors), batch_id],
        )


def _existing_refs(run: _Run, refs: list[str]) -> set[str]:
    """The channel references of this chunk already recorded for the charity and channel. On PostgreSQL the
    chunk's references are one array parameter, each looked up in the unique index by a LATERAL subquery: asked
    as "channel_ref = ANY(array)", the planner priced thousands of index probes above reading the table while it
    grew faster than its statistics, and scanned every donation per chunk (a fifth of a second at a million
    rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.ref FROM unnest(%s::text[]) AS r(ref) CROSS JOIN LATERAL ("  # noqa: S608
                f"SELECT 1 FROM {connection.ops.quote_name(Donation._meta.db_table)} d WHERE d.charity_id = %s"
                " AND d.channel = %s AND d.channel_ref <> '' AND d.channel_ref = r.ref LIMIT 1) AS found",
                [refs, run.charity.pk, str(run.channel)],
            )
            return {row[0] for row in cursor.fetchall()}
    return set(
        Donation.objects.filter(charity=run.charity, channel=run.channel, channel_ref__in=refs).values_list(
            "channel_ref", flat=True
        )
    )


def _write(run: _Run, kept: list[tuple]) -> None:
    """Inserts the chunk's donations, the allocations of its restricted rows and its ledger postings: by COPY
    straight from the parsed rows on PostgreSQL, by bulk inserts of model instances elsewhere."""
    if connection.vendor == "postgresql":
        _copy_rows(run, kept)
        return
    now = run.now
    actor_id = run.actor.pk if getattr(run.actor, "pk", None) else None
    donations = [
        Donation(
            charity_id=run.charity.pk,
            donor_id=donor_id,
            kind=EntryKind.DONATION,
            amount_minor=minor,
            currency=run.currency,
            received_at=received,
            channel=run.channel,
            bank_account_id=run.bank_account.pk,
            purpose=purpose,
            project_id=project_id,
            campaign_id=campaign_id,
            anonymous=anonymous,
            entered_at=now,
            entered_by_id=actor_id,
            entered_late=_late(run, received),
            channel_ref=ref,
            batch_id=run.batch.pk,
            receipt_number=services.new_receipt_number(received.astimezone(services.KUWAIT).year),
        )
        for (_number, ref, donor_id, minor, received, purpose, project_id, campaign_id, anonymous) in kept
    ]
    donations = Donation.objects.bulk_create(donations, batch_size=500)
    allocations = [
        Allocation(
            donation_id=d.pk,
            project_id=d.project_id,
            amount_minor=d.amount_minor,
            currency=d.currency,
            allocated_by_id=actor_id,
            allocated_at=now,
        )
        for d in donations
        if d.purpose == Purpose.PROJECT
    ]
    if allocations:
        Allocation.objects.bulk_create(allocations, batch_size=2000)
    by_day: dict[dt.date, dict[tuple[str, int | None], int]] = defaultdict(lambda: defaultdict(int))
    for d in donations:
        target = d.project_id if d.purpose == Purpose.PROJECT else d.campaign_id
        by_day[d.received_at.astimezone(services.KUWAIT).date()][(d.purpose, target)] += d.amount_minor
    ledger.post_many(_postings(run, by_day), actor=run.actor)


NULL = "\\N"  # COPY's text for NULL
ALLOCATION_FIELDS = ("donation", "project", "amount_minor", "currency", "allocated_by", "allocated_at", "reason")


def _copy_rows(run: _Run, kept: list[tuple]) -> None:
    """PostgreSQL: the chunk's donations and allocations by COPY, written as COPY's text straight from the parsed
    rows (INSERT_FIELDS and ALLOCATION_FIELDS order), and one ledger posting per day received, by COPY too."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Donation._meta.db_table, len(kept)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    now = run.now
    actor_id = run.actor.pk if getattr(run.actor, "pk", None) else None
    actor_text = NULL if actor_id is None else str(actor_id)
    now_text = now.isoformat()
    currency = run.currency
    # The constant parts of a row: the import's own values (ids, codes of letters and digits: nothing to escape).
    head = f"\t{run.charity.pk}\t"
    middle = f"\t{EntryKind.DONATION.value}\t"
    channel = f"\t{currency}\t"
    after_received = f"\t{Channel(run.channel).value}\t{run.bank_account.pk}\t"
    entered = f"\t{now_text}\t{actor_text}\t"
    tail = f"\t\t\t{run.batch.pk}\t\t"
    allocation_tail = f"\t{currency}\t{actor_text}\t{now_text}\t\n"
    purposes = {value: Purpose(value).value for value in Purpose.values}
    kuwait = services.KUWAIT
    codes = iter(services.receipt_codes(len(kept)))
    escape = _copy_text
    today = now.astimezone(kuwait).date()
    late_after: dict[dt.date, bool] = {}
    years: dict[dt.date, int] = {}
    by_day: dict[dt.date, dict[tuple[str, int | None], int]] = defaultdict(lambda: defaultdict(int))
    lines, allocations = [], []
    for pk, (_number, ref, donor_id, minor, received, purpose, project_id, campaign_id, anonymous) in zip(
        ids, kept, strict=True
    ):
        day = received.astimezone(kuwait).date()
        late = late_after.get(day)
        if late is None:
            late = late_after[day] = today > services.next_business_day(day)
            years[day] = day.year
        purpose_text = purposes[purpose]
        lines.append(
            f"{pk}{head}{NULL if donor_id is None else donor_id}{middle}{minor}{channel}{received.isoformat()}"
            f"{after_received}{purpose_text}\t{NULL if project_id is None else project_id}"
            f"\t{NULL if campaign_id is None else campaign_id}\t{'t' if anonymous else 'f'}{entered}"
            f"{'t' if late else 'f'}\t{escape(ref)}{tail}R-{years[day]}-{next(codes)}\t\n"
        )
        if purpose == Purpose.PROJECT:
            allocations.append(f"{pk}\t{project_id}\t{minor}{allocation_tail}")
            by_day[day][(purpose_text, project_id)] += minor
        else:
            by_day[day][(purpose_text, campaign_id)] += minor
    _copy(Donation, INSERT_FIELDS, lines)
    if allocations:
        _copy(Allocation, ALLOCATION_FIELDS, allocations)
    _copy_postings(_postings(run, by_day), actor=run.actor, now=now)


def _postings(run: _Run, by_day: dict) -> list[ledger.Posting]:
    """One ledger transaction per date received: Dr the charity's bank, Cr each fund by its rows' sum."""
    bank = ledger.charity_bank(run.charity, run.currency)
    projects = Project.objects.in_bulk({t for funds in by_day.values() for (p, t) in funds if p == Purpose.PROJECT})
    campaigns = Campaign.objects.in_bulk({t for funds in by_day.values() for (p, t) in funds if p == Purpose.CAMPAIGN})
    accounts = {}

    def fund(purpose, target):
        key = (purpose, target)
        if key not in accounts:
            if purpose == Purpose.PROJECT:
                accounts[key] = ledger.project_fund(projects[target], run.currency)
            elif purpose == Purpose.CAMPAIGN:
                accounts[key] = services.campaign_fund(campaigns[target], run.currency)
            else:
                accounts[key] = services.general_fund(run.charity, run.currency)
        return accounts[key]

    postings = []
    for day, funds in sorted(by_day.items()):
        total = sum(funds.values())
        entries = [(bank, Money(total, run.currency))]
        entries.extend((fund(p, t), Money(-amount, run.currency)) for (p, t), amount in sorted(funds.items(), key=str))
        postings.append(
            ledger.Posting(
                "donation-import",
                day,
                entries,
                memo=f"{run.batch.file_name} {day.isoformat()}",
                source=f"donation-import:{run.batch.pk}",
            )
        )
    return postings
