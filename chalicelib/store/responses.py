"""Writing and reading responses. Capture is one conditional write with no read on the happy path: the
version it returns tells a first answer (201) from a later change (200), and only a refused condition costs
one read, to say why.

Statuses (domain/presence.py): a gesture, a form, the API and the widget write `counted`; a one-click score
page left open without a gesture writes `pending` with its page view, and the settle job later counts or
excludes it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from chalicelib.domain import presence
from chalicelib.domain.errors import Conflict, Gone
from chalicelib.domain.months import Month
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import Contact, Response

MONTH_SHARDS = 4
PENDING_SHARDS = 4
# A person changes an answer a handful of times; the set of applied submission ids must not grow the item
# without bound for someone replaying fresh ids.
MAX_SUBMISSIONS = 200


def shard_of(response_id: str, shards: int = MONTH_SHARDS) -> int:
    return int(hashlib.sha256(response_id.encode()).hexdigest()[:8], 16) % shards


def month_shards(month: str) -> list[str]:
    return [f"{month}#{k}" for k in range(MONTH_SHARDS)]


def pending_shard_of(response_id: str) -> str:
    return f"pending#{shard_of(response_id, PENDING_SHARDS)}"


def pending_shards() -> list[str]:
    return [f"pending#{k}" for k in range(PENDING_SHARDS)]


def view_entry(view: str, score: int) -> str:
    return f"{view}:{int(score)}"


def views_of(item: Response) -> dict[str, int]:
    """The pending page views of a response, view id -> score."""
    out = {}
    for entry in item.views or ():
        view, _, score = entry.rpartition(":")
        if view and score.isdigit():
            out[view] = int(score)
    return out


@dataclass(frozen=True)
class Recorded:
    """What a capture did: `changed` is False when nothing was written (a replayed submission, a dwell on an
    answer a person already gave)."""

    response_id: str
    score: int
    status: str
    created: bool
    changed: bool = True
    replayed: bool = False


def _answer_actions(response_id, survey_id, channel, answer, now, attributes) -> list[Action]:
    month = str(Month.of(now))
    actions: list[Action] = [
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
    for attr, value in attributes:
        if value is not None:
            actions.append(attr.set(value))
    return actions


def answer_by_link(
    *,
    response_id: str,
    survey_id: str,
    answer: dict,
    now: datetime,
    touchpoint: str | None,
    invitation_id: str | None = None,
    contact_id: str | None = None,
    account_id: str | None = None,
    channel: str = "email",
    signal: str = "gesture",
    view: str | None = None,
    submission: str | None = None,
) -> Recorded:
    """Record an invitation's answer in one conditional UpdateItem.

    `gesture` (also forms and the API): last write wins, counted at once. `dwell`: the score of a page left
    open without a gesture, kept `pending` with its page view; it never touches an answer a person gave
    (counted) and never grows past presence.MAX_VIEWS views. A submission id already applied changes nothing.
    An erased response is never written to again (410).
    """
    item = Response(response_id)
    actions = _answer_actions(
        response_id,
        survey_id,
        channel,
        answer,
        now,
        (
            (Response.touchpoint, touchpoint),
            (Response.invitation_id, invitation_id),
            (Response.contact_id, contact_id),
            (Response.account_id, account_id),
        ),
    )
    open_answer = Response.erased.does_not_exist() & (Response.survey_id == survey_id)
    if signal == "dwell":
        if view is None:
            raise ValueError("a dwell answer needs its page view id")  # answers.link_answer requires it
        entry = view_entry(view, answer["score"])
        actions += [
            Response.status.set(presence.PENDING),
            Response.excluded_reason.remove(),
            Response.pending_shard.set(pending_shard_of(response_id)),
            Response.pending_at.set(now),
            Response.views.add({entry}),
        ]
        unconfirmed = (Response.status == presence.PENDING) | (
            (Response.status == presence.EXCLUDED) & (Response.excluded_reason == presence.SUSPECTED_SCANNER)
        )
        bounded = (
            Response.views.does_not_exist()
            | (size(Response.views) < presence.MAX_VIEWS)
            | Response.views.contains(entry)
        )
        condition = Response.response_id.does_not_exist() | (open_answer & unconfirmed & bounded)
    else:
        actions += [
            Response.status.set(presence.COUNTED),
            Response.excluded_reason.remove(),
            Response.pending_shard.remove(),
            Response.pending_at.remove(),
            Response.views.remove(),
        ]
        condition = Response.response_id.does_not_exist() | open_answer
        if submission:
            condition = condition & (
                Response.submissions.does_not_exist() | (size(Response.submissions) < MAX_SUBMISSIONS)
            )
    if submission:
        actions.append(Response.submissions.add({submission}))
        condition = condition & ~Response.submissions.contains(submission)
    try:
        item.update(actions=actions, condition=condition, add_version_condition=False)
    except UpdateError as error:
        if condition_failed(error):
            return _why_refused(response_id, survey_id, signal, submission)
        raise
    return Recorded(response_id, int(item.score), presence.status_of(item.status), int(item.version) == 1)


def _why_refused(response_id: str, survey_id: str, signal: str, submission: str | None) -> Recorded:
    """The one read a refused capture costs: tell a replay or an answer already given from a closed one."""
    try:
        stored = Response.get(response_id, consistent_read=True)
    except Response.DoesNotExist:
        stored = None
    if stored is None or stored.erased or stored.survey_id != survey_id or stored.score is None:
        raise Gone("This response can no longer be changed.", code="response_closed")
    status = presence.status_of(stored.status)
    unchanged = Recorded(response_id, int(stored.score), status, created=False, changed=False)
    if submission and submission in (stored.submissions or ()):
        return Recorded(response_id, int(stored.score), status, created=False, changed=False, replayed=True)
    if signal == "dwell":
        # A person already answered (counted), or the views are full: the dwell adds nothing.
        return unchanged
    if len(stored.submissions or ()) >= MAX_SUBMISSIONS:
        raise Conflict("This answer has been changed too many times.", code="too_many_changes")
    raise Conflict("The response changed meanwhile; send the answer again.", code="concurrent_change")


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
    """A counted answer written as an email link's gesture would write it; the item and whether it was new.
    Last write wins for score, comment and drivers; the first submission time (and so the month) stays."""
    recorded = answer_by_link(
        response_id=response_id,
        survey_id=survey_id,
        channel=channel,
        answer=answer,
        now=now,
        touchpoint=touchpoint,
        invitation_id=invitation_id,
        contact_id=contact_id,
        account_id=account_id,
    )
    if page is not None:
        Response(response_id).update(actions=[Response.page.set(page)], add_version_condition=False)
    return Response.get(response_id, consistent_read=True), recorded.created


# ---- widget and API ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WidgetWrite:
    created: bool
    updated: bool = False


def _transact():
    from pynamodb.transactions import TransactWrite

    # The responses model's own connection: one botocore client per process, not one per answer.
    return TransactWrite(connection=Response._get_connection().connection)


def _cancelled_at(error: TransactWriteError) -> list[bool]:
    """For each item of a cancelled transaction, whether its condition failed."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [bool(r) and r.code == "ConditionalCheckFailed" for r in reasons]


def _person_not_erased():
    # A contact the directory does not know passes: the check is against an empty item.
    return Contact.erased_at.does_not_exist()


def create_once(
    *,
    response_id: str,
    survey_id: str,
    channel: str,
    answer: dict,
    now: datetime,
    touchpoint: str | None,
    contact_id: str | None,
    account_id: str | None,
    page: str | None,
    status: str = presence.COUNTED,
    excluded_reason: str | None = None,
) -> WidgetWrite:
    """Put a new response unless one with this id exists (idempotent retries).

    With a contact (a signed identity), the put is a transaction with a check that the person was not erased
    (410 contact_erased). A retry with the same id that brings the comment or drivers the stored answer
    lacks, for the same score, adds them once (`updated`); anything else changes nothing.
    """
    month = str(Month.of(now))
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
        status=status,
        excluded_reason=excluded_reason,
    )
    new = Response.response_id.does_not_exist()
    try:
        if contact_id is None:
            item.save(condition=new, add_version_condition=False)
        else:
            with _transact() as transaction:
                transaction.condition_check(Contact, contact_id, condition=_person_not_erased())
                transaction.save(item, condition=new)
    except PutError as error:
        if not condition_failed(error):
            raise Conflict("The response could not be stored.") from error
    except TransactWriteError as error:
        failed = _cancelled_at(error)
        if failed[:1] == [True]:
            raise Gone("This person's data was erased; no new answers are kept.", code="contact_erased") from None
        if failed[1:2] != [True]:
            raise Conflict("The response could not be stored.") from error
    else:
        return WidgetWrite(created=True)
    return WidgetWrite(created=False, updated=_add_follow_up(response_id, survey_id, answer, now, contact_id))


def _add_follow_up(response_id: str, survey_id: str, answer: dict, now: datetime, contact_id: str | None) -> bool:
    """The widget's comment after its score: one conditional update that adds what the answer lacks."""
    comment, drivers = answer.get("comment"), answer.get("drivers")
    if not comment and not drivers:
        return False
    actions: list[Action] = [Response.submitted_at.set(now), Response.version.add(1)]
    condition = (
        Response.response_id.exists()
        & Response.erased.does_not_exist()
        & (Response.survey_id == survey_id)
        & (Response.score == answer["score"])
        & ((Response.contact_id == contact_id) if contact_id else Response.contact_id.does_not_exist())
    )
    if comment:
        actions.append(Response.comment.set(comment))
        condition = condition & Response.comment.does_not_exist()
    if drivers:
        actions.append(Response.drivers.set(drivers))
        condition = condition & Response.drivers.does_not_exist()
    try:
        if contact_id is None:
            Response(response_id).update(actions=actions, condition=condition, add_version_condition=False)
        else:
            with _transact() as transaction:
                transaction.condition_check(Contact, contact_id, condition=_person_not_erased())
                transaction.update(Response(response_id), actions=actions, condition=condition)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    except TransactWriteError as error:
        failed = _cancelled_at(error)
        if failed[:1] == [True]:
            raise Gone("This person's data was erased; no new answers are kept.", code="contact_erased") from None
        if failed[1:2] == [True]:
            return False
        raise
    return True


# ---- settlement ------------------------------------------------------------------------------------------


def pending_keys(shard: str, quiet_since: datetime):
    """Ids of the pending responses of one shard whose last page view is at or before `quiet_since`. The
    index is eventually consistent: callers re-read each item."""
    for key in Response.by_pending.query(shard, Response.pending_at <= quiet_since):
        yield key.response_id


def read_consistent(response_ids: list[str]) -> list[Response]:
    return list(Response.batch_get(response_ids, consistent_read=True))


def settle(item: Response, settlement: presence.Settlement) -> bool:
    """Write a settlement on the version read, and only while still pending: a gesture in between wins and a
    second run changes nothing. True when written."""
    actions: list[Action] = [
        Response.status.set(settlement.status),
        Response.pending_shard.remove(),
        Response.pending_at.remove(),
        Response.version.add(1),
    ]
    if settlement.status == presence.COUNTED:
        actions += [Response.excluded_reason.remove(), Response.views.remove()]
    elif settlement.excluded_reason is not None:
        actions.append(Response.excluded_reason.set(settlement.excluded_reason))
    condition = (Response.version == item.version) & (Response.status == presence.PENDING)
    try:
        Response(item.response_id).update(actions=actions, condition=condition, add_version_condition=False)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True
