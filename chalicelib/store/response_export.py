"""Reading responses for the admin routes: one response, and the export pages with their cursors.

Erasure leaves tombstones: items with no score that stand for an unanswered invitation of an erased person, so
that its link answers 410. They are not answers, so no read shows them as one: the export skips them and
`get` refuses them as erased.
"""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Gone, Malformed, NotFound
from chalicelib.domain.months import Month
from chalicelib.store.models import Response, ResponseFact, Survey

REFUSED = "The 'next' cursor is not one this API gave out."


def is_tombstone(r: Response) -> bool:
    return r.score is None


def to_export(r: Response) -> dict:
    return {
        "response_id": r.response_id,
        "survey_id": r.survey_id,
        "score": int(r.score),
        "comment": None if r.erased else r.comment,
        "drivers": list(r.drivers or []),
        "channel": r.channel,
        "submitted_at": timestamp(r.first_submitted_at),
        "updated_at": timestamp(r.submitted_at),
        "contact_id": r.contact_id,
        "account_id": r.account_id,
        "invitation_id": r.invitation_id,
        "external_id": r.external_id,
        "touchpoint": r.touchpoint,
        # Absent on items written before statuses existed (imports, older answers): those were all counted.
        "status": r.status or "counted",
        "excluded_reason": r.excluded_reason,
        "erased": bool(r.erased),
    }


def get(response_id: str) -> Response:
    """One stored response; 404 when there is none, 410 for an erased person's unanswered invitation."""
    try:
        item = Response.get(response_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No response has this id.", code="response_not_found") from None
    if is_tombstone(item):
        raise Gone("This response was erased.", code="response_closed")
    return item


def start_key(cursor_key, names: tuple[str, ...], fixed: dict[str, str] | None = None) -> dict | None:
    """A DynamoDB ExclusiveStartKey taken from a client's cursor, checked to be one this table or index could
    have given out (string attributes `names`, those in `fixed` with that value): DynamoDB answers any other
    with a ValidationException, which must be a 400 and not a 500."""
    if cursor_key is None:
        return None
    refused = Malformed(REFUSED, fields={"next": "invalid"})
    if not isinstance(cursor_key, dict) or set(cursor_key) != set(names):
        raise refused
    for name, value in cursor_key.items():
        if not (
            isinstance(value, dict)
            and set(value) == {"S"}
            and isinstance(value["S"], str)
            and 0 < len(value["S"]) <= 1024
        ):
            raise refused
        if fixed and name in fixed and value["S"] != fixed[name]:
            raise refused
    return cursor_key


def _by_ids(ids: list[str]) -> list[Response]:
    """The responses of these ids, in this order (BatchGetItem answers in any order)."""
    found = {r.response_id: r for r in Response.batch_get(ids)} if ids else {}
    return [found[i] for i in ids if i in found]


SURVEY_KEY = ("response_id", "survey_id", "first_submitted_at")


def _survey_part(survey_id: str, month: str | None, limit: int, lek: dict | None) -> tuple[list[Response], dict | None]:
    """Up to `limit` keys of the survey's responses (in the month), their answered rows (one BatchGetItem per
    100), and the key to go on from (None at the end of the survey's part)."""
    result = Response.by_survey.query(
        survey_id,
        range_key_condition=_month_condition(Response.first_submitted_at, month),
        limit=limit,
        last_evaluated_key=lek,
    )
    ids = [k.response_id for k in result]
    return [r for r in _by_ids(ids) if not is_tombstone(r)], result.last_evaluated_key


def _month_condition(attr, month: str | None):
    if not month:
        return None
    start, end = Month.parse(month).start(), Month.parse(month).end()
    return attr.between(start, end - timedelta(microseconds=1))


def _in_month(r: Response, month: str | None) -> bool:
    return month is None or r.month == month


def export_page(filters: dict, limit: int, cursor: dict | None):
    """One page of responses for the filters (survey_id, month, contact_id, account_id; the route checks which
    combinations are allowed) and the cursor for the next (None at the end). A page may hold fewer than
    `limit` responses when some of those read were filtered out (tombstones, or another survey/month for a
    contact); only `next` being null means the end."""
    cursor = cursor or {}
    survey_id, month = filters.get("survey_id"), filters.get("month")
    contact_id, account_id = filters.get("contact_id"), filters.get("account_id")
    answered = Response.score.exists()
    # A month cursor carries its month and a shard number beside the key; any other cursor only the key.
    month_mode = bool(month and not (survey_id or contact_id or account_id))
    if set(cursor) - ({"m", "s", "k"} if month_mode else {"k"}) or (month_mode and cursor and cursor.get("m") != month):
        raise Malformed(REFUSED, fields={"next": "invalid"})
    if account_id:
        # The facts table holds the stream's record of every counted response, indexed by account (there is
        # no such index on responses): the page's ids come from it, the rows from the responses table.
        lek = start_key(
            cursor.get("k"), ("response_id", "account_id", "first_submitted_at"), {"account_id": account_id}
        )
        result = ResponseFact.by_account.query(
            account_id,
            range_key_condition=_month_condition(ResponseFact.first_submitted_at, month),
            filter_condition=(ResponseFact.survey_id == survey_id) if survey_id else None,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=lek,
            attributes_to_get=["response_id"],
        )
        ids = [f.response_id for f in result]
        items = [r for r in _by_ids(ids) if not is_tombstone(r)]
        return items, ({"k": result.last_evaluated_key} if result.last_evaluated_key else None)
    if contact_id:
        lek = start_key(cursor.get("k"), ("response_id", "contact_id"), {"contact_id": contact_id})
        result = Response.by_contact.query(contact_id, limit=limit, last_evaluated_key=lek)
        ids = [k.response_id for k in result]
        items = [
            r
            for r in _by_ids(ids)
            if not is_tombstone(r)
            and r.contact_id == contact_id
            and _in_month(r, month)
            and (survey_id is None or r.survey_id == survey_id)
        ]
        return items, ({"k": result.last_evaluated_key} if result.last_evaluated_key else None)
    if survey_id:
        lek = start_key(cursor.get("k"), SURVEY_KEY, {"survey_id": survey_id})
        items, lek = _survey_part(survey_id, month, limit, lek)
        return items, ({"k": lek} if lek else None)
    if month:
        # by_survey is keys only and there is no index by month: each survey's part of the month in turn, in
        # survey id order; the cursor names the survey it stopped in.
        at = cursor.get("s")
        if cursor and not (isinstance(at, str) and 0 < len(at) <= 1024):
            raise Malformed(REFUSED, fields={"next": "invalid"})
        surveys = sorted(s.survey_id for s in Survey.scan(attributes_to_get=["survey_id"]))
        if at is not None:
            surveys = [s for s in surveys if s >= at]
        lek = start_key(cursor.get("k"), SURVEY_KEY, {"survey_id": at}) if at in surveys[:1] else None
        items = []
        while surveys and len(items) < limit:
            found, lek = _survey_part(surveys[0], month, limit - len(items), lek)
            items.extend(found)
            if lek is None:
                surveys.pop(0)
        return items, ({"m": month, "s": surveys[0], "k": lek} if surveys else None)
    result = Response.scan(
        filter_condition=answered, limit=limit, last_evaluated_key=start_key(cursor.get("k"), ("response_id",))
    )
    items = list(result)
    return items, ({"k": result.last_evaluated_key} if result.last_evaluated_key else None)
