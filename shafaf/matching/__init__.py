"""Name screening in Arabic and Latin script: normalisation, transliteration keys, a name index and its scorer.

Pure Python (no Django). The public entry points:

* ``NameIndex``: ``add(...)`` / ``add_parsed(...)`` listed entries, then ``screen(name, ...)`` or
  ``screen_names([...], ...)`` -> ``ScreenResult`` with scored, explained ``Match`` objects;
* ``MatchingInputError``: a name that cannot be screened (empty, no letters, too long), with ``message_ar``;
* ``tokenize``, ``clean``, ``analyze``, ``latin_keys``, ``arabic_keys``: the building blocks.
"""

from .index import ALERT_THRESHOLD, Match, NameIndex, ScreenResult
from .names import MAX_NAME_LENGTH, MatchingInputError, Term, analyze, check_query
from .normalize import Token, clean, normalize_arabic, normalize_latin, tokenize
from .project_text import TextTokens, area_key, partner_key, text_tokens, token_jaccard
from .translit import arabic_keys, latin_keys

__all__ = [
    "ALERT_THRESHOLD",
    "MAX_NAME_LENGTH",
    "Match",
    "MatchingInputError",
    "NameIndex",
    "ScreenResult",
    "Term",
    "TextTokens",
    "Token",
    "analyze",
    "arabic_keys",
    "area_key",
    "check_query",
    "clean",
    "latin_keys",
    "normalize_arabic",
    "normalize_latin",
    "partner_key",
    "text_tokens",
    "token_jaccard",
    "tokenize",
]
