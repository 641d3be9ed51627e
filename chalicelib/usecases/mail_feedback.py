"""A bounce or complaint from SES, recorded exactly once: a line in the invitation's delivery history (once per
SES event, however often EventBridge delivers it), and for a permanent bounce or a complaint the contact's
status, so nothing more is sent to them: the sender skips them (reminders included) and invitations skip
them as `bounced` or `complained`."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import mail_feedback, sending
from chalicelib.store import contacts as contact_store
from chalicelib.store import deliveries


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
    if feedback.outcome in ("bounced", "complained"):
        # Also on a repeat: a first delivery that failed between the two writes is completed by the next.
        contact_store.mark(invitation.contact_id, feedback.outcome, now)
    return feedback.outcome if first else "duplicate"
