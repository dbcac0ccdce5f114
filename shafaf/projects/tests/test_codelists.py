"""Arabic names of the DAC sectors and sector categories, built into codelists.json from sectors_ar.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shafaf.projects.codelists import SECTORS

ARABIC = re.compile(r"[\u0600-\u06FF]")
SECTORS_AR = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "sectors_ar.json").read_text(encoding="utf-8")
)


def is_arabic(text: str | None) -> bool:
    return bool(text and text.strip() and ARABIC.search(text))


def test_every_active_sector_has_an_arabic_name():
    active = SECTORS.active_codes()
    assert active
    missing = sorted(code for code in active if not is_arabic(SECTORS[code].get("name_ar")))
    assert missing == []


def test_every_sector_including_withdrawn_has_an_arabic_name():
    missing = sorted(code for code, item in SECTORS.items() if not is_arabic(item.get("name_ar")))
    assert missing == []
    assert set(SECTORS_AR["sectors"]) == set(SECTORS)


@pytest.mark.parametrize("language", ["ar", "ar-kw"])
def test_label_is_arabic_in_arabic(language):
    assert SECTORS.label("14030", language) == "إمدادات مياه الشرب الأساسية والصرف الصحي الأساسي"
    assert is_arabic(SECTORS.label("14030", language))


def test_label_is_english_in_english():
    assert SECTORS.label("14030", "en") == "Basic drinking water supply and basic sanitation"
    assert not ARABIC.search(SECTORS.label("14030", "en"))


def test_every_category_has_an_arabic_name():
    categories = SECTORS_AR["categories"]
    assert all(is_arabic(name) for name in categories.values())
    for code, item in SECTORS.items():
        assert item["category"] in categories, code
        assert item["category_name_ar"] == categories[item["category"]], code
        assert is_arabic(item["category_name_ar"]), code
