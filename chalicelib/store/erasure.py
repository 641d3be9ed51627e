"""Erasing a person: their PII leaves every table; their scores stay, anonymous."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib.store import tasks as task_store
from chalicelib.store.models import Contact, Response, bind


def erase_contact(contact_id: str, now: datetime) -> dict:
    """Remove email, name and attributes from the contact, comment text from its responses (a new response
    version the stream sees) and from its tasks. Idempotent; safe to call again after a partial failure."""
    bind()
    contact_found = True
    try:
        Contact(contact_id).update(
            actions=[
                Contact.email.remove(),
                Contact.name.remove(),
                Contact.attributes.remove(),
                Contact.erased_at.set(Contact.erased_at | now),
                Contact.unsubscribed_at.set(Contact.unsubscribed_at | now),
            ],
            condition=Contact.contact_id.exists(),
            add_version_condition=False,
        )
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        contact_found = False
    erased = tasks = 0
    for key in Response.by_contact.query(contact_id):
        try:
            Response(key.response_id).update(
                actions=[
                    Response.comment.remove(),
                    Response.page.remove(),
                    Response.erased.set(True),
                    Response.version.add(1),
                ],
                condition=Response.response_id.exists() & Response.erased.does_not_exist(),
                add_version_condition=False,
            )
            erased += 1
        except UpdateError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
        if task_store.scrub_comment(key.response_id):
            tasks += 1
    return {"contact_found": contact_found, "responses_erased": erased, "tasks_scrubbed": tasks}
