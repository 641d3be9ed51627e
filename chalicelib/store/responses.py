"""Writing and reading responses. Capture is one conditional UpdateItem: no read, and the version it
returns tells a first answer (201) from a later change (200)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.errors import Conflict, Gone, Malformed
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


def to_export(r: Response) -> dict:
    return {
        "response_id": r.response_id,
        "survey_id": r.survey_id,
        "score": int(r.score),
        "comment": None if r.erased else r.comment,
        "drivers": list(r.drivers or []),
        "channel": r.channel,
        "submitted_at": r.first_submitted_at.isoformat().replace("+00:00", "Z"),
        "updated_at": r.submitted_at.isoformat().replace("+00:00", "Z"),
        "contact_id": r.contact_id,
        "account_id": r.account_id,
        "invitation_id": r.invitation_id,
        "external_id": r.external_id,
        "touchpoint": r.touchpoint,
    }


def month_bounds(month: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def start_key(cursor_key, names: tuple[str, ...], fixed: dict[str, str] | None = None) -> dict | None:
    """A DynamoDB ExclusiveStartKey taken from a client's cursor, checked to be one this table or index could
    have given out (string attributes `names`, those in `fixed` with that value): DynamoDB answers any other
    with a ValidationException, which must be a 400 and not a 500."""
    if cursor_key is None:
        return None
    refused = Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    if not isinstance(cursor_key, dict) or set(cursor_key) != set(names):
        raise refused
    for name, value in cursor_key.items():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
                and 0 < len(value["S"]) <= 1024):
            raise refused
        if fixed and name in fixed and value["S"] != fixed[name]:
            raise refused
    return cursor_key


def export_page(survey_id: str | None, month: str | None, limit: int, cursor: dict | None):
    """One page of responses and the cursor for the next (None at the end)."""
    bind()
    cursor = cursor or {}
    # A month cursor carries its month and a shard number beside the key; any other cursor only the key.
    month_mode = bool(month and not survey_id)
    if set(cursor) - ({"m", "s", "k"} if month_mode else {"k"}) or (month_mode and cursor and cursor.get("m") != month):
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    if survey_id:
        condition = None
        if month:
            start, end = month_bounds(month)
            condition = Response.first_submitted_at.between(start, end - timedelta(microseconds=1))
        lek = start_key(cursor.get("k"), ("response_id", "survey_id", "first_submitted_at"), {"survey_id": survey_id})
        result = Response.by_survey.query(survey_id, range_key_condition=condition, limit=limit, last_evaluated_key=lek)
        items = list(result)
        return items, ({"k": result.last_evaluated_key} if result.last_evaluated_key else None)
    if month:
        shards = month_shards(month)
        shard = cursor.get("s", 0)
        if isinstance(shard, bool) or not isinstance(shard, int) or not 0 <= shard < len(shards):
            raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
        lek = start_key(cursor.get("k"), ("response_id", "month_shard"), {"month_shard": shards[shard]})
        items: list[Response] = []
        while shard < len(shards) and len(items) < limit:
            result = Response.by_month.query(shards[shard], limit=limit - len(items), last_evaluated_key=lek)
            items.extend(result)
            lek = result.last_evaluated_key
            if lek is None:
                shard += 1
        nxt = {"m": month, "s": shard, "k": lek} if shard < len(shards) else None
        return items, nxt
    result = Response.scan(limit=limit, last_evaluated_key=start_key(cursor.get("k"), ("response_id",)))
    items = list(result)
    return items, ({"k": result.last_evaluated_key} if result.last_evaluated_key else None)
