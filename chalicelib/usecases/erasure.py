"""Erasing a person: their PII leaves every table; their scores stay, with nothing that links them back.

Each step is idempotent and the steps run in an order that keeps, until the end, what the next call needs to
find the rest, so a call that fails halfway is finished by calling again:

1. the contact is marked erased and unsubscribed and loses email, name and attributes (from then on capture
   refuses the person's widget identity, and invitations skip them), keeping `invitation_ids`;
2. for each of those invitations: an answered one's response is anonymised (below); an unanswered one gets a
   tombstone response (no score, `erased`, status `excluded`), so its link answers 410 and can create nothing;
   then the invitation item (it holds contact and account ids) is deleted;
3. every response still found under the contact id (widget answers, imports): its task is anonymised first
   (while the response still names the contact, so a failure here is found again), then the response loses
   comment, page, contact_id and invitation_id (a new version: the stream rewrites its fact without them);
4. the contact keeps only contact_id, erased_at and unsubscribed_at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import clock
from chalicelib.store import erasure as erasure_store
from chalicelib.store import tasks as task_store


def erase_contact(contact_id: str, now: datetime) -> dict[str, Any] | None:
    """Erase the person; None when nothing at all is known about them (no contact, no response)."""
    contact = erasure_store.contact(contact_id)
    response_ids = erasure_store.response_ids_of(contact_id)
    if contact is None and not response_ids:
        return None
    # Step 1. Written even for a person known only from responses (an import), so that their widget
    # identity is refused from now on as well.
    erasure_store.mark_erased(contact_id, now)
    responses = tasks = tombstones = invitations = 0
    # Step 2.
    done: set[str] = set()
    invitation_ids = list(contact.invitation_ids or []) if contact is not None else []
    stored = erasure_store.invitations(invitation_ids)
    for invitation_id in invitation_ids:
        invitation = stored.get(invitation_id)
        if invitation is None:
            continue  # deleted by an earlier call, after its response or tombstone was dealt with
        response_id = clock.stable_id("rsp", invitation_id)
        if erasure_store.tombstone(response_id, invitation.survey_id, now):
            tombstones += 1
        else:  # answered (or already a tombstone, which the anonymising condition leaves alone)
            tasks += task_store.anonymise(response_id)
            responses += erasure_store.anonymise_response(response_id)
            done.add(response_id)
        erasure_store.delete_invitation(invitation)
        invitations += 1
    # Step 3.
    for response_id in response_ids:
        if response_id not in done:
            tasks += task_store.anonymise(response_id)
            responses += erasure_store.anonymise_response(response_id)
    # Step 4.
    erasure_store.forget_links(contact_id)
    return {
        "contact_found": contact is not None,
        "responses_erased": responses,
        "tasks_scrubbed": tasks,
        "invitations_deleted": invitations,
        "links_closed": tombstones,
    }
