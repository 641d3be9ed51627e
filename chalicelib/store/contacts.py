"""The contact directory's reads and writes. A directory write sets only the fields a caller owns; what the
service keeps on the same item (invitation stamps, unsubscribe, bounce and complaint moments, erasure) is never
overwritten by it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.domain import contacts as rules
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Gone, NotFound
from chalicelib.store.conditions import condition_failed, updated
from chalicelib.store.models import Contact
from chalicelib.store.response_export import start_key


def _erased() -> Gone:
    return Gone("This person was erased; their directory entry cannot be written again.", code="contact_erased")


def status(c: Contact) -> str:
    return rules.status_of(
        erased_at=c.erased_at,
        complained_at=c.complained_at,
        bounced_at=c.bounced_at,
        unsubscribed_at=c.unsubscribed_at,
    )


def to_dict(c: Contact) -> dict[str, Any]:
    state = status(c)
    if state == "erased":  # nothing of the person, only that an entry of this id was erased
        return {"contact_id": c.contact_id, "status": state, "erased_at": timestamp(c.erased_at)}
    return {
        "contact_id": c.contact_id,
        **directory_values(c),
        "attributes": c.attributes.as_dict() if c.attributes is not None else {},
        "status": state,
        "created_at": timestamp(c.created_at),
        "updated_at": timestamp(c.updated_at),
        "unsubscribed_at": timestamp(c.unsubscribed_at),
        "bounced_at": timestamp(c.bounced_at),
        "complained_at": timestamp(c.complained_at),
    }


def directory_values(c: Contact) -> dict[str, Any]:
    """The caller-owned fields as stored, in the shape `rules.fields` gives, to tell an unchanged row."""
    return {
        "account_id": c.account_id,
        "email": c.email,
        "name": c.name,
        "role": c.role,
        "language": c.language,
        "timezone": c.timezone,
        "attributes": c.attributes.as_dict() if c.attributes else None,
    }


def get(contact_id: str) -> Contact:
    try:
        return Contact.get(contact_id)
    except DoesNotExist:
        raise NotFound("No contact has this id.", code="contact_not_found") from None


def batch_get(contact_ids: Iterable[str]) -> dict[str, Contact]:
    ids = sorted(set(contact_ids))
    return {c.contact_id: c for c in Contact.batch_get(ids)} if ids else {}


def put(contact_id: str, values: Mapping[str, Any], now: datetime) -> tuple[Contact, bool]:
    """Replace the caller-owned fields of one entry (PUT): one conditional UpdateItem, refused for an erased
    person. Returns the stored entry and whether it was created by this call."""
    actions: list[Action] = [Contact.updated_at.set(now), Contact.created_at.set(Contact.created_at | now)]
    for name in ("account_id", "email", "name", "role", "language", "timezone", "attributes"):
        attr = getattr(Contact, name)
        value = values.get(name)
        actions.append(attr.set(value) if value not in (None, {}) else attr.remove())
    item = Contact(contact_id)
    try:
        item.update(actions=actions, condition=Contact.erased_at.does_not_exist(), add_version_condition=False)
    except UpdateError as error:
        if condition_failed(error):
            raise _erased() from None
        raise
    return item, item.created_at == now


def page_of_account(account_id: str, limit: int, cursor_key: dict | None) -> tuple[list[Contact], dict | None]:
    """A page of one account's contacts in contact_id order: the keys-only index, then one batch read."""
    result = Contact.by_account.query(
        account_id,
        limit=limit,
        last_evaluated_key=start_key(cursor_key, ("contact_id", "account_id"), {"account_id": account_id}),
    )
    ids = [key.contact_id for key in result]
    found = batch_get(ids)
    # An entry erased (or moved to another account) between the index read and the batch read is left out.
    items = [found[i] for i in ids if i in found and found[i].account_id == account_id]
    return items, result.last_evaluated_key


def page(limit: int, cursor_key: dict | None) -> tuple[list[Contact], dict | None]:
    """A page of the whole directory in table order."""
    result = Contact.scan(limit=limit, last_evaluated_key=start_key(cursor_key, ("contact_id",)))
    items = list(result)
    return items, result.last_evaluated_key


def mark(contact_id: str, outcome: str, now: datetime) -> bool:
    """Record a permanent bounce or a complaint on the entry (the first moment is kept); nothing for an erased
    person. True when the entry exists and is not erased."""
    attr = {"bounced": Contact.bounced_at, "complained": Contact.complained_at}[outcome]
    return updated(
        Contact(contact_id), [attr.set(attr | now)], Contact.contact_id.exists() & Contact.erased_at.does_not_exist()
    )
