"""Largest-remainder allocation: the parts always sum to the total, each within one minor unit of its share.

Pure Python: no test here touches the database.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shafaf.core.allocation import AllocationError, split_by_amounts, split_by_weights, split_evenly
from shafaf.core.exceptions import DomainError
from shafaf.core.money import BIGINT_MAX, BIGINT_MIN, CurrencyMismatch, Money, TooManyDecimals, known_currencies

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

currencies = st.sampled_from(sorted(known_currencies()))
totals = st.builds(Money, st.integers(min_value=BIGINT_MIN + 1, max_value=BIGINT_MAX), currencies)
small_totals = st.builds(Money, st.integers(min_value=-(10**6), max_value=10**6), currencies)
int_weights = st.integers(min_value=0, max_value=10**6)
# Decimals with up to four places, built from integers (much faster to generate than st.decimals).
decimal_weights = st.builds(
    lambda units, places: Decimal(units).scaleb(-places), int_weights, st.integers(min_value=0, max_value=4)
)
weight_lists = st.lists(int_weights | decimal_weights, min_size=1, max_size=12).filter(any)


def kwd(text: str) -> Money:
    return Money.of(text, "KWD")


def exact_shares(total: Money, weights) -> list[Fraction]:
    fractions = [Fraction(weight) for weight in weights]
    whole = sum(fractions)
    return [total.minor * weight / whole for weight in fractions]


# -- properties --------------------------------------------------------------------------------------------


@PROPERTY
@given(total=totals, weights=weight_lists)
def test_largest_remainder_invariants(total, weights):
    parts = split_by_weights(total, weights)
    # one part per weight, in the total's currency, summing exactly to the total
    assert len(parts) == len(weights)
    assert all(part.currency == total.currency for part in parts)
    assert sum(part.minor for part in parts) == total.minor
    for part, weight, share in zip(parts, weights, exact_shares(total, weights), strict=True):
        # each part is its exact share rounded down or up: within one minor unit
        assert abs(part.minor - share) < 1
        assert part.minor in (share.__floor__(), share.__ceil__())
        # a zero weight gets exactly zero; no part has the opposite sign of the total
        if weight == 0:
            assert part.is_zero()
        assert part.minor * total.minor >= 0
    # a refund mirrors the allocation, so it undoes it to the minor unit
    assert split_by_weights(-total, weights) == [-part for part in parts]


@PROPERTY
@given(total=small_totals, weights=st.lists(int_weights, min_size=1, max_size=20).filter(any))
def test_deterministic_and_scale_free(total, weights):
    parts = split_by_weights(total, weights)
    assert split_by_weights(total, list(weights)) == parts
    assert split_by_weights(total, [weight * 7 for weight in weights]) == parts
    assert split_by_weights(total, [Decimal(weight) / 100 for weight in weights]) == parts
    assert split_by_weights(total, tuple(weights)) == parts


@PROPERTY
@given(total=small_totals, count=st.integers(min_value=1, max_value=50))
def test_even_split_ties_go_to_the_earlier_parts(total, count):
    parts = [part.minor for part in split_evenly(total, count)]
    assert sum(parts) == total.minor
    assert max(parts) - min(parts) <= 1
    magnitudes = [abs(part) for part in parts]
    assert magnitudes == sorted(magnitudes, reverse=True)


@PROPERTY
@given(total=small_totals, weights=weight_lists, error=st.integers(min_value=1, max_value=10**3))
def test_split_by_amounts_accepts_exact_splits_only(total, weights, error):
    parts = split_by_weights(total, weights)
    assert split_by_amounts(total, parts) == parts
    assert split_by_amounts(total, [part.amount for part in parts]) == parts
    assert split_by_amounts(total, [part.amount_text for part in parts]) == parts
    # off by any number of minor units: refused, saying by how much
    sign = -1 if total.minor < 0 else 1
    parts[0] = Money(parts[0].minor + sign * error, total.currency)
    with pytest.raises(AllocationError) as caught:
        split_by_amounts(total, parts)
    assert caught.value.code == "allocation_sum_mismatch"


# -- examples ----------------------------------------------------------------------------------------------


def test_one_dinar_in_three():
    assert split_by_weights(kwd("1"), [1, 1, 1]) == [kwd("0.334"), kwd("0.333"), kwd("0.333")]
    assert split_by_weights(kwd("-1"), [1, 1, 1]) == [kwd("-0.334"), kwd("-0.333"), kwd("-0.333")]
    assert split_evenly(kwd("1"), 3) == [kwd("0.334"), kwd("0.333"), kwd("0.333")]


def test_largest_remainder_wins_then_the_earlier_index():
    # exact shares of 10 fils by 1:2:3:4 → 1, 2, 3, 4
    assert [p.minor for p in split_by_weights(Money(10, "KWD"), [1, 2, 3, 4])] == [1, 2, 3, 4]
    # 7 by 1:1:1 → 2.333 each; one extra unit to the first
    assert [p.minor for p in split_by_weights(Money(7, "KWD"), [1, 1, 1])] == [3, 2, 2]
    # 100 by 1:1:1:3 → 16.67, 16.67, 16.67, 50: the two missing units go to the first two .67 remainders
    assert [p.minor for p in split_by_weights(Money(100, "USD"), [1, 1, 1, 3])] == [17, 17, 16, 50]
    # the larger remainder wins even when it comes later: 10 by 0.15:0.85 → 1.5, 8.5 (tie → first)
    assert [p.minor for p in split_by_weights(Money(10, "JPY"), [Decimal("0.15"), Decimal("0.85")])] == [2, 8]
    # 10 by 0.14:0.86 → 1.4, 8.6: the larger remainder is the second
    assert [p.minor for p in split_by_weights(Money(10, "JPY"), [Decimal("0.14"), Decimal("0.86")])] == [1, 9]


def test_percentages_and_zero_weights():
    parts = split_by_weights(kwd("1000"), [Decimal("33.333"), Decimal("33.333"), Decimal("33.334"), 0])
    assert parts == [kwd("333.330"), kwd("333.330"), kwd("333.340"), kwd("0")]
    assert split_by_weights(kwd("0"), [1, 2]) == [kwd("0"), kwd("0")]
    assert split_by_weights(kwd("5"), [0, 3, 0]) == [kwd("0"), kwd("5"), kwd("0")]


def test_a_generator_of_weights_is_read_once():
    assert split_by_weights(Money(3, "KWD"), (w for w in [1, 2])) == [Money(1, "KWD"), Money(2, "KWD")]


@pytest.mark.parametrize(
    ("weights", "code"),
    [
        ([0, 0, 0], "allocation_zero_weights"),
        ([Decimal("0"), Decimal("0.000")], "allocation_zero_weights"),
        ([], "allocation_empty"),
        ([1, -1], "allocation_negative_weight"),
        ([Decimal("-0.5"), 2], "allocation_negative_weight"),
    ],
)
def test_weights_that_cannot_share_are_refused(weights, code):
    with pytest.raises(AllocationError) as caught:
        split_by_weights(kwd("1"), weights)
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == code


@pytest.mark.parametrize("weights", [[0.5, 0.5], [1, 2.0], [True, 1], ["1", "2"], "12", [None], [Fraction(1, 3)]])
def test_weights_are_ints_or_decimals_only(weights):
    with pytest.raises(TypeError):
        split_by_weights(kwd("1"), weights)


@PROPERTY
@given(weights=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=5))
def test_no_float_weight_is_ever_accepted(weights):
    with pytest.raises(TypeError):
        split_by_weights(kwd("1"), weights)
    with pytest.raises(TypeError):
        split_by_amounts(kwd("1"), weights)


def test_total_must_be_money():
    with pytest.raises(TypeError):
        split_by_weights(Decimal("1.000"), [1, 1])
    with pytest.raises(TypeError):
        split_by_amounts(Decimal("1.000"), [Decimal("1.000")])
    with pytest.raises(TypeError):
        split_evenly(kwd("1"), 2.0)
    with pytest.raises(AllocationError):
        split_evenly(kwd("1"), 0)


def test_split_by_amounts():
    assert split_by_amounts(kwd("1"), ["0.600", Decimal("0.4")]) == [kwd("0.600"), kwd("0.400")]
    assert split_by_amounts(kwd("1"), [kwd("1"), 0]) == [kwd("1"), kwd("0")]
    assert split_by_amounts(kwd("-1"), [kwd("-0.25"), "-0.75"]) == [kwd("-0.25"), kwd("-0.75")]
    assert split_by_amounts(kwd("0"), ["0"]) == [kwd("0")]


def test_split_by_amounts_refusals():
    with pytest.raises(AllocationError) as caught:
        split_by_amounts(kwd("1"), ["0.5", "0.4"])
    assert caught.value.code == "allocation_sum_mismatch"
    assert "0.900" in caught.value.message and "-0.100" in caught.value.message
    with pytest.raises(AllocationError) as caught:
        split_by_amounts(kwd("1"), ["1.5", "-0.5"])
    assert caught.value.code == "allocation_sign"
    with pytest.raises(AllocationError) as caught:
        split_by_amounts(kwd("0"), ["1", "-1"])
    assert caught.value.code == "allocation_sign"
    with pytest.raises(AllocationError) as caught:
        split_by_amounts(kwd("1"), [])
    assert caught.value.code == "allocation_empty"
    with pytest.raises(CurrencyMismatch):
        split_by_amounts(kwd("1"), [Money.of("1", "USD")])
    with pytest.raises(TooManyDecimals):
        split_by_amounts(kwd("1"), ["0.9995", "0.0005"])
