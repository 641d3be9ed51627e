"""Writing and reading responses. Capture is one conditional UpdateItem: no read, and the version it
returns tells a first answer (201) from a later change (200)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.errors import Conflict, Gone
from chalicelib.store.models import Response, bind

MONTH_SHARDS = 4


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def shard_of(response_id: str) -> int:
    return int(hashlib.sha256(response_id.encode()).hexdigest()[:8], 16) % MONTH_SHARDS


def month_shards(month: str) -> list[str]:
    return [f"{month}#{k}" for k in range(MONTH_SHARDS)]


def _condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def record_answer(
    *,
    response_id: str,
    survey_id: str,
    channel: str,
    answer: dict,
    now: datetime,
    touchpoint: str | None,
    invitation_id: str | None = None,
    contact_id: str | None = None,
    account_id: str | None = None,
    page: str | None = None,
) -> tuple[Response, bool]:
    """Create or update the response in one conditional write; return it and whether it was created.

    Last write wins for score, comment and drivers; the first submission time (and so the month) stays.
    An erased response is never written to again.
    """
    bind()
    month = month_of(now)
    item = Response(response_id)
    actions = [
        Response.survey_id.set(survey_id),
        Response.score.set(answer["score"]),
        Response.channel.set(Response.channel | channel),
        Response.submitted_at.set(now),
        Response.first_submitted_at.set(Response.first_submitted_at | now),
        Response.month.set(Response.month | month),
        Response.month_shard.set(Response.month_shard | f"{month}#{shard_of(response_id)}"),
        Response.version.add(1),
    ]
    # Absent keeps what an earlier answer said (the page first posts the score alone); present replaces it,
    # and present but empty clears it.
    if "comment" in answer:
        actions.append(Response.comment.set(answer["comment"]) if answer["comment"] else Response.comment.remove())
    if "drivers" in answer:
        actions.append(Response.drivers.set(answer["drivers"]) if answer["drivers"] else Response.drivers.remove())
    for attr, value in (
        (Response.touchpoint, touchpoint),
        (Response.invitation_id, invitation_id),
        (Response.contact_id, contact_id),
        (Response.account_id, account_id),
        (Response.page, page),
    ):
        if value is not None:
            actions.append(attr.set(value))
    condition = Response.response_id.does_not_exist() | (
        Response.erased.does_not_exist() & (Response.survey_id == survey_id)
    )
    try:
        item.update(actions=actions, condition=condition, add_version_condition=False)
    except UpdateError as error:
        if _condition_failed(error):
            raise Gone("This response can no longer be changed.", code="response_closed") from None
        raise
    return item, int(item.version) == 1


def create_once(
    *, response_id: str, survey_id: str, channel: str, answer: dict, now: datetime, touchpoint: str | None,
    contact_id: str | None, account_id: str | None, page: str | None,
) -> bool:
    """Put a new response unless one with this id exists (idempotent retries); True when created."""
    bind()
    month = month_of(now)
    item = Response(
        response_id,
        survey_id=survey_id,
        score=answer["score"],
        comment=answer.get("comment"),
        drivers=answer.get("drivers") or None,
        channel=channel,
        touchpoint=touchpoint,
        contact_id=contact_id,
        account_id=account_id,
        page=page,
        first_submitted_at=now,
        submitted_at=now,
        month=month,
        month_shard=f"{month}#{shard_of(response_id)}",
        version=1,
    )
    try:
        item.save(condition=Response.response_id.does_not_exist(), add_version_condition=False)
    except PutError as error:
        if _condition_failed(error):
            return False
        raise Conflict("The response could not be stored.") from error
    return True
