"""JSON with exact decimal numbers.

360Giving wants amounts as JSON numbers. The platform holds integer minor units; `Decimal` carries them to the
file without passing through a float: `dumps` writes each `Decimal` as its own digits (1234.500 stays 1234.500),
and files are read back with `loads` (`parse_float=Decimal`).
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal


def loads(text: str | bytes):
    return json.loads(text, parse_float=Decimal)


def dumps(value, **options) -> str:
    """`json.dumps` in which every finite Decimal is written as a JSON number with exactly its digits (Decimal's
    text, such as 1234.500 or 1E+3, is always a valid JSON number)."""
    marker = f"@dec-{uuid.uuid4().hex}:"

    def default(item):
        if isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"{item} is not a JSON number")
            return f"{marker}{item}"
        raise TypeError(f"{type(item).__name__} is not JSON serialisable")

    text = json.dumps(value, default=default, **options)
    return re.sub(rf'"{re.escape(marker)}([-+0-9.Ee]+)"', lambda match: match.group(1), text)
