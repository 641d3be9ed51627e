"""NPS: a score's category and the NPS of a set of responses with its 95% margin of error, exactly as
docs/metrics.md defines them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from math import sqrt
from typing import Any

CATEGORIES = ("promoter", "passive", "detractor")
PROMOTER_MIN = 9  # 9-10
PASSIVE_MIN = 7  # 7-8; 0-6 is a detractor
LOW_SAMPLE = 30
_SCORES = frozenset(range(11))


def classify(score: int | Decimal) -> str:
    """Promoter 9-10, passive 7-8, detractor 0-6; ValueError for anything that is not a score (a whole number
    from 0 to 10; DynamoDB gives numbers as Decimal)."""
    if isinstance(score, bool) or not isinstance(score, int | Decimal) or score not in _SCORES:
        raise ValueError(f"not a score from 0 to 10: {score!r}")
    if score >= PROMOTER_MIN:
        return "promoter"
    if score >= PASSIVE_MIN:
        return "passive"
    return "detractor"


def category_of_mean(total: int, count: int) -> str:
    """The category of the mean score total/count, compared exactly (in integers)."""
    if total >= PROMOTER_MIN * count:
        return "promoter"
    if total >= PASSIVE_MIN * count:
        return "passive"
    return "detractor"


def counts_of(scores: Iterable[int]) -> tuple[int, int, int]:
    """(promoters, passives, detractors) of these scores."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for score in scores:
        counts[classify(score)] += 1
    return counts["promoter"], counts["passive"], counts["detractor"]


def nps_summary(promoters: int, passives: int, detractors: int) -> dict[str, Any]:
    """The NPS fields of docs/metrics.md for these counts; nps and moe95 rounded to 2 decimals, null when n = 0."""
    if min(promoters, passives, detractors) < 0:
        raise ValueError("counts cannot be negative")
    n = promoters + passives + detractors
    nps = moe95 = None
    if n:
        nps = round(100 * (promoters - detractors) / n, 2)
        # v / n = ((P + D) / n - ((P - D) / n)^2) / n, kept in integers until the end so it is never negative.
        spread = (promoters + detractors) * n - (promoters - detractors) ** 2
        moe95 = round(196 * sqrt(spread / n**3), 2)
    return {
        "nps": nps,
        "moe95": moe95,
        "n": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "low_sample": n < LOW_SAMPLE,
    }
