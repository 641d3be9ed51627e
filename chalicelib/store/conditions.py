"""How DynamoDB says a conditional write was refused: one check for every repository."""

from __future__ import annotations


def condition_failed(error: Exception) -> bool:
    """True when a PynamoDB write failed only because its condition did not hold (a domain outcome)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"
