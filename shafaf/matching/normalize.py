"""Text normalisation for names in Arabic and Latin script.

``clean`` removes invisible and direction-control characters and folds compatibility forms (NFKC);
``tokenize`` splits a name into tokens, one script per token, each normalised for its script:

* Arabic: diacritics (harakat, tanween, shadda, sukun, superscript alef) and tatweel removed; أ إ آ ٱ -> ا,
  ة -> ه, ى -> ي, ؤ -> و, ئ -> ي; Persian and Pashto letters folded to their Arabic counterparts (ی ې ۍ -> ي,
  ک -> ك); the other Pashto and Urdu letters (پ چ ژ گ ټ ډ ړ ښ ږ ځ څ ڼ ...) keep their own Latin key.
* Latin: case-folded, accents removed; apostrophes dropped ("Sa'd" -> "sad"); hyphens, dots and other
  punctuation separate tokens ("al-Qaida" -> "al", "qaida").
* Digits in any script (Arabic-Indic, Eastern Arabic-Indic) become ASCII digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

INVISIBLE = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)]  # zero-width space/joiners, LRM, RLM
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings and overrides
    + [chr(c) for c in range(0x2060, 0x2065)]  # word joiner, invisible operators
    + [chr(c) for c in range(0x2066, 0x206A)]  # bidi isolates
    + ["\ufeff", "\u061c", "\u00ad", "\u180e", "\u034f"]
)
_INVISIBLE_TABLE = dict.fromkeys(map(ord, INVISIBLE))

# Arabic letters folded before skeletons are computed.
ARABIC_FOLD = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ة": "ه",
    "ۀ": "ه",
    "ۃ": "ه",
    "ھ": "ه",
    "ہ": "ه",
    "ۂ": "ه",
    "ە": "ه",
    "ى": "ي",
    "ی": "ي",
    "ې": "ي",
    "ۍ": "ي",
    "ێ": "ي",
    "ے": "ي",
    "ؤ": "و",
    "ئ": "ي",
    "ک": "ك",
    "ڪ": "ك",
}
_ARABIC_FOLD = str.maketrans(ARABIC_FOLD)
_DIGITS = str.maketrans({chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)})
_APOSTROPHES = "'’‘ʼʻ`´ʿʾ"
_APOSTROPHE_TABLE = dict.fromkeys(map(ord, _APOSTROPHES))


def is_arabic_char(char: str) -> bool:
    code = ord(char)
    return 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF


def _is_arabic_mark(char: str) -> bool:
    code = ord(char)
    return 0x064B <= code <= 0x065F or code == 0x0670 or 0x06D6 <= code <= 0x06ED or code == 0x0640


def clean(text: str) -> str:
    """NFKC, invisible characters removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.translate(_INVISIBLE_TABLE)
    return " ".join(text.split())


def normalize_arabic(text: str) -> str:
    """Arabic letters folded (hamza/alef forms, taa marbuta, alef maqsura), marks and tatweel removed."""
    text = "".join(char for char in text if not _is_arabic_mark(char))
    return text.translate(_ARABIC_FOLD).translate(_DIGITS)


def normalize_latin(text: str) -> str:
    """Case-folded, accents removed."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return text.replace("ß", "ss").replace("ı", "i").replace("ø", "o").replace("đ", "d").replace("ł", "l")


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written (after cleaning), for explanations
    norm: str  # normalised for its script
    script: str  # "arabic" | "latin" | "digit" | "other"
    hyphen_after: bool = False  # written as "al-" (a joined article)


def _script_of(char: str) -> str:
    if is_arabic_char(char):
        return "arabic"
    if char.isdigit():
        return "digit"
    if char.isalpha():
        name = unicodedata.name(char, "")
        return "latin" if name.startswith("LATIN") else "other"
    return ""


_WORD = re.compile(r"[^\s\-‐‑‒–—―_.,;:/\\()\[\]{}<>\"«»“”„!?&+*=|#@%$~^،؛؟]+")


def tokenize(text: str) -> list[Token]:
    """Tokens of a cleaned name, split on punctuation, spaces and script changes."""
    text = clean(text)
    text = text.translate(_APOSTROPHE_TABLE)
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        hyphen = text[match.end() : match.end() + 1] in "-‐‑"
        hyphen = hyphen and match.end() < len(text)
        for script, run, norm, last in _word_runs(match.group(0)):
            tokens.append(Token(run, norm, script, hyphen and last))
    return tokens


@lru_cache(maxsize=100_000)
def _word_runs(word: str) -> tuple[tuple[str, str, str, bool], ...]:
    """(script, run as written, normalised run, whether it is the word's last run) of one word, split by script
    runs (the same words come back in name after name)."""
    # split by script runs; Arabic marks stay with the Arabic run
    runs: list[tuple[str, str]] = []
    for char in word:
        script = _script_of(char)
        if not script:
            if runs and (unicodedata.combining(char) or _is_arabic_mark(char)):
                runs[-1] = (runs[-1][0], runs[-1][1] + char)
            continue
        if runs and runs[-1][0] == script:
            runs[-1] = (script, runs[-1][1] + char)
        else:
            runs.append((script, char))
    out = []
    for position, (script, run) in enumerate(runs):
        if script == "arabic":
            norm = normalize_arabic(run)
        elif script == "digit":
            norm = run.translate(_DIGITS)
            norm = "".join(str(unicodedata.digit(c, 0)) if not c.isascii() else c for c in norm)
        else:
            norm = normalize_latin(run)
            if script == "latin":
                norm = "".join(c for c in norm if c.isalnum())
        if norm:
            out.append((script, run, norm, position == len(runs) - 1))
    return tuple(out)


def scripts_of(text: str) -> set[str]:
    return {token.script for token in tokenize(text)}
