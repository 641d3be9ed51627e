"""What the stream derives from a response: its category and themes, with nothing that identifies a person
beyond the ids (and not even those once the person was erased). A pure function of the response, so derived
state can be recomputed from scratch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.nps import classify
from chalicelib.domain.themes import themes_of

FACT_FIELDS = (
    "response_id",
    "survey_id",
    "account_id",
    "contact_id",
    "invitation_id",
    "channel",
    "touchpoint",
    "month",
    "month_shard",
    "first_submitted_at",
    "submitted_at",
)


def fact_of(response: Mapping[str, Any], taxonomy: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
    """The fact for one response image (a dict of the Response model's attributes)."""
    score = response["score"]
    if isinstance(score, bool) or int(score) != score or not 0 <= int(score) <= 10:
        raise ValueError("score out of range")
    fact = {field: response.get(field) for field in FACT_FIELDS}
    if response.get("erased"):
        # An erased person's score stays in the metrics, with nothing that leads back to them.
        fact["contact_id"] = fact["invitation_id"] = None
    fact["score"] = int(score)
    fact["category"] = classify(int(score))
    fact["themes"] = [] if response.get("erased") else themes_of(response.get("comment"), taxonomy)
    fact["version"] = int(response.get("version") or 1)
    return fact
