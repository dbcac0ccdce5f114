"""A project's signature: the record coordination compares (shafaf.coordination.record.build_record), built from
the project's fields, locations, implementing partner and budget in fils of KWD, and stored in ProjectSignature
(rewritten only when it changed, so that the in-memory indexes catch up by `updated_at`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .models import ProjectSignature

# Notes the signature adds to the record's own notes about the budget.
NOTE_NO_BUDGET = "no_budget"
NOTE_NO_RATE = "budget_no_rate"


def digest_of(record: dict) -> str:
    """SHA-256 of the record's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RateCache:
    """The ministry's rates to KWD looked up once per (currency, date) within a bulk refresh."""

    def __init__(self):
        self.quotes: dict = {}
        self.max_age: int | None = None

    def to_fils(self, total_minor: int, currency: str, on_date: dt.date) -> int | None:
        from shafaf.core.money import Money, convert
        from shafaf.finance import rates

        if currency == rates.BASE_CURRENCY:
            return int(total_minor)
        key = (currency, on_date)
        if key not in self.quotes:
            if self.max_age is None:
                self.max_age = rates.settings().rate_max_age_days
            try:
                self.quotes[key] = rates.rate_on(currency, on_date, max_age_days=self.max_age).rate
            except Exception:  # RateMissing, or a currency ISO 4217 does not know
                self.quotes[key] = None
        rate = self.quotes[key]
        if rate is None:
            return None
        return convert(Money(int(total_minor), currency), rates.BASE_CURRENCY, rate, rounding=rates.ROUNDING).minor


def budget_facts(project_ids) -> dict[int, tuple[int, str, dt.date]]:
    """{project id: (total in minor units, currency, date)} of each project's current budget version."""
    from shafaf.finance.models import BudgetVersion

    found: dict[int, tuple[int, str, dt.date]] = {}
    rows = (
        BudgetVersion.objects.filter(project_id__in=list(project_ids))
        .order_by("project_id", "-number")
        .values_list("project_id", "total_minor", "currency", "created_at")
    )
    for project_id, total, currency, created in rows:
        if project_id not in found:
            found[project_id] = (int(total), currency, timezone.localdate(created))
    return found


_LOOK_UP = object()


def _budget_fils(project, facts=_LOOK_UP, cache: RateCache | None = None) -> tuple[int | None, str]:
    """The project's current budget total in fils of KWD at the ministry's rate of the budget's date (None and a
    note when there is no budget, or no rate to convert it)."""
    if facts is _LOOK_UP:
        facts = budget_facts([project.pk]).get(project.pk)
    if facts is None or facts[0] <= 0:
        return None, NOTE_NO_BUDGET
    total, currency, on_date = facts
    fils = (cache or RateCache()).to_fils(total, currency, on_date)
    if fils is None:
        return None, NOTE_NO_RATE
    return (fils if fils > 0 else None), ""


def _partner_name(partner) -> str:
    if partner is None:
        return ""
    return partner.name_en or partner.name_ar or ""


def record_of(project, *, budget: tuple[int | None, str] | None = None) -> dict:
    """The record of one project (a plain JSON-ready dict, see shafaf.coordination.record). `budget` may be given
    as (fils of KWD or None, note) by a caller that already computed it."""
    from .record import build_record

    points, areas = [], []
    for location in project.locations.all():
        if location.latitude is not None and location.longitude is not None:
            points.append((location.latitude, location.longitude))
        areas.extend(name for name in (location.admin_area_ar, location.admin_area_en) if name)
    budget_kwd, budget_note = budget if budget is not None else _budget_fils(project)
    partner = project.implementing_partner
    start, end = project.planned_start, project.planned_end
    record = build_record(
        id=project.pk,
        ref=project.iati_identifier or project.reference,
        charity=project.charity_id,
        status=project.status,
        title_ar=project.title_ar or "",
        title_en=project.title_en or "",
        description_ar=project.description_ar or "",
        description_en=project.description_en or "",
        partner=project.implementing_partner_id,
        partner_name=_partner_name(partner),
        country=project.country or "",
        sector=project.sector or "",
        group=project.beneficiary_group or "",
        beneficiaries=project.beneficiary_count,
        budget_kwd=budget_kwd,
        start=start if isinstance(start, dt.date) else None,
        end=end if isinstance(end, dt.date) else None,
        points=points,
        areas=areas,
    )
    if budget_note and budget_note not in record["notes"]:
        record["notes"] = sorted([*record["notes"], budget_note])
    return record


def signature_refresh(project) -> ProjectSignature:
    """Rebuilds the project's signature and stores it when it changed (same digest: nothing written)."""
    record = record_of(project)
    digest = digest_of(record)
    with transaction.atomic():
        signature = ProjectSignature.objects.select_for_update().filter(project_id=project.pk).first()
        if signature is None:
            return ProjectSignature.objects.create(project=project, record=record, digest=digest)
        if signature.digest != digest:
            signature.record, signature.digest, signature.updated_at = record, digest, timezone.now()
            signature.save(update_fields=["record", "digest", "updated_at"])
    return signature


def signatures_refresh(projects: Iterable, *, batch_size: int = 500) -> dict:
    """Bulk refresh (imports, the batch scan): the signatures of these projects, created or rewritten where
    their record changed, in batches. Answers {"created", "updated", "unchanged"}."""
    from shafaf.projects.models import Project

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    batch: list = []
    rates = RateCache()

    def flush():
        ids = [project.pk for project in batch]
        existing = {s.project_id: s for s in ProjectSignature.objects.filter(project_id__in=ids)}
        budgets = budget_facts(ids)
        create, update = [], []
        now = timezone.now()
        for project in batch:
            record = record_of(project, budget=_budget_fils(project, budgets.get(project.pk), rates))
            digest = digest_of(record)
            found = existing.get(project.pk)
            if found is None:
                create.append(ProjectSignature(project_id=project.pk, record=record, digest=digest, updated_at=now))
            elif found.digest != digest:
                found.record, found.digest, found.updated_at = record, digest, now
                update.append(found)
            else:
                counts["unchanged"] += 1
        with transaction.atomic():
            ProjectSignature.objects.bulk_create(create, ignore_conflicts=True)
            ProjectSignature.objects.bulk_update(update, ["record", "digest", "updated_at"])
        counts["created"] += len(create)
        counts["updated"] += len(update)
        batch.clear()

    if isinstance(projects, Iterable) and hasattr(projects, "model") and projects.model is Project:
        projects = (
            projects.select_related("implementing_partner")
            .prefetch_related("locations")
            .iterator(chunk_size=batch_size)
        )
    for project in projects:
        batch.append(project)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return counts
