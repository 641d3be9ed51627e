"""An account's health from its contacts' latest answers: at risk, gray zone, safe or unrated (docs/metrics.md)."""

from __future__ import annotations

HEALTH = ("safe", "gray_zone", "at_risk", "unrated")
DEFAULT_HEALTH_THRESHOLDS = (-20, 30)


def health_of(
    promoters: int, detractors: int, n: int, thresholds: tuple[float, float] = DEFAULT_HEALTH_THRESHOLDS
) -> str:
    """at_risk when account NPS <= low, safe when >= high, gray_zone between, unrated with no responses."""
    if n == 0:
        return "unrated"
    low, high = thresholds
    points = 100 * (promoters - detractors)  # account NPS times n, so the comparison is exact
    if points <= low * n:
        return "at_risk"
    if points >= high * n:
        return "safe"
    return "gray_zone"
