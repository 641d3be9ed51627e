"""A bounce or complaint from SES, recorded exactly once: a line in the invitation's delivery history (once per
SES event, however often EventBridge delivers it), and for a permanent bounce or a complaint the contact's
status, so nothing more is sent to them: the sender skips them (reminders included) and invitations skip
them as `bounced` or `complained`.

A contact marked bounced or complained publishes Contact Bounced or Contact Complained (with a bus), again on
every delivery of the SES event: the id is the contact's, so a consumer keeps one. When the bus still refuses
it, the invocation fails and Lambda delivers the event again."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import events as bus_events
from chalicelib.domain import mail_feedback, sending
from chalicelib.store import contacts as contact_store
from chalicelib.store import deliveries, event_bus


def record(event: object, now: datetime) -> str:
    """What was done: bounced, soft_bounce, complained, duplicate, gone (the invitation was erased) or
    ignored (not an SES bounce or complaint of ours)."""
    feedback = mail_feedback.read(event)
    if feedback is None:
        return "ignored"
    invitation = deliveries.get(feedback.invitation_id)
    if invitation is None:
        return "gone"
    entry = sending.history_entry(
        feedback.outcome, feedback.kind, now, message_id=feedback.message_id, detail=feedback.detail
    )
    first = deliveries.note_once(feedback.invitation_id, feedback.key, entry)
    # Also on a repeat: a first delivery that failed between the writes (or before its event) is completed by the
    # next. `mark` is False for an erased person, who gets no event.
    stops_mail = feedback.outcome in ("bounced", "complained")
    if stops_mail and contact_store.mark(invitation.contact_id, feedback.outcome, now):
        event = bus_events.contact_event(feedback.outcome, invitation.contact_id, invitation.account_id)
        event_bus.publish_all([event])
    return feedback.outcome if first else "duplicate"
