"""An in-memory index of listed names and the scorer that screens a name against it.

    index = NameIndex()
    index.add("QDi.243", "UN", names=[("Usama bin Laden", "alias", "Good")], entity_type="individual",
              dates_of_birth=["1957"], countries=["Saudi Arabia"])
    result = index.screen("أسامة بن لادن")
    result.alert, result.matches[0].score, result.matches[0].explanation

How a name is scored against a listed name (both split into terms by ``names.analyze``):

1. Terms are aligned without regard to order. Two terms agree when they are spelled the same after
   normalisation (exact), share a transliteration key (Mohammed / محمد), or their keys or spellings differ by a
   small edit (a typo: the best of the edit similarity and Jaro-Winkler on the spelling, and the edit similarity
   on the keys). A term may also agree with two adjacent terms written as one word ("Nuruddin" / "Nour al-Din").
   Candidates are found by key and by spelling, each with its one-deletion variants, so that a one-letter slip
   ("Luien" for "Lucien") still finds the name.
2. Each term weighs its rarity in the index (inverse document frequency), so that Mohammed, Ali or Hassan weigh
   little; particles (bin, abu) and generic organisation words weigh almost nothing.
3. The score mixes the share of the screened name that was matched (0.6) with the share of the listed name
   (0.4): a missing middle name costs little, a single shared common name costs a lot. When the screened name
   matched in full on rare parts, the listed name's share weighs less (down to 0.25).
4. A name that matches only on common terms (little information) alerts only when a second attribute agrees:
   the year of birth or a country; an organisation's whole name matched in full is not a common name. A year of
   birth given with the name adds 0.03 to the score when it agrees with the list; when the list gives years of
   birth and none is within one year of it, the listed person is someone else: the match is reported but does
   not alert ("date of birth 1962 differs from the list (1978)").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA, Indel, JaroWinkler

from .generic import CONCEPT_LABELS_AR, PLACE_LABELS_AR
from .names import LATIN_ABD, Term, analyze, analyze_tokens, check_tokens, pair_keys
from .translit import arabic_latin_vowels_conflict, arabic_shape, latin_shape, latin_vowels_conflict

ALERT_THRESHOLD = 0.82
REPORT_THRESHOLD = 0.6
QUERY_SHARE = 0.6
QUERY_SHARE_MAX = 0.75  # the query's share weight when its matched parts are rare (see ``_mix``)
RARE_SPAN = 0.5
WHOLE_NAME_SHARE = 0.8  # both names matched at least this far: an organisation's whole name (see ``_score``)
PARTICLE_WEIGHT = 0.3
ABD_WEIGHT = 0.5
ABD_TYPO_SIMILARITY = 0.8
YEAR_WEIGHT = 0.03  # added to the score of a name whose year of birth agrees
GENERIC_WEIGHT = 0.6
MIN_WEIGHT = 0.5
COMMON_DF = 15  # a name whose matched terms are, together, as frequent as a term found in 15 listed names is common
MAX_MATCHES = 10
MAX_CANDIDATES = 120
VOWEL_RELAXED = 0.9  # an Arabic and a Latin term whose vowels disagree, in a name whose other parts agree
VOWEL_SUPPORT = 2  # other name parts that must agree in full for such a term to count (see ``_align``)
VOWEL_SUPPORT_DF = 100  # ... and that are no common names: found in fewer listed names than this (Ali, Ahmed are not)
CANDIDATE_YEAR_BONUS = 0.1  # ranking of candidates only: an agreeing year of birth (see ``_attribute_bonus``)
CANDIDATE_COUNTRY_BONUS = 0.05

_KIND_EN = {
    "primary": "name",
    "alias": "alias",
    "original_script": "original-script name",
    "former": "former name",
}
_KIND_AR = {
    "primary": "الاسم",
    "alias": "الاسم المستعار",
    "original_script": "الاسم بالحرف الأصلي",
    "former": "الاسم السابق",
}


@dataclass(frozen=True)
class Match:
    list_name: str
    entry_id: str
    name: str  # the listed name that matched
    name_kind: str
    score: float  # 0..1
    alert: bool
    explanation: str
    explanation_ar: str
    entity_type: str = ""
    details: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ScreenResult:
    query: str
    alert: bool
    matches: tuple[Match, ...]

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


@dataclass(slots=True)
class _Entry:
    list_name: str
    entry_id: str
    entity_type: str
    years: frozenset[str]
    countries: frozenset[str]
    country_labels: dict


@dataclass(slots=True)
class _Name:
    entry: int
    text: str
    kind: str
    quality: str
    terms: tuple[Term, ...]
    term_ids: tuple[int, ...] = ()
    number: int = -1
    weights: tuple[float, ...] = ()
    information: tuple[float, ...] = ()
    pairs: tuple[tuple[str, ...], ...] = ()
    total: float = 0.0
    generic_weight: float = 0.0
    all_generic: bool = False


def _is_person(entity_type) -> bool:
    return entity_type == "individual"


def normalize_country(value: str) -> str:
    text = unicodedata.normalize("NFKD", (value or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9\u0600-\u06ff]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


def _year_of(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "year"):
        return f"{value.year:04d}"
    match = re.match(r"\s*(\d{4})", str(value))
    return match.group(1) if match else ""


def _year_near(year: str, years: Iterable[str]) -> bool:
    """Whether a year of birth is within one year of one of the listed years."""
    try:
        value = int(year)
    except ValueError:
        return True
    for listed in years:
        try:
            if abs(int(listed) - value) <= 1:
                return True
        except ValueError:
            continue
    return False


_PARENTHESIS = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<inside>[^()]+)\)\s*$")


def _name_forms(text: str) -> list[str]:
    """A listed name, and, when it ends with a parenthesis ("HAQQANI NETWORK (HQN)", "... OFFICE (BRANCH LOCATED
    IN ...)"), the name without it; a name of two names joined by " / ", each of them."""
    forms = [text]
    match = _PARENTHESIS.match(text.strip())
    if match:
        forms.append(match.group("name"))
    if " / " in text:
        # two names given as one ("AL-ITIHAAD AL-ISLAMIYA / AIAI"): each is also a name of its own
        forms.extend(part.strip() for part in text.split(" / ") if part.strip())
    return forms


def _script_parts(terms: tuple[Term, ...]) -> list[tuple[Term, ...]]:
    """The Latin and the Arabic terms of a name written in both scripts, each of two name parts or more."""
    parts = []
    for script in ("latin", "arabic"):
        part = tuple(t for t in terms if t.script == script)
        if len(part) < len(terms) and sum(1 for t in part if t.role == "name") >= 2:
            parts.append(part)
    return parts if len(parts) == 2 else []


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def _plain(key: str) -> bool:
    return not key.startswith(("#", "~"))


def _spelling_similarity(a: str, b: str) -> float:
    """Similarity of two spellings in one script: the normalised edit similarity, and, for spellings one or two
    edits apart, Jaro-Winkler (less 0.05), which treats a single slip in a long word ("Lucien" / "Luien") as the
    small difference it is (two edits only in words of seven letters or more)."""
    edit = OSA.normalized_similarity(a, b)
    # two slips in a short word make another name (Rami / Ammi, Shami / Hamzi)
    slips = 2 if min(len(a), len(b)) >= 7 else 1
    if OSA.distance(a, b, score_cutoff=slips) <= slips:
        edit = max(edit, JaroWinkler.similarity(a, b) - 0.05)
    return edit


def _vowels_conflict(q: Term, c: Term) -> bool:
    """Whether two terms that share a skeleton have their vowels in places that make them two names."""
    if {q.role, c.role} == {"abd", "name"}:
        # Obeid, Ubaid, عبيد share the skeleton of Abd but have a vowel between b and d
        name = q if q.role == "name" else c
        shape = arabic_shape(name.exact) if name.script == "arabic" else latin_shape(name.exact)
        return shape.consonants.startswith("bd") and bool(shape.runs[1])
    if q.role != "name" or c.role != "name":
        return False
    if q.script == c.script == "latin":
        return latin_vowels_conflict(q.exact, c.exact)
    if {q.script, c.script} == {"latin", "arabic"}:
        arabic, latin = (q, c) if q.script == "arabic" else (c, q)
        return arabic_latin_vowels_conflict(arabic.exact, latin.exact)
    return False


MIN_SPELLING = 4  # tokens of at least this many letters are also indexed by their spelling, for typos


def _spelling_key(term: Term) -> str:
    """The normalised spelling of a name term as an index key ("=" + spelling), or "" for short or generic terms."""
    if term.role != "name" or term.script not in ("latin", "arabic") or len(term.exact) < MIN_SPELLING:
        return ""
    return "=" + term.exact


_QUERY_ID_BASE = 1 << 22  # numbers of screened terms (listed terms are numbered from 0)
_ID_BITS = 32  # a pair of term numbers as one int key (see ``NameIndex._options``)
_CACHE_LIMIT = 200_000  # entries of a cache before it is emptied

PAIR_SLOT = 1000  # slots of adjacent pairs in the postings, after those of single terms


def _pair_table(terms: tuple[Term, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(pair_keys(terms[i], terms[i + 1]) for i in range(len(terms) - 1))


class NameIndex:
    """Listed names, indexed by transliteration key. Add entries, then screen names (the index is prepared on
    the first screening after a change)."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._names: list[_Name] = []
        self._ready = False
        self._postings: dict[str, list[tuple[int, float, int]]] = {}
        self._near: dict[str, set[str]] = {}
        self._df: dict[str, int] = {}
        self._common = 1.0
        self._support_level = 0.0
        self._reset_caches()

    def _reset_caches(self) -> None:
        """Caches of one prepared index: keys found by lookup, postings gathered per query unit, and similarities
        of term pairs (terms are numbered: listed terms at prepare(), screened terms as they come)."""
        self._lookups: dict[str, frozenset[str]] = {}
        self._unit_hits: dict[tuple[str, ...], dict[int, tuple[tuple[float, int], ...]]] = {}
        self._term_ids: dict[Term, int] = {}
        self._listed_term_count = 0
        self._query_ids: dict[Term, int] = {}
        self._next_query_id = _QUERY_ID_BASE
        self._similarities: dict[int, tuple[float, str]] = {}
        self._rows: dict[int, tuple] = {}
        self._joined: dict[int, float] = {}

    def _query_term_ids(self, terms: tuple[Term, ...]) -> tuple[int, ...]:
        """Numbers of the terms of a screened name: a listed term's own number, else one given for the session."""
        if len(self._query_ids) > _CACHE_LIMIT:
            self._query_ids.clear()
            self._similarities.clear()
            self._rows.clear()
            self._joined.clear()
        ids = []
        for term in terms:
            number = self._term_ids.get(term)
            if number is None:
                number = self._query_ids.get(term)
                if number is None:
                    number = self._next_query_id
                    self._next_query_id += 1
                    self._query_ids[term] = number
            ids.append(number)
        return tuple(ids)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def name_count(self) -> int:
        return len(self._names)

    # ---------------------------------------------------------------------------------------------------------
    # building

    def add(
        self,
        entry_id: str,
        list_name: str,
        *,
        names: Iterable[tuple[str, str, str] | tuple[str, str] | str],
        entity_type: str = "",
        dates_of_birth: Iterable = (),
        countries: Iterable[str] = (),
    ) -> None:
        """Add one listed entry with its names as (text, kind, quality) tuples (kind: primary, alias, ...)."""
        labels = {normalize_country(c): c for c in countries if c and normalize_country(c)}
        entry = _Entry(
            list_name=list_name,
            entry_id=str(entry_id),
            entity_type=entity_type,
            years=frozenset(y for y in (_year_of(d) for d in dates_of_birth) if y),
            countries=frozenset(labels),
            country_labels=labels,
        )
        number = len(self._entries)
        self._entries.append(entry)
        seen: set[str] = set()
        for item in names:
            if isinstance(item, str):
                text, kind, quality = item, "primary", ""
            else:
                text, kind, quality = (*tuple(item), "", "")[:3]
            for written in _name_forms(text or ""):
                # a person's name has no organisation words: every word of it is a name word
                terms = analyze(written, generic=not _is_person(entity_type))
                # the same spelling once; other spellings of the same keys are kept (a typo is measured on them)
                signature = "|".join(t.exact for t in terms)
                if not terms or signature in seen:
                    continue
                seen.add(signature)
                self._names.append(_Name(number, (text or "").strip(), kind or "alias", quality or "", terms))
        self._ready = False

    def add_parsed(self, list_name: str, parsed_list) -> None:
        """Add every entry of a parsed sanctions list (any object with the ``ParsedList`` attributes)."""
        for entry in parsed_list.entries:
            self.add(
                entry.entry_id,
                list_name,
                names=[(n.text, n.kind, n.quality) for n in entry.names],
                entity_type=entry.entity_type,
                dates_of_birth=entry.dates_of_birth,
                countries=tuple(entry.countries) + tuple(entry.nationalities),
            )

    def prepare(self) -> None:
        """Compute term weights and the inverted index (called automatically)."""
        df: dict[str, int] = {}
        for name in self._names:
            for key in {k for t in name.terms for k in t.keys}:
                df[key] = df.get(key, 0) + 1
        count = max(len(self._names), 1)
        self._df = df
        self._count = count
        # the information of a matched listed term is measured on its finer spelling when it has one
        # (Latin consonants as written), so that Bukhori is not counted as common as Bakr
        fine_df: dict[str, int] = {}
        for name in self._names:
            for fine in {t.fine for t in name.terms if t.fine}:
                fine_df[fine] = fine_df.get(fine, 0) + 1
        self._fine_df = fine_df
        self._common = math.log((count + 1) / (COMMON_DF + 1))
        self._support_level = math.log((count + 1) / (VOWEL_SUPPORT_DF + 1))
        postings: dict[str, list[tuple[int, float, int]]] = {}
        near: dict[str, set[str]] = {}
        for number, name in enumerate(self._names):
            weights = tuple(self._weight(term) for term in name.terms)
            name.weights = weights
            name.pairs = _pair_table(name.terms)
            name.information = tuple(
                self._information(term, weight) for term, weight in zip(name.terms, weights, strict=True)
            )
            name.total = sum(weights) or 1.0
            name.generic_weight = sum(w for t, w in zip(name.terms, weights, strict=True) if t.role != "name")
            name.all_generic = all(t.role == "generic" for t in name.terms)
            for slot, (term, weight) in enumerate(zip(name.terms, weights, strict=True)):
                if term.role == "generic":
                    continue
                for key in term.keys:
                    postings.setdefault(key, []).append((number, weight, slot))
                    if len(key) >= 4 and _plain(key):
                        for deleted in _deletions(key):
                            near.setdefault(deleted, set()).add(key)
                spelling = _spelling_key(term)
                if spelling:
                    # the spelling itself, with its one-deletion variants: finds a typo that changes the skeleton
                    # ("Luien" for "Lucien", "Anre" for "Andre")
                    postings.setdefault(spelling, []).append((number, weight, slot))
                    for deleted in _deletions(spelling[1:]):
                        near.setdefault("=" + deleted, set()).add(spelling)
            for slot, (keys, w1, w2) in enumerate(self._pairs(name.terms, weights, name.pairs)):
                for key in keys:
                    postings.setdefault(key, []).append((number, w1 + w2, PAIR_SLOT + slot))
            if name.all_generic:
                postings.setdefault(self._generic_signature(name.terms), []).append((number, name.total, -1))
        # a name is listed once per key and term slot
        self._postings = {key: list(dict.fromkeys(items)) for key, items in postings.items()}
        self._near = near
        self._reset_caches()
        for number, name in enumerate(self._names):
            name.number = number
            name.term_ids = tuple(self._term_ids.setdefault(term, len(self._term_ids)) for term in name.terms)
        self._listed_term_count = len(self._term_ids)
        self._ready = True

    @staticmethod
    def _generic_signature(terms: tuple[Term, ...]) -> str:
        return "#all:" + "+".join(sorted(t.concept for t in terms))

    @staticmethod
    def _pairs(terms, weights, pairs=None):
        pairs = _pair_table(terms) if pairs is None else pairs
        for i, keys in enumerate(pairs):
            if keys:
                yield keys, weights[i], weights[i + 1]

    def _information(self, term: Term, weight: float) -> float:
        if term.role != "name":
            return 0.0
        if term.fine:
            return max(MIN_WEIGHT, math.log((self._count + 1) / (self._fine_df.get(term.fine, 0) + 1)))
        return weight

    def _idf(self, key: str) -> float:
        df = self._df.get(key, 0)
        return max(MIN_WEIGHT, math.log((self._count + 1) / (df + 1)))

    def _weight(self, term: Term) -> float:
        if term.role == "generic":
            return GENERIC_WEIGHT
        if term.role == "particle":
            return PARTICLE_WEIGHT
        if term.role == "abd":
            return ABD_WEIGHT
        return self._idf(term.keys[0])

    # ---------------------------------------------------------------------------------------------------------
    # screening

    def screen(
        self,
        name: str,
        *,
        entity_type: str | None = None,
        country: str | Iterable[str] | None = None,
        date_of_birth=None,
        threshold: float = ALERT_THRESHOLD,
        limit: int = MAX_MATCHES,
    ) -> ScreenResult:
        """Screen one name; raises ``MatchingInputError`` for a name that cannot be screened."""
        tokens = check_tokens(name)
        if not self._ready:
            self.prepare()
        countries = {country} if isinstance(country, str) else set(country or ())
        query_countries = {normalize_country(c) for c in countries if c} - {""}
        year = _year_of(date_of_birth)

        # generic organisation words are read as such only between organisations: a person screened against
        # a listed person compares name words only ("Mohammad Islami"); a name of unknown type is read both ways,
        # as an organisation's against listed organisations and as a person's against listed persons
        if _is_person(entity_type):
            readings = [(analyze_tokens(tokens, generic=False), None)]
        elif entity_type:
            readings = [(analyze_tokens(tokens), None)]
        else:
            terms = analyze_tokens(tokens)
            plain = analyze_tokens(tokens, generic=False)
            readings = [(terms, False), (plain, True)] if plain != terms else [(terms, None)]

        best: dict[int, Match] = {}
        for reading, persons in readings:
            # a name written in both scripts ("Agha Jan Alizai اغا جان عالیزی") is also screened one script at a
            # time
            for part in [reading, *_script_parts(reading)]:
                weights = tuple(self._weight(t) for t in part)
                pairs = _pair_table(part)
                total = sum(weights) or 1.0
                ids = self._query_term_ids(part)
                candidates = self._candidates(
                    part, weights, pairs, total, entity_type, persons=persons, countries=query_countries, year=year
                )
                for number in candidates:
                    listed = self._names[number]
                    entry = self._entries[listed.entry]
                    match = self._score(
                        part, weights, pairs, total, listed, entry, entity_type, query_countries, year, threshold, ids
                    )
                    if match is None:
                        continue
                    current = best.get(listed.entry)
                    if current is None or (match.alert, match.score) > (current.alert, current.score):
                        best[listed.entry] = match
        ordered = sorted(best.values(), key=lambda m: (m.alert, m.score), reverse=True)[:limit]
        return ScreenResult(query=name, alert=any(m.alert for m in ordered), matches=tuple(ordered))

    def screen_names(self, names: Iterable[str], **options) -> ScreenResult:
        """Screen several names of one party (Arabic name, English name, other names): one result, the best match
        per listed entry. Empty names are skipped; if all are empty the error of the first is raised."""
        merged: dict[tuple[str, str], Match] = {}
        error = None
        screened = []
        for text in names:
            try:
                result = self.screen(text, **options)
            except ValueError as exc:
                error = error or exc
                continue
            screened.append(text)
            for match in result.matches:
                key = (match.list_name, match.entry_id)
                current = merged.get(key)
                if current is None or (match.alert, match.score) > (current.alert, current.score):
                    merged[key] = match
        if not screened and error is not None:
            raise error
        ordered = sorted(merged.values(), key=lambda m: (m.alert, m.score), reverse=True)
        ordered = ordered[: options.get("limit", MAX_MATCHES)]
        return ScreenResult(query=" | ".join(screened), alert=any(m.alert for m in ordered), matches=tuple(ordered))

    def _lookup(self, key: str) -> frozenset[str]:
        found = self._lookups.get(key)
        if found is None:
            if len(self._lookups) > _CACHE_LIMIT:
                self._lookups.clear()
            found = self._lookups[key] = frozenset(self._find(key))
        return found

    def _find(self, key: str) -> set[str]:
        found = {key} if key in self._postings else set()
        if _plain(key):
            found |= self._near.get(key, set())
            prefix = "=" if key.startswith("=") else ""
            body = key[len(prefix) :]
            if len(body) >= 4:
                for deleted in _deletions(body):
                    deleted = prefix + deleted
                    if deleted in self._postings:
                        found.add(deleted)
                    found |= self._near.get(deleted, set())
        return found

    def _hits(self, keys: list[str]) -> dict[int, tuple[tuple[float, int], ...]]:
        """The listed names that a query unit (a term's keys, or a pair's) finds, each with its (weight, slot)
        postings, best first."""
        signature = tuple(keys)
        hit = self._unit_hits.get(signature)
        if hit is not None:
            return hit
        found: set[str] = set()
        for key in keys:
            found |= self._lookup(key)
        gathered: dict[int, set[tuple[float, int]]] = {}
        for key in found:
            for number, listed_weight, slot in self._postings.get(key, ()):
                slots = gathered.get(number)
                if slots is None:
                    gathered[number] = {(listed_weight, slot)}
                else:
                    slots.add((listed_weight, slot))
        hit = {
            number: tuple(sorted(slots, reverse=True)) if len(slots) > 1 else tuple(slots)
            for number, slots in gathered.items()
        }
        if len(self._unit_hits) > _CACHE_LIMIT // 10:
            self._unit_hits.clear()
        self._unit_hits[signature] = hit
        return hit

    def _attribute_bonus(self, entry: _Entry, countries: set[str], year: str) -> float:
        """How far the year of birth and the countries given with a screened name agree with an entry: a ranking
        aid for the candidates, so that among many namesakes the one born that year is scored."""
        bonus = 0.0
        if year and entry.years:
            if year in entry.years:
                bonus += CANDIDATE_YEAR_BONUS
            elif _year_near(year, entry.years):
                bonus += CANDIDATE_YEAR_BONUS / 2
            else:
                bonus -= CANDIDATE_YEAR_BONUS
        if countries and countries & entry.countries:
            bonus += CANDIDATE_COUNTRY_BONUS
        return bonus

    def _candidates(
        self,
        terms,
        weights,
        pairs,
        total: float,
        entity_type=None,
        *,
        persons: bool | None = None,
        countries: set[str] | None = None,
        year: str = "",
    ) -> list[int]:
        """Listed names worth scoring, best first: those whose upper bound (every shared key matching in full)
        reaches the report threshold, ranked by that bound plus the agreement of the year of birth and country
        (before the cut to MAX_CANDIDATES). ``persons`` True / False keeps only listed persons / non-persons."""
        query_hits: dict[int, float] = {}
        listed_hits: dict[int, float] = {}
        used: dict[int, set[int]] = {}
        units: list[tuple[list[str], float]] = []
        for term, weight in zip(terms, weights, strict=True):
            if term.role != "generic":
                spelling = _spelling_key(term)
                units.append((list(term.keys) + ([spelling] if spelling else []), weight))
        for keys, w1, w2 in self._pairs(terms, weights, pairs):
            units.append((list(keys), w1 + w2))
        if all(t.role == "generic" for t in terms):
            units.append(([self._generic_signature(terms)], total))
        generic_query = sum(w for t, w in zip(terms, weights, strict=True) if t.role != "name")
        hits = [self._hits(keys) for keys, _ in units]
        # a listed name reaches the report threshold only when the units it shares weigh at least ``needed`` (its
        # bound with the listed name matched in full): the units with the most postings whose weights together
        # fall short of it cannot make a candidate on their own, and are read only for names the others found
        needed = total * (REPORT_THRESHOLD - (1 - QUERY_SHARE)) / QUERY_SHARE - generic_query - 1e-6
        order = sorted(range(len(units)), key=lambda u: len(hits[u]), reverse=True)
        large: set[int] = set()
        short_of = 0.0
        for u in order:
            if short_of + units[u][1] >= needed:
                break
            short_of += units[u][1]
            large.add(u)
        allowed: set[int] | None = None
        if large:
            allowed = set()
            for u, hit in enumerate(hits):
                if u not in large:
                    allowed.update(hit)
        for u, (_, weight) in enumerate(units):
            hit = hits[u]
            # (the order of the names does not matter: each name's slots are its own)
            items = [(number, hit[number]) for number in allowed if number in hit] if u in large else hit.items()
            for number, slots in items:
                # a listed term counts once: "Ahmad Ali" does not match both Hamid and Ahmad of a query; a name
                # written twice ("Bahmanyar ... Bahmanyar") is matched by the query's two
                taken = used.get(number)
                if taken is None:
                    listed_weight, slot = slots[0]
                    used[number] = {slot}
                    query_hits[number] = weight
                    listed_hits[number] = listed_weight
                    continue
                free = next((item for item in slots if item[1] not in taken), None)
                if free is None:
                    continue
                listed_weight, slot = free
                taken.add(slot)
                query_hits[number] = query_hits.get(number, 0.0) + weight
                listed_hits[number] = listed_hits.get(number, 0.0) + listed_weight
        bounds = []
        for number, query_weight in query_hits.items():
            listed = self._names[number]
            entry = self._entries[listed.entry]
            if persons is not None and _is_person(entry.entity_type) != persons:
                continue
            query_share = min(1.0, (query_weight + generic_query) / total)
            listed_share = min(1.0, (listed_hits[number] + listed.generic_weight) / listed.total)
            bound = QUERY_SHARE * query_share + (1 - QUERY_SHARE) * listed_share
            if bound >= REPORT_THRESHOLD:
                # among equal bounds, names of the type screened for come first
                same_type = not entity_type or entry.entity_type == entity_type
                rank = bound + self._attribute_bonus(entry, countries or set(), year)
                bounds.append((round(rank, 6), same_type, number))
        bounds.sort(reverse=True)
        return [number for _, _, number in bounds[:MAX_CANDIDATES]]

    # ---------------------------------------------------------------------------------------------------------
    # scoring one listed name

    def _misspelt_abd(self, q: Term) -> tuple[float, str]:
        """A screened word one slip away from a form of Abd ("Adul", "Abdl", "Abnur") against the listed Abd, when
        the word is no listed name part of its own ("Abbas", "Adel" are)."""
        if q.script != "latin" or not 4 <= len(q.exact) <= 7 or ("=" + q.exact) in self._postings:
            return 0.0, ""
        if any(OSA.distance(q.exact, form, score_cutoff=1) <= 1 for form in LATIN_ABD):
            return ABD_TYPO_SIMILARITY, "fuzzy"
        return 0.0, ""

    @staticmethod
    def _term_similarity(q: Term, c: Term) -> tuple[float, str]:
        if q.role == "generic" or c.role == "generic":
            if q.role == c.role == "generic":
                return (1.0, "generic") if q.concept == c.concept else (0.0, "")
            # a misspelt generic word ("Battaleons", "compani") is close to the generic word itself
            if q.script == c.script == "latin" and min(len(q.exact), len(c.exact)) >= 5:
                close = OSA.normalized_similarity(q.exact, c.exact)
                if close >= 0.75:
                    return 0.9 * close, "fuzzy"
            return 0.0, ""
        if q.script == c.script and q.exact == c.exact:
            return 1.0, "exact"
        shared = [k for k in q.keys if k in c.keys]
        conflict = bool(shared) and _vowels_conflict(q, c)
        if conflict and q.role == c.role == "name" and {q.script, c.script} == {"latin", "arabic"}:
            # an Arabic original-script name and its Latin form often disagree on vowels (الغفار / Ghafur): kept as
            # a weaker agreement, which counts only when other parts of the name agree (see ``_align``)
            return VOWEL_RELAXED * NameIndex._cross_script(q, c, shared), "vowels"
        if conflict:
            # one skeleton, but the vowels say these are two names (Sami / Asim, عمر / Ameer): at most a spelling
            # difference
            shared = []
        if shared:
            short = len(shared[0]) <= 2
            if q.script == c.script:
                ratio = Indel.normalized_similarity(q.exact, c.exact)
                differs = q.script == "latin" and q.fine != c.fine
                base = (0.4 if short else 0.6) if differs else (0.6 if short else 0.85)
                return base + (1 - base) * ratio, "translit"
            return NameIndex._cross_script(q, c, shared), "translit"
        best = 0.0
        for a in q.keys[:2]:
            for b in c.keys[:2]:
                # skeletons a letter apart, beginning alike (Ahmad / Muhammad, hmd / mhmd, are two names)
                if not conflict and _plain(a) and _plain(b) and min(len(a), len(b)) >= 3 and a[0] == b[0]:
                    best = max(best, OSA.normalized_similarity(a, b))
        if q.script == c.script and min(len(q.exact), len(c.exact)) >= 4:
            best = max(best, _spelling_similarity(q.exact, c.exact))
        if best >= 0.66:
            return 0.95 * best, "fuzzy"
        return 0.0, ""

    @staticmethod
    def _cross_script(q: Term, c: Term, shared: list[str]) -> float:
        """Similarity of an Arabic and a Latin term that share a skeleton key: how much of the Arabic letters with
        their long vowels the Latin spelling covers."""
        if not (q.voweled and c.voweled):
            return 0.9
        arabic, latin = (q, c) if q.script == "arabic" else (c, q)
        length = len(arabic.voweled) or 1
        common = (length + len(latin.voweled) - Indel.distance(arabic.voweled, latin.voweled)) / 2
        coverage = common / length
        base = 0.5 if len(shared[0]) <= 2 else 0.8
        return base + (0.95 - base) * coverage

    @staticmethod
    def _joined_similarity(single: Term, joined: tuple[str, ...], parts: tuple[Term, Term]) -> float:
        if single.role != "name" or not joined:
            return 0.0
        if set(joined) & set(single.keys):
            first, second = parts
            if first.role == "name" and second.role == "name" and first.script == second.script:
                # two names read as one word must still have their vowels where the one word has them
                # ("Yasir Tawil" is no "Siratel")
                together = Term("", first.exact + second.exact, (), first.script, "name")
                if _vowels_conflict(together, single):
                    return 0.0
            return 0.95
        best = 0.0
        for a in joined[:2]:
            for b in single.keys[:2]:
                if min(len(a), len(b)) >= 5 and _plain(b):
                    best = max(best, OSA.normalized_similarity(a, b))
        if best < 0.8:
            return 0.0
        # a near join that is no closer than one of its parts alone ("Luien Nzambamwita" for "Nzambamwita"):
        # the other part is an extra word, not the second half of a compound
        for part in parts:
            for a in part.keys[:2]:
                for b in single.keys[:2]:
                    if _plain(a) and _plain(b) and OSA.normalized_similarity(a, b) > best - 0.05:
                        return 0.0
        return 0.9 * best

    def _align(self, q_terms, q_weights, q_pairs, c_terms, c_weights, c_pairs, q_ids=None, listed=None):
        """The best one-to-one pairing of the terms of two names (greedy on weighted similarity).

        A pair of Arabic and Latin terms whose vowels disagree ("vowels") is kept only when at least
        VOWEL_SUPPORT other name parts agree in full (exactly, after transliteration or joined) and are no common
        names (their information reaches that of a name found in VOWEL_SUPPORT_DF listed names): the vowel rule
        stops coincidences of short names, not a many-part name whose every other part agrees; common names
        (Ali, Ahmed, Abdallah) agree by coincidence too often to vouch for it."""
        options = self._options(q_terms, q_weights, q_pairs, c_terms, c_weights, c_pairs, q_ids, listed)
        chosen = self._choose(options)
        if any(how == "vowels" for _, how, _, _ in chosen):
            if listed is not None:
                information = listed.information
            else:
                information = [self._information(t, w) for t, w in zip(c_terms, c_weights, strict=True)]
            level = self._support_level - 1e-9
            support = sum(
                1
                for _, how, qs, cs in chosen
                if how in ("exact", "translit", "joined")
                and any(c_terms[j].role == "name" for j in cs)
                and sum(information[j] for j in cs) >= level
            )
            if support < VOWEL_SUPPORT:
                chosen = self._choose([option for option in options if option[2] != "vowels"])
        return chosen

    @staticmethod
    def _choose(options):
        used_q: set[int] = set()
        used_c: set[int] = set()
        chosen = []
        for _, sim, how, qs, cs in sorted(options, key=lambda o: o[0], reverse=True):
            if used_q.intersection(qs) or used_c.intersection(cs):
                continue
            used_q.update(qs)
            used_c.update(cs)
            chosen.append((sim, how, qs, cs))
        return chosen

    def _options(self, q_terms, q_weights, q_pairs, c_terms, c_weights, c_pairs, q_ids=None, listed=None):
        """Every pairing of a query term with a listed term (or with two adjacent ones written as one word) that
        agrees, as (weighted similarity, similarity, how, query slots, listed slots). The similarity of two terms
        depends on the terms alone, and is kept while the index lasts: by the terms' numbers, and, for a listed
        name (``listed``), as the row of one query term (or pair) against all its terms."""
        if q_ids is None or listed is None:
            q_ids = self._query_term_ids(q_terms)
            c_ids = self._query_term_ids(c_terms)
            number = -1
        else:
            c_ids = listed.term_ids
            number = listed.number
        rows = self._rows
        options = []
        crossed = []
        for i, q in enumerate(q_terms):
            key = ((q_ids[i] << _ID_BITS) | (number + 1)) << 2
            row = rows.get(key) if number >= 0 else None
            if row is None:
                row = self._single_row(q, q_ids[i], c_terms, c_ids, c_pairs)
                if number >= 0:
                    rows[key] = row
            singles, joined = row
            weight = q_weights[i]
            for j, sim, how in singles:
                options.append((sim * (weight + c_weights[j]), sim, how, (i,), (j,)))
            for j, sim in joined:
                crossed.append((j, i, sim))
        for i in range(len(q_terms) - 1):
            if not q_pairs[i]:
                continue
            key = ((((q_ids[i] << _ID_BITS) | q_ids[i + 1]) << _ID_BITS | (number + 1)) << 2) | 1
            row = rows.get(key) if number >= 0 else None
            if row is None:
                parts = (q_terms[i], q_terms[i + 1])
                row = tuple(
                    (j, sim)
                    for j, c in enumerate(c_terms)
                    if c.role == "name" and (sim := self._joined_similarity(c, q_pairs[i], parts))
                )
                if number >= 0:
                    rows[key] = row
            weight = q_weights[i] + q_weights[i + 1]
            for j, sim in row:
                options.append((sim * (weight + c_weights[j]), sim, "joined", (i, i + 1), (j,)))
        if crossed:
            crossed.sort()
            for j, i, sim in crossed:
                weight = q_weights[i] + c_weights[j] + c_weights[j + 1]
                options.append((sim * weight, sim, "joined", (i,), (j, j + 1)))
        return options

    def _single_row(self, q: Term, q_id: int, c_terms, c_ids, c_pairs) -> tuple[tuple, tuple]:
        """One query term against a listed name: its agreeing terms as (slot, similarity, how), and the adjacent
        pairs of terms that it agrees with written as one word, as (first slot, similarity)."""
        similarities = self._similarities
        q_key = q_id << _ID_BITS
        singles = []
        for j, c in enumerate(c_terms):
            key = q_key | c_ids[j]
            found = similarities.get(key)
            if found is None:
                found = self._term_similarity(q, c)
                if not found[0] and c.role == "abd" and q.role == "name":
                    found = self._misspelt_abd(q)
                similarities[key] = found
            if found[0] > 0:
                singles.append((j, found[0], found[1]))
        joined = []
        if q.role == "name":
            memo = self._joined
            for j in range(len(c_terms) - 1):
                if c_pairs[j]:
                    key = (((c_ids[j] << _ID_BITS) | c_ids[j + 1]) << _ID_BITS) | q_id
                    sim = memo.get(key)
                    if sim is None:
                        sim = memo[key] = self._joined_similarity(q, c_pairs[j], (c_terms[j], c_terms[j + 1]))
                    if sim:
                        joined.append((j, sim))
        return tuple(singles), tuple(joined)

    def _score(
        self,
        q_terms,
        q_weights,
        q_pairs,
        q_total,
        listed: _Name,
        entry: _Entry,
        entity_type,
        countries,
        year,
        threshold,
        q_ids=None,
    ):
        chosen = self._align(q_terms, q_weights, q_pairs, listed.terms, listed.weights, listed.pairs, q_ids, listed)
        if not chosen:
            return None
        matched_q = sum(sim * sum(q_weights[i] for i in qs) for sim, _, qs, _ in chosen)
        matched_c = sum(sim * sum(listed.weights[j] for j in cs) for sim, _, _, cs in chosen)
        information = sum(sim * sum(listed.information[j] for j in cs) for sim, _, _, cs in chosen)
        query_share = min(1.0, matched_q / q_total)
        listed_share = min(1.0, matched_c / listed.total)
        score = self._mix(query_share, listed_share, information, chosen, q_terms)
        if self._too_short(q_terms, listed.terms, chosen):
            return None
        notes_en: list[str] = []
        notes_ar: list[str] = []
        only_generic = information == 0
        if only_generic:
            same = (
                listed.all_generic
                and all(t.role == "generic" for t in q_terms)
                and sorted(t.concept for t in q_terms) == sorted(t.concept for t in listed.terms)
            )
            if not same:
                score = min(score, REPORT_THRESHOLD - 0.01)
            else:
                notes_en.append("the name is made of generic words only, and the same ones")
                notes_ar.append("الاسم مكوَّن من كلمات عامة فقط، وهي نفسها")
        if entity_type and entry.entity_type and entity_type != entry.entity_type:
            score *= 0.9
            notes_en.append(f"listed as an {entry.entity_type}")
            notes_ar.append("مدرج بوصفه " + ("فرداً" if entry.entity_type == "individual" else "كياناً"))
        if score < REPORT_THRESHOLD:
            return None

        year_agrees = bool(year and year in entry.years)
        # a year of birth more than a year away from every listed one is a different person: reported, no alert
        year_differs = bool(year and entry.years) and not _year_near(year, entry.years)
        if not only_generic and year_agrees:
            score += YEAR_WEIGHT
        shared_countries = sorted(countries & entry.countries)
        second = year_agrees or bool(shared_countries)
        common = not only_generic and information < self._common
        if common and self._whole_organisation(entity_type, entry, query_share, listed_share):
            # an organisation's whole listed name, matched in full: its words may be common, the name is not
            common = False
        alert = score >= threshold and (not common or second) and not year_differs
        if year_agrees:
            notes_en.append(f"date of birth {year} agrees")
            notes_ar.append(f"سنة الميلاد {year} مطابقة")
        elif year and entry.years and not year_differs:
            near = ", ".join(sorted(entry.years))
            notes_en.append(f"date of birth {year} is within a year of the list ({near})")
            notes_ar.append(f"سنة الميلاد {year} قريبة من القائمة ({'، '.join(sorted(entry.years))}) بفارق سنة")
        elif year_differs:
            notes_en.append(f"date of birth {year} differs from the list ({', '.join(sorted(entry.years))})")
            notes_ar.append(f"سنة الميلاد {year} تختلف عن القائمة ({'، '.join(sorted(entry.years))})")
        if shared_countries:
            label = ", ".join(entry.country_labels[c] for c in shared_countries)
            notes_en.append(f"country {label} agrees")
            notes_ar.append(f"البلد {label} مطابق")
        if common:
            if second:
                notes_en.insert(0, "common name, confirmed by a second attribute")
                notes_ar.insert(0, "اسم شائع، تؤكده صفة ثانية")
            else:
                notes_en.insert(0, "common name only; no second attribute agrees")
                notes_ar.insert(0, "اسم شائع فقط؛ لا توجد صفة ثانية مطابقة")

        explanation, explanation_ar = self._explain(q_terms, listed, entry, chosen, notes_en, notes_ar)
        return Match(
            list_name=entry.list_name,
            entry_id=entry.entry_id,
            name=listed.text,
            name_kind=listed.kind,
            score=round(min(score, 1.0), 4),
            alert=alert,
            explanation=explanation,
            explanation_ar=explanation_ar,
            entity_type=entry.entity_type,
            details={
                "query_share": round(query_share, 4),
                "listed_share": round(listed_share, 4),
                "information": round(information, 2),
                "common": common,
                "second_attribute": second,
                "quality": listed.quality,
            },
        )

    @staticmethod
    def _whole_organisation(entity_type, entry: _Entry, query_share: float, listed_share: float) -> bool:
        return (
            entry.entity_type == "entity"
            and entity_type in (None, "", "entity")
            and query_share >= WHOLE_NAME_SHARE
            and listed_share >= WHOLE_NAME_SHARE
        )

    def _mix(self, query_share: float, listed_share: float, information: float, chosen, q_terms) -> float:
        """The score: the query's share weighs QUERY_SHARE, the listed name's share the rest. When two or more
        parts of the query matched (Abd, a name or a generic word; one at least a name) and they carry much
        information (rare name parts: from the common level to RARE_SPAN times more), a part of the listed name missing
        from the query (a middle name left out) costs less: the query's share weighs up to QUERY_SHARE_MAX."""
        weight = QUERY_SHARE
        roles = [q_terms[i].role for _, _, qs, _ in chosen for i in qs]
        parts = sum(1 for role in roles if role in ("name", "generic", "abd"))
        if parts >= 2 and "name" in roles and query_share >= 0.9 and self._common > 0:
            ramp = min(1.0, max(0.0, (information - self._common) / (RARE_SPAN * self._common)))
            weight = QUERY_SHARE + (QUERY_SHARE_MAX - QUERY_SHARE) * ramp
        return weight * query_share + (1 - weight) * listed_share

    @staticmethod
    def _too_short(q_terms, c_terms, chosen) -> bool:
        """A name of a single short word in Latin script (an acronym: "EDF", "FCO") matches only as spelt. A short
        name with a particle ("Abu Anas", "Ag Musa", "bin Qaim") is a person's, not an acronym."""

        def acronym(terms) -> bool:
            names = [t for t in terms if t.role == "name"]
            return len(names) == 1 and len(names[0].exact) <= 4 and not any(t.role == "particle" for t in terms)

        short = acronym(q_terms) or acronym(c_terms)
        if not short:
            return False
        for _, how, qs, cs in chosen:
            scripts = {q_terms[i].script for i in qs} | {c_terms[j].script for j in cs}
            if scripts == {"latin"} and how != "exact" and how != "generic":
                return True
        return False

    @staticmethod
    def _explain(q_terms, listed: _Name, entry: _Entry, chosen, notes_en, notes_ar) -> tuple[str, str]:
        kind_en = _KIND_EN.get(listed.kind, listed.kind)
        kind_ar = _KIND_AR.get(listed.kind, listed.kind)
        head_en = f"matched {kind_en} '{listed.text}' of {entry.entry_id} ({entry.list_name})"
        head_ar = f"طابق {kind_ar} «{listed.text}» في القيد {entry.entry_id} ({entry.list_name})"
        parts_en, parts_ar = [], []
        generic_words = []
        particles = []
        for sim, how, qs, cs in sorted(chosen, key=lambda c: c[2][0]):
            q_text = " ".join(q_terms[i].text for i in qs)
            c_text = " ".join(listed.terms[j].text for j in cs)
            if how == "generic":
                generic_words.append((q_text, listed.terms[cs[0]].concept))
                continue
            if all(q_terms[i].role == "particle" for i in qs):
                particles.append(q_text)
                continue
            if how == "exact":
                parts_en.append(f"'{q_text}' matched '{c_text}' exactly after normalisation")
                parts_ar.append(f"«{q_text}» طابقت «{c_text}» تماماً بعد التوحيد")
            elif how == "translit":
                parts_en.append(f"'{q_text}' matched '{c_text}' after transliteration")
                parts_ar.append(f"«{q_text}» طابقت «{c_text}» بعد النقل الحرفي")
            elif how == "vowels":
                parts_en.append(f"'{q_text}' matched '{c_text}' after transliteration (the vowels differ)")
                parts_ar.append(f"«{q_text}» طابقت «{c_text}» بعد النقل الحرفي (مع اختلاف حروف العلة)")
            elif how == "joined":
                parts_en.append(f"'{q_text}' matched '{c_text}' written as one word")
                parts_ar.append(f"«{q_text}» طابقت «{c_text}» بعد ضم الأجزاء")
            else:
                parts_en.append(f"'{q_text}' is close to '{c_text}' (spelling difference, {sim:.2f})")
                parts_ar.append(f"«{q_text}» قريبة من «{c_text}» (اختلاف إملائي، {sim:.2f})")
        used_q = {i for _, _, qs, _ in chosen for i in qs}
        used_c = {j for _, _, _, cs in chosen for j in cs}
        for i, term in enumerate(q_terms):
            if i not in used_q and term.role == "particle":
                particles.append(term.text)
        if particles:
            parts_en.append(f"ignored as particles: {', '.join(particles)}")
            parts_ar.append(f"أُهملت أدوات النسب: {'، '.join(particles)}")
        if generic_words:
            parts_en.append(f"generic words: {', '.join(w for w, _ in generic_words)}")
            labels = "، ".join(CONCEPT_LABELS_AR.get(c) or PLACE_LABELS_AR.get(c, w) for w, c in generic_words)
            parts_ar.append(f"كلمات عامة: {labels}")
        extra_q = [t.text for i, t in enumerate(q_terms) if i not in used_q and t.role == "name"]
        extra_c = [t.text for j, t in enumerate(listed.terms) if j not in used_c and t.role == "name"]
        if extra_q:
            parts_en.append(f"not in the listed name: {', '.join(extra_q)}")
            parts_ar.append(f"غير موجودة في الاسم المدرج: {'، '.join(extra_q)}")
        if extra_c:
            parts_en.append(f"missing from the screened name: {', '.join(extra_c)}")
            parts_ar.append(f"ناقصة من الاسم المفحوص: {'، '.join(extra_c)}")
        english = head_en + ": " + "; ".join(parts_en + notes_en)
        arabic = head_ar + ": " + "؛ ".join(parts_ar + notes_ar)
        return english, arabic
