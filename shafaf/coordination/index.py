"""Candidate retrieval: the in-memory index that finds, for one project, the few other projects worth scoring.

    index = CandidateIndex.build(records)      # records from shafaf.coordination.record.build_record
    index.add(record); index.remove(record_id)
    index.candidates(record, limit=200)        # ids, best first, never the record itself

Blocking keys (``blocking_keys``) are the one definition of "these two projects might be the same", used here and
by the batch scan's blocking. ``C`` is the country (``-`` when unknown), ``S`` the 3-digit sector (``-``):

* ``p:C:<partner id>`` and ``pk:C:<partner key>``: the implementing partner, by organisation and by the
  script-independent key of its name (a re-transliterated name keeps its key);
* ``t:C:<token>`` for each text token (concept, consonant skeleton or number of title + description). Only the
  rare ones carry information: the index stores, for each project, its ``TEXT_KEYS`` rarest tokens (by the number
  of projects, in any country, whose text has the token, counted when the project is stored) and looks a query up
  by all of its tokens; the batch does the same with ``select_keys`` and its corpus's counts;
* ``a:C:<area key>`` for each administrative area;
* ``g:C:<i>:<j>`` for the project's GPS grid cell (``floor(lat * 20)``, ``floor(lon * 20)``: 0.05°, 4.5-5.5 km)
  and its eight neighbours: two sites up to 3 km apart always share at least four cells;
* ``q:C:<concept>:<count>`` for each counted thing ("10 wells");
* ``s:C:<sector>``: the 5-digit sector (``-`` unknown), the key of last resort of a project that says little;
* ``b0``/``b1`` budget, ``d0``/``d1`` planned start, ``n0``/``n1`` beneficiaries, each with the 3-digit sector
  (``b0:C:S:<bucket>``), and ``x<i><j>:C:S:<budget bucket>:<start bucket>`` both together. A value ``v`` (log of the
  budget in fils, start day, log of the count) falls in bucket ``floor(v / w)`` on grid 0 and
  ``floor(v / w + 0.5)`` on grid 1; two values less than ``w / 2`` apart share the bucket of at least one grid.
  ``w`` is set so that a budget changed by 15 % either way (``BUDGET_WIDTH``), a start moved by six months
  (``START_WIDTH``) and a beneficiary count changed by 20 % (``BENEFICIARY_WIDTH``) stay within ``w / 2``.

Ranking: each key shared with the query adds its inverse document frequency ``log((N + 1) / (df + 0.5))``
(``df`` is the key's posting count; for a text key at least the token's document frequency over all countries).
Keys are read rarest first; a key found in more than ``STOP_FRACTION`` of the projects (at least ``STOP_MIN``) is a
stop key and skipped, and reading stops after ``MAX_READ`` postings, but the rarest key of a project is always read
(its newest ``MAX_READ`` postings when it is itself a stop key), so that a project that says almost nothing (only a
country and a sector) still gets the latest projects like it. Ties go to the newest project.

Storage: records are kept in numpy columns (scalars), CSR arrays of interned string ids (token lists) and rebuilt
into the record's dict by ``get``; postings are a CSR over sorted int64 key codes (a text key's code is its country
and token ids, the other keys are interned), plus a small delta of dict lists for projects added after ``build``,
merged back when it grows (``compact``). A removed project's slot is masked, a re-added project gets a new slot.
"""

from __future__ import annotations

import math
import sys
import zlib
from collections.abc import Iterable

import numpy as np

from .record import RECORD_KEYS

TEXT_KEYS = 32  # rarest text tokens stored per project
STOP_FRACTION = 0.02  # a key found in more than this share of the projects is skipped at query time ...
STOP_MIN = 5_000  # ... when it is also found in more than this many
MAX_READ = 300_000  # postings read per query at most
GRID = 20  # GPS cells per degree (0.05°)
BUDGET_WIDTH = 0.7  # bucket width of log(budget): a ratio of 2.01; ±15 % (1.35) < w/2
START_WIDTH = 400  # bucket width of the start, in days: ±183 days < w/2
BENEFICIARY_WIDTH = 0.9  # bucket width of log(beneficiaries): a ratio of 2.46; ±20 % (1.5) < w/2
COMPACT_MIN = 1_000_000  # delta postings merged into the CSR once past this many (or a quarter of the CSR)

_NONE = np.iinfo(np.int64).min
_FIELDS = RECORD_KEYS
_FIELD_SET = frozenset(_FIELDS)
_INT_FIELDS = ("charity", "partner", "beneficiaries", "budget_kwd", "start", "end")
_STR_FIELDS = ("status", "partner_key", "country", "sector", "group")
_LIST_FIELDS = ("text", "title", "quantities", "areas")
_TUPLE_FIELDS = ("langs", "notes")


def _str(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _strings(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [_str(item) for item in value]


def _int_or_none(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _buckets(value: float, width: float) -> tuple[int, int]:
    return math.floor(value / width), math.floor(value / width + 0.5)


def _parts(record: dict, text: bool = True) -> tuple[str, list[str], list[str]]:
    """(country part, text tokens (when ``text``), the keys other than text keys) of a record."""
    country = _str(record.get("country")) or "-"
    sector = _str(record.get("sector"))
    s3 = sector[:3] or "-"
    keys: list[str] = [f"s:{country}:{sector or '-'}"]
    partner = _int_or_none(record.get("partner"))
    if partner is not None:
        keys.append(f"p:{country}:{partner}")
    partner_key = _str(record.get("partner_key"))
    if partner_key:
        keys.append(f"pk:{country}:{partner_key}")
    keys.extend(f"a:{country}:{area}" for area in _strings(record.get("areas")) if area)
    keys.extend(f"q:{country}:{quantity}" for quantity in _strings(record.get("quantities")) if quantity)
    lat, lon = _float_or_none(record.get("lat")), _float_or_none(record.get("lon"))
    if lat is not None and lon is not None:
        i, j = math.floor(lat * GRID), math.floor(lon * GRID)
        keys.extend(f"g:{country}:{i + di}:{j + dj}" for di in (-1, 0, 1) for dj in (-1, 0, 1))
    budget = _int_or_none(record.get("budget_kwd"))
    budget_buckets = _buckets(math.log(budget), BUDGET_WIDTH) if budget and budget > 0 else None
    start = _int_or_none(record.get("start"))
    start_buckets = _buckets(start, START_WIDTH) if start is not None else None
    beneficiaries = _int_or_none(record.get("beneficiaries"))
    if budget_buckets:
        keys.extend(f"b{grid}:{country}:{s3}:{bucket}" for grid, bucket in enumerate(budget_buckets))
    if start_buckets:
        keys.extend(f"d{grid}:{country}:{s3}:{bucket}" for grid, bucket in enumerate(start_buckets))
    if budget_buckets and start_buckets:
        keys.extend(
            f"x{i}{j}:{country}:{s3}:{budget_bucket}:{start_bucket}"
            for i, budget_bucket in enumerate(budget_buckets)
            for j, start_bucket in enumerate(start_buckets)
        )
    if beneficiaries and beneficiaries > 0:
        buckets = _buckets(math.log(beneficiaries), BENEFICIARY_WIDTH)
        keys.extend(f"n{grid}:{country}:{s3}:{bucket}" for grid, bucket in enumerate(buckets))
    if not text:
        return country, [], keys
    return country, [token for token in _strings(record.get("text")) if token], keys


def _key_code(key: str) -> int:
    """A stable 63-bit code of a non-text key (two CRC-32s; bit 62 set: text key codes are below 2**52)."""
    data = key.encode()
    return (1 << 62) | (zlib.crc32(data, 0x5BD1E995) & 0x3FFFFFFF) << 32 | zlib.crc32(data)


def blocking_keys(record: dict) -> set[str]:
    """All the blocking keys of a record (see the module's docstring); the same record always gives the same keys.
    Text keys (``t:``) are all there: ``select_keys`` keeps the rare ones."""
    country, tokens, keys = _parts(record)
    return set(keys) | {f"t:{country}:{token}" for token in tokens}


def select_keys(keys: Iterable[str], doc_freq, *, text_keys: int = TEXT_KEYS) -> set[str]:
    """The keys a project is indexed by: its other keys and its ``text_keys`` rarest text keys, rarity being
    ``doc_freq(key)`` (the number of projects with that key; a mapping's ``get`` or any callable), ties broken by
    the key itself. The batch's blocking uses this with frequencies counted over the corpus, and skips keys whose
    block would hold more than ``STOP_FRACTION`` of the projects, as the online index does."""
    frequency = doc_freq.get if hasattr(doc_freq, "get") else doc_freq
    other, text = set(), []
    for key in keys:
        if key.startswith("t:"):
            text.append(key)
        else:
            other.add(key)
    if len(text) > text_keys:
        text.sort(key=lambda key: (frequency(key) or 0, key))
        text = text[:text_keys]
    return other | set(text)


class _Grow:
    """A numpy array that grows by doubling (by an eighth once large: a built index grows little)."""

    __slots__ = ("a", "n")

    def __init__(self, dtype, capacity: int = 1024):
        self.a = np.empty(max(capacity, 16), dtype=dtype)
        self.n = 0

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self.a):
            size = len(self.a)
            bigger = np.empty(max(need, 2 * size if size < 1 << 20 else size + size // 8), dtype=self.a.dtype)
            bigger[: self.n] = self.a[: self.n]
            self.a = bigger

    def append(self, value) -> None:
        if self.n >= len(self.a):
            self._reserve(1)
        self.a[self.n] = value
        self.n += 1

    def extend(self, values) -> None:
        count = len(values)
        if count:
            self._reserve(count)
            self.a[self.n : self.n + count] = values
            self.n += count

    def view(self) -> np.ndarray:
        return self.a[: self.n]

    def trim(self) -> None:
        self.a = self.a[: self.n].copy()

    @property
    def nbytes(self) -> int:
        return self.a.nbytes


class _Lists:
    """A list of int32 lists (CSR)."""

    __slots__ = ("offsets", "values")

    def __init__(self):
        self.values = _Grow(np.int32)
        self.offsets = _Grow(np.int64)
        self.offsets.append(0)

    def append(self, values: list[int]) -> None:
        self.values.extend(values)
        self.offsets.append(self.values.n)

    def get(self, row: int) -> np.ndarray:
        offsets = self.offsets.a
        return self.values.a[offsets[row] : offsets[row + 1]]

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.offsets.nbytes


class CandidateIndex:
    """Projects held in memory for candidate retrieval (see the module's docstring)."""

    def __init__(self):
        # interned strings (tokens, areas, quantities, partner keys, countries, sectors ...)
        self._strings: list[str] = []
        self._string_ids: dict[str, int] = {}
        self._token_df = _Grow(np.int32)  # per string id: projects whose text has it
        self._tuples: list[tuple[str, ...]] = []
        self._tuple_ids: dict[tuple[str, ...], int] = {}
        self._countries: dict[str, int] = {}  # country part of the text keys -> small id
        # records, one row (slot) each
        self._ids = _Grow(np.int64)
        self._alive = _Grow(np.bool_)
        self._ints = {name: _Grow(np.int64) for name in _INT_FIELDS}
        self._strs = {name: _Grow(np.int32) for name in _STR_FIELDS}
        self._tups = {name: _Grow(np.int32) for name in _TUPLE_FIELDS}
        self._lat = _Grow(np.float64)
        self._lon = _Grow(np.float64)
        self._lists = {name: _Lists() for name in _LIST_FIELDS}
        self._refs: list[str] = []
        self._extra: dict[int, dict] = {}  # slot -> the record itself, when it does not fit the columns
        self._count = 0
        # id -> slot: sorted arrays for the built part, a dict for later adds
        self._base_ids = np.empty(0, dtype=np.int64)
        self._base_slots = np.empty(0, dtype=np.int32)
        self._late: dict[int, int] = {}
        # postings: sorted codes, CSR offsets and slots; later adds in a dict of lists
        self._codes = np.empty(0, dtype=np.int64)
        self._offsets = np.zeros(1, dtype=np.int64)
        self._postings = np.empty(0, dtype=np.int32)
        self._delta: dict[int, list[int]] = {}
        self._delta_count = 0

    # ------------------------------------------------------------------ interning

    def _sid(self, value: str) -> int:
        sid = self._string_ids.get(value)
        if sid is None:
            sid = len(self._strings)
            self._strings.append(value)
            self._string_ids[value] = sid
            self._token_df.append(0)
        return sid

    def _tid(self, values) -> int:
        values = tuple(values)
        tid = self._tuple_ids.get(values)
        if tid is None:
            tid = len(self._tuples)
            self._tuples.append(values)
            self._tuple_ids[values] = tid
        return tid

    def _country_code(self, country: str, create: bool) -> int | None:
        code = self._countries.get(country)
        if code is None and create:
            code = len(self._countries) + 1
            self._countries[country] = code
        return code

    # ------------------------------------------------------------------ records

    def _sids(self, values) -> list[int]:
        ids = self._string_ids
        out = list(map(ids.get, values))
        if None in out:
            out = [ids[value] if value in ids else self._sid(value) for value in values]
        return out

    def _store(self, record: dict) -> tuple[int, np.ndarray, list[int]]:
        """Store a record in a new slot; (slot, its text token ids, its non-text key codes)."""
        slot = self._ids.n
        rid = int(record["id"])
        fits = len(record) == len(_FIELDS) and _FIELD_SET.issuperset(record)
        ints = []
        for name in _INT_FIELDS:
            value = record.get(name)
            if value is None:
                ints.append(_NONE)
            elif type(value) is int and _NONE < value < 2**63:
                ints.append(value)
            else:
                fits = False
                number = _int_or_none(value)
                ints.append(_NONE if number is None or not _NONE < number < 2**63 else number)
        coords = []
        for name in ("lat", "lon"):
            value = record.get(name)
            if value is None:
                coords.append(math.nan)
            elif type(value) is float and math.isfinite(value):
                coords.append(value)
            else:
                fits = False
                number = _float_or_none(value)
                coords.append(math.nan if number is None else number)
        strs = []
        for name in _STR_FIELDS:
            value = record.get(name, "")
            if type(value) is not str:
                fits, value = False, _str(value)
            strs.append(self._sid(value))
        lists = []
        for name in _LIST_FIELDS:
            value = record.get(name) or []
            if type(value) is not list:
                fits, value = False, _strings(value)
            try:
                lists.append(self._sids(value))
            except TypeError:
                fits = False
                lists.append(self._sids(_strings(value)))
        tuples = []
        for name in _TUPLE_FIELDS:
            value = record.get(name) or []
            if type(value) is not list:
                fits = False
            try:
                tuples.append(self._tid(value))
            except TypeError:
                fits = False
                tuples.append(self._tid(_strings(value)))
        ref = record.get("ref", "")
        if type(ref) is not str:
            fits, ref = False, _str(ref)
        country, _tokens, keys = _parts(record, text=False)
        # the row
        self._ids.append(rid)
        self._alive.append(True)
        for name, value in zip(_INT_FIELDS, ints, strict=True):
            self._ints[name].append(value)
        for name, value in zip(_STR_FIELDS, strs, strict=True):
            self._strs[name].append(value)
        for name, value in zip(_TUPLE_FIELDS, tuples, strict=True):
            self._tups[name].append(value)
        self._lat.append(coords[0])
        self._lon.append(coords[1])
        for name, value in zip(_LIST_FIELDS, lists, strict=True):
            self._lists[name].append(value)
        self._refs.append(ref)
        if not fits:
            self._extra[slot] = dict(record)
        # text df and keys
        text = np.asarray(lists[0], dtype=np.int32)
        self._token_df.a[text] += 1  # a token written twice counts once
        self._country_code(country, create=True)
        codes = list(map(_key_code, dict.fromkeys(keys)))
        self._count += 1
        return slot, text, codes

    def _text_codes(self, slot: int, text: np.ndarray) -> np.ndarray:
        """Codes of the ``TEXT_KEYS`` rarest text tokens of a slot (by document frequency, then token id)."""
        if len(text) > TEXT_KEYS:
            order = np.lexsort((text, self._token_df.a[text]))
            text = text[order[:TEXT_KEYS]]
        country = self._countries[self._country_part(slot)]
        return (np.int64(country) << 32) | text.astype(np.int64)

    def _country_part(self, slot: int) -> str:
        return self._strings[self._strs["country"].a[slot]] or "-"

    def _slot(self, rid) -> int | None:
        rid = _int_or_none(rid)
        if rid is None:
            return None
        slot = self._late.get(rid)
        if slot is not None:
            return slot
        position = int(np.searchsorted(self._base_ids, rid))
        if position < len(self._base_ids) and self._base_ids[position] == rid:
            slot = int(self._base_slots[position])
            if self._alive.a[slot]:
                return slot
        return None

    def __len__(self) -> int:
        return self._count

    def __contains__(self, rid) -> bool:
        return self._slot(rid) is not None

    def get(self, rid) -> dict:
        """The record stored under ``rid``, as it was added; ``KeyError`` if there is none."""
        slot = self._slot(rid)
        if slot is None:
            raise KeyError(rid)
        if slot in self._extra:
            return dict(self._extra[slot])
        strings = self._strings
        record: dict = {"id": int(self._ids.a[slot]), "ref": self._refs[slot]}
        for name in _INT_FIELDS:
            value = int(self._ints[name].a[slot])
            record[name] = None if value == _NONE else value
        for name in _STR_FIELDS:
            record[name] = strings[self._strs[name].a[slot]]
        lat, lon = float(self._lat.a[slot]), float(self._lon.a[slot])
        record["lat"] = None if math.isnan(lat) else lat
        record["lon"] = None if math.isnan(lon) else lon
        for name in _LIST_FIELDS:
            record[name] = [strings[sid] for sid in self._lists[name].get(slot).tolist()]
        for name in _TUPLE_FIELDS:
            record[name] = list(self._tuples[self._tups[name].a[slot]])
        return {name: record[name] for name in _FIELDS}

    def add(self, record: dict) -> None:
        """Add a record, replacing the one with the same id."""
        rid = int(record["id"])
        if rid in self:
            self.remove(rid)
        slot, text, codes = self._store(record)
        self._late[rid] = slot
        all_codes = np.concatenate([np.asarray(codes, dtype=np.int64), self._text_codes(slot, text)])
        for code in all_codes.tolist():
            self._delta.setdefault(code, []).append(slot)
        self._delta_count += len(all_codes)
        if self._delta_count > max(COMPACT_MIN, len(self._postings) // 4):
            self.compact()

    def remove(self, rid) -> None:
        """Remove the record with this id (nothing happens when there is none)."""
        slot = self._slot(rid)
        if slot is None:
            return
        self._alive.a[slot] = False
        self._late.pop(int(rid), None)
        self._extra.pop(slot, None)
        self._count -= 1
        text = np.unique(self._lists["text"].get(slot))
        self._token_df.a[text] -= 1

    # ------------------------------------------------------------------ bulk build

    @classmethod
    def build(cls, records: Iterable[dict]) -> CandidateIndex:
        """An index of these records (a later record replaces an earlier one with the same id)."""
        index = cls()
        key_codes = _Grow(np.int64, 1 << 20)
        key_slots = _Grow(np.int32, 1 << 20)
        for record in records:
            slot, _text, codes = index._store(record)
            key_codes.extend(codes)
            key_slots.extend(np.full(len(codes), slot, dtype=np.int32))
        count = index._ids.n
        ids = index._ids.view()
        # duplicates: the last one wins
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        last = np.ones(count, dtype=bool)
        if count:
            last[:-1] = sorted_ids[:-1] != sorted_ids[1:]
        dead = order[~last]
        if len(dead):
            for slot in dead.tolist():
                index._alive.a[slot] = False
                index._extra.pop(slot, None)
                index._token_df.a[np.unique(index._lists["text"].get(slot))] -= 1
            index._count -= len(dead)
        index._base_ids = sorted_ids[last].copy()
        index._base_slots = order[last].astype(np.int32)
        # text keys: the rarest tokens of each live record
        text = index._lists["text"]
        offsets = text.offsets.view()
        values = text.values.view()
        alive = index._alive.view()
        country_sids = index._strs["country"].view()
        country_of = np.zeros(len(index._strings), dtype=np.int64)
        for sid in np.unique(country_sids).tolist():
            country_of[sid] = index._countries[index._strings[sid] or "-"]
        countries = country_of[country_sids]
        for slot in np.flatnonzero(alive).tolist():
            tokens = values[offsets[slot] : offsets[slot + 1]]
            if len(tokens) > TEXT_KEYS:
                tokens = np.unique(tokens)
                if len(tokens) > TEXT_KEYS:
                    tokens = tokens[np.lexsort((tokens, index._token_df.a[tokens]))[:TEXT_KEYS]]
            elif len(tokens) > 1:
                tokens = np.unique(tokens)
            key_codes.extend((countries[slot] << 32) | tokens.astype(np.int64))
            key_slots.extend(np.full(len(tokens), slot, dtype=np.int32))
        pair = [key_codes.view(), key_slots.view()]
        del key_codes, key_slots
        if len(dead):
            keep = alive[pair[1]]
            pair = [pair[0][keep], pair[1][keep]]
        index._set_postings(pair)
        for name in (*_INT_FIELDS, *_STR_FIELDS, *_TUPLE_FIELDS):
            group = index._ints if name in index._ints else index._strs if name in index._strs else index._tups
            group[name].trim()
        for grow in (index._ids, index._alive, index._lat, index._lon, index._token_df):
            grow.trim()
        for lists in index._lists.values():
            lists.values.trim()
            lists.offsets.trim()
        return index

    def _set_postings(self, pair: list[np.ndarray]) -> None:
        """Sets the CSR from ``pair`` = [codes, slots] (emptied: the arrays are freed as soon as they are sorted)."""
        slots = pair.pop()
        codes = pair.pop()
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        slots = slots[order]
        del order
        self._postings = slots if slots.dtype == np.int32 else slots.astype(np.int32)
        del slots
        if len(codes):
            starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
        else:
            starts = np.empty(0, dtype=np.int64)
        self._codes = codes[starts].copy()
        self._offsets = np.append(starts, len(codes)).astype(np.int64)
        self._delta, self._delta_count = {}, 0

    def compact(self) -> None:
        """Merge the postings of records added since the build into the CSR and drop removed records' postings."""
        lengths = np.diff(self._offsets)
        codes = [np.repeat(self._codes, lengths)]
        slots = [self._postings]
        if self._delta:
            delta_lengths = [len(value) for value in self._delta.values()]
            codes.append(np.repeat(np.fromiter(self._delta.keys(), np.int64, len(self._delta)), delta_lengths))
            slots.append(
                np.fromiter((s for value in self._delta.values() for s in value), np.int32, sum(delta_lengths))
            )
        codes, slots = np.concatenate(codes), np.concatenate(slots)
        keep = self._alive.view()[slots]
        pair = [codes[keep], slots[keep]]
        del codes, slots, keep
        self._set_postings(pair)

    # ------------------------------------------------------------------ queries

    def _query(self, record: dict) -> tuple[np.ndarray, np.ndarray]:
        """(key codes, document frequency floor) of a record's keys known to the index."""
        country, tokens, keys = _parts(record)
        codes = list(map(_key_code, dict.fromkeys(keys)))
        floors = [0] * len(codes)
        country_code = self._countries.get(country)
        if country_code is not None and tokens:
            sids = [sid for sid in (self._string_ids.get(token) for token in tokens) if sid is not None]
            if sids:
                sids = np.unique(np.asarray(sids, dtype=np.int64))
                codes = np.concatenate([np.asarray(codes, dtype=np.int64), (np.int64(country_code) << 32) | sids])
                floors = np.concatenate([np.asarray(floors, dtype=np.int64), self._token_df.a[sids]])
        return np.asarray(codes, dtype=np.int64), np.asarray(floors, dtype=np.int64)

    def candidates(self, record: dict, *, limit: int = 200) -> list[int]:
        """Ids of the records most likely to be the same project as ``record``, best first, never its own id."""
        if limit <= 0 or not self._count:
            return []
        codes, floors = self._query(record)
        if not len(codes):
            return []
        position = np.searchsorted(self._codes, codes)
        position = np.minimum(position, max(len(self._codes) - 1, 0))
        if len(self._codes):
            found = self._codes[position] == codes
            starts = np.where(found, self._offsets[position], 0)
            lengths = np.where(found, self._offsets[position + 1] - starts, 0)
        else:
            starts = lengths = np.zeros(len(codes), dtype=np.int64)
        if self._delta:
            delta = [self._delta.get(code) for code in codes.tolist()]
            delta_lengths = np.fromiter((len(d) if d else 0 for d in delta), np.int64, len(delta))
        else:
            delta, delta_lengths = None, np.zeros(len(codes), dtype=np.int64)
        totals = lengths + delta_lengths
        present = np.flatnonzero(totals)
        if not len(present):
            return []
        order = present[np.argsort(totals[present], kind="stable")]
        stop = max(STOP_MIN, STOP_FRACTION * self._count)
        read = np.cumsum(totals[order])
        chosen = order[(read <= MAX_READ) & (totals[order] <= stop)]
        if not len(chosen) or chosen[0] != order[0]:
            chosen = np.concatenate([[order[0]], chosen])
        weights = np.log((self._count + 1) / (np.maximum(totals, floors) + 0.5))
        parts, part_lengths = [], []
        for key in chosen.tolist():
            length = 0
            if delta is not None and delta[key]:
                parts.append(np.asarray(delta[key], dtype=np.int32))
                length += len(delta[key])
            if lengths[key]:
                start, count = int(starts[key]), int(lengths[key])
                if count > MAX_READ:
                    start, count = start + count - MAX_READ, MAX_READ
                parts.append(self._postings[start : start + count])
                length += count
            part_lengths.append(length)
        slots = np.concatenate(parts)
        key_weights = np.repeat(weights[chosen], part_lengths)
        scores = np.bincount(slots, weights=key_weights)
        hits = np.flatnonzero(scores)
        hits = hits[self._alive.a[hits]]
        own = _int_or_none(record.get("id"))
        if own is not None:
            hits = hits[self._ids.a[hits] != own]
        if len(hits) > limit:
            top = np.argpartition(-scores[hits], limit - 1)[:limit]
            boundary = scores[hits[top]].min()
            hits = hits[scores[hits] >= boundary]
        ranked = hits[np.lexsort((-hits, -scores[hits]))][:limit]
        return self._ids.a[ranked].tolist()

    def memory_bytes(self) -> int:
        """An estimate of the memory the index holds (arrays, interned strings, dicts)."""
        total = sum(
            grow.nbytes for grow in (self._ids, self._alive, self._lat, self._lon, self._token_df, *self._ints.values())
        )
        total += sum(grow.nbytes for grow in (*self._strs.values(), *self._tups.values()))
        total += sum(lists.nbytes for lists in self._lists.values())
        total += self._codes.nbytes + self._offsets.nbytes + self._postings.nbytes
        total += self._base_ids.nbytes + self._base_slots.nbytes
        total += sys.getsizeof(self._strings) + sys.getsizeof(self._string_ids)
        total += sum(sys.getsizeof(value) for value in self._strings)
        total += sys.getsizeof(self._refs) + sum(sys.getsizeof(ref) for ref in self._refs)
        total += sys.getsizeof(self._late) + 64 * len(self._late)
        total += sys.getsizeof(self._delta) + sum(sys.getsizeof(v) + 36 * len(v) for v in self._delta.values())
        total += sum(sys.getsizeof(value) * 8 for value in self._extra.values())
        return int(total)
