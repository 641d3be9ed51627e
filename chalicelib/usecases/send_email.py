"""Emailing one invitation (its first email or a reminder), exactly once however often the queue delivers it.

1. Claim the email on the invitation (one conditional write): a second delivery of the same message, or a
   sender racing this one, finds the claim and sends nothing.
2. Decide with what is true now: the contact's status and address (the directory), the survey, the link's
   expiry, an answer already given. A reason not to send ends the email as `skipped` with that reason.
3. Render it in the contact's language, send it through SES, and record `sent` with SES's message id. A
   transient SES error (throttling, a paused account, no answer) releases the claim as `retry` and raises
   `RetryLater`, so the queue delivers the message again; on the queue's last delivery it ends as `failed`.
   Any other error ends it as `failed` at once.

The one window left is a sender that dies after SES accepted the email and before `sent` was recorded: the
claim then looks stale after domain/sending.STALE_CLAIM and a later delivery sends the email again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from chalicelib.domain import email_text, send_window, sending
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import NotFound
from chalicelib.domain.survey_email import mime_message, render_survey_email
from chalicelib.logs import logger
from chalicelib.store import contacts as contact_store
from chalicelib.store import deliveries
from chalicelib.store import surveys as survey_store
from chalicelib.store.mail import SendFailed
from chalicelib.usecases import survey_links


class Mailer(Protocol):
    def send(self, *, sender: str, to: str, raw: bytes, tags: dict[str, str]) -> str: ...


class RetryLater(Exception):
    """The email could not go now; the queue should deliver its message again."""


@dataclass(frozen=True)
class Outcome:
    result: str  # sent, skipped, failed, duplicate
    detail: str | None = None


def next_reminder(survey: Any, kind: str, contact_zone: str | None, now: datetime) -> tuple[str, datetime] | None:
    """The reminder to plan once `kind` is sent: the survey's next one, its days later, at the send window's
    first opening in the contact's time zone (else the survey's); None when the plan has no more."""
    plan = send_window.reminders_of(survey.reminders.as_dict() if survey.reminders is not None else None)
    number = sending.KINDS.index(kind) + 1
    if number > plan.count or number >= len(sending.KINDS):
        return None
    window = send_window.window_of(survey.send_window.as_dict() if survey.send_window is not None else None)
    due = send_window.next_opening(now + timedelta(days=plan.after_days), window, contact_zone)
    return sending.KINDS[number], due


def send(invitation_id: str, kind: str, now: datetime, *, mailer: Mailer, settings: Any, last_try: bool) -> Outcome:
    if kind not in sending.KINDS:
        return Outcome("failed", f"unknown kind {kind!r}")
    if not deliveries.claim(invitation_id, kind, now):
        held = deliveries.get(invitation_id)
        if held is None:
            return Outcome("duplicate", "gone")  # erased: nothing to send, nothing to record
        state = deliveries.state_of(held, kind) or {}
        if state.get("state") == "sending":
            raise RetryLater("another attempt holds this email")
        return Outcome("duplicate", state.get("state"))
    try:
        return _send_claimed(invitation_id, kind, now, mailer=mailer, settings=settings, last_try=last_try)
    except RetryLater:
        raise
    except (ValueError, TypeError) as error:  # an email that cannot be built (an address SES would refuse)
        _end(invitation_id, kind, now, "failed", "failed", error=type(error).__name__)
        return Outcome("failed", type(error).__name__)
    except Exception as error:  # DynamoDB or the network: another delivery may get through
        _end(
            invitation_id,
            kind,
            now,
            "failed" if last_try else "retry",
            "failed" if last_try else "retrying",
            error=type(error).__name__,
        )
        if last_try:
            return Outcome("failed", type(error).__name__)
        raise RetryLater(type(error).__name__) from error


def _end(invitation_id: str, kind: str, now: datetime, state: str, event: str, then=None, **detail: Any) -> None:
    """Record the attempt's end under its claim, taken at `now`."""
    recorded = deliveries.record(
        invitation_id,
        kind,
        {"state": state, "at": timestamp(now), **{k: v for k, v in detail.items() if v is not None}},
        sending.history_entry(event, kind, now, **detail),
        then,
        claimed_at=now,
    )
    if not recorded:
        logger.warning("the claim was taken over or the invitation is gone: nothing recorded", extra={"kind": kind})


def _send_claimed(
    invitation_id: str, kind: str, now: datetime, *, mailer: Mailer, settings: Any, last_try: bool
) -> Outcome:
    """The email, under its claim: decided, rendered, sent and recorded."""
    invitation = deliveries.get(invitation_id)
    if invitation is None:  # erased between the claim and now
        return Outcome("duplicate", "gone")

    def end(state: str, event: str, then: tuple[str, datetime] | None = None, **detail: Any) -> None:
        _end(invitation_id, kind, now, state, event, then, **detail)

    found = contact_store.batch_get([invitation.contact_id]).get(invitation.contact_id)
    try:
        survey = survey_store.get_cached(invitation.survey_id)
    except NotFound:
        survey = None
    reason = sending.reason_not_to_send(
        contact_status=contact_store.status(found) if found is not None else "active",
        email=found.email if found is not None else None,
        survey_closed=survey is None or survey.status == "closed",
        expires_at=invitation.expires_at,
        answered=deliveries.answered(invitation_id),
        now=now,
    )
    if reason is not None or found is None or survey is None:
        end("skipped", "skipped", reason=reason or "no_email")
        return Outcome("skipped", reason)

    urls = survey_links.links(
        settings,
        invitation_id=invitation_id,
        survey_id=invitation.survey_id,
        contact_id=invitation.contact_id,
        account_id=invitation.account_id,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        key_id=invitation.key_id,
    )
    strings = survey.strings.as_dict() if survey.strings is not None else None
    text = email_text.email_text(survey.question, strings, found.language, survey.language)
    # The links carry the language the email is in, so the page they open speaks it too (without a read).
    lang = quote(text.language)
    email = render_survey_email(
        text,
        score_links=[f"{u}&lang={lang}" for u in urls["score_links"]],
        page_link=f"{urls['link']}?lang={lang}",
        unsubscribe_link=urls["unsubscribe_link"],
        name=found.name,
        reminder=kind != sending.FIRST,
    )
    message = mime_message(
        email, sender=settings.mail_from, to=str(found.email), to_name=found.name, reply_to=settings.mail_reply_to
    )
    try:
        message_id = mailer.send(
            sender=settings.mail_from,
            to=str(found.email),
            raw=message.as_bytes(),
            tags={"invitation_id": invitation_id, "kind": kind},
        )
    except SendFailed as failure:
        outcome = sending.outcome_of(failure.code)
        if outcome == "retry" and not last_try:
            end("retry", "retrying", error=failure.code)
            raise RetryLater(failure.code) from None
        end("failed", "failed", error=failure.code)
        return Outcome("failed", failure.code)
    end(
        "sent", "sent", next_reminder(survey, kind, found.timezone, now), message_id=message_id, language=email.language
    )
    return Outcome("sent", message_id)
