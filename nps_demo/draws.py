"""Seeded draws for the demo: a pick, a normal deviate from a fixed table, a weighted choice."""

from __future__ import annotations

import random
from statistics import NormalDist


def pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


# Standard normal quantiles at evenly spaced probabilities: a table lookup per draw is several times faster
# than random.gauss, which matters at 50,000 accounts, and is fine-grained enough for demo noise.
NORMAL_SIZE = 4096
NORMAL = tuple(NormalDist().inv_cdf((i + 0.5) / NORMAL_SIZE) for i in range(NORMAL_SIZE))


def normal(rng: random.Random) -> float:
    return NORMAL[int(rng.random() * NORMAL_SIZE)]


def weighted(rng: random.Random, cumulative: tuple[float, ...]) -> int:
    """Index drawn with cumulative weights (last one = total)."""
    r = rng.random() * cumulative[-1]
    for i, edge in enumerate(cumulative):
        if r < edge:
            return i
    return len(cumulative) - 1


def cumulative(weights) -> tuple[float, ...]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)
