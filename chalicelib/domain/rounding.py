"""How the monthly figures are rounded: ratios are fractions to 6 decimals (null with a zero denominator),
money to 2."""

from __future__ import annotations


def ratio(numerator: float, denominator: float, digits: int = 6) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def money(value: float) -> float:
    return round(value, 2)
