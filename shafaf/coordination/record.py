"""One project as coordination compares it: a plain, JSON-serialisable dict built only by ``build_record``.

Keys (all always present): ``id``, ``ref``, ``charity``, ``status``, ``partner``, ``partner_key``, ``country``,
``sector``, ``group``, ``beneficiaries``, ``budget_kwd`` (fils), ``start``, ``end`` (days since 1970-01-01), ``lat``,
``lon``, ``areas``, ``text``, ``title``, ``quantities``, ``langs``, ``notes``. Text tokens come from
``shafaf.matching.project_text``; odd content is cut or ignored and said in ``notes``, never raised.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from numbers import Real

from shafaf.matching.project_text import MAX_TOKENS, area_key, capped, partner_key, text_tokens

EPOCH = datetime.date(1970, 1, 1)
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_BENEFICIARIES = 100_000_000
MAX_BUDGET_FILS = 10**15  # a trillion KWD
MAX_AREAS = 50

RECORD_KEYS = (
    "id",
    "ref",
    "charity",
    "status",
    "partner",
    "partner_key",
    "country",
    "sector",
    "group",
    "beneficiaries",
    "budget_kwd",
    "start",
    "end",
    "lat",
    "lon",
    "areas",
    "text",
    "title",
    "quantities",
    "langs",
    "notes",
)


class RecordError(TypeError):
    """A value of the wrong type given to ``build_record`` (a programming error, not bad content)."""


def _int(name: str, value, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{name} must be an int{' or None' if optional else ''}, not {type(value).__name__}")
    return value


def _str(name: str, value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a str, not {type(value).__name__}")
    return value


def _date(name: str, value) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if not isinstance(value, datetime.date):
        raise RecordError(f"{name} must be a datetime.date or None, not {type(value).__name__}")
    return value


def _coordinate(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _point(points, notes: list[str]) -> tuple[float | None, float | None]:
    if points is None:
        return None, None
    if isinstance(points, (str, bytes)):
        raise RecordError("points must be a sequence of (lat, lon) pairs")
    try:
        items = list(points)
    except TypeError as exc:
        raise RecordError("points must be a sequence of (lat, lon) pairs") from exc
    ignored = False
    found: tuple[float | None, float | None] = (None, None)
    for item in items:
        try:
            lat, lon = item
        except (TypeError, ValueError):
            ignored = True
            continue
        lat, lon = _coordinate(lat), _coordinate(lon)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
            ignored = True
            continue
        found = (round(lat, 6), round(lon, 6))
        break
    if ignored:
        notes.append("point_ignored")
    return found


def _areas(areas, notes: list[str]) -> list[str]:
    if areas is None:
        return []
    if isinstance(areas, str):
        areas = [areas]
    try:
        names = list(areas)
    except TypeError as exc:
        raise RecordError("areas must be a sequence of names") from exc
    keys = set()
    ignored = False
    for name in names:
        key = area_key(name) if isinstance(name, str) else ""
        if key:
            keys.add(key)
        elif name:
            ignored = True
    if ignored:
        notes.append("areas_ignored")
    if len(keys) > MAX_AREAS:
        notes.append("areas_capped")
    return sorted(keys)[:MAX_AREAS]


def build_record(
    *,
    id,
    ref,
    charity,
    status="submitted",
    title_ar="",
    title_en="",
    description_ar="",
    description_en="",
    partner=None,
    partner_name="",
    country="",
    sector="",
    group="",
    beneficiaries=None,
    budget_kwd=None,
    start=None,
    end=None,
    points=(),
    areas=(),
) -> dict:
    """The comparable record of one project (see the module's docstring); raises ``RecordError`` only for a value
    of the wrong type."""
    notes: list[str] = []
    record_id = _int("id", id)
    charity_id = _int("charity", charity)
    partner_id = _int("partner", partner, optional=True)
    ref = _str("ref", ref)
    status = _str("status", status)
    titles = (_str("title_ar", title_ar), _str("title_en", title_en))
    descriptions = (_str("description_ar", description_ar), _str("description_en", description_en))
    partner_name = _str("partner_name", partner_name)

    country = _str("country", country).strip().upper()
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        notes.append("country_ignored")
        country = ""
    if isinstance(sector, int) and not isinstance(sector, bool):
        sector = str(sector)
    sector = _str("sector", sector).strip()
    if sector and not (len(sector) == 5 and sector.isascii() and sector.isdigit()):
        notes.append("sector_ignored")
        sector = ""
    group = _str("group", group).strip()[:64]

    beneficiaries = _int("beneficiaries", beneficiaries, optional=True)
    if beneficiaries is not None and not 1 <= beneficiaries <= MAX_BENEFICIARIES:
        notes.append("beneficiaries_ignored")
        beneficiaries = None
    budget = _int("budget_kwd", budget_kwd, optional=True)
    if budget is not None and not 1 <= budget <= MAX_BUDGET_FILS:
        notes.append("budget_ignored")
        budget = None

    start_date, end_date = _date("start", start), _date("end", end)
    start_day = end_day = None
    if start_date is not None or end_date is not None:
        valid = (
            start_date is not None
            and end_date is not None
            and MIN_YEAR <= start_date.year <= MAX_YEAR
            and MIN_YEAR <= end_date.year <= MAX_YEAR
            and start_date <= end_date
        )
        if valid:
            start_day, end_day = (start_date - EPOCH).days, (end_date - EPOCH).days
        else:
            notes.append("dates_ignored")

    lat, lon = _point(points, notes)
    area_keys = _areas(areas, notes)

    title = text_tokens(*titles)
    body = text_tokens(*descriptions)
    whole_tokens = list(dict.fromkeys(title.tokens + body.tokens))
    if any(len(text) > 20_000 for text in descriptions):
        notes.append("description_truncated")
    if any(len(text) > 20_000 for text in titles):
        notes.append("title_truncated")
    text_list, text_cut = capped(whole_tokens, MAX_TOKENS)
    title_list, title_cut = capped(title.tokens, MAX_TOKENS)
    if text_cut or title_cut:
        notes.append("text_capped")
    if not text_list:
        notes.append("no_text")

    return {
        "id": record_id,
        "ref": ref,
        "charity": charity_id,
        "status": status,
        "partner": partner_id,
        "partner_key": partner_key(partner_name) if partner_name else "",
        "country": country,
        "sector": sector,
        "group": group,
        "beneficiaries": beneficiaries,
        "budget_kwd": budget,
        "start": start_day,
        "end": end_day,
        "lat": lat,
        "lon": lon,
        "areas": area_keys,
        "text": text_list,
        "title": title_list,
        "quantities": sorted(set(title.quantities) | set(body.quantities)),
        "langs": sorted(title.langs | body.langs),
        "notes": notes,
    }
