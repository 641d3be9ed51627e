"""Invitations and the contact stamps that throttle them. Each invitation is one transaction with its contact's
stamp (last_invited, PII, the invitation's id in invitation_ids, which erasure uses to find every link), written
on the condition that the stamp is still the one read: two racing calls cannot both invite a contact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain import clock
from chalicelib.domain.clock import parse_timestamp, timestamp
from chalicelib.domain.months import Month
from chalicelib.store.models import Contact, Invitation, Response


def contacts(contact_ids: Iterable[str]) -> dict[str, Contact]:
    """The stored contacts among these ids, by id (one batch read)."""
    return {c.contact_id: c for c in Contact.batch_get(list(contact_ids))}


def stamps(contact: Contact | None) -> dict[str, str] | None:
    """The contact's invitation stamps (survey id to moment), as read; None when it has none."""
    if contact is None or contact.last_invited is None:
        return None
    return dict(contact.last_invited.as_dict())


def last_invited(read: dict[str, str] | None, survey_id: str) -> datetime | None:
    raw = (read or {}).get(survey_id)
    return parse_timestamp(raw) if raw else None


def last_invited_any(read: dict[str, str] | None) -> datetime | None:
    """The contact's last invitation to any survey."""
    moments = [at for raw in (read or {}).values() if (at := parse_timestamp(raw)) is not None]
    return max(moments, default=None)


def record(
    *,
    invitation_id: str,
    survey_id: str,
    contact: dict[str, Any],
    read: dict[str, str] | None,
    now: datetime,
    expires_at: datetime,
    key_id: str,
    email: dict[str, Any] | None = None,
    wave_id: str | None = None,
) -> bool:
    """Write the invitation and its contact's stamp in one transaction, on the condition that the contact is
    not unsubscribed and its stamp for this survey is still `read`'s; False when that condition failed (a
    racing call invited them first, or they unsubscribed meanwhile) and nothing was written."""
    invited = {**(read or {}), survey_id: timestamp(now)}
    actions: list[Action] = [Contact.account_id.set(contact["account_id"]), Contact.last_invited.set(invited)]
    for attr, key in ((Contact.email, "email"), (Contact.name, "name")):
        if contact.get(key):
            actions.append(attr.set(contact[key]))
    if contact.get("attributes"):
        actions.append(Contact.attributes.set(contact["attributes"]))
    actions.append(Contact.invitation_ids.set((Contact.invitation_ids | []).append([invitation_id])))
    condition = (
        Contact.unsubscribed_at.does_not_exist()
        & Contact.bounced_at.does_not_exist()
        & Contact.complained_at.does_not_exist()
        & Contact.erased_at.does_not_exist()
    )
    if read is not None:
        prior = read.get(survey_id)
        condition &= (
            Contact.last_invited[survey_id] == prior if prior else Contact.last_invited[survey_id].does_not_exist()
        )
    else:
        condition &= Contact.last_invited.does_not_exist()
    invitation = Invitation(
        invitation_id,
        survey_id=survey_id,
        contact_id=contact["contact_id"],
        account_id=contact["account_id"],
        survey_month=f"{survey_id}#{Month.of(now)}",
        created_at=now,
        expires_at=expires_at,
        key_id=key_id,
        wave_id=wave_id,
        **(email or {}),
    )
    # One transaction: the stamp that throttles the contact exists only with the invitation it stands for, so a
    # failure between the two can never throttle a contact who was never invited.
    try:
        with TransactWrite(connection=Contact._get_connection().connection) as transaction:
            transaction.update(
                Contact(contact["contact_id"]), actions=actions, condition=condition, add_version_condition=False
            )
            transaction.save(invitation, condition=Invitation.invitation_id.does_not_exist())
    except TransactWriteError as error:
        # PynamoDB orders a transaction's items by kind (puts before updates): look at every reason.
        reasons = getattr(error, "cancellation_reasons", None) or []
        if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
            return False
        raise
    return True


def unsubscribe(contact_id: str, now: datetime) -> None:
    Contact(contact_id).update(
        actions=[Contact.unsubscribed_at.set(Contact.unsubscribed_at | now)], add_version_condition=False
    )


def sent_and_answered(invitation_ids: list[str]) -> tuple[int, int]:
    """How many of these invitations were sent, and how many of those have a counted response (a pending or
    excluded one, such as a mail scanner's, is no answer yet). An invitation the service was asked to email
    ("send": true) counts as sent only once its email went (a skipped, failed or still planned one was never
    sent); one whose links the customer sends counts when it was made."""
    sent = []
    for start in range(0, len(invitation_ids), 100):
        page = Invitation.batch_get(
            invitation_ids[start : start + 100], attributes_to_get=["invitation_id", "send_at", "first_email"]
        )
        for i in page:
            state = i.first_email.as_dict().get("state") if i.first_email is not None else None
            if i.send_at is None or state == "sent":
                sent.append(i.invitation_id)
    responded = 0
    keys = [clock.stable_id("rsp", i) for i in sorted(sent)]
    for start in range(0, len(keys), 100):
        found = Response.batch_get(keys[start : start + 100], attributes_to_get=["response_id", "status"])
        responded += sum(1 for r in found if r.status in (None, "counted"))
    return len(sent), responded
