"""Screening of foreign partners and their officers against the current sanctions list versions, and the
reviewers' decisions on the hits.

* `screen_partner` screens one partner (every name: name_ar, name_en, its PartnerName rows) and each of its
  active officers (name_ar, name_en, with nationality and date of birth as second attributes): one Screening
  row per subject; every alerting match becomes a ScreeningHit, unique per (partner, officer, version, entry),
  so a decision taken on a hit holds for that list version and a new version asks again.
* `screen_all_partners` re-screens every active partner (after a list import), in chunks, with one index
  built per process and cached on the current version ids, and raises the oversight alerts of the projects
  whose partner got a new open hit.
* `hit_confirm` / `hit_clear`: the reviewers' decisions (ministry reviewers and admins, accreditation officers).

The name matcher (shafaf.matching) is reached only through `build_index` and `screen_name` below.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shafaf.accounts.choices import OrganizationKind
from shafaf.accounts.models import Organization
from shafaf.audit import services as audit
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.ids import pk_or_404

from .choices import HitStatus, SanctionsEntityType, ScreeningTrigger
from .models import Officer, PartnerName, SanctionsEntry, SanctionsListVersion, Screening, ScreeningHit
from .permissions import can_decide_hit, can_screen, can_view_screening

# Who may see and decide: permissions.can_view_screening, can_decide_hit, can_screen, can_import_sanctions.

DECISION_REASON_MAX_LENGTH = 4000
MAX_QUERY_CHARACTERS = 2000  # longer input is refused before it reaches the matcher


# --- selectors ------------------------------------------------------------------------------------------------


def versions_visible_to(user):
    if not can_view_screening(user):
        return SanctionsListVersion.objects.none()
    return SanctionsListVersion.objects.select_related("loaded_by")


def version_get(user, pk) -> SanctionsListVersion:
    pk = pk_or_404(pk)
    return get_object_or_404(versions_visible_to(user), pk=pk)


def hits_visible_to(user):
    """The hits the user may see, open ones first, then the newest found."""
    if not can_view_screening(user):
        return ScreeningHit.objects.none()
    return (
        ScreeningHit.objects.select_related("partner", "officer", "version", "entry", "decided_by")
        .annotate(
            open_first=Case(When(status=HitStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("open_first", "-found_at", "-id")
    )


def hit_get(user, pk) -> ScreeningHit:
    pk = pk_or_404(pk)
    return get_object_or_404(hits_visible_to(user), pk=pk)


def rescreen_progress(version: SanctionsListVersion) -> dict:
    """How far the re-screening that followed a list load has gone: partners screened since the load (with
    the trigger "list_update") against all active partners."""
    total = Organization.objects.filter(kind=OrganizationKind.PARTNER, is_active=True).count()
    done = (
        Screening.objects.filter(
            trigger=ScreeningTrigger.LIST_UPDATE, officer__isnull=True, screened_at__gte=version.loaded_at
        )
        .values("partner_id")
        .distinct()
        .count()
    )
    done = min(done, total)
    return {
        "done": done,
        "total": total,
        "percent": 100 if not total else done * 100 // total,
        "finished": done >= total,
    }


# --- the matcher adapter (the one place that knows shafaf.matching) -------------------------------------------


class ScreeningInputError(DomainError):
    """A name that cannot be screened (empty, no letters, absurdly long). The message is in the language in
    force when it is raised; `message_en` and `message_ar` hold both."""

    def __init__(self, message_en, message_ar: str = "", *, code: str = "invalid_name"):
        message_en = str(message_en)
        message_ar = message_ar or message_en
        english = (translation.get_language() or "ar").startswith("en")
        message = message_en if english else message_ar
        super().__init__(message, code=code, fields={"name": [message]})
        self.message_en = message_en
        self.message_ar = message_ar


@dataclass(frozen=True)
class NameMatch:
    source: str  # "un" | "ofac"
    entry_id: str  # the list's own reference (QDi.001, the OFAC entity number)
    name: str  # the entry's name that matched
    score: float  # 0..1
    explanation_en: str
    explanation_ar: str
    alert: bool

    def explanation(self, language: str | None = None) -> str:
        language = language or translation.get_language() or "ar"
        return self.explanation_en if language.startswith("en") else self.explanation_ar


@dataclass(frozen=True)
class NameResult:
    query: str
    alert: bool
    matches: tuple[NameMatch, ...]
    ms: float = 0.0


@dataclass
class ListIndex:
    """The matcher's index over some list versions, and where each (source, entry_id) lives in the database."""

    matcher: object
    version_ids: tuple[int, ...] = ()
    entries: dict[tuple[str, str], tuple[int | None, int | None]] = field(default_factory=dict)
    entry_count: int = 0


def _clean_for_matcher(name) -> str:
    if name is None or not isinstance(name, str):
        with translation.override("en"):
            message_en = _("The name must be text.")
        raise ScreeningInputError(message_en, "يجب أن يكون الاسم نصاً.")
    if len(name) > MAX_QUERY_CHARACTERS:
        values = {"length": len(name), "max": MAX_QUERY_CHARACTERS}
        with translation.override("en"):
            message_en = _("The name is %(length)s characters long, at most %(max)s; enter the name alone.") % values
        raise ScreeningInputError(
            message_en,
            f"طول الاسم {len(name)} حرفاً، والحد الأقصى {MAX_QUERY_CHARACTERS}؛ أدخل الاسم وحده.",
            code="name_too_long",
        )
    return name.replace("\x00", "")


def _names_of(names) -> list[tuple[str, str, str]]:
    out = []
    for item in names or ():
        if isinstance(item, dict):
            out.append((item.get("text", ""), item.get("kind", ""), item.get("quality", "")))
        elif isinstance(item, tuple | list):
            out.append(tuple(item) + ("",) * (3 - len(item)))
        else:
            out.append((getattr(item, "text", ""), getattr(item, "kind", ""), getattr(item, "quality", "")))
    return [name for name in out if name[0]]


def build_index(rows: Iterable[dict]) -> ListIndex:
    """An index over entries given as dicts: source, entry_id, entity_type, names ([{text, kind, quality}]),
    dates_of_birth, countries, nationalities, and optionally version_id and pk (the database row)."""
    from shafaf.matching import NameIndex

    matcher = NameIndex()
    index = ListIndex(matcher=matcher)
    versions: set[int] = set()
    for row in rows:
        source, entry_id = row["source"], row["entry_id"]
        index.entries[(source, entry_id)] = (row.get("version_id"), row.get("pk"))
        if row.get("version_id"):
            versions.add(row["version_id"])
        countries = list(dict.fromkeys([*(row.get("countries") or ()), *(row.get("nationalities") or ())]))
        matcher.add(
            entry_id,
            source,
            names=_names_of(row.get("names")) or [(row.get("primary_name", ""), "primary", "")],
            entity_type=row.get("entity_type") or None,
            dates_of_birth=list(row.get("dates_of_birth") or ()),
            countries=countries,
        )
        index.entry_count += 1
    index.version_ids = tuple(sorted(versions))
    return index


def _countries(country) -> list[str] | None:
    """An ISO 3166-1 code as the lists write countries: the code and its English name ("SD", "Sudan")."""
    if not country or not isinstance(country, str):
        return None
    from shafaf.projects.codelists import COUNTRIES

    code = country.strip()
    item = COUNTRIES.get(code.upper())
    return [code, item["name_en"]] if item else [code]


def _attribute(match, *names, default=None):
    for name in names:
        value = match.get(name) if isinstance(match, dict) else getattr(match, name, None)
        if value is not None:
            return value
    return default


def screen_name(
    index: ListIndex, name, *, entity_type: str | None = None, country: str | None = None, date_of_birth=None
) -> NameResult:
    """Screens one name; raises ScreeningInputError (with its Arabic text) for a name that cannot be screened.
    `country`: an ISO 3166-1 alpha-2 code (or a country's name); `date_of_birth`: YYYY-MM-DD or YYYY."""
    from shafaf.matching import MatchingInputError

    name = _clean_for_matcher(name)
    started = time.perf_counter()
    try:
        result = index.matcher.screen(
            name,
            entity_type=entity_type or None,
            country=_countries(country),
            date_of_birth=date_of_birth or None,
        )
    except MatchingInputError as error:
        raise ScreeningInputError(getattr(error, "message", str(error)), getattr(error, "message_ar", "")) from error
    elapsed = (time.perf_counter() - started) * 1000
    matches = []
    for match in _attribute(result, "matches", default=()) or ():
        explanation = _attribute(match, "explanation", "explanation_en", default="")
        matches.append(
            NameMatch(
                source=str(_attribute(match, "list_name", "list", "source", default="")),
                entry_id=str(_attribute(match, "entry_id", default="")),
                name=str(_attribute(match, "name", "matched_name", default="")),
                score=float(_attribute(match, "score", default=0.0)),
                explanation_en=str(explanation),
                explanation_ar=str(_attribute(match, "explanation_ar", default=explanation)),
                alert=bool(_attribute(match, "alert", default=False)),
            )
        )
    alert = bool(_attribute(result, "alert", default=any(m.alert for m in matches)))
    return NameResult(name, alert, tuple(matches), round(elapsed, 3))


# --- the index over the current versions, once per process ----------------------------------------------------

_CACHE: dict = {"key": None, "index": None}
_CACHE_LOCK = threading.Lock()


def current_versions() -> list[SanctionsListVersion]:
    return list(SanctionsListVersion.objects.filter(is_current=True).order_by("source"))


def _cache_key(versions) -> tuple:
    return tuple((v.pk, v.source, v.sha256, v.loaded_at.isoformat(), v.entry_count) for v in versions)


def _rows_of(versions):
    by_id = {version.pk: version.source for version in versions}
    fields = ("pk", "version_id", "entry_id", "entity_type", "primary_name", "names", "dates_of_birth")
    fields += ("nationalities", "countries")
    queryset = SanctionsEntry.objects.filter(version_id__in=list(by_id)).order_by("pk").values(*fields)
    for row in queryset.iterator(chunk_size=2000):
        row["source"] = by_id[row["version_id"]]
        yield row


def current_index() -> ListIndex:
    """The index over the current version of each list, built once per process and rebuilt when the current
    versions change."""
    versions = current_versions()
    key = _cache_key(versions)
    with _CACHE_LOCK:
        if _CACHE["key"] == key and _CACHE["index"] is not None:
            return _CACHE["index"]
        index = build_index(_rows_of(versions))
        index.version_ids = tuple(sorted(v.pk for v in versions))
        _CACHE["key"], _CACHE["index"] = key, index
        return index


def reset_index_cache() -> None:
    with _CACHE_LOCK:
        _CACHE["key"], _CACHE["index"] = None, None


def result_as_json(result: NameResult, *, language: str = "en") -> dict:
    """The JSON answer of `manage.py screen --jsonl` and of POST /api/v1/screen/."""
    english = language.startswith("en")
    return {
        "query": result.query,
        "alert": result.alert,
        "matches": [
            {
                "list": match.source,
                "entry_id": match.entry_id,
                "name": match.name,
                "score": round(match.score, 4),
                "explanation": match.explanation_en if english else match.explanation_ar,
                "alert": match.alert,
            }
            for match in result.matches
        ],
        "ms": result.ms,
    }


def error_as_json(query, error: ScreeningInputError) -> dict:
    return {
        "query": query if isinstance(query, str) else "",
        "error": error.message_en,
        "error_ar": error.message_ar,
        "code": error.code,
    }


# --- screening partners ---------------------------------------------------------------------------------------


@dataclass
class _Subject:
    partner: Organization
    officer: Officer | None
    names: list[str]
    entity_type: str
    country: str
    date_of_birth: str


@dataclass
class _Found:
    subject: _Subject
    screening: Screening
    hits: dict  # (version_id, entry_pk) -> (query, NameMatch)


def _unique_names(names) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        name = (name or "").strip()
        if name and name.casefold() not in {n.casefold() for n in seen}:
            seen[name] = None
    return list(seen)


def _subjects_of(partner: Organization) -> list[_Subject]:
    """The partner and its active officers (partner_names and officers prefetched by the caller or fetched)."""
    aliases = [row.name for row in partner.partner_names.all()]
    subjects = [
        _Subject(
            partner,
            None,
            _unique_names([partner.name_ar, partner.name_en, *aliases]),
            SanctionsEntityType.ENTITY,
            partner.country or "",
            "",
        )
    ]
    for officer in partner.officers.all():
        if not officer.is_active:
            continue
        subjects.append(
            _Subject(
                partner,
                officer,
                _unique_names([officer.name_ar, officer.name_en]),
                SanctionsEntityType.INDIVIDUAL,
                officer.nationality or "",
                officer.date_of_birth.isoformat() if officer.date_of_birth else "",
            )
        )
    return subjects


def _with_names(queryset):
    return queryset.prefetch_related(
        Prefetch("partner_names", queryset=PartnerName.objects.order_by("pk")),
        Prefetch("officers", queryset=Officer.objects.order_by("pk")),
    )


def _screen_subject(index: ListIndex, subject: _Subject, memo: dict) -> tuple[list[dict], dict]:
    """Screens each of the subject's names: (what was screened, for Screening.names; the alerting matches by
    (version id, entry pk), the best score kept)."""
    screened, hits = [], {}
    for name in subject.names:
        key = (name, subject.entity_type, subject.country, subject.date_of_birth)
        if key not in memo:
            try:
                memo[key] = screen_name(
                    index,
                    name,
                    entity_type=subject.entity_type,
                    country=subject.country,
                    date_of_birth=subject.date_of_birth,
                )
            except ScreeningInputError as error:
                memo[key] = error
        result = memo[key]
        if isinstance(result, ScreeningInputError):
            screened.append(
                {"name": name, "error": error_as_json(name, result)["error"], "error_ar": result.message_ar}
            )
            continue
        alerting = [match for match in result.matches if match.alert]
        screened.append({"name": name, "alert": bool(alerting), "matches": len(result.matches)})
        for match in alerting:
            version_id, entry_pk = index.entries.get((match.source, match.entry_id), (None, None))
            if entry_pk is None:
                continue
            best = hits.get((version_id, entry_pk))
            if best is None or best[1].score < match.score:
                hits[(version_id, entry_pk)] = (name, match)
    return screened, hits


def _store(found: list[_Found], *, index: ListIndex) -> tuple[list[Screening], list[ScreeningHit], int]:
    """Writes the screenings and their hits (inside the caller's transaction): new hits are created open; a hit
    already known for the same version and entry keeps its decision and only records the new screening.
    Returns (screenings, new hits, hits seen again)."""
    Screening.objects.bulk_create([item.screening for item in found], batch_size=500)
    partner_ids = {item.subject.partner.pk for item in found}
    existing = {}
    if index.version_ids and any(item.hits for item in found):
        for hit in ScreeningHit.objects.filter(partner_id__in=partner_ids, version_id__in=index.version_ids):
            existing[(hit.partner_id, hit.officer_id, hit.version_id, hit.entry_id)] = hit
    new, again = [], []
    for item in found:
        officer_id = item.subject.officer.pk if item.subject.officer else None
        for (version_id, entry_pk), (query, match) in item.hits.items():
            hit = existing.get((item.subject.partner.pk, officer_id, version_id, entry_pk))
            if hit is not None:
                hit.last_screening = item.screening
                again.append(hit)
                continue
            hit = ScreeningHit(
                partner=item.subject.partner,
                officer=item.subject.officer,
                version_id=version_id,
                entry_id=entry_pk,
                screening=item.screening,
                last_screening=item.screening,
                query=query[:500],
                matched_name=match.name[:500],
                score=float(match.score),
                explanation_en=match.explanation_en or "—",
                explanation_ar=match.explanation_ar or match.explanation_en or "—",
                status=HitStatus.OPEN,
            )
            existing[(item.subject.partner.pk, officer_id, version_id, entry_pk)] = hit
            new.append(hit)
    if new:
        try:
            with transaction.atomic():
                ScreeningHit.objects.bulk_create(new, batch_size=500)
        except IntegrityError:
            # Another screening of the same partner stored some of these hits meanwhile: keep theirs.
            ScreeningHit.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
            keys = {(h.partner_id, h.officer_id, h.version_id, h.entry_id) for h in new}
            stored = ScreeningHit.objects.filter(
                partner_id__in=partner_ids, version_id__in=index.version_ids, status=HitStatus.OPEN
            )
            new = [h for h in stored if (h.partner_id, h.officer_id, h.version_id, h.entry_id) in keys]
    if again:
        ScreeningHit.objects.bulk_update(again, ["last_screening"], batch_size=500)
    return [item.screening for item in found], new, len(again)


def _prepare(partners, *, index, actor, trigger, project, memo) -> list[_Found]:
    found = []
    now = timezone.now()
    for partner in partners:
        for subject in _subjects_of(partner):
            screened, hits = _screen_subject(index, subject, memo)
            screening = Screening(
                partner=partner,
                officer=subject.officer,
                trigger=trigger,
                project=project,
                names=screened,
                versions=list(index.version_ids),
                alert=bool(hits),
                hit_count=len(hits),
                screened_by=actor if actor is not None and getattr(actor, "pk", None) else None,
                screened_at=now,
            )
            found.append(_Found(subject, screening, hits))
    return found


def _affected_projects(partner_ids) -> list[int]:
    """Projects on their way to or in execution implemented by these partners."""
    from shafaf.projects.choices import ProjectStatus
    from shafaf.projects.models import Project

    if not partner_ids:
        return []
    statuses = (ProjectStatus.SUBMITTED, ProjectStatus.UNDER_REVIEW, ProjectStatus.APPROVED, ProjectStatus.IN_EXECUTION)
    return list(
        Project.objects.filter(implementing_partner_id__in=list(partner_ids), status__in=statuses)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _raise_alerts(partner_ids) -> list[int]:
    project_ids = _affected_projects(partner_ids)
    if project_ids:
        from shafaf.projects.oversight.services import alerts_raise

        alerts_raise(project_ids=project_ids)
    return project_ids


def _check_partner(partner) -> None:
    if getattr(partner, "kind", None) != OrganizationKind.PARTNER:
        message = _("Only a foreign implementing partner is screened.")
        raise DomainError(message, code="not_a_partner", fields={"partner": [message]})


def screen_partner(*, actor, partner: Organization, trigger: str, project=None) -> list[Screening]:
    """Screens the partner (all its names) and each active officer against the current list versions: one
    Screening row each; alerting matches become hits (open when new; a decided hit of the same version keeps
    its decision). Audited ("screening.run"). A screening on request (trigger "manual") is for the ministry
    and accreditation officers; the other triggers come from the services that register partners and submit
    projects, whoever their actor is. Alerts of the partner's projects are raised after commit on a new hit."""
    _check_partner(partner)
    if trigger not in ScreeningTrigger.values:
        raise DomainError(_("Unknown screening trigger."), code="invalid", fields={"trigger": [_("Unknown trigger.")]})
    if trigger == ScreeningTrigger.MANUAL and not can_screen(actor):
        raise NotAllowed(_("Only the ministry and accreditation officers screen partners on request."))
    index = current_index()
    partner = _with_names(Organization.objects.filter(pk=partner.pk)).get()
    found = _prepare([partner], index=index, actor=actor, trigger=trigger, project=project, memo={})
    with transaction.atomic():
        screenings, new, again = _store(found, index=index)
        audit.record(
            actor=actor,
            action="screening.run",
            subject=screenings[0],
            organization=partner,
            changes={
                "trigger": trigger,
                "project": project.pk if project is not None else None,
                "versions": list(index.version_ids),
                "screenings": [s.pk for s in screenings],
                "alerts": sum(1 for s in screenings if s.alert),
                "new_hits": [hit.pk for hit in new],
                "hits_seen_again": again,
            },
        )
        if new:
            transaction.on_commit(lambda: _raise_alerts({partner.pk}))
    return screenings


Progress = Callable[[int, int], None] | None
CHUNK = 500
# A full re-screen spreads the matching over this many processes (forked after the index is built, so they share
# it); the database work stays in the calling process. 1 screens in the calling process only.
PROCESSES = max(1, int(os.environ.get("SHAFAF_SCREENING_PROCESSES", os.cpu_count() or 1)))
PARALLEL_FROM = 400  # partners: below this a pool costs more than it saves

_POOL_INDEX: dict = {}


def _pool_screen(key):
    """In a pool process: screens one (name, entity type, country, date of birth) with the index inherited from
    the parent, and answers the result or the input error (both plain, picklable data)."""
    name, entity_type, country, date_of_birth = key
    try:
        return key, screen_name(
            _POOL_INDEX["index"], name, entity_type=entity_type, country=country, date_of_birth=date_of_birth
        )
    except ScreeningInputError as error:
        return key, error


def _subject_keys(partners) -> list[tuple]:
    keys = {}
    for partner in partners:
        for subject in _subjects_of(partner):
            for name in subject.names:
                keys[(name, subject.entity_type, subject.country, subject.date_of_birth)] = None
    return list(keys)


def _parallel_pool(index: ListIndex, partner_count: int):
    """A pool of forked processes sharing `index`, when the re-screen is large enough and several cores exist."""
    if PROCESSES < 2 or partner_count < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return None
    _POOL_INDEX["index"] = index
    return multiprocessing.get_context("fork").Pool(PROCESSES)


def screen_all_partners(*, actor=None, trigger: str = ScreeningTrigger.LIST_UPDATE, progress: Progress = None) -> dict:
    """Re-screens every active partner against the current versions, CHUNK partners per transaction (each
    audited as "screening.rescreen"), then raises the alerts of the projects whose partner got a new open
    hit. Returns {partners, screenings, new_hits, hits_seen_again, projects_alerted, seconds}."""
    started = time.perf_counter()
    index = current_index()
    partners = Organization.objects.filter(kind=OrganizationKind.PARTNER, is_active=True).order_by("pk")
    total = partners.count()
    ids = list(partners.values_list("pk", flat=True))
    summary = {"partners": 0, "screenings": 0, "new_hits": 0, "hits_seen_again": 0, "projects_alerted": []}
    with_new_hits: set[int] = set()
    memo: dict = {}
    pool = _parallel_pool(index, total)
    try:
        for start in range(0, len(ids), CHUNK):
            chunk = list(_with_names(Organization.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("pk")))
            if pool is not None:
                keys = [key for key in _subject_keys(chunk) if key not in memo]
                memo.update(pool.imap_unordered(_pool_screen, keys, chunksize=64))
            with_new_hits |= _rescreen_chunk(
                chunk, index=index, actor=actor, trigger=trigger, memo=memo, summary=summary
            )
            if progress is not None:
                progress(summary["partners"], total)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
            _POOL_INDEX.clear()
    summary["projects_alerted"] = _raise_alerts(with_new_hits)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _rescreen_chunk(chunk, *, index, actor, trigger, memo, summary) -> set[int]:
    """Screens one chunk of partners (reusing the results already in `memo`), stores it in one transaction,
    adds to `summary` and answers the ids of the partners with a new hit."""
    found = _prepare(chunk, index=index, actor=actor, trigger=trigger, project=None, memo=memo)
    with transaction.atomic():
        screenings, new, again = _store(found, index=index)
        audit.record(
            actor=actor,
            action="screening.rescreen",
            subject=screenings[0],
            changes={
                "trigger": trigger,
                "versions": list(index.version_ids),
                "partners": [partner.pk for partner in chunk],
                "screenings": len(screenings),
                "new_hits": [hit.pk for hit in new],
                "hits_seen_again": again,
            },
        )
    summary["partners"] += len(chunk)
    summary["screenings"] += len(screenings)
    summary["new_hits"] += len(new)
    summary["hits_seen_again"] += again
    return {hit.partner_id for hit in new}


# --- the reviewers' decisions ---------------------------------------------------------------------------------


def _decide(*, actor, hit: ScreeningHit, new_status: str, reason: str, action: str) -> ScreeningHit:
    if not can_decide_hit(actor):
        raise NotAllowed(_("Only the ministry and accreditation officers decide on screening hits."))
    reason = (reason or "").strip()
    if len(reason) > DECISION_REASON_MAX_LENGTH:
        message = _("The reason is too long (at most %(max)s characters).") % {"max": DECISION_REASON_MAX_LENGTH}
        raise DomainError(message, code="invalid", fields={"reason": [message]})
    if new_status == HitStatus.CLEARED and not reason:
        message = _("Say why this is not the listed person or entity: a reason is required to clear a hit.")
        raise DomainError(message, code="reason_required", fields={"reason": [message]})
    with transaction.atomic():
        hit = ScreeningHit.objects.select_for_update().select_related("partner", "version", "entry").get(pk=hit.pk)
        if hit.status == HitStatus.SUPERSEDED:
            raise Conflict(
                _("This hit belongs to a list version that is no longer current; decide on the newer one."),
                code="superseded",
            )
        if hit.status == new_status:
            raise Conflict(_("This hit is already “%(status)s”.") % {"status": hit.get_status_display()})
        old = hit.status
        hit.status = new_status
        hit.decided_by = actor
        hit.decided_at = timezone.now()
        hit.decision_reason = reason
        hit.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            actor=actor,
            action=action,
            subject=hit,
            organization=hit.partner,
            changes={"status": [old, new_status], "version": hit.version_id, "entry": hit.entry.entry_id},
            reason=reason,
        )
        partner_id = hit.partner_id
        transaction.on_commit(lambda: _raise_alerts({partner_id}))
    return hit


def hit_confirm(*, actor, hit: ScreeningHit, reason: str = "") -> ScreeningHit:
    """The reviewer confirms the match: the partner is blocked by the gate while the hit stands. Audited."""
    return _decide(actor=actor, hit=hit, new_status=HitStatus.CONFIRMED, reason=reason, action="screening.hit_confirm")


def hit_clear(*, actor, hit: ScreeningHit, reason: str) -> ScreeningHit:
    """The reviewer clears the match (a reason is required); remembered for this list version. Audited."""
    return _decide(actor=actor, hit=hit, new_status=HitStatus.CLEARED, reason=reason, action="screening.hit_clear")
