"""An invitation's emails on its item: the claim that lets one sender send one kind of email once, the state
each attempt leaves, and the delivery history (GET /v1/invitations/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import clock, sending
from chalicelib.domain.clock import timestamp
from chalicelib.store.conditions import updated
from chalicelib.store.models import Invitation, Response

_ATTRIBUTE = {"invitation": "first_email", "reminder_1": "reminder_1", "reminder_2": "reminder_2"}


def _attr(kind: str) -> MapAttribute[str, Any]:
    return getattr(Invitation, _ATTRIBUTE[kind])


def state_of(invitation: Invitation, kind: str) -> dict[str, Any] | None:
    value = getattr(invitation, _ATTRIBUTE[kind])
    return value.as_dict() if value is not None else None


def get(invitation_id: str) -> Invitation | None:
    try:
        return Invitation.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        return None


def _append(entry: dict[str, Any]):
    return Invitation.history.set((Invitation.history | []).append([entry]))


def claim(invitation_id: str, kind: str, now: datetime) -> bool:
    """Take the right to send this kind of email: one conditional write; False when another attempt holds it
    or it is already done (sent, skipped, failed), or the invitation is gone (erased)."""
    attr = _attr(kind)
    stale = timestamp(now - sending.STALE_CLAIM)
    condition = Invitation.invitation_id.exists() & (
        attr.does_not_exist()
        | (attr["state"] == "retry")
        | ((attr["state"] == "sending") & (attr["claimed_at"] < stale))
    )
    return updated(Invitation(invitation_id), [attr.set({"state": "sending", "claimed_at": timestamp(now)})], condition)


def record(
    invitation_id: str,
    kind: str,
    state: dict[str, Any],
    entry: dict[str, Any],
    then: tuple[str, datetime] | None = None,
    *,
    claimed_at: datetime,
) -> bool:
    """Leave an attempt's state and its history line, under the claim taken at `claimed_at` (only the claim's
    holder writes: an attempt whose stale claim another took over records nothing), and plan the email `then`
    names (kind, when), a reminder, in the same write. False when the claim was no longer this attempt's."""
    actions = [_attr(kind).set(state), _append(entry)]
    if then is not None:
        actions += _plan_actions(invitation_id, *then)
    attr = _attr(kind)
    held = (attr["state"] == "sending") & (attr["claimed_at"] == timestamp(claimed_at))
    return updated(Invitation(invitation_id), actions, Invitation.invitation_id.exists() & held)


def note(invitation_id: str, entry: dict[str, Any]) -> None:
    """A history line without a state change (queued, bounced, complained); nothing when the invitation is
    gone."""
    updated(Invitation(invitation_id), [_append(entry)], Invitation.invitation_id.exists())


def answered(invitation_id: str) -> bool:
    """Whether the invitation's link has an answer from a person: counted or pending, not one excluded as a
    scanner's, nor an erasure's tombstone."""
    return answered_at(invitation_id) is not None


def answered_at(invitation_id: str) -> datetime | None:
    """When the invitation's link was first answered by a person (as `answered` counts answers), else None."""
    try:
        response = Response.get(
            clock.stable_id("rsp", invitation_id),
            consistent_read=True,
            attributes_to_get=["erased", "status", "first_submitted_at"],
        )
    except DoesNotExist:
        return None
    if response.erased or response.status == "excluded":
        return None
    return response.first_submitted_at


def note_once(invitation_id: str, key: str, entry: dict[str, Any]) -> bool:
    """A history line recorded once per `key` (an SES event's): False when it was recorded before or the
    invitation is gone."""
    return updated(
        Invitation(invitation_id),
        [_append(entry), Invitation.feedback.add({key})],
        Invitation.invitation_id.exists() & ~Invitation.feedback.contains(key),
    )


SHARDS = 4  # the due-emails index's partitions (a wave of 100,000 spreads its reminders over all of them)


def shard_of(invitation_id: str) -> str:
    return f"due#{int(clock.stable_id('shard', invitation_id)[-6:], 16) % SHARDS}"


def _plan_actions(invitation_id: str, kind: str, at: datetime) -> list:
    return [
        Invitation.email_shard.set(shard_of(invitation_id)),
        Invitation.next_email_at.set(str(timestamp(at))),
        Invitation.next_email_kind.set(kind),
    ]


def due(now: datetime, limit: int) -> list[tuple[str, str, str]]:
    """Planned emails due by `now`, the oldest of each shard first, at most `limit` in all (a run stays short;
    the next run takes the rest): (invitation_id, kind, next_email_at), from the sparse index."""
    out: list[tuple[str, str, str]] = []
    share = max(1, -(-limit // SHARDS))
    for n in range(SHARDS):
        for key in Invitation.by_next_email.query(
            f"due#{n}", range_key_condition=Invitation.next_email_at <= timestamp(now), limit=share
        ):
            out.append((key.invitation_id, str(key.next_email_kind), str(key.next_email_at)))
    return out[:limit]


def taken(invitation_id: str, kind: str, at: str, now: datetime) -> bool:
    """Clear a planned email once it is queued (it leaves the index), with a `queued` line; False when the plan
    changed meanwhile or the invitation is gone."""
    return updated(
        Invitation(invitation_id),
        [
            Invitation.email_shard.remove(),
            Invitation.next_email_at.remove(),
            Invitation.next_email_kind.remove(),
            _append(sending.history_entry("queued", kind, now)),
        ],
        (Invitation.next_email_at == at) & (Invitation.next_email_kind == kind),
    )
