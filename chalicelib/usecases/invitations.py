"""Inviting contacts to a survey: the unsubscribed and the recently invited are skipped (domain/invitations.py),
everyone else gets an invitation, written with their contact's stamp in one transaction (store/invitations.py),
and signed links (usecases/survey_links.py). A contact whose transaction loses a race is throttled, not
invited twice. The contact's PII stays in the contacts table; the links carry ids only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib import config
from chalicelib.domain import clock, send_window, sending
from chalicelib.domain import invitations as rules
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Gone, Invalid, Unavailable
from chalicelib.store import contacts as contact_store
from chalicelib.store import deliveries, send_queue
from chalicelib.store import invitations as invitation_store
from chalicelib.store.models import Survey
from chalicelib.usecases import survey_links

# SQS delays a message by up to 15 minutes; an email due later is planned and queued by email_dispatch.
MAX_QUEUE_DELAY = timedelta(minutes=15)


def invite(
    survey: Survey,
    contacts: list[dict[str, Any]],
    now: datetime,
    *,
    send: bool = False,
    send_at: datetime | None = None,
    wave_id: str | None = None,
) -> list[dict[str, Any]]:
    """One result per validated contact, in order: the links for the invited, `skipped` with the reason for
    the rest. A closed survey invites nobody (410). With `send`, the service emails each invitation itself:
    queued now (or with a delay of up to 15 minutes), or planned for `send_at`."""
    if survey.status != "active":
        raise Gone("This survey is closed.", code="survey_closed")
    s = config.settings()
    if send and not s.send_queue_url:
        raise Unavailable("This stack has no send queue: it cannot email invitations.", code="sending_unavailable")
    known = invitation_store.contacts(c["contact_id"] for c in contacts)
    # A contact the directory knows may be named by id alone: its account comes from there.
    missing = {}
    for i, c in enumerate(contacts):
        if not c.get("account_id"):
            stored_account = known[c["contact_id"]].account_id if c["contact_id"] in known else None
            if stored_account:
                c["account_id"] = stored_account
            else:
                missing[f"contacts[{i}].account_id"] = "required (the directory has no account for this contact)"
    if missing:
        raise Invalid("Some contacts have no account.", fields=missing)
    due = max(send_at or now, now)
    queued_now = send and due - now <= MAX_QUEUE_DELAY
    to_queue: list[tuple[str, str, int]] = []
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for c in contacts:
        cid = c["contact_id"]
        stored = known.get(cid)
        read = invitation_store.stamps(stored)
        reason = rules.skip_reason(
            unsubscribed=stored is not None and stored.unsubscribed_at is not None,
            earlier_in_call=cid in seen,
            last_invited=invitation_store.last_invited(read, survey.survey_id),
            throttle_days=int(survey.throttle_days),
            now=now,
            status=contact_store.status(stored) if stored is not None else "active",
            last_invited_any=invitation_store.last_invited_any(read),
            cross_survey_days=s.contact_throttle_days,
        )
        if reason is not None:
            results.append({"contact_id": cid, "skipped": reason})
            continue
        seen.add(cid)
        invitation_id = clock.new_id("inv")
        expires = now + timedelta(days=s.link_ttl_days)
        if send:  # the link lives its days from the first email, and through every reminder
            plan = send_window.reminders_of(survey.reminders.as_dict() if survey.reminders is not None else None)
            expires = due + timedelta(days=s.link_ttl_days + plan.count * plan.after_days)
        written = invitation_store.record(
            invitation_id=invitation_id,
            survey_id=survey.survey_id,
            contact=c,
            read=read,
            now=now,
            expires_at=expires,
            key_id=s.active_link_key,
            email=_email_plan(invitation_id, due) if send else None,
            wave_id=wave_id,
        )
        if not written:  # a racing call stamped the contact first
            results.append({"contact_id": cid, "skipped": "throttled"})
            continue
        links = survey_links.links(
            s,
            invitation_id=invitation_id,
            survey_id=survey.survey_id,
            contact_id=cid,
            account_id=c["account_id"],
            created_at=now,
            expires_at=expires,
            key_id=s.active_link_key,
        )
        result = {"contact_id": cid, "invitation_id": invitation_id, **links, "expires_at": timestamp(expires)}
        if send:
            result["email"] = "queued" if queued_now else "scheduled"
            result["send_at"] = timestamp(due)
            if queued_now:
                to_queue.append((invitation_id, sending.FIRST, int((due - now).total_seconds())))
        results.append(result)
    if to_queue:
        _queue(s, to_queue, due, now)
    return results


def _email_plan(invitation_id: str, due: datetime) -> dict[str, Any]:
    """The first email, planned in the invitation's own write: whatever happens next (a queue that refuses, a
    call that dies before it queues), email_dispatch finds it when due. One queued now leaves the plan."""
    return {
        "send_at": due,
        "email_shard": deliveries.shard_of(invitation_id),
        "next_email_at": timestamp(due),
        "next_email_kind": sending.FIRST,
    }


def _queue(s: Any, emails: list[tuple[str, str, int]], due: datetime, now: datetime) -> None:
    """Queue the emails, and clear the plan of each one queued (with its `queued` line); any the queue
    refuses stay planned, so email_dispatch queues them within minutes. Were a message queued twice (this
    call and the dispatch), the sender's claim would still send it once."""
    refused: set[str] = set()
    try:
        send_queue.enqueue(str(s.send_queue_url), s.region, emails)
    except send_queue.QueueRefused as error:
        refused = set(error.ids)
    at = str(timestamp(due))
    for invitation_id, kind, _ in emails:
        if invitation_id not in refused:
            deliveries.taken(invitation_id, kind, at, now)
