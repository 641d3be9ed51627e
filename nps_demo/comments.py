"""A response's comment, its theme and its drivers, drawn from the demo's vocabulary."""

from __future__ import annotations

import random

from nps_demo.draws import cumulative, pick, weighted
from nps_demo.surveys import SURVEYS, THEME_DRIVER
from nps_demo.vocabulary import (
    COMPLAINTS,
    DETRACTOR_OPENERS,
    PASSIVE_JOINERS,
    PASSIVE_OPENERS,
    PRAISE,
    PROMOTER_OPENERS,
    THEME_WEIGHTS,
    THEMES,
)

_THEME_CUM = {survey: cumulative(weights) for survey, weights in THEME_WEIGHTS.items()}
_DRIVERS = {spec["key"]: spec["drivers"] for spec in SURVEYS}


def theme_of(rng: random.Random, survey: str, pain_theme: int | None = None) -> str:
    """A comment's theme: the survey's usual ones, or (for complaints) often the account's own pain point."""
    if pain_theme is not None and rng.random() < 0.4:
        return THEMES[pain_theme]
    return THEMES[weighted(rng, _THEME_CUM[survey])]


def comment_for(rng: random.Random, survey: str, score: int, pain_theme: int) -> tuple[str, str | None]:
    """A comment (often empty) and its main theme; promoters praise, detractors complain, passives do both."""
    if score >= 9:
        if rng.random() >= 0.4:
            return "", None
        theme = theme_of(rng, survey)
        text = pick(rng, PROMOTER_OPENERS) + pick(rng, PRAISE[theme])
        if rng.random() < 0.3:
            other = pick(rng, THEMES)
            if other != theme:
                text += " " + pick(rng, PRAISE[other])
        return text, theme
    if score >= 7:
        if rng.random() >= 0.35:
            return "", None
        good = theme_of(rng, survey)
        bad = theme_of(rng, survey, pain_theme)
        if bad == good or rng.random() < 0.3:
            return pick(rng, PASSIVE_OPENERS) + pick(rng, PRAISE[good]), good
        joiner = pick(rng, PASSIVE_JOINERS)
        return pick(rng, PRAISE[good]) + joiner + _lower_first(pick(rng, COMPLAINTS[bad])), bad
    if rng.random() >= 0.6:
        return "", None
    theme = theme_of(rng, survey, pain_theme)
    opener = pick(rng, DETRACTOR_OPENERS)
    complaint = pick(rng, COMPLAINTS[theme])
    text = opener + (_lower_first(complaint) if opener.endswith(", ") else complaint)
    if rng.random() < 0.35:
        other = pick(rng, THEMES)
        if other != theme:
            text += " " + pick(rng, COMPLAINTS[other])
    return text, theme


def _lower_first(sentence: str) -> str:
    return sentence if sentence.startswith("I ") else sentence[0].lower() + sentence[1:]


def drivers_for(rng: random.Random, survey: str, theme: str | None) -> list[str]:
    """Most respondents tick the driver of what they wrote about, some one more; a third tick none."""
    if rng.random() >= 0.65:
        return []
    options = _DRIVERS[survey]
    chosen = {THEME_DRIVER[survey].get(theme) or pick(rng, options)} if theme else {pick(rng, options)}
    if rng.random() < 0.3:
        chosen.add(pick(rng, options))
    return [d for d in options if d in chosen]
