"""Unsubscribing a contact from its link (`/u/{token}`, the email's link or the mail client's one-click POST):
the contact gets no further invitations, and Contact Unsubscribed is published (with a bus).

The first moment is kept, and the event's id is the contact's, so a person unsubscribing twice, or a request
sent again, publishes the same event, which a consumer keeps once. When the bus still refuses it after the
retries the request answers 503, and sending it again publishes it."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import events as bus_events
from chalicelib.domain.tokens import LinkClaims
from chalicelib.store import event_bus
from chalicelib.store import invitations as invitation_store


def unsubscribe(claims: LinkClaims, now: datetime) -> None:
    invitation_store.unsubscribe(claims.contact_id, now)
    event_bus.publish_all([bus_events.contact_event("unsubscribed", claims.contact_id, claims.account_id)])
