"""An invitation's emails on its item: the claim that lets one sender send one kind of email once, the state
each attempt leaves, and the delivery history (GET /v1/invitations/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain import clock, sending
from chalicelib.domain.clock import timestamp
from chalicelib.store.conditions import condition_failed
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
    try:
        Invitation(invitation_id).update(
            actions=[attr.set({"state": "sending", "claimed_at": timestamp(now)})],
            condition=condition,
            add_version_condition=False,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def record(invitation_id: str, kind: str, state: dict[str, Any], entry: dict[str, Any]) -> None:
    """Leave an attempt's state and its history line, under the claim (only the claim's holder writes)."""
    Invitation(invitation_id).update(
        actions=[_attr(kind).set(state), _append(entry)],
        condition=Invitation.invitation_id.exists(),
        add_version_condition=False,
    )


def note(invitation_id: str, entry: dict[str, Any]) -> None:
    """A history line without a state change (queued, bounced, complained); nothing when the invitation is
    gone."""
    try:
        Invitation(invitation_id).update(
            actions=[_append(entry)], condition=Invitation.invitation_id.exists(), add_version_condition=False
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def answered(invitation_id: str) -> bool:
    """Whether the invitation's link has an answer from a person: counted or pending, not one excluded as a
    scanner's, nor an erasure's tombstone."""
    try:
        response = Response.get(
            clock.stable_id("rsp", invitation_id), consistent_read=True, attributes_to_get=["erased", "status"]
        )
    except DoesNotExist:
        return False
    return not response.erased and response.status != "excluded"


def note_once(invitation_id: str, key: str, entry: dict[str, Any]) -> bool:
    """A history line recorded once per `key` (an SES event's): False when it was recorded before or the
    invitation is gone."""
    try:
        Invitation(invitation_id).update(
            actions=[_append(entry), Invitation.feedback.add({key})],
            condition=Invitation.invitation_id.exists() & ~Invitation.feedback.contains(key),
            add_version_condition=False,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True
