"""NPS of a set of responses with its 95% margin of error, exactly as docs/metrics.md defines them."""

from __future__ import annotations

from math import sqrt

from chalicelib.domain.validation import classify

LOW_SAMPLE = 30


def nps_summary(promoters: int, passives: int, detractors: int) -> dict:
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


class NpsTally:
    """Counts promoters, passives and detractors as scores arrive; summary() gives the NPS fields."""

    __slots__ = ("promoters", "passives", "detractors")

    def __init__(self, promoters: int = 0, passives: int = 0, detractors: int = 0) -> None:
        self.promoters = promoters
        self.passives = passives
        self.detractors = detractors

    def add(self, score: int) -> str:
        """Count one score (an integer 0-10) and return its category."""
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValueError(f"not a score from 0 to 10: {score!r}")
        category = classify(score)
        self.add_category(category)
        return category

    def add_category(self, category: str, count: int = 1) -> None:
        if category == "promoter":
            self.promoters += count
        elif category == "passive":
            self.passives += count
        elif category == "detractor":
            self.detractors += count
        else:
            raise ValueError(f"not a category: {category!r}")

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def counts(self) -> tuple[int, int, int]:
        """(promoters, passives, detractors)."""
        return self.promoters, self.passives, self.detractors

    def summary(self) -> dict:
        return nps_summary(self.promoters, self.passives, self.detractors)

    def __repr__(self) -> str:
        return f"NpsTally(promoters={self.promoters}, passives={self.passives}, detractors={self.detractors})"
