"""Budget against spending, exactly: the one definition of "beyond a threshold" and "approaching it" that the
roll-ups, the deviation workflow, the pages and the exports all use. Integers only (minor units, basis points).

With a budget B, spending S and a threshold of T basis points, the spending is beyond the threshold when
S × 10000 > B × (10000 + T): 10 % over a line with a 10 % threshold is within, one minor unit more is beyond.
Spending on a line or project with no budget (B = 0, S > 0) is always beyond. A warning shows from
B × (10000 + T × W / 100) on, W being the ministry's "warn at" percentage of the threshold, and also as soon as
a line is fully spent (S ≥ B), so the charity is told before the threshold is crossed, not only after.
Under-spending is variance, never a deviation: a project that has not spent yet is not at fault.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass

from shafaf.core.money import round_ratio

BP = 10000  # basis points in one whole

WITHIN = "within"
WARNING = "warning"
BEYOND = "beyond"


def ratio_bp(spent: int, budget: int) -> int | None:
    """spent / budget in basis points, rounded half-even; None when there is no budget."""
    if budget <= 0:
        return None
    return round_ratio(spent * BP, budget, decimal.ROUND_HALF_EVEN)


def is_beyond(spent: int, budget: int, threshold_bp: int) -> bool:
    if budget <= 0:
        return spent > 0
    return spent * BP > budget * (BP + threshold_bp)


def warning_level_bp(threshold_bp: int, warning_percent: int) -> int:
    """The ratio (basis points, rounded down) from which a warning shows."""
    return BP + threshold_bp * warning_percent // 100


def is_warning(spent: int, budget: int, threshold_bp: int, warning_percent: int) -> bool:
    """Approaching the threshold (or fully spent) but not beyond it."""
    if budget <= 0 or is_beyond(spent, budget, threshold_bp):
        return False
    return spent >= budget or spent * BP * 100 >= budget * (BP * 100 + threshold_bp * warning_percent)


def state(spent: int, budget: int, threshold_bp: int, warning_percent: int) -> str:
    if is_beyond(spent, budget, threshold_bp):
        return BEYOND
    if is_warning(spent, budget, threshold_bp, warning_percent):
        return WARNING
    return WITHIN


@dataclass(frozen=True)
class Variance:
    budget: int
    spent: int

    @property
    def difference(self) -> int:
        """Spending minus budget (negative: under budget)."""
        return self.spent - self.budget

    @property
    def ratio_bp(self) -> int | None:
        return ratio_bp(self.spent, self.budget)


def risk(*, budget: int, spent: int, worst_line_bp: int | None, unsettled: int, warning: bool, lines_over: int) -> int:
    """A sortable risk figure for the ministry's portfolio (higher first): deviations awaiting action dominate,
    then how far the project or its worst line is over budget, then lines beyond their threshold, then warnings.
    Spending with no budget at all ranks with the worst."""
    no_budget = budget <= 0 and spent > 0
    over = 10 * BP if no_budget else max(0, max(ratio_bp(spent, budget) or 0, worst_line_bp or 0) - BP)
    return unsettled * 1_000_000 + min(over, 999_999) + lines_over * 1_000 + (500 if warning else 0)
