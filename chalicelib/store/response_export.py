"""Reading responses for the admin routes: the export pages and their cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.errors import Malformed
from chalicelib.store.models import Response, bind
from chalicelib.store.responses import month_shards


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
