"""Whether a one-click score came from a person: the pure rules behind pending answers and their settlement.

A score link's page records its score without a click only after the page has been visible for a while (a
"dwell"), and such an answer waits as `pending`. Mail scanners that run the page's script open every score link
of an email, often at once, so one invitation collects several page views with different scores; a person
opens one link (perhaps twice). Settlement counts a pending answer whose views all carry one score, and
excludes the rest as a suspected scanner. A trusted gesture (tap, click, key) always counts at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

COUNTED = "counted"
PENDING = "pending"
EXCLUDED = "excluded"
SUSPECTED_SCANNER = "suspected_scanner"
# One invitation has 11 score links; more views than this is no person and would only grow the item.
MAX_VIEWS = 20


@dataclass(frozen=True)
class Settlement:
    status: str
    excluded_reason: str | None = None


def settle(views: Mapping[str, int] | None) -> Settlement:
    """Counted when every unconfirmed page view chose the same score; excluded as a suspected scanner
    otherwise (several different scores, or no view at all to vouch for the score)."""
    scores = {int(score) for score in (views or {}).values()}
    if len(scores) == 1:
        return Settlement(COUNTED)
    return Settlement(EXCLUDED, SUSPECTED_SCANNER)


def status_of(stored: str | None) -> str:
    """The status of a stored response; items written before statuses existed are counted."""
    return stored or COUNTED
