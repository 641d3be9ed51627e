"""Response facts: what the stream derived from each response. A fact is written only when the response
version it comes from is newer than the stored one, so it is both the derived state and the record of what
was already processed."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import ResponseFact


def save_if_newer(fact: dict) -> bool:
    """Write the fact unless one for this version or a later one exists; True when written."""
    item = ResponseFact(**fact)
    condition = ResponseFact.response_id.does_not_exist() | (ResponseFact.version < fact["version"])
    try:
        item.save(condition=condition, add_version_condition=False)
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def delete(response_id: str) -> None:
    ResponseFact(response_id).delete(add_version_condition=False)


def delete_if_older(response_id: str, version: int | None) -> bool:
    """Remove the fact of a response that is no longer counted, unless the fact comes from this version or a
    later one (a redelivered older record must not undo a newer count); True when a fact was removed."""
    condition = ResponseFact.response_id.exists()
    if version is not None:
        condition &= ResponseFact.version < version
    try:
        ResponseFact(response_id).delete(condition=condition, add_version_condition=False)
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    return True
