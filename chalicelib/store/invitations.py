"""Inviting contacts: upsert each contact (its PII stays in the contacts table), skip the unsubscribed and
the recently invited, and sign links for the rest. Each invitation is one transaction with its contact's
stamp (last_invited, PII, the invitation's id in invitation_ids, which erasure uses to find every link)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import config
from chalicelib.domain import clock, tokens
from chalicelib.domain.clock import parse_timestamp, timestamp
from chalicelib.domain.months import Month
from chalicelib.store.models import Contact, Invitation, Survey


def _last_invited(contact: Contact | None, survey_id: str) -> datetime | None:
    if contact is None or contact.last_invited is None:
        return None
    raw = contact.last_invited.as_dict().get(survey_id)
    return parse_timestamp(raw) if raw else None


def invite(survey: Survey, contacts: list[dict], now: datetime) -> list[dict]:
    """One result per contact, in order: links for the invited, `skipped` with the reason for the rest."""
    s = config.settings()
    existing = {c.contact_id: c for c in Contact.batch_get([c["contact_id"] for c in contacts])}
    window = timedelta(days=int(survey.throttle_days))
    results = []
    seen: set[str] = set()
    for c in contacts:
        cid = c["contact_id"]
        known = existing.get(cid)
        if known is not None and known.unsubscribed_at is not None:
            results.append({"contact_id": cid, "skipped": "unsubscribed"})
            continue
        last = _last_invited(known, survey.survey_id)
        if cid in seen or (last is not None and window and now - last < window):
            results.append({"contact_id": cid, "skipped": "throttled"})
            continue
        seen.add(cid)
        invitation_id = clock.new_id("inv")
        # The conditional write makes the throttle hold even when two invite calls race.
        stamp = Contact(cid)
        invited = dict(known.last_invited.as_dict()) if known is not None and known.last_invited else {}
        invited[survey.survey_id] = timestamp(now)
        actions: list[Action] = [Contact.account_id.set(c["account_id"]), Contact.last_invited.set(invited)]
        for attr, key in ((Contact.email, "email"), (Contact.name, "name")):
            if c.get(key):
                actions.append(attr.set(c[key]))
        if c.get("attributes"):
            actions.append(Contact.attributes.set(c["attributes"]))
        condition = Contact.unsubscribed_at.does_not_exist()
        if known is not None and known.last_invited is not None:
            prior = known.last_invited.as_dict().get(survey.survey_id)
            condition &= (
                Contact.last_invited[survey.survey_id] == prior
                if prior
                else (Contact.last_invited[survey.survey_id].does_not_exist())
            )
        else:
            condition &= Contact.last_invited.does_not_exist()
        actions.append(Contact.invitation_ids.set((Contact.invitation_ids | []).append([invitation_id])))
        expires = now + timedelta(days=s.link_ttl_days)
        invitation = Invitation(
            invitation_id,
            survey_id=survey.survey_id,
            contact_id=cid,
            account_id=c["account_id"],
            survey_month=f"{survey.survey_id}#{Month.of(now)}",
            created_at=now,
            expires_at=expires,
            key_id=s.active_link_key,
        )
        # One transaction: the stamp that throttles the contact exists only with the invitation it stands
        # for, so a failure between the two can no longer throttle a contact who was never invited.
        try:
            with TransactWrite(connection=Contact._get_connection().connection) as transaction:
                transaction.update(stamp, actions=actions, condition=condition, add_version_condition=False)
                transaction.save(invitation, condition=Invitation.invitation_id.does_not_exist())
        except TransactWriteError as error:
            # PynamoDB orders a transaction's items by kind (puts before updates): look at every reason.
            reasons = getattr(error, "cancellation_reasons", None) or []
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
                results.append({"contact_id": cid, "skipped": "throttled"})
                continue
            raise
        common = {
            "invitation_id": invitation_id,
            "survey_id": survey.survey_id,
            "contact_id": cid,
            "account_id": c["account_id"],
            "expires_at": expires,
        }
        link_token = tokens.sign_link(s.link_keys, s.active_link_key, purpose=tokens.PURPOSE_SURVEY, **common)
        unsub = tokens.sign_link(
            s.link_keys,
            s.active_link_key,
            purpose=tokens.PURPOSE_UNSUBSCRIBE,
            **{**common, "expires_at": now + timedelta(days=3650)},
        )
        link = f"{s.public_base_url}/s/{link_token}"
        results.append(
            {
                "contact_id": cid,
                "invitation_id": invitation_id,
                "link": link,
                "score_links": [f"{link}?score={n}" for n in range(11)],
                "unsubscribe_link": f"{s.public_base_url}/u/{unsub}",
                "expires_at": timestamp(expires),
            }
        )
    return results


def unsubscribe(contact_id: str, now: datetime) -> None:
    Contact(contact_id).update(
        actions=[Contact.unsubscribed_at.set(Contact.unsubscribed_at | now)], add_version_condition=False
    )
