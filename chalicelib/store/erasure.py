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

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain import clock
from chalicelib.store import tasks as task_store
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import Contact, Invitation, Response


def _anonymise_task(response_id: str) -> bool:
    anonymise = getattr(task_store, "anonymise", None) or task_store.scrub_comment
    return bool(anonymise(response_id))


def _anonymise_response(response_id: str) -> bool:
    """Strip what links an answer to the person; True when this call changed it (a second call finds nothing
    left to remove and changes nothing, so the stream sees no new version)."""
    linked = (
        Response.erased.does_not_exist()
        | Response.contact_id.exists()
        | Response.invitation_id.exists()
        | Response.comment.exists()
        | Response.page.exists()
    )
    try:
        Response(response_id).update(
            actions=[
                Response.comment.remove(),
                Response.page.remove(),
                Response.contact_id.remove(),
                Response.invitation_id.remove(),
                Response.erased.set(True),
                Response.version.add(1),
            ],
            condition=Response.response_id.exists() & linked,
            add_version_condition=False,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _tombstone(response_id: str, survey_id: str, now: datetime) -> bool:
    """Stand in for an invitation that was never answered, so its link can never record one; True when
    written (False when the invitation was answered: that response is anonymised instead)."""
    try:
        Response(response_id).update(
            actions=[
                Response.survey_id.set(survey_id),
                Response.erased.set(True),
                Response.status.set("excluded"),
                Response.excluded_reason.set("erased"),
                Response.submitted_at.set(now),
            ],
            condition=Response.response_id.does_not_exist(),
            add_version_condition=False,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def erase_contact(contact_id: str, now: datetime) -> dict | None:
    """Erase the person; None when nothing at all is known about them (no contact, no response)."""
    try:
        contact = Contact.get(contact_id, consistent_read=True)
    except DoesNotExist:
        contact = None
    response_ids = [key.response_id for key in Response.by_contact.query(contact_id)]
    if contact is None and not response_ids:
        return None
    # Step 1. Written even for a person known only from responses (an import), so that their widget
    # identity is refused from now on as well.
    Contact(contact_id).update(
        actions=[
            Contact.email.remove(),
            Contact.name.remove(),
            Contact.attributes.remove(),
            Contact.role.remove(),
            Contact.language.remove(),
            Contact.timezone.remove(),
            Contact.erased_at.set(Contact.erased_at | now),
            Contact.unsubscribed_at.set(Contact.unsubscribed_at | now),
        ],
        add_version_condition=False,
    )
    responses = tasks = tombstones = invitations = 0
    # Step 2.
    done: set[str] = set()
    invitation_ids = list(contact.invitation_ids or []) if contact is not None else []
    stored = {i.invitation_id: i for i in Invitation.batch_get(invitation_ids)} if invitation_ids else {}
    for invitation_id in invitation_ids:
        invitation = stored.get(invitation_id)
        if invitation is None:
            continue  # deleted by an earlier call, after its response or tombstone was dealt with
        response_id = clock.stable_id("rsp", invitation_id)
        if _tombstone(response_id, invitation.survey_id, now):
            tombstones += 1
        else:  # answered (or already a tombstone, which the anonymising condition leaves alone)
            tasks += _anonymise_task(response_id)
            responses += _anonymise_response(response_id)
            done.add(response_id)
        invitation.delete(add_version_condition=False)
        invitations += 1
    # Step 3.
    for response_id in response_ids:
        if response_id not in done:
            tasks += _anonymise_task(response_id)
            responses += _anonymise_response(response_id)
    # Step 4.
    Contact(contact_id).update(
        actions=[
            Contact.account_id.remove(),
            Contact.last_invited.remove(),
            Contact.invitation_ids.remove(),
        ],
        add_version_condition=False,
    )
    return {
        "contact_found": contact is not None,
        "responses_erased": responses,
        "tasks_scrubbed": tasks,
        "invitations_deleted": invitations,
        "links_closed": tombstones,
    }
