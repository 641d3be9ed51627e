"""Inviting contacts to a survey: the unsubscribed and the recently invited are skipped (domain/invitations.py),
everyone else gets an invitation, written with their contact's stamp in one transaction (store/invitations.py),
and signed links (usecases/survey_links.py). A contact whose transaction loses a race is throttled, not
invited twice. The contact's PII stays in the contacts table; the links carry ids only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib import config
from chalicelib.domain import clock
from chalicelib.domain import invitations as rules
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Gone
from chalicelib.store import invitations as invitation_store
from chalicelib.store.models import Survey
from chalicelib.usecases import survey_links


def invite(survey: Survey, contacts: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """One result per validated contact, in order: the links for the invited, `skipped` with the reason for
    the rest. A closed survey invites nobody (410)."""
    if survey.status != "active":
        raise Gone("This survey is closed.", code="survey_closed")
    s = config.settings()
    known = invitation_store.contacts(c["contact_id"] for c in contacts)
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
        )
        if reason is not None:
            results.append({"contact_id": cid, "skipped": reason})
            continue
        seen.add(cid)
        invitation_id = clock.new_id("inv")
        expires = now + timedelta(days=s.link_ttl_days)
        written = invitation_store.record(
            invitation_id=invitation_id,
            survey_id=survey.survey_id,
            contact=c,
            read=read,
            now=now,
            expires_at=expires,
            key_id=s.active_link_key,
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
        results.append({"contact_id": cid, "invitation_id": invitation_id, **links, "expires_at": timestamp(expires)})
    return results
