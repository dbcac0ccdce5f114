"""A bilingual concept lexicon for project texts: Arabic, English and French words -> one concept.

The words live in ``data/lexicon.tsv`` (one concept a line: ``concept<TAB>flags<TAB>forms``). A form joined by
underscores is a phrase ("سوء_التغذية" -> malnutrition, "non_food_items"). Flag ``q`` marks a countable thing, which
a number before it counts ("10 wells" -> ``well:10``).

Words are looked up as written (normalised) and then through light stemming:

* Arabic: the conjunctions و ف, the prepositions ب ك ل, the article ال (and لل) before the word; the endings ات ون ين
  ان تين تان ها هم هن كم نا يه ي ه after it, with ة given back where a feminine noun lost it (مدرستين -> مدرسة);
  broken plurals (آبار, مدارس, أيتام) are forms of their own in the lexicon;
* English and French: plural s / es / ies / x / aux, -ing, -ed, -ment, feminine -e.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .normalize import clean, is_arabic_char, normalize_arabic, normalize_latin

DATA = Path(__file__).with_name("data") / "lexicon.tsv"

STOPWORDS_EN = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "among",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "else",
        "etc",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "however",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "same",
        "shall",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "thus",
        "till",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "very",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "within",
        "without",
        "would",
        "yet",
        "you",
        "your",
        "yours",
        "also",
        "already",
        "another",
        "around",
        "because",
        "become",
        "becomes",
        "been",
        "being",
        "first",
        "second",
        "third",
        "hence",
        "therefore",
        "moreover",
        "furthermore",
        "including",
        "include",
        "includes",
        "included",
        "among",
        "whereby",
        "onto",
        "toward",
        "towards",
        "s",
    ]
)
STOPWORDS_FR = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "cet",
        "cette",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "elles",
        "en",
        "entre",
        "est",
        "et",
        "etre",
        "eux",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "ne",
        "ni",
        "nos",
        "notre",
        "nous",
        "on",
        "ont",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "sans",
        "se",
        "sera",
        "seront",
        "ses",
        "si",
        "son",
        "sont",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tous",
        "tout",
        "toute",
        "toutes",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "afin",
        "ainsi",
        "selon",
        "lors",
        "dont",
        "chez",
        "vers",
        "plus",
        "tres",
        "aussi",
        "ete",
        "etaient",
        "etait",
        "sous",
    ]
)
# Arabic stop words, normalised (أ إ آ -> ا, ة -> ه, ى -> ي)
STOPWORDS_AR = frozenset(
    [
        "في",
        "من",
        "الي",
        "علي",
        "عن",
        "مع",
        "ان",
        "او",
        "ام",
        "ثم",
        "حتي",
        "اذا",
        "اذ",
        "لو",
        "لا",
        "لم",
        "لن",
        "ما",
        "ماذا",
        "هل",
        "قد",
        "كل",
        "بعض",
        "غير",
        "بين",
        "عند",
        "لدي",
        "لدى",
        "منذ",
        "خلال",
        "حول",
        "ضد",
        "تحت",
        "فوق",
        "امام",
        "وراء",
        "بعد",
        "قبل",
        "اثناء",
        "عبر",
        "ضمن",
        "نحو",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
        "هولاء",
        "اولئك",
        "الذي",
        "التي",
        "الذين",
        "اللذين",
        "اللتين",
        "اللاتي",
        "اللواتي",
        "هو",
        "هي",
        "هم",
        "هن",
        "هما",
        "انا",
        "نحن",
        "انت",
        "انتم",
        "كان",
        "كانت",
        "يكون",
        "تكون",
        "كانوا",
        "سوف",
        "سيتم",
        "يتم",
        "تم",
        "تتم",
        "وهو",
        "وهي",
        "ايضا",
        "اي",
        "كما",
        "لكن",
        "بل",
        "انه",
        "انها",
        "اما",
        "الا",
        "مثل",
        "حيث",
        "عليه",
        "عليها",
        "فيه",
        "فيها",
        "منه",
        "منها",
        "له",
        "لها",
        "لهم",
        "به",
        "بها",
        "بهم",
        "اليه",
        "اليها",
        "عليهم",
        "فيهم",
        "منهم",
        "ذات",
        "ذو",
        "وذلك",
        "بذلك",
        "لذلك",
        "كذلك",
        "هناك",
        "هنا",
        "جدا",
        "فقط",
        "قبل",
        "بعد",
        "لدى",
        "يوجد",
        "توجد",
        "ليس",
        "ليست",
        "عدم",
        "وقد",
        "فقد",
        "كي",
        "لكي",
        "والتي",
        "والذي",
        "وهذا",
        "وهذه",
        "ومن",
        "وفي",
        "وعلي",
        "والي",
        "وعن",
        "ومع",
        "او",
        "ال",
        "و",
        "ف",
        "ب",
        "ك",
        "ل",
        "يا",
        "بان",
        "بانه",
        "بانها",
    ]
)
STOPWORDS = STOPWORDS_EN | STOPWORDS_FR | STOPWORDS_AR

# written numbers (normalised forms); Arabic forms also take the article and the conjunction
NUMBER_WORDS: dict[str, int] = {
    **dict.fromkeys(["two", "deux"], 2),
    **dict.fromkeys(["three", "trois"], 3),
    **dict.fromkeys(["four", "quatre"], 4),
    **dict.fromkeys(["five", "cinq"], 5),
    **dict.fromkeys(["six"], 6),
    **dict.fromkeys(["seven", "sept"], 7),
    **dict.fromkeys(["eight", "huit"], 8),
    **dict.fromkeys(["nine", "neuf"], 9),
    **dict.fromkeys(["ten", "dix"], 10),
    **dict.fromkeys(["eleven", "onze"], 11),
    **dict.fromkeys(["twelve", "douze"], 12),
    **dict.fromkeys(["fifteen", "quinze"], 15),
    **dict.fromkeys(["twenty", "vingt"], 20),
    **dict.fromkeys(["thirty", "trente"], 30),
    **dict.fromkeys(["forty", "quarante"], 40),
    **dict.fromkeys(["fifty", "cinquante"], 50),
    **dict.fromkeys(["hundred", "cent"], 100),
    **dict.fromkeys(["thousand", "mille"], 1000),
    **dict.fromkeys(["اثنان", "اثنين", "اثنتان", "اثنتين"], 2),
    **dict.fromkeys(["ثلاث", "ثلاثه"], 3),
    **dict.fromkeys(["اربع", "اربعه"], 4),
    **dict.fromkeys(["خمس", "خمسه"], 5),
    **dict.fromkeys(["ست", "سته"], 6),
    **dict.fromkeys(["سبع", "سبعه"], 7),
    **dict.fromkeys(["ثمان", "ثماني", "ثمانيه"], 8),
    **dict.fromkeys(["تسع", "تسعه"], 9),
    **dict.fromkeys(["عشر", "عشره"], 10),
    **dict.fromkeys(["عشرون", "عشرين"], 20),
    **dict.fromkeys(["ثلاثون", "ثلاثين"], 30),
    **dict.fromkeys(["اربعون", "اربعين"], 40),
    **dict.fromkeys(["خمسون", "خمسين"], 50),
    **dict.fromkeys(["ماىه", "مايه", "مئه", "ميه"], 100),
    **dict.fromkeys(["مئتان", "مئتين", "مايتان", "مايتين"], 200),
    **dict.fromkeys(["الف"], 1000),
}
# the dual ending counts two (بئران, بئرين; مدرستان, مدرستين)
ARABIC_DUAL_ENDINGS = ("تان", "تين", "ان", "ين")

_ARABIC_PREFIXES_1 = ("و", "ف")
_ARABIC_PREFIXES_2 = ("ب", "ك", "ل")
_ARABIC_SUFFIXES = ("تين", "تان", "ات", "ون", "ين", "ان", "ها", "هم", "هن", "هما", "كم", "نا", "يه", "ي", "ه", "ا")
_VERB_PREFIXES = ("ي", "ت", "ن")


def _is_arabic(word: str) -> bool:
    return any(is_arabic_char(char) for char in word)


def normalize_word(word: str) -> str:
    """A word as the lexicon stores it: Arabic folded (no article), Latin case-folded without accents."""
    word = clean(word).replace("'", "").replace("’", "")
    if _is_arabic(word):
        norm = normalize_arabic(word)
        return strip_article(norm)
    return "".join(char for char in normalize_latin(word) if char.isalnum())


def strip_article(norm: str) -> str:
    """An Arabic word without its article (and a conjunction or preposition joined to it)."""
    for prefix in ("وال", "بال", "فال", "كال", "ولل", "فلل"):
        if norm.startswith(prefix) and len(norm) >= len(prefix) + 2:
            return norm[len(prefix) :]
    if norm.startswith("لل") and len(norm) >= 4:
        return norm[2:]
    if norm.startswith("ال") and len(norm) >= 4:
        return norm[2:]
    return norm


def _load() -> tuple[dict[str, str], dict[tuple[str, ...], str], frozenset[str]]:
    words: dict[str, str] = {}
    phrases: dict[tuple[str, ...], str] = {}
    countable: set[str] = set()
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        concept, flags, forms = line.split("\t")
        if "q" in flags:
            countable.add(concept)
        for form in forms.split():
            parts = tuple(normalize_word(part) for part in form.split("_") if part)
            parts = tuple(part for part in parts if part)
            if len(parts) > 1:
                phrases.setdefault(parts, concept)
            elif parts:
                words.setdefault(parts[0], concept)
    return words, phrases, frozenset(countable)


WORDS, PHRASES, _COUNTED = _load()
# Counted, but not what a project builds or serves: "3 years", "2 organisations", "135 million" say nothing about
# whether two projects deliver the same things.
NOT_DELIVERABLES = frozenset(
    {
        "activity",
        "agency",
        "day",
        "friend",
        "group",
        "hand",
        "foot",
        "member",
        "million",
        "month",
        "organization",
        "partner",
        "phase",
        "picture",
        "player",
        "program",
        "project",
        "report",
        "session",
        "sign",
        "team",
        "committee",
        "week",
        "year",
    }
)
COUNTABLE = _COUNTED - NOT_DELIVERABLES
CONCEPTS = frozenset(WORDS.values()) | frozenset(PHRASES.values())
MAX_PHRASE = max((len(parts) for parts in PHRASES), default=1)


def arabic_candidates(norm: str) -> list[str]:
    """Forms of a normalised Arabic word with its clitics and endings taken off, most literal first."""
    stems = [norm]
    bases = [norm]
    if norm[:1] in _ARABIC_PREFIXES_1 and len(norm) >= 4:
        bases.append(norm[1:])
    for base in list(bases):
        if base[:1] in _ARABIC_PREFIXES_2 and len(base) >= 4:
            bases.append(base[1:])
    for base in list(bases):
        stripped = strip_article(base)
        if stripped != base:
            bases.append(stripped)
    for base in bases:
        if base not in stems:
            stems.append(base)
    for base in bases:
        for suffix in _ARABIC_SUFFIXES:
            if base.endswith(suffix) and len(base) - len(suffix) >= 2:
                stem = base[: -len(suffix)]
                if suffix in ("تين", "تان"):
                    stems.append(stem + "ه")  # the dual of a feminine noun: مدرستين -> مدرسة
                stems.append(stem)
                if suffix in ("ات", "ها", "هم", "هن", "هما", "كم", "نا", "ي", "ا"):
                    stems.append(stem + "ه")
                if suffix in ("ها", "هم", "هن", "هما", "كم", "نا", "ي", "ه") and stem.endswith("ت"):
                    stems.append(stem[:-1] + "ه")  # مدرستها -> مدرسة, سيارته -> سيارة
    # a verb in the present tense (يلعب, تستخدم, يلعبون): the form without its prefix
    for stem in list(stems):
        if stem[:1] in _VERB_PREFIXES and len(stem) >= 4:
            stems.append(stem[1:])
    return stems


_LATIN_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ies", ("y", "ie")),
    ("sses", ("ss",)),
    ("ches", ("ch",)),
    ("shes", ("sh",)),
    ("xes", ("x",)),
    ("aux", ("al", "au")),
    ("es", ("e", "")),
    ("s", ("",)),
    ("x", ("",)),
    ("ing", ("", "e")),
    ("ied", ("y",)),
    ("ed", ("", "e")),
    ("ees", ("e", "")),
    ("ee", ("e",)),
    ("e", ("",)),
    ("ment", ("", "e")),
    ("ments", ("", "e")),
    ("ations", ("ate", "e", "")),
    ("ation", ("ate", "e", "")),
    ("ion", ("e", "")),
    ("ions", ("e", "")),
    ("ly", ("",)),
)


def latin_candidates(norm: str) -> list[str]:
    stems = [norm]
    for ending, replacements in _LATIN_RULES:
        if norm.endswith(ending) and len(norm) - len(ending) >= 3:
            base = norm[: -len(ending)]
            stems.extend(base + replacement for replacement in replacements)
    return stems


@lru_cache(maxsize=200_000)
def arabic_concept(norm: str) -> str:
    """The concept of a normalised Arabic word (with its clitics), or ""."""
    for stem in arabic_candidates(norm):
        concept = WORDS.get(stem)
        if concept:
            return concept
    return ""


@lru_cache(maxsize=200_000)
def latin_concept(norm: str) -> str:
    """The concept of a normalised English or French word, or ""."""
    for stem in latin_candidates(norm):
        concept = WORDS.get(stem)
        if concept:
            return concept
    return ""


# Latin words whose final s is part of the name (Tunis, Homs): left whole when stemmed for a key
_KEEP_S = re.compile(r"(ss|us|is|as|os|ys)$")
KEEP_WHOLE = frozenset({"homs", "hims", "kudus", "tripolis", "lesbos", "barakas"})


def latin_key_stem(norm: str) -> str:
    """A Latin word outside the lexicon, stemmed before its skeleton is taken: plural s, -ing, -ed."""
    if norm in KEEP_WHOLE or len(norm) <= 4:
        return norm
    if norm.endswith("ies"):
        return norm[:-3] + "y"
    if norm.endswith("ing") and len(norm) >= 6:
        return norm[:-3]
    if norm.endswith("ed") and len(norm) >= 5:
        return norm[:-2]
    if norm.endswith("s") and not _KEEP_S.search(norm):
        return norm[:-1]
    return norm


@lru_cache(maxsize=65_536)
def number_word(norm: str) -> int | None:
    """The value of a written number ("ten", "عشرة", "والعشرين"), or None."""
    value = NUMBER_WORDS.get(norm)
    if value is not None or not _is_arabic(norm):
        return value
    for form in (norm[1:] if norm[:1] == "و" else "", strip_article(norm), strip_article(norm[1:])):
        if form and form in NUMBER_WORDS:
            return NUMBER_WORDS[form]
    return None


def french_hint(norm: str) -> bool:
    return norm in STOPWORDS_FR and norm not in STOPWORDS_EN


def english_hint(norm: str) -> bool:
    return norm in STOPWORDS_EN and norm not in STOPWORDS_FR
