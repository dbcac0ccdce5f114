"""Importing an IATI 2.0x activities file for one charity: ``import_file``.

The file is streamed (``reader.iter_file``) and handled in batches of ``WRITE_BATCH`` activities, so memory does
not grow with the file. The whole run is one transaction: a file found malformed part-way leaves nothing behind.

For each activity, by its iati-identifier within the charity:

* new: it becomes a project with its budgets and spending (``shafaf.finance.iati_import``: planned, checked and
  written in bulk with its audit events), and an ``IatiActivity`` holding everything the file says of it;
* already imported and unchanged (same SHA-256 of its XML): nothing is written;
* already imported and changed: its ``IatiActivity`` is rewritten from the file and the project's titles and
  descriptions follow the publisher's (audited "iati.update", one event per activity with the fields that
  changed). The budgets and spending recorded at the first import stay as they are: they are the charity's
  finance records now, revised through the finance pages;
* a project of the charity that carries the identifier but has no ``IatiActivity`` yet (imported before the
  record existed) gets one; the project itself is not rewritten.

An activity that cannot be imported (a missing exchange rate, an unreadable amount or date) is reported with its
reason and nothing of it is written; one that cannot be a project (no title, recipient country, DAC sector or
date) is reported too. ``problems`` lists them as (file, line, identifier, message). With ``validate=True`` the
file is checked against the IATI 2.03 XSD first and refused whole, with the schema's messages, when it fails.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.core.bulk import insert_rows
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.finance import iati_import as finance_import
from shafaf.finance.iati_import import IatiFileError
from shafaf.interop.models import IatiActivity
from shafaf.interop.xmlsafe import XmlRefused
from shafaf.projects import permissions as project_permissions
from shafaf.projects.demo.activities import draft_from_activity
from shafaf.projects.models import Project

from . import reader, results, schema

WRITE_BATCH = 500
PROGRESS_EVERY = 1000
RECORD_FIELDS = (
    "default_language",
    "default_currency",
    "hierarchy",
    "last_updated",
    "activity_status",
    "activity_dates",
    "titles",
    "descriptions",
    "participating_orgs",
    "recipient_countries",
    "recipient_regions",
    "sectors",
    "locations",
    "budgets",
    "planned_disbursements",
    "transactions",
    "results",
    "document_links",
    "related_activities",
)
PROJECT_TEXT_FIELDS = ("title_ar", "title_en", "description_ar", "description_en")


class Problem(NamedTuple):
    file: str
    line: int
    identifier: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.identifier or '-'}: {self.message}"


class SchemaRefused(IatiFileError):
    """The file does not conform to the IATI XSD (``messages``: the schema's, "line N: ..."); nothing was written."""

    def __init__(self, message, *, messages: list[str]):
        super().__init__(message, code="invalid_schema")
        self.messages = messages


@dataclass
class ImportReport:
    file: str = ""
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    indicators: int = 0  # strategy indicators made from the activities' results (shafaf.interop.iati.results)
    # Budgets, transactions, states and deviations of the projects created, as the finance import counts them.
    detail: finance_import.ImportReport = field(default_factory=finance_import.ImportReport)

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def summary_lines(self) -> list[str]:
        self.detail.seconds = self.seconds
        return [
            *self.detail.summary_lines(),
            f"  IATI records: {self.created} created, {self.updated} updated, {self.unchanged} unchanged;"
            f" {len(self.problems)} problems; {self.rate:.0f} activities/s",
            f"  results: {self.indicators} project indicators with their targets",
        ]


def _record(item: reader.ReadActivity, *, source_file: str) -> dict:
    values = {name: item.fields[name] for name in RECORD_FIELDS}
    values.update(content_sha256=item.sha256, source_file=source_file[:255], source_line=item.line or None)
    return values


class _Run:
    def __init__(self, *, actor, charity, source_file: str, report: ImportReport, progress):
        self.actor = actor
        self.charity = charity
        self.source_file = source_file
        self.report = report
        self.detail = report.detail
        self.progress = progress or (lambda line: None)
        self.stamp = timezone.now()  # every row written by this run carries it: a second copy in the file shows
        self.convert = finance_import._Converter()
        self.events = finance_import._AuditBatch(actor=actor, organization=charity)
        self.checked = 0  # projects the deviation detection ran on (beyond a threshold)
        self.deviations_queued = 0  # of which the worker has yet to run it
        # Projects imported before IATI records existed, to link rather than duplicate: asked once per run, since
        # every project this run makes has its record (the per-batch look-up would scan the charity's projects).
        self.legacy_possible = (
            Project.objects.filter(charity=charity, iati__isnull=True).exclude(iati_identifier="").exists()
        )
        self.signatures = {"queued": 0}  # projects whose coordination signatures the worker is asked to make

    def problem(self, item: reader.ReadActivity | None, message: str, *, identifier: str = "") -> None:
        self.report.problems.append(
            Problem(self.source_file, item.line if item else 0, item.identifier if item else identifier, message)
        )

    # --- a batch ----------------------------------------------------------------------------------------------------

    def batch(self, items: list[reader.ReadActivity]) -> None:
        identifiers = {item.identifier for item in items if item.identifier}
        # Only what tells unchanged from changed; the changed rows are read whole below.
        existing = {
            row.identifier: row
            for row in IatiActivity.objects.filter(charity=self.charity, identifier__in=identifiers).only(
                "identifier", "content_sha256", "updated_at", "project_id"
            )
        }
        legacy = (
            dict(
                Project.objects.filter(charity=self.charity, iati_identifier__in=identifiers - set(existing))
                .order_by()
                .values_list("iati_identifier", "pk")
            )
            if self.legacy_possible
            else {}
        )
        seen: set[str] = set()
        pending, built_items, changed, linked = [], [], [], []
        for item in items:
            identifier = item.identifier
            if not identifier:
                self.problem(item, _("The activity has no iati-identifier; it was not imported."))
                continue
            found = existing.get(identifier)
            if identifier in seen or (found is not None and found.updated_at == self.stamp):
                self.problem(item, _("The identifier appears more than once in the file; the first is kept."))
                continue
            seen.add(identifier)
            if found is not None:
                if found.content_sha256 == item.sha256:
                    self.report.unchanged += 1
                    self.detail.skipped.append(identifier)
                else:
                    changed.append((found, item))
                continue
            if identifier in legacy:
                linked.append((legacy[identifier], item))
                continue
            try:
                plan = finance_import.plan_activity(item.record, self.convert)
                if plan is None:
                    self.detail.unusable.append(identifier)
                    self.problem(
                        item,
                        _(
                            "The activity cannot be a project: it needs a title, a recipient country, a DAC sector "
                            "and a date."
                        ),
                    )
                    continue
                pending.append(
                    finance_import.build_project(actor=self.actor, charity=self.charity, plan=plan, allowed=True)
                )
                built_items.append(item)
            except DomainError as error:
                self.detail.errors.append((identifier, str(error.message)))
                self.problem(item, str(error.message))
        self.create(pending, built_items)
        self.link(linked)
        self.update(changed)
        self.events.flush()

    def record(self, project_id: int, item) -> IatiActivity:
        """The IATI record of an activity, for its project (new, or imported before records were kept)."""
        return IatiActivity(
            project_id=project_id,
            charity=self.charity,
            identifier=item.identifier,
            imported_at=self.stamp,
            updated_at=self.stamp,
            **_record(item, source_file=self.source_file),
        )

    def create(self, pending, items) -> None:
        if not pending:
            return
        projects = finance_import.write_batch(actor=self.actor, charity=self.charity, built=pending, events=self.events)
        insert_rows(
            IatiActivity, [self.record(project.pk, item) for project, item in zip(projects, items, strict=True)]
        )
        planned = []
        for project, item in zip(projects, items, strict=True):
            planned += results.plan_indicators(
                project,
                item.fields.get("results"),
                actor=self.actor,
                problem=lambda message, item=item: self.problem(item, message),
            )
        self.report.indicators += results.write_indicators(planned, events=self.events)
        for built in pending:
            finance_import._count(self.detail, built.plan, built.project)
        self.report.created += len(projects)
        self.after_write(projects)

    def after_write(self, projects: list[Project]) -> None:
        """Roll-ups, deviations and coordination signatures of the batch's new projects."""
        from django.apps import apps

        from shafaf.finance import rollup_bulk
        from shafaf.finance.models import Deviation

        ids = [project.pk for project in projects]
        rollup_bulk.refresh_projects(ids)
        # The deviation detection of the projects beyond a threshold is the worker's (it sees them at the commit);
        # with the immediate backend (tests, a foreground run) it has run when enqueue returns.
        beyond = finance_import.projects_beyond_threshold(projects)
        if beyond:
            from shafaf.finance.tasks_deviations import deviations_detect_projects

            result = deviations_detect_projects.enqueue(beyond, self.actor.pk)
            self.checked += len(beyond)
            if not result.is_finished:
                self.deviations_queued += len(beyond)
        self.detail.deviations += Deviation.objects.filter(project_id__in=ids).count()
        if apps.is_installed("shafaf.coordination"):
            # The worker makes their signatures (in the same transaction's commit: it sees them once they exist).
            from shafaf.coordination.tasks import coordination_signatures_refresh

            coordination_signatures_refresh.enqueue(ids)
            self.signatures["queued"] += len(ids)
        self.detail.projects.clear()  # the ids are not kept across batches: memory stays bounded

    def link(self, linked) -> None:
        if not linked:
            return
        rows = IatiActivity.objects.bulk_create([self.record(project_id, item) for project_id, item in linked])
        for row in rows:
            self.events.add(
                action="iati.link",
                subject=row,
                changes={"project": [None, row.project_id], "identifier": [None, row.identifier]},
            )
        self.report.updated += len(rows)

    def update(self, changed) -> None:
        if not changed:
            return
        whole = IatiActivity.objects.select_related("project").in_bulk([row.pk for row, _item in changed])
        changed = [(whole[row.pk], item) for row, item in changed]
        rows, projects = [], []
        for row, item in changed:
            values = _record(item, source_file=self.source_file)
            changes = {
                name: [getattr(row, name), values[name]]
                for name in RECORD_FIELDS
                if getattr(row, name) != values[name] and name not in ("titles", "descriptions")
            }
            # The long lists are named, not copied: the activity's XML is the publisher's, its hash says which.
            changes = {
                name: (pair if not isinstance(pair[1], list) else [len(pair[0] or []), len(pair[1])])
                for name, pair in changes.items()
            }
            changes["content_sha256"] = [row.content_sha256, item.sha256]
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = self.stamp
            rows.append(row)
            project = row.project
            draft = draft_from_activity(item.record)
            if draft is not None:
                text_changes = {
                    name: [getattr(project, name), (draft.fields.get(name) or "").strip()]
                    for name in PROJECT_TEXT_FIELDS
                    if (draft.fields.get(name) or "").strip()
                    and getattr(project, name) != (draft.fields.get(name) or "").strip()
                }
                if text_changes:
                    for name, (_old, value) in text_changes.items():
                        setattr(project, name, value)
                    project.updated_at = self.stamp
                    projects.append(project)
                    changes["project"] = text_changes
            self.events.add(action="iati.update", subject=row, changes=changes)
        # One UPDATE per row: Django's bulk_update builds a CASE per field and row, slower for twenty JSON fields.
        names = [*RECORD_FIELDS, "content_sha256", "source_file", "source_line", "updated_at"]
        for row in rows:
            IatiActivity.objects.filter(pk=row.pk).update(**{name: getattr(row, name) for name in names})
        if projects:
            Project.objects.bulk_update(projects, [*PROJECT_TEXT_FIELDS, "updated_at"])
        self.report.updated += len(rows)


def _refused(path, error) -> IatiFileError:
    name = Path(path).name
    if isinstance(error, XmlRefused):
        return IatiFileError(
            _("%(file)s is not well-formed XML (%(error)s); nothing was imported.")
            % {"file": name, "error": error.detail},
            code="invalid_file",
        )
    if isinstance(error, reader.NotAnActivityFile):
        return IatiFileError(
            _("%(file)s is not an IATI activities file (its root element is <%(root)s>); nothing was imported.")
            % {"file": name, "root": error.args[0]},
            code="invalid_file",
        )
    return IatiFileError(
        _("%(file)s cannot be read: %(error)s") % {"file": name, "error": getattr(error, "strerror", None) or error},
        code="invalid_file",
    )


def import_file(
    *,
    actor,
    charity,
    path: str | Path,
    validate: bool = False,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Imports the file's activities for `charity` (see the module's docstring). `actor` is a member of the charity
    who may create its projects. Raises IatiFileError (nothing written) for a file that cannot be read, is not
    well-formed or not IATI activities, and SchemaRefused when `validate` and the file fails the XSD."""
    started = time.monotonic()
    name = Path(path).name
    if not project_permissions.can_create_project(actor, charity):
        raise NotAllowed(_("You cannot create projects for this charity."))
    say = progress or (lambda line: None)
    if validate:
        try:
            messages = schema.validate_activities(path)
        except OSError as error:
            raise _refused(path, error) from None
        if messages:
            raise SchemaRefused(
                _("%(file)s does not conform to the IATI 2.03 schema (%(count)s messages); nothing was imported.")
                % {"file": name, "count": len(messages)},
                messages=messages,
            )
        say(f"{name}: valid against the IATI 2.03 schema")
    report = ImportReport(file=name)
    report.detail.file = name
    run = _Run(actor=actor, charity=charity, source_file=name, report=report, progress=say)
    try:
        with transaction.atomic(), _page_cache():
            items: list[reader.ReadActivity] = []
            for item in read_activities(path, limit=limit):
                report.read += 1
                items.append(item)
                if len(items) >= WRITE_BATCH:
                    run.batch(items)
                    items.clear()
                if report.read % PROGRESS_EVERY == 0:
                    say(_progress_line(report))
            run.batch(items)
            if report.read % PROGRESS_EVERY:
                say(_progress_line(report))
            if run.deviations_queued:
                say(f"deviation detection queued for the worker on the {run.checked} projects beyond a threshold")
            else:
                say(f"deviation detection run on the {run.checked} projects beyond a threshold")
            if run.signatures["queued"]:
                say(f"coordination signatures: {run.signatures['queued']} projects queued for the worker")
    except (XmlRefused, reader.NotAnActivityFile, OSError) as error:
        raise _refused(path, error) from None
    report.detail.read = report.read
    report.seconds = time.monotonic() - started
    report.detail.seconds = report.seconds
    return report


# SQLite's page cache during an import, in KiB: a large file's rows go into the same indexes (the audit chain's
# hashes, the projects', the IATI identifiers'), whose pages would otherwise be read back again and again once the
# database outgrows SQLite's default 2 MiB. Taken only as pages are touched, given back when the import ends.
IMPORT_PAGE_CACHE_KIB = 128 * 1024


@contextlib.contextmanager
def _page_cache():
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(IMPORT_PAGE_CACHE_KIB)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


# A file at least this large is read and parsed by a second process while this one writes (read_activities).
READ_AHEAD_BYTES = 4 * 1024 * 1024
READ_AHEAD_BATCH = 200  # activities per message from the reading process
READ_AHEAD_DEPTH = 10  # messages the reading process may be ahead: bounds the memory the pipeline holds


def read_activities(path: str | Path, *, limit: int | None = None) -> Iterator[reader.ReadActivity]:
    """reader.iter_file's activities, in order. A large file is read by a forked child process that parses the XML
    and builds the activities while this process writes the previous ones, so that an import uses two cores: the
    child sends them in batches through a bounded queue (it waits when it is READ_AHEAD_DEPTH batches ahead, so
    memory stays bounded), and is stopped when this process stops reading (an error, or `limit`). A problem of the
    file raised in the child (XmlRefused, NotAnActivityFile, OSError) is raised here, as the reader raises it."""
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    if size < READ_AHEAD_BYTES or "fork" not in multiprocessing.get_all_start_methods():
        yield from reader.iter_file(path, limit=limit)
        return
    context = multiprocessing.get_context("fork")
    pipeline = context.Queue(maxsize=READ_AHEAD_DEPTH)
    child = context.Process(target=_read_into, args=(str(path), limit, pipeline), daemon=True)
    child.start()
    try:
        while True:
            try:
                kind, payload = pipeline.get(timeout=1)
            except queue.Empty:
                if child.is_alive():
                    continue
                try:  # it may have put its last message just before it ended
                    kind, payload = pipeline.get(timeout=1)
                except queue.Empty:
                    raise OSError(_("The process reading the file stopped before its end.")) from None
            if kind == "items":
                yield from payload
            elif kind == "error":
                raise payload
            else:
                return
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        pipeline.close()
        pipeline.join_thread()


def _read_into(path: str, limit: int | None, pipeline) -> None:
    """The reading process: never touches the database (its connections are the parent's), only the file."""
    try:
        batch: list[reader.ReadActivity] = []
        for item in reader.iter_file(path, limit=limit):
            batch.append(item)
            if len(batch) >= READ_AHEAD_BATCH:
                pipeline.put(("items", batch))
                batch = []
        if batch:
            pipeline.put(("items", batch))
        pipeline.put(("end", None))
    except KeyboardInterrupt:
        pass
    except Exception as error:  # every problem goes back to the importing process, which raises it
        try:
            pipeline.put(("error", error))
        except Exception:  # an exception that cannot be pickled goes back as its text
            pipeline.put(("error", OSError(str(error))))


def _progress_line(report: ImportReport) -> str:
    return (
        f"{report.read} activities read: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.detail.errors)} errors"
    )
