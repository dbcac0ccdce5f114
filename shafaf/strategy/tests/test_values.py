"""Indicator values as exact thousandths: parsing (Latin and Arabic-Indic digits), refusals, display, shares."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from shafaf.strategy.values import format_value, mean_milli, parse_value, percent_bp, value_text


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("12", "people", 12000),
        ("12.5", "people", 12500),
        ("0.001", "number", 1),
        ("1,234.5", "number", 1234500),
        ("١٢٣", "people", 123000),
        ("١٢٫٥", "people", 12500),
        ("۱۲", "people", 12000),
        ("  75% ", "percent", 75000),
        ("100", "percent", 100000),
        (7, "days", 7000),
        (Decimal("2.250"), "KWD", 2250),
        ("0", "m3", 0),
        ("1000000000000", "number", 10**15),
    ],
)
def test_parse_value_gives_exact_thousandths(text, unit, expected):
    assert parse_value(text, unit=unit) == expected


@pytest.mark.parametrize(
    ("text", "unit", "code"),
    [
        ("", "people", "invalid"),
        ("abc", "people", "invalid"),
        ("12,5a", "people", "invalid"),
        ("1e3", "people", "invalid"),
        ("NaN", "people", "invalid"),
        ("inf", "people", "invalid"),
        (Decimal("NaN"), "people", "invalid"),
        (None, "people", "invalid"),
        (True, "people", "invalid"),
        ("1.2345", "people", "too_precise"),
        ("-1", "people", "negative"),
        ("-0.5", "KWD", "negative"),
        ("100.001", "percent", "percent_range"),
        ("1000000000000.001", "number", "too_large"),
        ("99999999999999999999", "number", "too_large"),
    ],
)
def test_parse_value_refuses_bad_input_with_a_translated_message(text, unit, code):
    with pytest.raises(ValidationError) as caught:
        parse_value(text, unit=unit)
    assert caught.value.code == code
    with translation.override("ar"), pytest.raises(ValidationError) as arabic:
        parse_value(text, unit=unit)
    with translation.override("en"), pytest.raises(ValidationError) as english:
        parse_value(text, unit=unit)
    assert english.value.messages[0]
    assert arabic.value.messages[0]


def test_format_value():
    assert format_value(None, "people") == "—"
    assert format_value(1234500, "number") == "1,234.5"
    assert format_value(75000, "percent") == "75%"
    assert format_value(1, "number") == "0.001"
    assert format_value(0, "people") == "0"
    assert format_value(10**15, "number") == "1,000,000,000,000"


def test_value_text_round_trips():
    for milli in (0, 1, 12500, 1234567, 10**15):
        assert parse_value(value_text(milli), unit="number") == milli
    assert value_text(None) == ""


def test_percent_bp():
    assert percent_bp(50_000, 200_000) == 2500
    assert percent_bp(200_000, 100_000) == 20000
    assert percent_bp(1, 3) == 3333
    assert percent_bp(1, 8) == 1250
    assert percent_bp(10, 0) is None
    assert percent_bp(10, None) is None
    assert percent_bp(None, 10) is None
    # half-even: 0.5 basis point rounds to the even neighbour
    assert percent_bp(1, 20000) == 0
    assert percent_bp(3, 20000) == 2


def test_mean_milli_rounds_half_even():
    assert mean_milli([]) is None
    assert mean_milli([1000, 2000]) == 1500
    assert mean_milli([1, 2]) == 2  # 1.5 → 2
    assert mean_milli([0, 1]) == 0  # 0.5 → 0
    assert mean_milli([1, 1, 2]) == 1
