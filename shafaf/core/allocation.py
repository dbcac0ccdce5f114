"""Splitting an amount into parts without gaining or losing a minor unit (DESIGN.md §4, "allocation").

``split_by_weights`` shares a total by weights (shares, percentages, head counts) with the largest
remainder method: every part is its exact share rounded toward zero, and the minor units still
missing go, one each, to the parts with the largest remainders (ties to the earlier part). Hence:

* the parts always sum exactly to the total;
* each part is within one minor unit of its exact share ``total * w / sum(weights)``
  (it is the exact share rounded down or up);
* a zero weight gets exactly zero;
* the result depends only on the inputs and their order: give the parts in a stable order
  (by project id, say) to get the same split every time;
* a negative total (a refund) is split as the mirror of the positive one, so
  ``split_by_weights(-t, w) == [-p for p in split_by_weights(t, w)]`` and a refund undoes an
  allocation exactly.

``split_by_amounts`` checks an allocation given as amounts: they must be in the total's currency, of
the total's sign, and sum exactly to it. ``split_evenly`` is equal weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from math import lcm

from shafaf.core.exceptions import DomainError
from shafaf.core.money import Money, _, _number_ratio, format_amount, sum_money

__all__ = ["AllocationError", "split_by_amounts", "split_by_weights", "split_evenly"]


class AllocationError(DomainError):
    """The parts of an allocation cannot be made from what was given."""

    def __init__(self, message, *, code: str = "invalid_allocation", fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)


def _integer_weights(weights: Sequence[int | Decimal]) -> list[int]:
    """The weights scaled to integers with the same proportions (exactly: Decimals have power-of-ten
    denominators). Floats and bools raise TypeError; negative weights and no weights are refused."""
    if isinstance(weights, str | bytes):
        raise TypeError("weights must be a sequence of ints or Decimals")
    ratios = [_number_ratio(weight, "weight") for weight in weights]
    if not ratios:
        raise AllocationError(_("There is nothing to allocate to."), code="allocation_empty")
    if any(num < 0 for num, _den in ratios):
        raise AllocationError(_("A share cannot be negative."), code="allocation_negative_weight")
    common = lcm(*(den for _num, den in ratios))
    scaled = [num * (common // den) for num, den in ratios]
    if not any(scaled):
        raise AllocationError(_("At least one share must be more than zero."), code="allocation_zero_weights")
    return scaled


def split_by_weights(total: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """``total`` split in proportion to ``weights`` (ints or Decimals, zero allowed, not all zero),
    one part per weight in the same order, by largest remainder; see the module's documentation."""
    if not isinstance(total, Money):
        raise TypeError(f"total must be Money, not {type(total).__name__}")
    scaled = _integer_weights(weights)
    whole = sum(scaled)
    magnitude = abs(total.minor)
    parts: list[int] = []
    remainders: list[int] = []
    for weight in scaled:
        part, remainder = divmod(magnitude * weight, whole)
        parts.append(part)
        remainders.append(remainder)
    missing = magnitude - sum(parts)  # 0 <= missing < number of parts with a remainder
    for index in sorted(range(len(parts)), key=lambda i: (-remainders[i], i))[:missing]:
        parts[index] += 1
    sign = -1 if total.minor < 0 else 1
    return [Money(sign * part, total.currency) for part in parts]


def split_evenly(total: Money, count: int) -> list[Money]:
    """``total`` in ``count`` parts that differ by at most one minor unit, the larger ones first."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError("count must be an int")
    if count < 1:
        raise AllocationError(_("There is nothing to allocate to."), code="allocation_empty")
    return split_by_weights(total, [1] * count)


def split_by_amounts(total: Money, amounts: Sequence[Money | Decimal | int | str]) -> list[Money]:
    """An allocation given as amounts, checked and returned as Money in the same order.

    Each amount is Money in the total's currency, or a major-unit amount (Decimal, int or str, as for
    ``Money.of``) read in that currency. The amounts must sum exactly to ``total`` (otherwise
    ``AllocationError`` with code ``allocation_sum_mismatch`` says by how much) and none may have the
    opposite sign of the total: a donation is allocated in positive parts, a refund in negative ones.
    Zero parts are allowed.
    """
    if not isinstance(total, Money):
        raise TypeError(f"total must be Money, not {type(total).__name__}")
    if isinstance(amounts, str | bytes):
        raise TypeError("amounts must be a sequence")
    amounts = list(amounts)
    if not amounts:
        raise AllocationError(_("There is nothing to allocate to."), code="allocation_empty")
    parts = [amount if isinstance(amount, Money) else Money.of(amount, total.currency) for amount in amounts]
    allocated = sum_money(parts, total.currency)  # CurrencyMismatch for a part in another currency
    if allocated != total:
        raise AllocationError(
            _("The parts add up to %(allocated)s, not %(total)s (difference %(difference)s).")
            % {
                "allocated": format_amount(allocated),
                "total": format_amount(total),
                "difference": format_amount(allocated - total),
            },
            code="allocation_sum_mismatch",
        )
    if any(part.minor * total.minor < 0 or (total.minor == 0 and part.minor) for part in parts):
        raise AllocationError(
            _("Every part must have the sign of the total (%(total)s).") % {"total": format_amount(total)},
            code="allocation_sign",
        )
    return parts
