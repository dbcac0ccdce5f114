"""The online check: one candidate index per process (shafaf.coordination.index.CandidateIndex), loaded lazily from
the signatures of the compared projects and brought up to date before every check from the signatures written
since the last look (minus a safety margin: other processes write too, and a transaction may commit after a later
one). Candidates are then re-checked in the database (state, and the signature's digest) and scored by the model
(shafaf.coordination.model.compare)."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.utils import timezone

from . import selectors
from .models import ProjectSignature

logger = logging.getLogger(__name__)

# Signatures written this long before the last look are read again at the next one.
SAFETY_MARGIN = dt.timedelta(seconds=120)


class ProcessIndex:
    """The process's candidate index, its records' digests and its watermark (thread-safe)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.index = None
        self.digests: dict[int, str] = {}
        self.watermark: dt.datetime | None = None
        self.built_at: dt.datetime | None = None

    def reset(self) -> None:
        with self.lock:
            self.index, self.digests, self.watermark, self.built_at = None, {}, None, None

    def _load(self, settings) -> None:
        from .index import CandidateIndex

        started = timezone.now()
        digests: dict[int, str] = {}

        def records():
            rows = (
                ProjectSignature.objects.filter(selectors.compared_condition(settings, prefix="project__"))
                .values_list("project_id", "digest", "record")
                .iterator(chunk_size=2000)
            )
            for project_id, digest, record in rows:
                digests[project_id] = digest
                yield record

        self.index = CandidateIndex.build(records())
        self.digests = digests
        self.watermark = started
        self.built_at = started

    def _catch_up(self, settings) -> None:
        now = timezone.now()
        since = self.watermark - SAFETY_MARGIN
        rows = ProjectSignature.objects.filter(updated_at__gte=since).values_list(
            "project_id", "digest", "project__status", "project__status_changed_at"
        )
        changed = []
        for project_id, digest, status, changed_at in rows.iterator(chunk_size=2000):
            if not _compared(status, changed_at, settings):
                if project_id in self.index:
                    self.index.remove(project_id)
                self.digests.pop(project_id, None)
            elif self.digests.get(project_id) != digest:
                changed.append(project_id)
        for project_id, digest, record in ProjectSignature.objects.filter(project_id__in=changed).values_list(
            "project_id", "digest", "record"
        ):
            self.index.add(record)
            self.digests[project_id] = digest
        self.watermark = now

    def ensure(self, settings):
        """The index, loaded or brought up to date."""
        with self.lock:
            if self.index is None or self.watermark is None:
                self._load(settings)
            else:
                self._catch_up(settings)
            return self.index

    def refresh_one(self, project_id: int, digest: str, record: dict) -> None:
        with self.lock:
            if self.index is not None:
                self.index.add(record)
                self.digests[project_id] = digest


_PROCESS = ProcessIndex()


def process_index() -> ProcessIndex:
    return _PROCESS


def warm_up() -> threading.Thread:
    """Loads the process's index in a background thread, so that a web worker builds it when it starts rather than
    within its first submission (at 1M projects that takes minutes). A check that comes meanwhile waits for the
    load instead of starting a second one (the index's lock)."""
    from django.db import connection

    def load() -> None:
        try:
            _PROCESS.ensure(selectors.current_settings())
        except Exception:  # the first check loads it instead; a worker must start whatever happens here
            logger.exception("coordination index warm-up failed")
        finally:
            connection.close()

    thread = threading.Thread(target=load, name="coordination-index-warm-up", daemon=True)
    thread.start()
    return thread


def reset_index() -> None:
    """Forgets the process's index (the next check loads it again)."""
    _PROCESS.reset()


def _compared(status: str, changed_at, settings) -> bool:
    from shafaf.projects.choices import ProjectStatus

    if status in selectors.COMPARED_STATUSES:
        return True
    if status == ProjectStatus.COMPLETED:
        return changed_at is None or changed_at >= selectors.completed_since(settings)
    return False


def candidate_rows(ids, settings) -> dict[int, dict]:
    """The candidates still compared (a completed project that aged out of the compared period stays in the index
    until its next change, and is dropped here), read from the database now: {id: {"reference", "charity", "digest",
    "record"?}}. A candidate whose stored signature differs from the index's copy gets its stored record."""
    from shafaf.projects.models import Project

    rows = (
        Project.objects.filter(pk__in=list(ids))
        .filter(selectors.compared_condition(settings))
        .values_list("pk", "reference", "charity_id", "coordination_signature__digest")
    )
    return {pk: {"reference": ref, "charity": charity, "digest": digest} for pk, ref, charity, digest in rows}


def find_overlaps(record: dict, *, settings, params, stats: dict | None = None) -> list[dict]:
    """The projects (of every charity, this one's included and marked `internal`) that the model finds at or above
    the ministry's "possible overlap", best first: [{"project", "reference", "charity", "internal", "score",
    "level", "reasons"}]. `stats`, when given, receives "candidates" (how many were scored) and "index" (the
    index's size)."""
    from .model import compare, level_for

    likely, possible = selectors.thresholds(settings)
    state = process_index()
    with state.lock:
        index = state.ensure(settings)
        ids = [i for i in index.candidates(record, limit=int(settings.max_candidates)) if i != record["id"]]
        known = {i: (index.get(i), state.digests.get(i)) for i in ids}
        size = len(index)
    rows = candidate_rows(ids, settings)
    stale = [i for i, row in rows.items() if row["digest"] is None or row["digest"] != known[i][1]]
    fresh_records = {}
    if stale:
        for project_id, digest, stored in ProjectSignature.objects.filter(project_id__in=stale).values_list(
            "project_id", "digest", "record"
        ):
            fresh_records[project_id] = stored
            state.refresh_one(project_id, digest, stored)
    found, scored = [], 0
    for project_id in ids:
        row = rows.get(project_id)
        if row is None:
            continue
        other = fresh_records.get(project_id) if project_id in stale else known[project_id][0]
        if other is None:
            continue
        result = compare(record, other, params)
        scored += 1
        level = level_for(result.score, likely=likely, possible=possible, levels=result.levels)
        if level is None:
            continue
        found.append(
            {
                "project": project_id,
                "reference": row["reference"],
                "charity": row["charity"],
                "internal": row["charity"] == record["charity"],
                "score": round(float(result.score), 2),
                "level": level,
                "reasons": list(result.reasons),
            }
        )
    found.sort(key=lambda item: (-item["score"], item["project"]))
    if stats is not None:
        stats.update(candidates=scored, index=size)
    return found


_PARAMS: dict = {}


def params_for(version):
    """The model's Params of a ModelVersion (cached per version: a version's parameters never change)."""
    from .model import Params

    key = (version.pk, version.number)
    found = _PARAMS.get(key)
    if found is None:
        found = Params.from_dict(version.params)
        _PARAMS.clear()
        _PARAMS[key] = found
    return found


def score_pair(record_a: dict, record_b: dict, *, settings, params) -> tuple[float, str | None, list]:
    """The model's score, level and reasons for two records (used to confirm a flag the index did not return)."""
    from .model import compare, level_for

    likely, possible = selectors.thresholds(settings)
    scored = compare(record_a, record_b, params)
    return (
        round(float(scored.score), 2),
        level_for(scored.score, likely=likely, possible=possible, levels=scored.levels),
        list(scored.reasons),
    )
