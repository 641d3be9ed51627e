"""How DynamoDB says a conditional write was refused: one check for every repository."""

from __future__ import annotations


def condition_failed(error: Exception) -> bool:
    """True when a PynamoDB write failed only because its condition did not hold (a domain outcome)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def updated(item, actions, condition) -> bool:
    """`item.update(actions, condition)` without PynamoDB's version condition: True when written, False when
    the condition did not hold; any other failure raises."""
    from pynamodb.exceptions import UpdateError

    try:
        item.update(actions=actions, condition=condition, add_version_condition=False)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True
