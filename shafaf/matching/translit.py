"""Transliteration keys: a consonant skeleton shared by Arabic and Latin script.

Vowels and the weak letters (Latin a e i o u y w; Arabic ا و ي ع ء) are dropped, letters are mapped to
classes that the usual transliterations share, doubled letters are collapsed and a word-final h is dropped:
محمد, Mohammed, Muhammad and Mohamed all give "mhmd"; فاطمة and Fatimah give "ftm".

Latin digraphs (sh, kh, th, dh, gh) are ambiguous ("Fathi" is ف ت ح ي, "Ashraf" is ا ش ر ف), so a token that
contains one has two keys: digraphs merged (first) and digraphs read as two letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_LATIN_CLASS = {
    "b": "b",
    "p": "b",
    "t": "t",
    "j": "j",
    "g": "j",
    "h": "h",
    "k": "k",
    "q": "k",
    "c": "k",
    "x": "ks",
    "d": "d",
    "z": "z",
    "s": "s",
    "f": "f",
    "v": "f",
    "l": "l",
    "m": "m",
    "n": "n",
    "r": "r",
}
_LATIN_DIGRAPHS = [
    ("sch", "s"),
    ("sh", "s"),
    ("ch", "s"),
    ("kh", "k"),
    ("gh", "j"),
    ("th", "t"),
    ("dh", "d"),
    ("zh", "z"),
]
_LATIN_ALWAYS = [("ph", "f"), ("dj", "j"), ("ck", "k")]
_AMBIGUOUS = re.compile(r"[sktdgz]h")
_SOFT_C = re.compile(r"c(?=[eiy])")
_LATIN_INITIAL_GLIDE = re.compile(r"(w|ou|y)(?=[aeiou])")
_INNER_ARTICLE = re.compile(r"(?<=\w{3})[aeiou]l(?=[bcdfgjklmnpqrstvxz])")

_ARABIC_CLASS = {
    "ب": "b",
    "پ": "b",
    "ت": "t",
    "ط": "t",
    "ث": "t",
    "ج": "j",
    "غ": "j",
    "گ": "j",
    "ح": "h",
    "ه": "h",
    "خ": "k",
    "ق": "k",
    "ك": "k",
    "د": "d",
    "ض": "d",
    "ذ": "d",
    "ز": "z",
    "ظ": "z",
    "ژ": "z",
    "س": "s",
    "ص": "s",
    "ش": "s",
    "چ": "s",
    "ف": "f",
    "ڤ": "f",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ر": "r",
    # Pashto, Urdu and Persian letters (ی ې ۍ and ک are folded to ي and ك by the normaliser)
    "ټ": "t",
    "ٹ": "t",
    "ډ": "d",
    "ڈ": "d",
    "ړ": "r",
    "ڑ": "r",
    "ښ": "s",
    "ږ": "z",
    "ځ": "z",
    "څ": "s",
    "ڼ": "n",
    "ڭ": "j",
    "ڨ": "j",
}


def _finish(letters: str) -> str:
    collapsed = []
    for letter in letters:
        if not collapsed or collapsed[-1] != letter:
            collapsed.append(letter)
    if len(collapsed) > 1 and collapsed[-1] == "h":
        collapsed.pop()
    return "".join(collapsed)


def _latin(norm: str, merge_digraphs: bool) -> str:
    text = norm
    for digraph, letter in _LATIN_ALWAYS:
        text = text.replace(digraph, letter)
    if merge_digraphs:
        for digraph, letter in _LATIN_DIGRAPHS:
            text = text.replace(digraph, letter)
    out = []
    for char in text:
        if char.isdigit():
            out.append(char)
        else:
            out.append(_LATIN_CLASS.get(char, ""))
    return _finish("".join(out))


def latin_keys(norm: str) -> tuple[str, ...]:
    """Skeleton keys of a normalised Latin token, most likely first.

    Variants: digraphs read as two letters; a soft c read as s ("Lounici"); an article inside a long compound
    left out ("Salahaldin" -> "Salahdin", "Abdulrahman" -> "Abdrahman")."""
    keys = [_latin(norm, merge_digraphs=True)]
    if _AMBIGUOUS.search(norm):
        keys.append(_latin(norm, merge_digraphs=False))
    if "th" in norm:
        # ث read as s (Persian, Turkish, Urdu): "Othman" / "Osman"
        keys.append(_latin(norm.replace("th", "s"), merge_digraphs=True))
    if _SOFT_C.search(norm):
        keys.append(_latin(_SOFT_C.sub("s", norm), merge_digraphs=True))
    if len(norm) >= 7 and _INNER_ARTICLE.search(norm):
        keys.append(_latin(_INNER_ARTICLE.sub("", norm, count=1), merge_digraphs=True))
    initial = _LATIN_INITIAL_GLIDE.match(norm)
    if initial:
        # "Walid", "Oualid", "Yusuf": the w or y before a vowel is a consonant (و, ي); an extra key keeps it
        rest = _latin(norm[initial.end() :], merge_digraphs=True)
        keys.append(("y" if initial.group(0) == "y" else "w") + rest)
    return _with_fallback(list(dict.fromkeys(keys)), norm)


def arabic_key(norm: str) -> str:
    return _finish("".join(_ARABIC_CLASS.get(char, char if char.isdigit() else "") for char in norm))


# letters whose usual transliteration varies by region: ث as s (Persian, Urdu), ذ ض as z, ظ as d, ق as g, and ك
# as g (گ written without its second stroke: "كل" Gul)
_ARABIC_ALTERNATE = str.maketrans({"ث": "س", "ذ": "ز", "ض": "ز", "ظ": "د", "ق": "ج", "ك": "ج"})
_ARABIC_ALTERNATE_LETTERS = frozenset("ثذضظقك")


def arabic_keys(norm: str) -> tuple[str, ...]:
    """Skeleton keys of a normalised Arabic token (article handling is done by the caller).

    The regional readings are applied all together and also one letter at a time ("وثيق" is Wasiq: ث as s, ق
    still k), for at most three such letters."""
    keys = [arabic_key(norm)]
    alternate = norm.translate(_ARABIC_ALTERNATE)
    if alternate != norm:
        keys.append(arabic_key(alternate))
        positions = [i for i, char in enumerate(norm) if char in _ARABIC_ALTERNATE_LETTERS][:3]
        if len(positions) > 1:
            for position in positions:
                single = norm[:position] + norm[position].translate(_ARABIC_ALTERNATE) + norm[position + 1 :]
                keys.append(arabic_key(single))
    if norm[:1] in ("و", "ي") and len(norm) >= 3:
        # initial و / ي are consonants (وليد Walid, يوسف Yusuf): an extra key keeps them
        keys.append(("w" if norm[0] == "و" else "y") + arabic_key(norm[1:]))
    return _with_fallback(list(dict.fromkeys(keys)), norm)


def _with_fallback(keys: list[str], norm: str) -> tuple[str, ...]:
    keys = [key for key in keys if key]
    if not keys:
        # a token made of vowels only ("Aya", "Eyo") keeps its own spelling as key
        return ("~" + norm,)
    extra = []
    for key in keys:
        # "Abdulrahman" / "عبدالرحمن" written as one word: the article after "abd" is optional
        if key.startswith("bdl") and len(key) > 3 and key[3] != "l":
            extra.append("bd" + key[3:])
    return tuple(dict.fromkeys(keys + extra))


_LATIN_VOWELS = {"a": "a", "e": "i", "i": "i", "y": "i", "o": "u", "u": "u", "w": "u"}
_ARABIC_VOWELS = {"ا": "a", "ي": "i", "و": "u"}


def latin_fine_key(norm: str) -> str:
    """Consonants as written (digraphs merged, no letter classes): tells Field from Veiled within Latin script."""
    text = norm
    for digraph, letter in _LATIN_ALWAYS + _LATIN_DIGRAPHS:
        text = text.replace(digraph, letter.upper())
    return _finish("".join(c for c in text if c not in "aeiouyw"))


def latin_voweled(norm: str) -> str:
    """Letter classes with vowels kept: the shape compared with an Arabic spelling's long vowels."""
    text = norm
    for digraph, letter in _LATIN_ALWAYS + _LATIN_DIGRAPHS:
        text = text.replace(digraph, letter)
    out = [_LATIN_VOWELS.get(c) or _LATIN_CLASS.get(c, c if c.isdigit() else "") for c in text]
    return _finish("".join(out))


def arabic_voweled(norm: str) -> str:
    """Letter classes with the long vowels (ا و ي) kept; an initial alef (a hamza seat) is left out."""
    if norm[:1] == "ا":
        norm = norm[1:]
    out = [_ARABIC_VOWELS.get(c) or _ARABIC_CLASS.get(c, c if c.isdigit() else "") for c in norm]
    return _finish("".join(out))


# ---------------------------------------------------------------------------------------------------------------
# vowel shapes: the skeleton says which consonants a name has, the vowels say where its syllables are. Two names
# with one skeleton but vowels in different places (Sami / Asim, Salma / Salim, Mahmoud / Mohammed) are different
# names.

_VOWEL_SETS = {
    "a": frozenset("a"),
    "e": frozenset("ai"),
    "i": frozenset("i"),
    "y": frozenset("i"),
    "o": frozenset("u"),
    "u": frozenset("u"),
    "w": frozenset("u"),
    "ا": frozenset("a"),
    "ي": frozenset("i"),
    "و": frozenset("u"),
}
_LATIN_LONG = ("ee", "oo", "ii", "uu", "aa")
_ARABIC_LONG = frozenset("اوي")
_ARABIC_SILENT = frozenset("عء")  # a vowel seat that Latin spellings write as a vowel, an apostrophe or nothing


@dataclass(frozen=True, slots=True)
class Shape:
    """A word as consonant classes and the vowel runs around them: ``runs[0]`` before the first consonant,
    ``runs[i]`` after consonant i."""

    consonants: str
    runs: tuple[str, ...]


def _shape_from(items: list[tuple[str, str]]) -> Shape:
    """(kind, letter) items, kind "c" (a consonant class) or "v" (a vowel letter) -> doubled consonants collapsed,
    a final h (after other consonants) dropped, as the skeleton keys do."""
    consonants: list[str] = []
    runs: list[str] = [""]
    for kind, letter in items:
        if kind == "v":
            runs[-1] += letter
        elif consonants and consonants[-1] == letter and not runs[-1]:
            continue
        else:
            consonants.append(letter)
            runs.append("")
    if len(consonants) > 1 and consonants[-1] == "h":
        consonants.pop()
        last = runs.pop()
        runs[-1] += last
    return Shape("".join(consonants), tuple(runs))


@lru_cache(maxsize=65536)
def latin_shape(norm: str) -> Shape:
    items: list[tuple[str, str]] = []
    text = norm
    if len(text) > 4 and text[0] == "e" and text[1] == text[2] and text[1] in "tdrzsn":
        # the article joined and assimilated (Essabar, Essaadi: al-Sabbar, al-Saadi) is no vowel of the name
        text = text[1:]
    i = 0
    while i < len(text):
        if i == 0 and text[:2] == "ou" and text[2:3] in set("aei"):
            items.append(("c", "w"))
            i = 2
            continue
        if i == 0 and text[0] in "yw" and text[1:2] in set("aeiou"):
            items.append(("c", text[0]))
            i = 1
            continue
        if text.startswith("sch", i):
            items.append(("c", "s"))
            i += 3
            continue
        pair = text[i : i + 2]
        merged = dict(_LATIN_ALWAYS + _LATIN_DIGRAPHS).get(pair)
        if merged:
            items.append(("c", merged))
            i += 2
            continue
        char = text[i]
        if char in "aeiouyw":
            items.append(("v", char))
        elif char.isdigit():
            items.append(("c", char))
        else:
            for letter in _LATIN_CLASS.get(char, ""):
                items.append(("c", letter))
        i += 1
    return _shape_from(items)


@lru_cache(maxsize=65536)
def arabic_shape(norm: str) -> Shape:
    items: list[tuple[str, str]] = []
    for position, char in enumerate(norm):
        if position == len(norm) - 1 and char == "ه" and len(norm) > 2:
            items.append(("v", "ا"))  # ة (folded to ه): a final a (سارة Sara, not Shair)
        elif position == 0 and char in "وي" and len(norm) > 1:
            items.append(("c", "w" if char == "و" else "y"))
        elif char == "ا" and position > 0 and norm[position + 1 : position + 2] == "ل":
            # an article or Allah joined to a name (عبدالحي Abdulhai, عبيدالله Ubaidullah): its alef is no long a
            items.append(("v", "ء"))
        elif char in _ARABIC_LONG or char in _ARABIC_SILENT:
            items.append(("v", char))
        elif char in _ARABIC_CLASS:
            items.append(("c", _ARABIC_CLASS[char]))
        elif char.isdigit():
            items.append(("c", char))
    return _shape_from(items)


def _vowels(run: str) -> frozenset[str]:
    run = run.replace("ee", "i").replace("oo", "u")  # long vowels in English spelling: ee is i, not a
    found: set[str] = set()
    for char in run:
        found |= _VOWEL_SETS.get(char, frozenset())
    return frozenset(found)


def _long(run: str) -> bool:
    return any(mark in run for mark in _LATIN_LONG)


def latin_vowels_conflict(a: str, b: str) -> bool:
    """Two Latin spellings with one skeleton whose vowels say they are different names: one begins with a vowel
    and the other not (Sami / Asim); a vowel between two consonants in one and none in the other, unless it is the
    last pair and the word ends there (Fahd / Fahad, but Salma / Salim); long vowels of another quality (Omar /
    Ameer); or different vowels in every place (Jubouri / Jaber). Spellings whose consonants differ give no
    evidence (False)."""
    first, second = latin_shape(a), latin_shape(b)
    if first.consonants != second.consonants or not first.consonants:
        return _glide_against_vowel(first, second)
    return _runs_conflict(first.runs, second.runs)


def _glide_against_vowel(first: Shape, second: Shape) -> bool:
    """One word begins with w or y before a vowel, the other without it (Wail / Ali, Yasir / Asir, Yasir / Sir)."""
    for one, other in ((first, second), (second, first)):
        if one.consonants[:1] in ("w", "y") and one.consonants[1:] == other.consonants and other.consonants:
            return True
    return False


def _runs_conflict(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    if bool(first[0]) != bool(second[0]):
        return True
    last_gap = len(first) - 2
    compared = differing = 0
    for position in range(1, len(first) - 1):
        x, y = first[position], second[position]
        if bool(x) != bool(y):
            if position < last_gap:
                return True
            without = first if not x else second
            if without[-1]:
                return True
            continue
        if not x:
            continue
        compared += 1
        if not (_vowels(x) & _vowels(y)):
            differing += 1
            if _long(x) or _long(y):
                return True
    return compared >= 2 and differing == compared


def arabic_latin_vowels_conflict(arabic: str, latin: str) -> bool:
    """An Arabic and a Latin spelling with one skeleton whose vowels say they are different names: the Arabic
    begins with a vowel seat (ا, ع) and the Latin with a consonant, or the reverse (سامي / Asim); a long vowel
    (ا و ي) between two consonants with no vowel or another vowel in the Latin (محمود / Mohammed); a long Latin vowel
    (ee, oo) where the Arabic has none (عمر / Ameer); or a final long ا or ي with the Latin ending on a consonant
    (سلمى / Salim)."""
    first, second = arabic_shape(arabic), latin_shape(latin)
    if first.consonants != second.consonants or not first.consonants:
        return _glide_against_vowel(first, second)
    a_runs, l_runs = first.runs, second.runs
    # an alef before two consonants is often left out in Latin (استانكزي Stanekzai)
    prothetic = a_runs[0] == "ا" and len(a_runs) > 2 and not a_runs[1]
    if bool(a_runs[0]) != bool(l_runs[0]) and not prothetic:
        return True
    for position in range(1, len(a_runs) - 1):
        a_run, l_run = a_runs[position], l_runs[position]
        long_vowels = _vowels("".join(c for c in a_run if c in _ARABIC_LONG))
        if long_vowels:
            if not l_run or not (long_vowels & _vowels(l_run)):
                return True
        elif not a_run and _long(l_run):
            return True
    final = a_runs[-1]
    return bool(final and final[-1] in "اي" and not final.endswith("وا") and not l_runs[-1])
