"""IATI codelists the project record uses: DAC sectors, countries and currencies.

Built from the official codelists by `scripts/build_codelists.py`; Arabic country and currency
names come from CLDR.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language

_PATH = Path(__file__).resolve().parent / "data" / "codelists.json"


@lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(_PATH.read_text(encoding="utf-8"))


def _index(kind: str) -> dict[str, dict]:
    return {item["code"]: item for item in _load()[kind]}


class _Codelist(dict):
    def __init__(self, kind: str):
        super().__init__(_index(kind))
        # Asked for on every project's validation (several times per imported activity): computed once.
        self._active = frozenset(code for code, item in self.items() if item["status"] == "active")

    def active_codes(self) -> frozenset[str]:
        return self._active

    def label(self, code: str, language: str | None = None) -> str:
        item = self.get(code)
        if item is None:
            return code
        language = language or get_language() or "ar"
        if language.startswith("ar") and item.get("name_ar"):
            return item["name_ar"]
        return item["name_en"]

    def choices(self, language: str | None = None) -> list[tuple[str, str]]:
        return sorted(
            (
                (code, f"{self.label(code, language)} ({code})")
                for code, item in self.items()
                if item["status"] == "active"
            ),
            key=lambda pair: pair[1],
        )


COUNTRIES = _Codelist("countries")
CURRENCIES = _Codelist("currencies")
SECTORS = _Codelist("sectors")


def country_label(code: str) -> str:
    return COUNTRIES.label(code)


def sector_label(code: str) -> str:
    return SECTORS.label(code)
