"""The writes of erasure (usecases/erasure.py runs them in order): each one idempotent, each on one item."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.conditions import updated
from chalicelib.store.models import Contact, Invitation, Response


def contact(contact_id: str) -> Contact | None:
    try:
        return Contact.get(contact_id, consistent_read=True)
    except DoesNotExist:
        return None


def response_ids_of(contact_id: str) -> list[str]:
    """Every response stored under the contact id (widget answers, imports, answered invitations)."""
    return [key.response_id for key in Response.by_contact.query(contact_id)]


def invitations(invitation_ids: Iterable[str]) -> dict[str, Invitation]:
    ids = list(invitation_ids)
    return {i.invitation_id: i for i in Invitation.batch_get(ids)} if ids else {}


def mark_erased(contact_id: str, now: datetime) -> None:
    """The contact is erased and unsubscribed (the first moments stay) and loses its PII; invitation_ids stay."""
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


def forget_links(contact_id: str) -> None:
    """The contact keeps only contact_id, erased_at and unsubscribed_at."""
    Contact(contact_id).update(
        actions=[
            Contact.account_id.remove(),
            Contact.last_invited.remove(),
            Contact.invitation_ids.remove(),
        ],
        add_version_condition=False,
    )


def anonymise_response(response_id: str) -> bool:
    """Strip what links an answer to the person; True when this call changed it (a second call finds nothing
    left to remove and changes nothing, so the stream sees no new version)."""
    linked = (
        Response.erased.does_not_exist()
        | Response.contact_id.exists()
        | Response.invitation_id.exists()
        | Response.comment.exists()
        | Response.page.exists()
    )
    return updated(
        Response(response_id),
        [
            Response.comment.remove(),
            Response.page.remove(),
            Response.contact_id.remove(),
            Response.invitation_id.remove(),
            Response.erased.set(True),
            Response.version.add(1),
        ],
        Response.response_id.exists() & linked,
    )


def tombstone(response_id: str, survey_id: str, now: datetime) -> bool:
    """Stand in for an invitation that was never answered, so its link can never record one; True when
    written (False when the invitation was answered: that response is anonymised instead)."""
    return updated(
        Response(response_id),
        [
            Response.survey_id.set(survey_id),
            Response.erased.set(True),
            Response.status.set("excluded"),
            Response.excluded_reason.set("erased"),
            Response.submitted_at.set(now),
        ],
        Response.response_id.does_not_exist(),
    )


def delete_invitation(invitation: Invitation) -> None:
    invitation.delete(add_version_condition=False)
