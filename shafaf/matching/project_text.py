"""Project texts as language-independent tokens, to compare projects written in Arabic, English or French.

A word of the concept lexicon (``lexicon.py``) becomes ``c:<concept>`` (بئر, آبار, well, wells, puits -> ``c:well``);
any other word longer than two letters that is not a stop word becomes ``k:<skeleton>``, its consonant skeleton
(``translit``), which Arabic and Latin spellings of a name share (غزة, Gaza -> ``k:kz``); a number becomes
``n:<number>`` (Arabic-Indic digits, thousands separators and small written numbers read). A number before a
countable concept is a quantity: "10 wells", "حفر ١٠ آبار" -> ``well:10``; "ستة فصول" -> ``classroom:6``.

The skeleton here is coarser than for names: g/j/gh and k/q/kh are one class (Mogadishu, مقديشو -> ``k:mkds``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .lexicon import (
    COUNTABLE,
    MAX_PHRASE,
    PHRASES,
    STOPWORDS,
    arabic_concept,
    english_hint,
    french_hint,
    latin_concept,
    latin_key_stem,
    number_word,
    strip_article,
)
from .names import analyze
from .normalize import ARABIC_FOLD, INVISIBLE, _is_arabic_mark, clean, is_arabic_char, normalize_latin
from .translit import arabic_key, latin_keys

PHRASE_STARTS = frozenset(parts[0] for parts in PHRASES)
MAX_TEXT_CHARS = 20_000
MAX_TOKENS = 400
MAX_QUANTITIES = 100
QUANTITY_WINDOW = 3  # words after a number in which the counted thing is looked for
MAX_NUMBER_DIGITS = 15

# one translation for the whole text: Arabic letter forms folded, marks and tatweel removed, digits to ASCII,
# apostrophes removed, Arabic punctuation to spaces
_TABLE: dict[int, str | None] = {ord(k): v for k, v in ARABIC_FOLD.items()}
_TABLE.update({code: None for code in range(0x0600, 0x0900) if _is_arabic_mark(chr(code))})
_TABLE.update({0x0660 + i: str(i) for i in range(10)})
_TABLE.update({0x06F0 + i: str(i) for i in range(10)})
_TABLE.update({ord(c): None for c in "'’‘ʼʻ`´ʿʾ"})
_TABLE.update({ord(c): None for c in INVISIBLE})
_TABLE.update({0x066C: ",", 0x066B: ".", 0x060C: " ", 0x061B: " ", 0x061F: " "})  # ٬ ٫ ، ؛ ؟

_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+|\d{1,3}(?:\.\d{3}){2,}")


@dataclass(slots=True)
class TextTokens:
    tokens: list[str] = field(default_factory=list)  # in order of first appearance, distinct
    quantities: list[str] = field(default_factory=list)
    langs: set[str] = field(default_factory=set)
    truncated: bool = False


def prepare(text: str) -> tuple[str, bool]:
    """A text cut to ``MAX_TEXT_CHARS``, cleaned and folded; and whether it was cut."""
    text = text or ""
    cut = len(text) > MAX_TEXT_CHARS
    if cut:
        text = text[:MAX_TEXT_CHARS]
    return clean(text).translate(_TABLE).lower(), cut


def _number(raw: str) -> str:
    """A written number as a canonical string: thousands separators dropped, a decimal point kept."""
    if _THOUSANDS.fullmatch(raw):
        raw = raw.replace(",", "").replace(".", "")
    raw = raw.replace(",", ".")
    if raw.count(".") > 1:
        raw = raw.split(".", 1)[0]
    whole, _, fraction = raw.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    if len(whole) > MAX_NUMBER_DIGITS:
        return ""
    return whole + ("." + fraction if fraction else "")


def _coarse(key: str) -> str:
    return key.replace("j", "k")


# a word's reading: (kind, value, base, lang) with kind "c" concept, "k" skeleton, "n" number, "s" stop word, ""
# nothing; base the form phrases are matched on; lang "ar", "en", "fr" or "" (a Latin word that says nothing)
Reading = tuple[str, str, str, str]


@lru_cache(maxsize=500_000)
def read_word(word: str) -> tuple[Reading, ...]:
    """The readings of one word of a prepared text (usually one; a word mixing scripts gives one per run)."""
    if word[0].isdigit():
        number = _number(word)
        return (("n", number, number, ""),) if number else ()
    if word.isascii():
        return (_latin_reading(word),)
    runs: list[tuple[bool, str]] = []
    for char in word:
        arabic = is_arabic_char(char)
        if runs and runs[-1][0] == arabic:
            runs[-1] = (arabic, runs[-1][1] + char)
        else:
            runs.append((arabic, char))
    readings = []
    for arabic, run in runs:
        if arabic:
            readings.append(_arabic_reading(run))
        else:
            norm = "".join(char for char in normalize_latin(run) if char.isalnum())
            if norm:
                readings.append(_latin_reading(norm))
    return tuple(readings)


# English names of places whose Arabic name is another word: read as the Arabic name's transliteration
EXONYMS = {
    "aleppo": "halab",
    "damascus": "dimashq",
    "jerusalem": "quds",
    "cairo": "qahira",
    "mecca": "makka",
    "medina": "madina",
    "hebron": "khalil",
    "bethlehem": "lahm",
    "tripoli": "tarabulus",
    "algiers": "jazair",
    "alexandria": "iskandariya",
    "euphrates": "furat",
    "nineveh": "ninawa",
    "ninewa": "ninawa",
    "sanaa": "sana",
    "idleb": "idlib",
}


def _latin_reading(norm: str) -> Reading:
    lang = "fr" if french_hint(norm) else ("en" if english_hint(norm) else "")
    if norm in STOPWORDS:
        return ("s", "", norm, lang)
    value = number_word(norm)
    if value is not None:
        return ("n", str(value), norm, lang)
    concept = latin_concept(norm)
    if concept:
        return ("c", concept, norm, lang)
    if len(norm) <= 2 or not norm.isalpha():
        return ("", "", norm, lang)
    return ("k", _coarse(latin_keys(EXONYMS.get(norm) or latin_key_stem(norm))[0]), norm, lang)


def _arabic_reading(norm: str) -> Reading:
    norm = "".join(char for char in norm if is_arabic_char(char))
    base = strip_article(norm)
    if not norm:
        return ("", "", "", "ar")
    if norm in STOPWORDS or (norm[0] in "وف" and norm[1:] in STOPWORDS):
        return ("s", "", base, "ar")
    value = number_word(norm)
    if value is not None:
        return ("n", str(value), base, "ar")
    concept = arabic_concept(norm)
    if concept:
        return ("c", concept, base, "ar")
    if len(base) <= 2:
        return ("", "", base, "ar")
    return ("k", _coarse(arabic_key(base)) or "~" + base, base, "ar")


# Concepts whose name ends in a number ("COVID-19", "كوفيد-19").
NAMED_BY_NUMBER = frozenset({"covid"})


def _is_year(value: str) -> bool:
    return len(value) == 4 and value.isdigit() and 1900 <= int(value) <= 2100


def text_tokens(*texts: str) -> TextTokens:
    """The tokens, quantities and languages of some texts read together."""
    out = TextTokens()
    seen: dict[str, None] = {}
    quantities: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        prepared, cut = prepare(text)
        out.truncated |= cut
        readings: list[Reading] = []
        for word in _WORD.findall(prepared):
            readings.extend(read_word(word))
        _collect(readings, seen, quantities, out.langs)
    out.tokens = list(seen)
    out.quantities = list(quantities)[:MAX_QUANTITIES]
    return out


def _collect(readings: list[Reading], seen: dict, quantities: dict, langs: set[str]) -> None:
    count = len(readings)
    pending = ""  # a number waiting for the thing it counts
    window = 0
    english = french = 0
    arabic = latin = False
    i = 0
    while i < count:
        kind, value, base, lang = readings[i]
        if lang == "ar":
            arabic = True
        elif kind != "n":
            latin = True
            english += lang == "en"
            french += lang == "fr"
        step = 1
        if base == "well" and i and readings[i - 1][2] == "as":
            kind = ""  # "as well as"
        elif base in PHRASE_STARTS:
            for size in range(min(MAX_PHRASE, count - i), 1, -1):
                concept = PHRASES.get(tuple(reading[2] for reading in readings[i : i + size]))
                if concept:
                    kind, value, step = "c", concept, size
                    break
        if kind == "n":
            seen["n:" + value] = None
            # A number naming something is no count: "COVID-19 health centres" counts no centres, nor does a year.
            naming = i and readings[i - 1][0] == "c" and readings[i - 1][1] in NAMED_BY_NUMBER
            if not naming and not _is_year(value):
                pending, window = value, QUANTITY_WINDOW
        elif kind == "c":
            seen["c:" + value] = None
            if pending and value in COUNTABLE:
                quantities[f"{value}:{pending}"] = None
                pending = ""
            elif pending:
                window -= 1
        elif kind == "k":
            seen["k:" + value] = None
            if pending:
                window -= 1
        if pending and window <= 0:
            pending = ""
        i += step
    if arabic:
        langs.add("ar")
    if latin:
        langs.add("fr" if french > english else "en")


def capped(tokens: list[str], limit: int = MAX_TOKENS) -> tuple[list[str], bool]:
    """At most ``limit`` tokens, sorted: concepts and numbers first, then skeletons in order of appearance."""
    if len(tokens) <= limit:
        return sorted(tokens), False
    ordered = (
        [t for t in tokens if t[0] == "c"] + [t for t in tokens if t[0] == "n"] + [t for t in tokens if t[0] == "k"]
    )
    return sorted(ordered[:limit]), True


def token_jaccard(a_tokens, b_tokens) -> float:
    """|A ∩ B| / |A ∪ B| over the distinct tokens of two lists; 0.0 when both are empty."""
    a, b = set(a_tokens or ()), set(b_tokens or ())
    union = len(a | b)
    return len(a & b) / union if union else 0.0


# administrative words left out of area names: "Gaza Governorate" and "محافظة غزة" give the same key
_AREA_WORDS = frozenset({"governorate", "district", "city", "region", "country", "area", "rural", "camp", "village"})


@lru_cache(maxsize=100_000)
def area_key(name: str) -> str:
    """The script-independent key of an administrative area's name ("" when it has no letters or digits)."""
    if not isinstance(name, str):
        return ""
    prepared, _ = prepare(name[:500])
    parts = []
    for word in _WORD.findall(prepared):
        for kind, value, base, _lang in read_word(word):
            if kind == "s" or (kind == "c" and value in _AREA_WORDS):
                continue
            if kind == "c":
                # a place word that is also in the lexicon (Beit, Sudan): its skeleton all the same
                if base and any(is_arabic_char(char) for char in base):
                    parts.append(_coarse(arabic_key(base)) or base)
                else:
                    parts.append(_coarse(latin_keys(base)[0]) if base else value)
            elif kind in ("k", "n"):
                parts.append(value)
    return " ".join(sorted(dict.fromkeys(part for part in parts if part)))


@lru_cache(maxsize=100_000)
def partner_key(name: str) -> str:
    """A partner organisation's name reduced to a script-independent key: the skeletons of its name words
    (generic words such as جمعية / society left out), sorted; an organisation named by generic words only keeps
    their concepts ("#islamic #relief"). "" when there is no name."""
    if not isinstance(name, str):
        return ""
    name = clean(name)[:400]
    if not name:
        return ""
    terms = analyze(name)
    parts: list[str] = []
    generic: list[str] = []
    abd = False
    for term in terms:
        if term.role == "generic":
            generic.append("#" + term.concept)
            continue
        if term.role == "particle":
            continue
        if term.role == "abd":
            abd = True
            continue
        key = term.keys[0] if term.keys else ""
        if term.script == "latin" and re.search(r"[ae]t$", term.exact) and key.endswith("t") and len(key) > 2:
            key = key[:-1]  # "Najat" / "النجاة": the taa marbuta read as t or not at all
        if abd:
            key, abd = "bd" + key, False
        if key and not key.startswith("~"):
            parts.append(_coarse(key))
    if not parts:
        parts = generic
    return " ".join(sorted(dict.fromkeys(parts)))
