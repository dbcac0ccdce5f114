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
from .names import LATIN_ABD, Term, analyze, check_query, pair_keys
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
    weights: tuple[float, ...] = ()
    information: tuple[float, ...] = ()
    pairs: tuple[tuple[str, ...], ...] = ()
    total: float = 0.0
    generic_weight: float = 0.0
    all_generic: bool = False


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
    IN ...)"), the name without it."""
    forms = [text]
    match = _PARENTHESIS.match(text.strip())
    if match:
        forms.append(match.group("name"))
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


PAIR_SLOT = 1000  # slots of adjacent pairs in the postings, after those of single terms


def _once_per_name(items: list[tuple[int, float, int]]) -> list[tuple[int, float, int]]:
    best: dict[int, tuple[int, float, int]] = {}
    for item in items:
        if item[0] not in best or best[item[0]][1] < item[1]:
            best[item[0]] = item
    return list(best.values())


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
                terms = analyze(written)
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
        # a name is listed once per key (with its heaviest term) even when two of its terms share the key
        self._postings = {key: _once_per_name(items) for key, items in postings.items()}
        self._near = near
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
        terms = check_query(name)
        if not self._ready:
            self.prepare()
        countries = {country} if isinstance(country, str) else set(country or ())
        query_countries = {normalize_country(c) for c in countries if c} - {""}
        year = _year_of(date_of_birth)

        best: dict[int, Match] = {}
        # a name written in both scripts ("Agha Jan Alizai اغا جان عالیزی") is also screened one script at a time
        for part in [terms, *_script_parts(terms)]:
            weights = tuple(self._weight(t) for t in part)
            pairs = _pair_table(part)
            total = sum(weights) or 1.0
            for number in self._candidates(part, weights, pairs, total, entity_type):
                listed = self._names[number]
                entry = self._entries[listed.entry]
                match = self._score(
                    part, weights, pairs, total, listed, entry, entity_type, query_countries, year, threshold
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

    def _lookup(self, key: str) -> set[str]:
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

    def _candidates(self, terms, weights, pairs, total: float, entity_type=None) -> list[int]:
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
        for keys, weight in units:
            found: set[str] = set()
            for key in keys:
                found |= self._lookup(key)
            hit: dict[int, tuple[float, int]] = {}
            for key in found:
                for number, listed_weight, slot in self._postings.get(key, ()):
                    if number not in hit or hit[number][0] < listed_weight:
                        hit[number] = (listed_weight, slot)
            for number, (listed_weight, slot) in hit.items():
                # a listed term counts once: "Ahmad Ali" does not match both Hamid and Ahmad of a query
                taken = used.setdefault(number, set())
                if slot in taken:
                    continue
                taken.add(slot)
                query_hits[number] = query_hits.get(number, 0.0) + weight
                listed_hits[number] = listed_hits.get(number, 0.0) + listed_weight
        generic_query = sum(w for t, w in zip(terms, weights, strict=True) if t.role != "name")
        bounds = []
        for number, query_weight in query_hits.items():
            listed = self._names[number]
            query_share = min(1.0, (query_weight + generic_query) / total)
            listed_share = min(1.0, (listed_hits[number] + listed.generic_weight) / listed.total)
            bound = QUERY_SHARE * query_share + (1 - QUERY_SHARE) * listed_share
            if bound >= REPORT_THRESHOLD:
                # among equal bounds, names of the type screened for come first
                same_type = not entity_type or self._entries[listed.entry].entity_type == entity_type
                bounds.append((round(bound, 6), same_type, number))
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
            if q.voweled and c.voweled:
                arabic, latin = (q, c) if q.script == "arabic" else (c, q)
                length = len(arabic.voweled) or 1
                common = (length + len(latin.voweled) - Indel.distance(arabic.voweled, latin.voweled)) / 2
                coverage = common / length
                base = 0.5 if short else 0.8
                return base + (0.95 - base) * coverage, "translit"
            return 0.9, "translit"
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

    def _align(self, q_terms, q_weights, q_pairs, c_terms, c_weights, c_pairs):
        options = []
        for i, q in enumerate(q_terms):
            for j, c in enumerate(c_terms):
                sim, how = self._term_similarity(q, c)
                if not sim and c.role == "abd" and q.role == "name":
                    sim, how = self._misspelt_abd(q)
                if sim > 0:
                    options.append((sim * (q_weights[i] + c_weights[j]), sim, how, (i,), (j,)))
        for i in range(len(q_terms) - 1):
            for j, c in enumerate(c_terms):
                sim = self._joined_similarity(c, q_pairs[i], (q_terms[i], q_terms[i + 1]))
                if sim:
                    weight = q_weights[i] + q_weights[i + 1] + c_weights[j]
                    options.append((sim * weight, sim, "joined", (i, i + 1), (j,)))
        for j in range(len(c_terms) - 1):
            for i, q in enumerate(q_terms):
                sim = self._joined_similarity(q, c_pairs[j], (c_terms[j], c_terms[j + 1]))
                if sim:
                    weight = q_weights[i] + c_weights[j] + c_weights[j + 1]
                    options.append((sim * weight, sim, "joined", (i,), (j, j + 1)))
        options.sort(key=lambda o: o[0], reverse=True)
        used_q: set[int] = set()
        used_c: set[int] = set()
        chosen = []
        for _, sim, how, qs, cs in options:
            if used_q.intersection(qs) or used_c.intersection(cs):
                continue
            used_q.update(qs)
            used_c.update(cs)
            chosen.append((sim, how, qs, cs))
        return chosen

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
    ):
        chosen = self._align(q_terms, q_weights, q_pairs, listed.terms, listed.weights, listed.pairs)
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
        """A name of a single short word in Latin script (an acronym: "EDF", "FCO") matches only as spelt."""
        q_names = [t for t in q_terms if t.role == "name"]
        c_names = [t for t in c_terms if t.role == "name"]
        short = (len(q_names) == 1 and len(q_names[0].exact) <= 4) or (len(c_names) == 1 and len(c_names[0].exact) <= 4)
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
