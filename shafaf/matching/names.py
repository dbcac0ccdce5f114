"""From a written name to terms: tokens with their transliteration keys and their role.

Roles:

* ``name``: a real name part ("Usama", "لادن", "Tikriti");
* ``particle``: bin / ibn / bint / abu / ould and their Arabic forms: kept for joined spellings ("Binladin"),
  never enough to match;
* ``generic``: an organisation word with a concept id (see ``generic.py``);
* articles (al-, el-, ad-, ال) and stop words (the, of, و) are dropped.

"Abd" and its forms (Abdul, Abdel, Abdur, عبد) are joined with the following name part, so that "Abd al-Rahman",
"Abdul Rahman", "Abdurrahman" and "عبد الرحمن" give the same key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from .generic import STOPWORDS, concept_of, fuzzy_concept_of
from .normalize import Token, tokenize
from .translit import arabic_keys, arabic_voweled, latin_fine_key, latin_keys, latin_voweled


class MatchingInputError(ValueError):
    """A name that cannot be screened; ``message_ar`` holds the Arabic text of the message."""

    def __init__(self, message: str, message_ar: str):
        super().__init__(message)
        self.message = message
        self.message_ar = message_ar


MAX_NAME_LENGTH = 400  # characters after normalisation
MAX_TERMS = 40

LATIN_ARTICLES = frozenset({"al", "el", "ul", "il"})
SUN_ARTICLES = frozenset({"ad", "ar", "as", "ash", "at", "az", "an", "adh", "ath", "ed", "er", "es", "et", "ez", "ud"})
LATIN_PARTICLES = frozenset(
    {"bin", "ibn", "ben", "bint", "binti", "abu", "abou", "abo", "bou", "ould", "wuld", "ibnu", "umm", "um", "b", "ag"}
)
# with the titles written before a name in Arabic script (حاجي Haji, ملا Mullah, مولوي Maulvi): in Latin script the
# lists write them as part of the name ("Haji Gul"), and they stay name parts there
ARABIC_PARTICLES = frozenset({"بن", "ابن", "بنت", "ابو", "ابي", "ام", "ولد", "اغ", "حاجي", "حاج", "ملا", "مولوي"})
LATIN_ABD = frozenset(
    {"abd", "abdul", "abdel", "abdal", "abdol", "abdil", "abdoul", "abdur", "abdar", "abdus", "abdas"}
)
ARABIC_ABD = frozenset({"عبد"})


def _plain_form(norm: str) -> str:
    """A small Latin word with doubled letters single and "ou" as "u" ("Abbu" -> "abu", "Abdour" -> "abdur"), to
    recognise particles and the forms of Abd however they are spelt."""
    squeezed = re.sub(r"(.)\1+", r"\1", norm)
    return squeezed if squeezed in LATIN_PARTICLES or squeezed in LATIN_ABD else squeezed.replace("ou", "u")


_LONG_ABD = tuple(form for form in LATIN_ABD if len(form) >= 5)


def _misspelt_abd(norm: str) -> bool:
    """ "Abdul" with one slip ("Adbul", "Atbdul", "Aqbdus"): five letters or more, b and d side by side, one edit
    from a form of Abd, ending as they do (l, r, s). ("Abbas", "Adel", "Ahdal", "Abdi" and "Abduh" are names of
    their own and stay so.)"""
    if not 5 <= len(norm) <= 7 or norm[-1] not in "lrs" or ("bd" not in norm and "db" not in norm):
        return False
    return any(OSA.distance(norm, form, score_cutoff=1) <= 1 for form in _LONG_ABD)


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # as written, for explanations
    exact: str  # normalised spelling: equal exact forms match "exactly after normalisation"
    keys: tuple[str, ...]  # transliteration keys, most likely first
    script: str
    role: str  # "name" | "particle" | "abd" | "generic"
    concept: str = ""  # for generic words
    fine: str = ""  # Latin: consonants without letter classes
    voweled: str = ""  # letter classes with (long) vowels, to compare across scripts


def _shape(script: str, exact: str) -> tuple[str, str]:
    if script == "latin":
        return latin_fine_key(exact), latin_voweled(exact)
    if script == "arabic":
        return "", arabic_voweled(exact)
    return "", ""


def _strip_arabic_article(norm: str) -> tuple[str, bool]:
    if norm in {"الله", "لله"}:
        return norm, False
    for prefix in ("وال", "بال", "فال", "كال"):
        if norm.startswith(prefix) and len(norm) >= len(prefix) + 2:
            return norm[len(prefix) :], True
    if norm.startswith("لل") and len(norm) >= 5:
        return norm[2:], True
    if norm.startswith("ال") and len(norm) >= 4:
        return norm[2:], True
    return norm, False


def _is_article(token: Token) -> bool:
    if token.script == "latin":
        return token.norm in LATIN_ARTICLES or (token.norm in SUN_ARTICLES and token.hyphen_after)
    return token.script == "arabic" and token.norm == "ال"


def _keys(token: Token) -> tuple[str, tuple[str, ...]]:
    """(exact form, keys) of a name token."""
    if token.script == "arabic":
        stripped, had_article = _strip_arabic_article(token.norm)
        keys = arabic_keys(stripped)
        if had_article:
            # a few names begin with ال without it being the article (الياس, الهام)
            keys = keys + tuple(k for k in arabic_keys(token.norm) if k not in keys)
        if stripped.endswith("ه") and len(stripped) >= 3 and _written_taa_marbuta(token.text):
            # ة read as t, as in the construct state ("عصبة الأنصار" Asbat al-Ansar)
            keys = keys + tuple(k for k in arabic_keys(stripped[:-1] + "ت") if k not in keys)
        if stripped.startswith("ابو") and len(stripped) >= 5:
            # "أبوغيث", "أبواليزيد": the kunya written as one word
            rest, _ = _strip_arabic_article(stripped[3:])
            keys = keys + tuple(k for k in arabic_keys(rest) if k not in keys)
        return stripped, keys
    if token.script == "latin":
        keys = latin_keys(token.norm)
        if len(token.norm) >= 6 and token.norm[:2] in {"al", "el"}:
            # "Albaghdadi", "Elhassan": the article written together with the name
            keys = keys + tuple(k for k in latin_keys(token.norm[2:]) if k not in keys)
        return token.norm, keys
    return token.norm, (token.norm,)


def _written_taa_marbuta(text: str) -> bool:
    letters = [char for char in text if "\u0621" <= char <= "\u064a"]
    return bool(letters) and letters[-1] == "ة"


def _arabic_place_adjective(stripped: str) -> str:
    """A feminine adjective of a place ("الليبية", "المغربية", "التونسية": qualifying an organisation) -> the
    place's concept. The masculine form is left alone: it is also a family name (al-Libi, al-Masri)."""
    if not stripped.endswith("يه") or len(stripped) < 5:
        return ""
    stem = stripped[:-2]
    for candidate in (stem, stem + "ا", stem + "يا"):
        concept = concept_of(candidate)
        if concept.startswith("place:"):
            return concept
    return ""


_ARABIC_PROCLITICS = ("ب", "ل", "و", "ف", "ك")


def _generic(token: Token) -> str:
    if token.script == "arabic":
        concept = concept_of(token.norm)
        if not concept:
            stripped, _ = _strip_arabic_article(token.norm)
            concept = concept_of(stripped) or _arabic_place_adjective(stripped)
        if not concept and token.norm[:1] in _ARABIC_PROCLITICS and len(token.norm) >= 4:
            # a preposition or "and" joined to a generic word ("بليبيا" in Libya, "وجماعة" and group); only for
            # generic words: a name beginning with these letters (بشير, لطيف) is left whole
            concept = concept_of(token.norm[1:])
        return concept
    return concept_of(token.norm) or (fuzzy_concept_of(token.norm) if token.script == "latin" else "")


def _is_stopword(token: Token) -> bool:
    return token.norm in STOPWORDS


# stop words that are also given names: a person's "علي" is Ali, not the preposition على
PERSON_NAME_STOPWORDS = frozenset({"علي"})


def analyze(text: str, *, generic: bool = True) -> tuple[Term, ...]:
    """The terms of a name (articles and stop words dropped).

    ``generic=False`` reads a person's name: organisation words are name words there ("Mohammad Islami" is a
    family name, not the word "Islamic"; "جبهة" or "Jabha" may be a surname), and "علي" is the name Ali."""
    return analyze_tokens(tokenize(text), generic=generic)


def analyze_tokens(tokens: list[Token], *, generic: bool = True) -> tuple[Term, ...]:
    """``analyze`` on tokens already made (a name screened is tokenised once)."""
    terms = []
    for token in tokens:
        term = _term_of(token, generic)
        if term is not None:
            terms.append(term)
    return tuple(terms)


@lru_cache(maxsize=200_000)
def _term_of(token: Token, generic: bool) -> Term | None:
    """The term of one token (None for an article or a stop word); tokens and terms are immutable, and the same
    words come back in name after name, so the reading of a token is kept."""
    if _is_article(token) or (_is_stopword(token) and (generic or token.norm not in PERSON_NAME_STOPWORDS)):
        return None
    if (token.script == "latin" and (_plain_form(token.norm) in LATIN_ABD or _misspelt_abd(token.norm))) or (
        token.script == "arabic" and token.norm in ARABIC_ABD
    ):
        exact = "abd" if token.script == "latin" else "عبد"
        return Term(token.text, exact, ("bd",), token.script, "abd", "", *_shape(token.script, exact))
    concept = _generic(token) if generic else ""
    if concept:
        exact, _ = _keys(token)
        return Term(token.text, exact, ("#" + concept,), token.script, "generic", concept)
    exact, keys = _keys(token)
    is_particle = (token.script == "latin" and _plain_form(token.norm) in LATIN_PARTICLES) or (
        token.script == "arabic" and (token.norm in ARABIC_PARTICLES or exact in ARABIC_PARTICLES)
    )
    role = "particle" if is_particle else "name"
    return Term(token.text, exact, keys, token.script, role, "", *_shape(token.script, exact))


# second halves of compound names, short once joined: Saad al-Din / Saduddin, Kaka Zada / Kakazada
COMPOUND_ENDINGS = frozenset(
    {"دين", "din", "deen", "ddin", "eddin", "eddine", "uddin", "zada", "zadeh", "zade", "زاده"}
)
ALLAH = frozenset({"الله", "لله", "allah", "ullah", "ulla", "alla", "ollah", "illah", "ulah", "allahi"})


def pair_keys(first: Term, second: Term) -> tuple[str, ...]:
    """Keys of two adjacent terms written as one word ("Nour al-Din" ~ "Nuruddin", "خير الله" ~ "Khayrallah"),
    or () when the pair is too short to be told apart from other words."""
    if first.role == "generic" or second.role == "generic" or first.script != second.script:
        return ()
    joined = first.exact + second.exact
    unsplit: tuple[str, ...] = ()
    if first.role == "abd" and second.role == "name":
        # "Abdul Jabbar": the keys of the name after "bd", with and without the article ("Abduljabbar",
        # "عبدالجبار"); spelling the two together would read "dj" as one letter
        keys = tuple(dict.fromkeys(prefix + k for k in second.keys if _plain_key(k) for prefix in ("bd", "bdl")))
    elif first.script == "latin":
        keys = latin_keys(joined)
        if len(first.exact) == 3 and first.exact[:2] in {"al", "el"} and first.exact[2] not in "aeiouy":
            # the article with the first letter of the name, split from the rest by a slip ("AlR-awi" for
            # "Al-Rawi"): the name's own keys, however short, as for a single token (see ``_keys``)
            unsplit = tuple(k for k in latin_keys(joined[2:]) if k not in keys)
            keys = keys + unsplit
    elif first.script == "arabic":
        keys = arabic_keys(joined)
    else:
        return ()
    shortest = 3 if (first.role == "abd" or second.exact in ALLAH or second.exact in COMPOUND_ENDINGS) else 4
    if first.script == "arabic" and first.role == "name" and len(first.exact) <= 2 and len(joined) >= 5:
        # a word split by a space after its first two letters ("القا عدة", "ما يشو"): the fragment is no name of
        # its own, and the word it begins keeps its short key
        shortest = 2
    # a join that gives back one of its parts ("ICCO" + "Cooperation" -> "Cooperation") tells nothing
    own = set(first.keys) | set(second.keys)
    long_enough = [k for k in keys if len(k) >= shortest or (k in unsplit and len(k) >= 2)]
    return tuple(k for k in long_enough if not k.startswith("~") and k not in own)


def _plain_key(key: str) -> bool:
    return not key.startswith(("#", "~"))


def check_query(text: str) -> tuple[Term, ...]:
    """Terms of a name to screen; raises ``MatchingInputError`` when the name cannot be screened."""
    return analyze_tokens(check_tokens(text))


def check_tokens(text: str) -> list[Token]:
    """The tokens of a name to screen; raises ``MatchingInputError`` when the name cannot be screened (as
    ``check_query`` does)."""
    if text is None or not isinstance(text, str):
        raise MatchingInputError("The name must be text.", "يجب أن يكون الاسم نصاً.")
    tokens = tokenize(text)
    if not tokens:
        raise MatchingInputError(
            "The name is empty or has no letters; enter a name to screen.",
            "الاسم فارغ أو لا يحتوي على حروف؛ أدخل اسماً لفحصه.",
        )
    length = sum(len(token.norm) for token in tokens) + len(tokens) - 1
    if length > MAX_NAME_LENGTH:
        raise MatchingInputError(
            f"The name is too long to be a name ({length} characters after normalisation, "
            f"at most {MAX_NAME_LENGTH}); enter the name alone.",
            f"الاسم أطول من أن يكون اسماً ({length} حرفاً بعد التوحيد، والحد الأقصى {MAX_NAME_LENGTH})؛ أدخل الاسم وحده.",
        )
    if len(tokens) > MAX_TERMS:
        raise MatchingInputError(
            f"The name has {len(tokens)} words, at most {MAX_TERMS}; enter the name alone.",
            f"يتكون الاسم من {len(tokens)} كلمة، والحد الأقصى {MAX_TERMS}؛ أدخل الاسم وحده.",
        )
    if not any(token.script in ("latin", "arabic", "other") for token in tokens):
        raise MatchingInputError(
            "The name has no letters, only digits; enter a name to screen.",
            "لا يحتوي الاسم على حروف بل على أرقام فقط؛ أدخل اسماً لفحصه.",
        )
    if all(_is_article(token) or _is_stopword(token) for token in tokens):
        raise MatchingInputError(
            "The name holds only articles and small words (al, the, of); enter a full name.",
            "لا يحتوي الاسم إلا على أدوات وكلمات صغيرة (ال، و، في)؛ أدخل الاسم كاملاً.",
        )
    return tokens
