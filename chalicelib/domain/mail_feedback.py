"""What SES tells about an email after it was sent: a bounce or a complaint, read from the event SES publishes
through the configuration set to EventBridge (detail-type "Email Bounced" / "Email Complained").

Only a permanent bounce stops mail to the contact: a transient one (a full mailbox, a greylisting server) is
recorded on the invitation and nothing else. A complaint always stops it. The invitation is found by the tags
the sender put on the email (`invitation_id`, `kind`), never by the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DETAIL_TYPES = ("Email Bounced", "Email Complained")


@dataclass(frozen=True)
class Feedback:
    outcome: str  # "bounced" (permanent), "soft_bounce", "complained"
    invitation_id: str
    kind: str
    message_id: str
    # The same bounce or complaint delivered again has the same key.
    key: str
    detail: str | None = None


def _tag(tags: object, name: str) -> str | None:
    if not isinstance(tags, dict):
        return None
    value = tags.get(name)
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return value if isinstance(value, str) else None


def read(event: object) -> Feedback | None:
    """The feedback an EventBridge event carries; None for anything that is not an SES bounce or complaint
    about an email the sender tagged."""
    if not isinstance(event, dict) or event.get("source") != "aws.ses":
        return None
    detail: Any = event.get("detail")
    if not isinstance(detail, dict):
        return None
    mail = detail.get("mail")
    if not isinstance(mail, dict):
        return None
    invitation_id = _tag(mail.get("tags"), "invitation_id")
    kind = _tag(mail.get("tags"), "kind") or "invitation"
    message_id = mail.get("messageId")
    if not invitation_id or not isinstance(message_id, str):
        return None
    kind_of_event = detail.get("eventType") or detail.get("notificationType")
    if kind_of_event == "Bounce":
        bounce: dict[str, Any] = detail["bounce"] if isinstance(detail.get("bounce"), dict) else {}
        permanent = bounce.get("bounceType") == "Permanent"
        sub = bounce.get("bounceSubType")
        return Feedback(
            "bounced" if permanent else "soft_bounce",
            invitation_id,
            kind,
            message_id,
            f"bounce:{message_id}",
            sub if isinstance(sub, str) else None,
        )
    if kind_of_event == "Complaint":
        complaint: dict[str, Any] = detail["complaint"] if isinstance(detail.get("complaint"), dict) else {}
        what = complaint.get("complaintFeedbackType")
        return Feedback(
            "complained",
            invitation_id,
            kind,
            message_id,
            f"complaint:{message_id}",
            what if isinstance(what, str) else None,
        )
    return None


def event_for(
    outcome: str, *, invitation_id: str, kind: str, message_id: str, configuration_set: str
) -> dict[str, Any]:
    """An EventBridge event as SES publishes it, for the local stack's outbox to simulate a bounce or a
    complaint (only the fields `read` uses, in SES's shape)."""
    tags = {"invitation_id": [invitation_id], "kind": [kind], "ses:configuration-set": [configuration_set]}
    detail: dict[str, Any] = {"mail": {"messageId": message_id, "tags": tags}}
    if outcome == "complained":
        detail |= {"eventType": "Complaint", "complaint": {"complaintFeedbackType": "abuse"}}
        detail_type = "Email Complained"
    else:
        permanent = outcome == "bounced"
        detail |= {
            "eventType": "Bounce",
            "bounce": {
                "bounceType": "Permanent" if permanent else "Transient",
                "bounceSubType": "General" if permanent else "MailboxFull",
            },
        }
        detail_type = "Email Bounced"
    return {"source": "aws.ses", "detail-type": detail_type, "detail": detail}
