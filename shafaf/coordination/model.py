"""The coordination model: Fellegi–Sunter scoring of two project records.

Everything the model compares is declared once, in ``COMPARISONS``: each signal has ordered
levels, and each level has a Python predicate (used online by ``compare``) and the equivalent
SQL condition over the columns ``<column>_l`` / ``<column>_r`` (used by the batch engine, which
runs Splink on DuckDB or Spark). The first level whose condition holds is the pair's level, in
Python as in SQL's ``CASE WHEN``. A null level (data missing on either side) weighs 0.

Records are the dicts built by ``shafaf.coordination.record.build_record``. In SQL a record is a
row of the table described by ``TABLE_COLUMNS`` (see ``record_row``): a few record keys are
renamed there because ``group``, ``end`` and ``text`` are SQL keywords, and ``qconcepts`` (the
concepts of the counted quantities) is derived from ``quantities``.

A score is ``prior + sum of the level weights`` (log2 of the odds), exactly Splink's
``match_weight``; each level's weight is ``log2(m / u)``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------
# Record columns as the SQL engines see them

#: table column -> (record key, Arrow/SQL type). The batch engine writes records in this shape.
TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "id": ("id", "int64"),
    "ref": ("ref", "string"),
    "charity": ("charity", "int64"),
    "status": ("status", "string"),
    "partner": ("partner", "int64"),
    "partner_key": ("partner_key", "string"),
    "country": ("country", "string"),
    "sector": ("sector", "string"),
    "bgroup": ("group", "string"),
    "beneficiaries": ("beneficiaries", "int64"),
    "budget_kwd": ("budget_kwd", "int64"),
    "start_day": ("start", "int64"),
    "end_day": ("end", "int64"),
    "lat": ("lat", "float64"),
    "lon": ("lon", "float64"),
    "areas": ("areas", "list<string>"),
    "text_tokens": ("text", "list<string>"),
    "title_tokens": ("title", "list<string>"),
    "quantities": ("quantities", "list<string>"),
    "qconcepts": ("quantities", "list<string>"),
    "langs": ("langs", "list<string>"),
}


def quantity_concepts(quantities: list[str]) -> list[str]:
    """The distinct concepts of ``<concept>:<count>`` items, sorted."""
    return sorted({q.rsplit(":", 1)[0] for q in quantities})


def record_row(record: dict) -> dict:
    """One record as a row of the SQL table (``TABLE_COLUMNS``)."""
    row = {}
    for column, (key, kind) in TABLE_COLUMNS.items():
        value = record.get(key)
        if kind == "list<string>":
            value = list(value or ())
        elif kind == "string":
            value = value or ""
        row[column] = value
    row["qconcepts"] = quantity_concepts(row["quantities"])
    return row


# --------------------------------------------------------------------------------------
# SQL dialects: the few functions that differ between DuckDB and Spark SQL

_DIALECT_FUNCTIONS = {
    # list_filter + list_contains: about 3x faster than list_intersect on lists of ~100 strings
    "duckdb": {"size": "len({0})", "inter": "len(list_filter({0}, lambda x: list_contains({1}, x)))"},
    "spark": {"size": "size({0})", "inter": "size(array_intersect({0}, {1}))"},
}
EARTH_RADIUS_KM = 6371.0088


def _haversine_sql() -> str:
    # Plain arithmetic and trigonometry, the same steps as ``haversine_km``.
    return (
        f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt("
        "pow(sin(radians(lat_r - lat_l) / 2), 2)"
        " + cos(radians(lat_l)) * cos(radians(lat_r)) * pow(sin(radians(lon_r - lon_l) / 2), 2)"
        "))))"
    )


def render_sql(template: str, dialect: str) -> str:
    """Expand the macros of a level's SQL template for one dialect.

    ``@size(x)`` list length; ``@inter(c)`` size of ``c_l`` ∩ ``c_r``;
    ``@union(c)`` size of the union (lists are distinct); ``@jacbelow(c, n, d)`` Jaccard of
    ``c`` below n/d, in integers and with one intersection:
    ``(d + n) * inter < n * (size_l + size_r)``; ``@km`` the great-circle distance in km;
    ``@ratio(c, n, d)`` least/greatest of ``c`` at least n/d, in doubles.
    """
    fn = _DIALECT_FUNCTIONS[dialect]

    def size(col: str) -> str:
        return fn["size"].format(col)

    def inter(col: str) -> str:
        return fn["inter"].format(f"{col}_l", f"{col}_r")

    def union(col: str) -> str:
        return f"({size(col + '_l')} + {size(col + '_r')} - {inter(col)})"

    out = re.sub(
        r"@jacbelow\((\w+),\s*(\d+),\s*(\d+)\)",
        lambda m: f"({int(m[3]) + int(m[2])} * {inter(m[1])} < {m[2]} * ({size(m[1] + '_l')} + {size(m[1] + '_r')}))",
        template,
    )
    out = re.sub(
        r"@ratio\((\w+),\s*(\d+),\s*(\d+)\)",
        lambda m: (
            f"(cast(least({m[1]}_l, {m[1]}_r) as double) * {m[3]}"
            f" >= {m[2]} * cast(greatest({m[1]}_l, {m[1]}_r) as double))"
        ),
        out,
    )
    out = re.sub(r"@inter\((\w+)\)", lambda m: inter(m[1]), out)
    out = re.sub(r"@union\((\w+)\)", lambda m: union(m[1]), out)
    out = re.sub(r"@size\((\w+)\)", lambda m: size(m[1]), out)
    return out.replace("@km", _haversine_sql())


# --------------------------------------------------------------------------------------
# Python facts: what each signal measures on a pair (also used to word the reasons)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = math.radians
    h = math.sin(r(lat2 - lat1) / 2) ** 2 + math.cos(r(lat1)) * math.cos(r(lat2)) * math.sin(r(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _overlap(la: list, lb: list) -> tuple[int, int]:
    """(intersection size, union size) of two distinct lists."""
    if len(la) > len(lb):
        la, lb = lb, la
    sb = set(lb)
    n = sum(1 for x in la if x in sb)
    return n, len(la) + len(lb) - n


def _jac_below(inter: int, sizes: int, num: int, den: int) -> bool:
    """Jaccard below num/den, where ``sizes`` is the sum of the two list sizes (so the union is
    ``sizes - inter``): ``den * inter < num * (sizes - inter)``."""
    return (den + num) * inter < num * sizes


def _ratio_at_least(x: int, y: int, num: int, den: int) -> bool:
    return float(min(x, y)) * den >= num * float(max(x, y))


def token_facts(inter: int, sizes: int, langs_a: list[str], langs_b: list[str], empty: bool) -> dict:
    """The facts of a token-list signal from its intersection size and the sum of the sizes."""
    union = sizes - inter
    return {
        "empty": empty,
        "inter": inter,
        "union": union,
        "sizes": sizes,
        "jaccard": inter / union if union else 0.0,
        "langs_a": list(langs_a or []),
        "langs_b": list(langs_b or []),
    }


def _token_facts(col: str):
    def facts(a: dict, b: dict) -> dict:
        la, lb = a[col] or [], b[col] or []
        inter, _ = _overlap(la, lb)
        return token_facts(inter, len(la) + len(lb), a.get("langs"), b.get("langs"), not la or not lb)

    return facts


def _langs_facts(a: dict, b: dict) -> dict:
    la, lb = list(a.get("langs") or []), list(b.get("langs") or [])
    return {"langs_a": la, "langs_b": lb, "empty": not la or not lb, "shared": bool(set(la) & set(lb))}


def _partner_facts(a: dict, b: dict) -> dict:
    return {
        "partner_a": a["partner"],
        "partner_b": b["partner"],
        "key_a": a["partner_key"] or "",
        "key_b": b["partner_key"] or "",
    }


def _location_facts(a: dict, b: dict) -> dict:
    gps = a["lat"] is not None and a["lon"] is not None and b["lat"] is not None and b["lon"] is not None
    inter, _ = _overlap(a["areas"] or [], b["areas"] or [])
    return {
        "gps": gps,
        "km": haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]) if gps else None,
        "areas_shared": inter,
        "areas_missing": not a["areas"] or not b["areas"],
        "country_a": a["country"] or "",
        "country_b": b["country"] or "",
    }


def _value_facts(key: str):
    def facts(a: dict, b: dict) -> dict:
        return {"a": a[key], "b": b[key]}

    return facts


def _dates_facts(a: dict, b: dict) -> dict:
    if None in (a["start"], a["end"], b["start"], b["end"]):
        return {"missing": True, "overlap": 0, "shorter": 0}
    overlap = min(a["end"], b["end"]) - max(a["start"], b["start"]) + 1
    shorter = min(a["end"] - a["start"], b["end"] - b["start"]) + 1
    return {"missing": False, "overlap": overlap, "shorter": shorter}


def _quantity_facts(a: dict, b: dict) -> dict:
    qa, qb = a["quantities"] or [], b["quantities"] or []
    shared = sorted(set(qa) & set(qb))
    ca, cb = quantity_concepts(qa), quantity_concepts(qb)
    concepts = sorted(set(ca) & set(cb))
    return {"empty": not qa or not qb, "shared": shared, "concepts": concepts, "qa": list(qa), "qb": list(qb)}


# --------------------------------------------------------------------------------------
# The comparisons


@dataclass(frozen=True)
class Level:
    name: str
    when: Callable[[dict], bool]  # on the signal's facts
    sql: str  # template, see render_sql
    null: bool = False


@dataclass(frozen=True)
class Comparison:
    signal: str
    facts: Callable[[dict, dict], dict]
    levels: tuple[Level, ...]
    columns: tuple[str, ...] = field(default=())  # table columns the SQL reads

    @property
    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    @property
    def weighted_levels(self) -> list[str]:
        return [lv.name for lv in self.levels if not lv.null]

    def level_of(self, a: dict, b: dict, facts: dict | None = None) -> str:
        f = self.facts(a, b) if facts is None else facts
        for lv in self.levels:
            if lv.when(f):
                return lv.name
        raise AssertionError(f"no level of {self.signal} matched")  # the last level is ELSE

    def case_sql(self, dialect: str = "duckdb") -> str:
        """``CASE WHEN ... THEN '<level>' ... END`` over ``<column>_l`` / ``<column>_r``."""
        parts = []
        for lv in self.levels:
            if lv.sql == "ELSE":
                parts.append(f"ELSE '{lv.name}'")
            else:
                parts.append(f"WHEN {render_sql(lv.sql, dialect)} THEN '{lv.name}'")
        return "CASE " + " ".join(parts) + " END"


_NOT_EMPTY = "@size({c}_l) > 0 AND @size({c}_r) > 0"


def _jaccard_levels(col: str, bands: list[tuple[str, int, int]]) -> tuple[Level, ...]:
    """Null, then the bands from the lowest up: each level is "below the next threshold", so that
    the many dissimilar pairs are settled by the first test (one list intersection in SQL)."""
    levels = [
        Level("null", lambda f: f["empty"], f"@size({col}_l) = 0 OR @size({col}_r) = 0", null=True),
    ]
    names = ["low"] + [name for name, _, _ in bands]
    for name, (_, num, den) in zip(names, bands, strict=False):
        levels.append(
            Level(
                name,
                lambda f, num=num, den=den: _jac_below(f["inter"], f["sizes"], num, den),
                f"@jacbelow({col}, {num}, {den})",
            )
        )
    levels.append(Level(names[-1], lambda f: True, "ELSE"))
    return tuple(levels)


def _ratio_levels(col: str) -> tuple[Level, ...]:
    bands = [("ge_0_9", 9, 10), ("ge_0_7", 7, 10), ("ge_0_4", 4, 10)]
    levels = [
        Level("null", lambda f: f["a"] is None or f["b"] is None, f"{col}_l IS NULL OR {col}_r IS NULL", null=True)
    ]
    for name, num, den in bands:
        levels.append(
            Level(
                name,
                lambda f, num=num, den=den: _ratio_at_least(f["a"], f["b"], num, den),
                f"@ratio({col}, {num}, {den})",
            )
        )
    levels.append(Level("lower", lambda f: True, "ELSE"))
    return tuple(levels)


def _code_levels(col: str, key: str) -> tuple[Level, ...]:
    return (
        Level("null", lambda f: not f["a"] or not f["b"], f"{col}_l = '' OR {col}_r = ''", null=True),
        Level("same", lambda f: f["a"] == f["b"], f"{col}_l = {col}_r"),
        Level("different", lambda f: True, "ELSE"),
    )


_GPS_BOTH = "lat_l IS NOT NULL AND lon_l IS NOT NULL AND lat_r IS NOT NULL AND lon_r IS NOT NULL"

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "text",
        _token_facts("text"),
        _jaccard_levels("text_tokens", [("ge_0_15", 3, 20), ("ge_0_3", 3, 10), ("ge_0_5", 5, 10), ("ge_0_7", 7, 10)]),
        ("text_tokens", "langs"),
    ),
    Comparison(
        "title",
        _token_facts("title"),
        _jaccard_levels("title_tokens", [("ge_0_25", 1, 4), ("ge_0_5", 5, 10), ("ge_0_8", 8, 10), ("ge_0_95", 19, 20)]),
        ("title_tokens", "langs"),
    ),
    Comparison(
        "crosslang",
        _langs_facts,
        (
            Level("null", lambda f: f["empty"], "@size(langs_l) = 0 OR @size(langs_r) = 0", null=True),
            Level("across", lambda f: not f["shared"], "@inter(langs) = 0"),
            Level("shared", lambda f: True, "ELSE"),
        ),
        ("langs",),
    ),
    Comparison(
        "partner",
        _partner_facts,
        (
            Level(
                "null",
                lambda f: (f["partner_a"] is None and not f["key_a"]) or (f["partner_b"] is None and not f["key_b"]),
                "(partner_l IS NULL AND partner_key_l = '') OR (partner_r IS NULL AND partner_key_r = '')",
                null=True,
            ),
            Level(
                "same",
                lambda f: f["partner_a"] is not None and f["partner_a"] == f["partner_b"],
                "partner_l IS NOT NULL AND partner_l = partner_r",
            ),
            Level(
                "same_name",
                lambda f: f["key_a"] != "" and f["key_a"] == f["key_b"],
                "partner_key_l <> '' AND partner_key_l = partner_key_r",
            ),
            Level("different", lambda f: True, "ELSE"),
        ),
        ("partner", "partner_key"),
    ),
    Comparison(
        "location",
        _location_facts,
        (
            Level(
                "null",
                lambda f: not f["gps"] and f["areas_missing"] and (not f["country_a"] or not f["country_b"]),
                f"NOT ({_GPS_BOTH}) AND (@size(areas_l) = 0 OR @size(areas_r) = 0)"
                " AND (country_l = '' OR country_r = '')",
                null=True,
            ),
            Level("km_1", lambda f: f["gps"] and f["km"] <= 1, f"{_GPS_BOTH} AND @km <= 1"),
            Level("km_5", lambda f: f["gps"] and f["km"] <= 5, f"{_GPS_BOTH} AND @km <= 5"),
            # Sites more than 25 km apart in one country: not the same site, whatever the texts say (the same
            # template run in another village lands here). Such a pair is never more than a possible overlap.
            Level(
                "far",
                lambda f: f["gps"] and f["km"] > 25 and f["country_a"] != "" and f["country_a"] == f["country_b"],
                f"{_GPS_BOTH} AND @km > 25 AND country_l <> '' AND country_l = country_r",
            ),
            Level("area", lambda f: f["areas_shared"] > 0, "@inter(areas) > 0"),
            # Both sides name their areas in one country and none is shared: the same template text run in another
            # village lands here. Spellings of one place that the keys do not join land here too, so it weighs less
            # than "far"; like "far", such a pair is never more than a possible overlap (the ministry still sees it).
            Level(
                "apart",
                lambda f: f["country_a"] != "" and f["country_a"] == f["country_b"] and not f["areas_missing"],
                "country_l <> '' AND country_l = country_r AND @size(areas_l) > 0 AND @size(areas_r) > 0",
            ),
            Level("km_25", lambda f: f["gps"] and f["km"] <= 25, f"{_GPS_BOTH} AND @km <= 25"),
            Level(
                "country",
                lambda f: f["country_a"] != "" and f["country_a"] == f["country_b"],
                "country_l <> '' AND country_l = country_r",
            ),
            Level("different", lambda f: True, "ELSE"),
        ),
        ("lat", "lon", "areas", "country"),
    ),
    Comparison(
        "sector",
        _value_facts("sector"),
        (
            Level("null", lambda f: not f["a"] or not f["b"], "sector_l = '' OR sector_r = ''", null=True),
            Level("same", lambda f: f["a"] == f["b"], "sector_l = sector_r"),
            Level("same_3", lambda f: f["a"][:3] == f["b"][:3], "substr(sector_l, 1, 3) = substr(sector_r, 1, 3)"),
            Level("different", lambda f: True, "ELSE"),
        ),
        ("sector",),
    ),
    Comparison("group", _value_facts("group"), _code_levels("bgroup", "group"), ("bgroup",)),
    Comparison("beneficiaries", _value_facts("beneficiaries"), _ratio_levels("beneficiaries"), ("beneficiaries",)),
    Comparison("budget", _value_facts("budget_kwd"), _ratio_levels("budget_kwd"), ("budget_kwd",)),
    Comparison(
        "dates",
        _dates_facts,
        (
            Level(
                "null",
                lambda f: f["missing"],
                "start_day_l IS NULL OR end_day_l IS NULL OR start_day_r IS NULL OR end_day_r IS NULL",
                null=True,
            ),
            Level(
                "ge_0_8",
                lambda f: 10 * f["overlap"] >= 8 * f["shorter"],
                "10 * (least(end_day_l, end_day_r) - greatest(start_day_l, start_day_r) + 1)"
                " >= 8 * (least(end_day_l - start_day_l, end_day_r - start_day_r) + 1)",
            ),
            Level(
                "ge_0_5",
                lambda f: 10 * f["overlap"] >= 5 * f["shorter"],
                "10 * (least(end_day_l, end_day_r) - greatest(start_day_l, start_day_r) + 1)"
                " >= 5 * (least(end_day_l - start_day_l, end_day_r - start_day_r) + 1)",
            ),
            Level(
                "some",
                lambda f: f["overlap"] > 0,
                "least(end_day_l, end_day_r) - greatest(start_day_l, start_day_r) + 1 > 0",
            ),
            Level("none", lambda f: True, "ELSE"),
        ),
        ("start_day", "end_day"),
    ),
    Comparison(
        "quantities",
        _quantity_facts,
        (
            Level("null", lambda f: f["empty"], "@size(quantities_l) = 0 OR @size(quantities_r) = 0", null=True),
            Level("same", lambda f: bool(f["shared"]), "@inter(quantities) > 0"),
            Level("same_item", lambda f: bool(f["concepts"]), "@inter(qconcepts) > 0"),
            Level("none", lambda f: True, "ELSE"),
        ),
        ("quantities", "qconcepts"),
    ),
)

COMPARISON_BY_SIGNAL = {c.signal: c for c in COMPARISONS}
SIGNALS = [c.signal for c in COMPARISONS]


# --------------------------------------------------------------------------------------
# Parameters


def weight_from(m: float, u: float) -> float:
    return math.log2(max(m, 1e-300) / max(u, 1e-300))


def prior_from_probability(p: float) -> float:
    return math.log2(p / (1 - p))


def probability_from_prior(prior: float) -> float:
    return 2.0**prior / (1.0 + 2.0**prior)


def probability_from_score(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + 2.0 ** (-score))
    z = 2.0**score
    return z / (1.0 + z)


@dataclass
class Params:
    """``prior``: log2 of the prior odds; ``m`` / ``u``: signal -> level -> probability."""

    prior: float
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]

    def weight(self, signal: str, level: str) -> float:
        if level == "null":
            return 0.0
        return weight_from(self.m[signal][level], self.u[signal][level])

    def weights(self) -> dict[str, dict[str, float]]:
        return {c.signal: {lv: self.weight(c.signal, lv) for lv in c.level_names} for c in COMPARISONS}

    def to_dict(self) -> dict:
        return {
            "prior": self.prior,
            "m": {s: dict(levels) for s, levels in self.m.items()},
            "u": {s: dict(levels) for s, levels in self.u.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> Params:
        """Read parameters; a signal or level the dict lacks takes ``DEFAULT_PARAMS``' value.

        Raises ``ValueError`` for a probability outside (0, 1] or a prior that is not a number.
        """
        try:
            prior = float(d["prior"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("params need a numeric 'prior'") from exc
        if not math.isfinite(prior):
            raise ValueError("the prior must be finite")
        out: dict[str, dict[str, dict[str, float]]] = {"m": {}, "u": {}}
        for kind in ("m", "u"):
            given = d.get(kind) or {}
            for c in COMPARISONS:
                out[kind][c.signal] = {}
                for level in c.weighted_levels:
                    value = (given.get(c.signal) or {}).get(level)
                    if value is None:
                        value = getattr(DEFAULT_PARAMS, kind)[c.signal][level]
                    value = float(value)
                    if not (0.0 < value <= 1.0):
                        raise ValueError(f"{kind}[{c.signal}][{level}] = {value} is not a probability")
                    out[kind][c.signal][level] = value
        return cls(prior=prior, m=out["m"], u=out["u"])


_PARAMS_FILE = Path(__file__).with_name("data") / "default_params.json"


def _load_default_params() -> Params:
    data = json.loads(_PARAMS_FILE.read_text(encoding="utf-8"))
    m = {s: {lv: float(p) for lv, p in levels.items()} for s, levels in data["m"].items()}
    u = {s: {lv: float(p) for lv, p in levels.items()} for s, levels in data["u"].items()}
    for c in COMPARISONS:
        for kind, table in (("m", m), ("u", u)):
            if set(table.get(c.signal, {})) != set(c.weighted_levels):
                raise RuntimeError(f"default_params.json: {kind} levels of {c.signal} do not match COMPARISONS")
    return Params(prior=float(data["prior"]), m=m, u=u)


#: Hand-set parameters shipped with the code; each value is explained in default_params.json.
DEFAULT_PARAMS = _load_default_params()
DEFAULT_LIKELY = 9.5
DEFAULT_POSSIBLE = 6.0


# Location levels that rule out the same site, so the same project: sites more than 25 km apart, named areas of one
# country none of which is shared, different countries. Such a pair is at most a possible overlap, whatever its score.
NOT_THE_SAME_SITE = frozenset({"far", "apart", "different"})


def level_for(score: float, *, likely: float, possible: float, levels: dict | None = None) -> str | None:
    """The level of a score by the ministry's thresholds; given the pair's levels, a pair whose sites are more than
    25 km apart, in different named areas of one country, or in different countries is never a likely duplicate."""
    if score >= likely:
        if levels and levels.get("location") in NOT_THE_SAME_SITE and score >= possible:
            return "possible"
        return "likely"
    if score >= possible:
        return "possible"
    return None


# --------------------------------------------------------------------------------------
# Reasons

_LANG_EN = {"ar": "Arabic", "en": "English", "fr": "French", "es": "Spanish", "latin": "Latin script"}
_LANG_AR = {"ar": "العربية", "en": "الإنجليزية", "fr": "الفرنسية", "es": "الإسبانية", "latin": "الحروف اللاتينية"}
_LRM = "\u200e"
_MINUS = "\u2212"


def format_weight(weight: float) -> str:
    w = round(weight, 1)
    if w == 0:
        return "0.0"
    return f"+{w:.1f}" if w > 0 else f"{_MINUS}{abs(w):.1f}"


def _num(n: int | float) -> str:
    return f"{n:,}"


def _kwd(fils: int) -> str:
    if fils < 1000:
        return f"{fils / 1000:.3f}"
    return f"{(fils + 500) // 1000:,}"


def _langs_pair(fa: dict) -> tuple[str, str] | None:
    la, lb = fa["langs_a"], fa["langs_b"]
    if not la or not lb or set(la) & set(lb):
        return None
    en = "/".join([" + ".join(_LANG_EN.get(x, x) for x in la), " + ".join(_LANG_EN.get(x, x) for x in lb)])
    ar_a = " و".join(_LANG_AR.get(x, x) for x in la)
    ar_b = " و".join(_LANG_AR.get(x, x) for x in lb)
    return en, f"{ar_a} و{ar_b}"


def _sentences(signal: str, level: str, f: dict) -> tuple[str, str] | None:
    """(English, Arabic) wording of one signal's level, without the weight; None: not said."""
    if signal in ("text", "title"):
        what_en, what_ar = ("descriptions", "الوصفين") if signal == "text" else ("titles", "العنوانين")
        if level == "null":
            one_en = "no description" if signal == "text" else "no title"
            one_ar = "لا يوجد وصف" if signal == "text" else "لا يوجد عنوان"
            return f"{one_en} on one side: not compared", f"{one_ar} لأحد المشروعين: لم تتم المقارنة"
        langs = _langs_pair(f)
        en = f"{what_en} {f['jaccard']:.2f} similar"
        ar = f"تشابه {what_ar} {f['jaccard']:.2f}"
        if langs:
            en += f" across {langs[0]}"
            ar += f" بين {langs[1]}"
        return en, ar
    if signal == "crosslang":
        if level != "across":
            return None
        langs = _langs_pair(f)
        return f"written in different languages ({langs[0]})", f"مكتوبان بلغتين مختلفتين ({langs[1]})"
    if signal == "partner":
        return {
            "null": (
                "no implementing partner on one side: not compared",
                "لا يوجد شريك منفذ لأحد المشروعين: لم تتم المقارنة",
            ),
            "same": ("same implementing partner", "الشريك المنفذ نفسه"),
            "same_name": ("implementing partners with the same name", "شريكان منفذان بالاسم نفسه"),
            "different": ("different implementing partners", "شريكان منفذان مختلفان"),
        }[level]
    if signal == "location":
        if level == "null":
            return "no location on one side: not compared", "لا يوجد موقع لأحد المشروعين: لم تتم المقارنة"
        km_en = km_ar = ""
        if f["km"] is not None:
            km = f"{f['km']:,.1f}"
            km_en, km_ar = f"sites {km} km apart", f"الموقعان على بعد {km} كم"
        if level.startswith("km_"):
            return km_en, km_ar
        if level == "area":
            en, ar = "same administrative area", "المنطقة الإدارية نفسها"
        elif level == "apart":
            en = "not the same site, different areas in one country"
            ar = "ليس الموقع نفسه، منطقتان مختلفتان في البلد نفسه"
        elif level == "far":
            en, ar = "not the same site", "ليس الموقع نفسه"
        elif level == "country":
            en, ar = f"same country {f['country_a']}", f"البلد نفسه {f['country_a']}"
        elif f["country_a"] and f["country_b"] and f["country_a"] != f["country_b"]:
            en = f"different countries {f['country_a']} vs {f['country_b']}"
            ar = f"بلدان مختلفان {f['country_a']} مقابل {f['country_b']}"
        else:
            en, ar = "different places", "مكانان مختلفان"
        if km_en and level != "different":
            en, ar = f"{en}, {km_en}", f"{ar}، {km_ar}"
        elif km_en:
            en, ar = km_en, km_ar
        return en, ar
    if signal in ("sector", "group"):
        noun_en = "sector" if signal == "sector" else "beneficiary group"
        if level == "null":
            if signal == "sector":
                return "no sector on one side: not compared", "لا يوجد قطاع لأحد المشروعين: لم تتم المقارنة"
            return (
                "no beneficiary group on one side: not compared",
                "لا توجد فئة مستفيدين لأحد المشروعين: لم تتم المقارنة",
            )
        if level == "same":
            if signal == "sector":
                return f"same sector {f['a']}", f"القطاع نفسه {f['a']}"
            return f"same beneficiary group {f['a']}", f"فئة المستفيدين نفسها {f['a']}"
        if level == "same_3":
            return f"related sectors {f['a']} and {f['b']}", f"قطاعان متقاربان {f['a']} و{f['b']}"
        if signal == "sector":
            return f"different sectors {f['a']} vs {f['b']}", f"قطاعان مختلفان {f['a']} مقابل {f['b']}"
        return (
            f"different {noun_en}s {f['a']} vs {f['b']}",
            f"فئتا مستفيدين مختلفتان {f['a']} مقابل {f['b']}",
        )
    if signal == "beneficiaries":
        if level == "null":
            return (
                "no beneficiary count on one side: not compared",
                "لا يوجد عدد مستفيدين لأحد المشروعين: لم تتم المقارنة",
            )
        a, b = _num(f["a"]), _num(f["b"])
        if f["a"] == f["b"]:
            return f"same beneficiary count {a}", f"عدد المستفيدين نفسه {a}"
        if level in ("ge_0_9", "ge_0_7"):
            return f"beneficiary counts close {a} vs {b}", f"عدد المستفيدين متقارب {a} مقابل {b}"
        return f"beneficiary counts differ {a} vs {b}", f"عدد المستفيدين مختلف {a} مقابل {b}"
    if signal == "budget":
        if level == "null":
            return "no budget on one side: not compared", "لا توجد ميزانية لأحد المشروعين: لم تتم المقارنة"
        a, b = _kwd(f["a"]), _kwd(f["b"])
        if f["a"] == f["b"]:
            return f"same budget {a} KWD", f"الميزانية نفسها {a} د.ك"
        if level in ("ge_0_9", "ge_0_7"):
            return f"budgets close {a} vs {b} KWD", f"الميزانيتان متقاربتان {a} مقابل {b} د.ك"
        return f"budgets differ {a} vs {b} KWD", f"الميزانيتان مختلفتان {a} مقابل {b} د.ك"
    if signal == "dates":
        if level == "null":
            return (
                "no planned dates on one side: not compared",
                "لا توجد تواريخ مخططة لأحد المشروعين: لم تتم المقارنة",
            )
        if level == "none":
            return "planned periods do not overlap", "الفترتان المخططتان لا تتداخلان"
        share = max(0, f["overlap"]) * 100 // f["shorter"]
        return f"planned periods overlap {share}%", f"تتداخل الفترتان المخططتان بنسبة {share}%"
    if signal == "quantities":
        if level == "null":
            return "no counted items on one side: not compared", "لا توجد كميات معدودة لأحد المشروعين: لم تتم المقارنة"
        if level == "same":
            items = ", ".join(q.replace(":", " ") for q in f["shared"][:3])
            return f"same quantities: {items}", f"الكميات نفسها: {items}"
        if level == "same_item":
            concept = f["concepts"][0]
            ca = ", ".join(q.rsplit(":", 1)[1] for q in f["qa"] if q.rsplit(":", 1)[0] == concept)
            cb = ", ".join(q.rsplit(":", 1)[1] for q in f["qb"] if q.rsplit(":", 1)[0] == concept)
            return (
                f"same items, different counts: {concept} {ca} vs {cb}",
                f"البنود نفسها بأعداد مختلفة: {concept} {ca} مقابل {cb}",
            )
        return "no counted items in common", "لا توجد كميات مشتركة"
    raise KeyError(signal)


def reason(signal: str, level: str, weight: float, facts: dict) -> dict | None:
    words = _sentences(signal, level, facts)
    if words is None:
        return None
    en, ar = words
    if level != "null":
        w = format_weight(weight)
        en, ar = f"{en} {w}", f"{ar} {_LRM}{w}"
    return {"signal": signal, "level": level, "weight": round(weight, 1), "text_en": en, "text_ar": ar}


def explain(
    a: dict, b: dict, levels: dict[str, str], weights: dict[str, float], facts: dict | None = None
) -> list[dict]:
    """The reasons for a pair whose levels and weights are known, strongest first. ``facts``
    (signal -> facts) may give some signals' facts already known (the rest are computed)."""
    facts = facts or {}
    out = []
    for c in COMPARISONS:
        w = weights[c.signal]
        if c.signal == "crosslang" and round(w, 1) == 0:
            continue  # said with the text and title reasons
        f = facts.get(c.signal)
        r = reason(c.signal, levels[c.signal], w, c.facts(a, b) if f is None else f)
        if r is not None:
            out.append(r)
    out.sort(key=_reason_order)
    return out


_SIGNAL_ORDER = {c.signal: i for i, c in enumerate(COMPARISONS)}


def _reason_order(r: dict):
    return (-abs(r["weight"]), _SIGNAL_ORDER[r["signal"]])


@dataclass
class Scored:
    score: float
    probability: float
    reasons: list[dict]
    levels: dict[str, str] = field(default_factory=dict)


def comparison_levels(a: dict, b: dict) -> dict[str, str]:
    return {c.signal: c.level_of(a, b) for c in COMPARISONS}


def compare(a: dict, b: dict, params: Params) -> Scored:
    """Score two records and say why."""
    levels: dict[str, str] = {}
    weights: dict[str, float] = {}
    reasons = []
    for c in COMPARISONS:
        facts = c.facts(a, b)
        level = c.level_of(a, b, facts)
        levels[c.signal] = level
        weights[c.signal] = w = params.weight(c.signal, level)
        if c.signal == "crosslang" and round(w, 1) == 0:
            continue
        r = reason(c.signal, level, w, facts)
        if r is not None:
            reasons.append(r)
    reasons.sort(key=_reason_order)
    score = params.prior + sum(weights.values())
    return Scored(score=score, probability=probability_from_score(score), reasons=reasons, levels=levels)


def params_summary(params: Params) -> list[dict[str, Any]]:
    """Each signal level's m, u and weight (for the settings page and the training note)."""
    rows = []
    for c in COMPARISONS:
        for level in c.weighted_levels:
            rows.append(
                {
                    "signal": c.signal,
                    "level": level,
                    "m": params.m[c.signal][level],
                    "u": params.u[c.signal][level],
                    "weight": params.weight(c.signal, level),
                }
            )
    return rows
