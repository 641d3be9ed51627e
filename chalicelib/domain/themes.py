"""Themes of a comment from a keyword taxonomy (theme -> keywords), matched as whole words, case-insensitively.

A keyword matches a whole word or phrase of the comment, or that word with a common ending: "price" matches
"prices" and "priced", "charge" matches "charging", "crash" matches "crashes". Words in a phrase may be
separated by spaces or hyphens ("set up" matches "set-up"). A keyword ending in "*" matches any word that starts
with it ("onboard*"). Nothing else is fuzzy: "price" does not match "priceless".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

DEFAULT_TAXONOMY: dict[str, list[str]] = {
    "price": [
        "price",
        "pricing",
        "overpriced",
        "pricey",
        "expensive",
        "cost",
        "cheap",
        "afford",
        "affordable",
        "unaffordable",
        "value for money",
        "worth the money",
        "not worth",
        "discount",
        "budget",
        "too much money",
        "fee",
        "rate increase",
        "price increase",
    ],
    "support": [
        "support",
        "customer service",
        "customer care",
        "help desk",
        "helpdesk",
        "service desk",
        "ticket",
        "agent",
        "support team",
        "response time",
        "responsive",
        "unresponsive",
        "account manager",
        "customer success",
        "csm",
        "representative",
        "no reply",
        "never replied",
        "got back",
        "live chat",
        "escalation",
    ],
    "onboarding": [
        "onboarding",
        "onboard",
        "on-boarding",
        "setup",
        "set up",
        "getting started",
        "get started",
        "implementation",
        "training",
        "tutorial",
        "walkthrough",
        "learning curve",
        "documentation",
        "docs",
        "migration",
        "migrate",
        "kickoff",
        "kick-off",
        "first week",
        "configure",
        "configuration",
    ],
    "product quality": [
        "quality",
        "bug",
        "buggy",
        "broken",
        "defect",
        "glitch",
        "flaw",
        "doesn't work",
        "does not work",
        "didn't work",
        "not working",
        "half-baked",
        "polished",
        "well built",
        "well made",
        "solid product",
        "great product",
        "poor product",
        "sloppy",
        "regression",
    ],
    "reliability": [
        "reliable",
        "reliability",
        "unreliable",
        "outage",
        "downtime",
        "uptime",
        "went down",
        "is down",
        "was down",
        "crash",
        "unstable",
        "stability",
        "stable",
        "lost data",
        "data loss",
        "error",
        "timeout",
        "timed out",
        "slow",
        "sluggish",
        "lag",
        "laggy",
        "latency",
        "performance",
        "freeze",
        "froze",
        "frozen",
        "hangs",
    ],
    "usability": [
        "easy to use",
        "hard to use",
        "difficult to use",
        "ease of use",
        "user friendly",
        "user-friendly",
        "intuitive",
        "unintuitive",
        "counterintuitive",
        "confusing",
        "confused",
        "clunky",
        "complicated",
        "complex",
        "complexity",
        "interface",
        "ui",
        "ux",
        "navigation",
        "navigate",
        "design",
        "layout",
        "usability",
        "usable",
        "unusable",
        "simple",
        "cumbersome",
        "too many clicks",
    ],
    "billing": [
        "billing",
        "bill",
        "invoice",
        "charge",
        "overcharge",
        "double charged",
        "refund",
        "payment",
        "credit card",
        "receipt",
        "subscription",
        "auto-renew",
        "auto renew",
        "renewal",
        "cancel",
        "cancelled",
        "cancellation",
        "tax",
        "vat",
        "proration",
        "prorated",
    ],
    "features": [
        "feature",
        "functionality",
        "capability",
        "missing",
        "lacks",
        "lacking",
        "integration",
        "integrate",
        "roadmap",
        "feature request",
        "wish list",
        "wishlist",
        "wish it had",
        "would be nice",
        "please add",
        "api",
        "export",
        "reporting",
        "dashboard",
        "customization",
        "customizable",
        "customize",
        "automation",
        "workflow",
        "mobile app",
    ],
}

# Endings a keyword may carry and still match; words ending in "e" also match without it ("charging").
_ENDINGS = ("s", "es", "ed", "ing", "er", "ers", "ly", "y", "ness")
_E_ENDINGS = ("ing", "ed", "er", "ers", "able")
_WORD = r"[^\W_]"


def _word_pattern(word: str, last: bool) -> str:
    if last and word.endswith("*"):
        return re.escape(word[:-1]) + _WORD + "*"
    escaped = re.escape(word)
    if not last or not word[-1:].isalpha():
        return escaped
    forms = [escaped + "(?:" + "|".join(_ENDINGS) + ")?"]
    if word.endswith("e") and not word.endswith("ee") and len(word) > 2:
        forms.append(re.escape(word[:-1]) + "(?:" + "|".join(_E_ENDINGS) + ")")
    return "(?:" + "|".join(forms) + ")"


def _keyword_pattern(keyword: str) -> str | None:
    words = [w for w in re.split(r"[\s\-]+", keyword.strip().lower()) if w]
    if not words:
        return None
    return r"[\s\-]+".join(_word_pattern(w, i == len(words) - 1) for i, w in enumerate(words))


@lru_cache(maxsize=64)
def _compiled(frozen: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for theme, keywords in frozen:
        parts = [p for p in map(_keyword_pattern, keywords) if p]
        if parts:
            # Whole words: no letter or digit may touch the match on either side.
            out.append((theme, re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + r")(?![^\W_])", re.IGNORECASE)))
    return tuple(out)


def _freeze(taxonomy: Mapping[str, Iterable[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((str(theme), tuple(str(k) for k in keywords)) for theme, keywords in taxonomy.items()))


def themes_of(comment: str | None, taxonomy: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """The themes whose keywords occur in the comment, sorted and unique; DEFAULT_TAXONOMY when none is given."""
    if not comment or not isinstance(comment, str):
        return []
    patterns = _compiled(_freeze(DEFAULT_TAXONOMY if taxonomy is None else taxonomy))
    comment = comment.replace("\u2019", "'")  # typographic apostrophes, as phones type them
    return sorted({theme for theme, pattern in patterns if pattern.search(comment)})
