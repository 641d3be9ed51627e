"""The local stack's email: the send queue delivered to the real `survey_sender` handler, SES played by moto,
and `/local/outbox`, every email SES accepted, rendered, with its headers and working links. A part of
`LocalStack` (nps_local/stack.py), which it is mixed into."""

from __future__ import annotations

import email
import email.policy
import html
import json
import logging
import os
from email.utils import parseaddr

log = logging.getLogger("nps.local.mail")

SEND_QUEUE = "send"


def _sent_messages() -> list:
    """Every raw email moto's SES accepted in this process (the local stack's moto runs in process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return list(backend.sent_messages)


def parsed(raw) -> dict:
    message = email.message_from_string(raw.raw_data, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    body = message.get_body(preferencelist=("html",))
    return {
        "id": raw.id,
        "to": str(message["To"] or ""),
        "from": str(message["From"] or ""),
        "subject": str(message["Subject"] or ""),
        "headers": [(k, str(v)) for k, v in message.items()],
        "text": text.get_content() if text is not None else "",
        "html": body.get_content() if body is not None else "",
    }


class MailRoom:
    def _start_sender(self) -> None:
        import boto3

        from chalicelib import config
        from chalicelib.events.sender import survey_sender
        from nps_local.queue_poller import QueuePoller

        settings = config.settings()
        region = settings.region
        queue_url = next(url for name, url in self.provisioned.queues.items() if name.endswith(f"-{SEND_QUEUE}"))
        # The API queues on it; the sender sends from MAIL_FROM, whose domain moto's SES must know as verified.
        os.environ["SEND_QUEUE_URL"] = queue_url
        config.reset()
        ses = boto3.client("sesv2", endpoint_url=self.moto_endpoint, region_name=region)
        domain = parseaddr(config.settings().mail_from)[1].rpartition("@")[2]
        ses.create_email_identity(EmailIdentity=domain)
        sqs = boto3.client("sqs", endpoint_url=self.moto_endpoint, region_name=region)
        self.sender_poller = QueuePoller(
            sqs,
            queue_url,
            self._function("survey_sender", survey_sender),
            batch_size=10,
            region=region,
        )
        self.sender_poller.start(interval=1.0)

    def _stop_sender(self) -> None:
        poller = getattr(self, "sender_poller", None)
        if poller is not None:
            poller.stop()

    def mail_routes(self) -> dict:
        outbox = self._authorized(self._outbox, token_in_query=True)
        return {
            ("GET", "/local/outbox"): outbox,
            ("HEAD", "/local/outbox"): outbox,
            ("GET", "/local/outbox.json"): self._authorized(self._outbox_json, token_in_query=True),
            ("GET", "/local/outbox/email"): self._authorized(self._outbox_email, token_in_query=True),
            ("POST", "/local/outbox/poll"): self._authorized(self._outbox_poll),
            ("POST", "/local/outbox/feedback"): self._authorized(self._outbox_feedback),
        }

    def _outbox_feedback(self, query, headers, body):
        """Play SES's bounce or complaint event for one sent email, through the real mail_feedback handler."""
        from chalicelib import config
        from chalicelib.domain import mail_feedback
        from chalicelib.events.mail_feedback import mail_feedback as handler
        from chalicelib.store.models import Invitation, bind

        outcome = query.get("outcome", "bounced")
        if outcome not in ("bounced", "soft_bounce", "complained"):
            message = "outcome must be bounced, soft_bounce or complained."
            return 422, "application/json", json.dumps({"error": {"code": "invalid", "message": message}})
        wanted = query.get("id", "")
        bind()
        found = next(
            (
                (i.invitation_id, kind)
                for i in Invitation.scan()
                for kind, state in (
                    ("invitation", i.first_email),
                    ("reminder_1", i.reminder_1),
                    ("reminder_2", i.reminder_2),
                )
                if state is not None and state.as_dict().get("message_id") == wanted
            ),
            None,
        )
        if found is None:
            message = "No sent email has this id (see /local/outbox.json)."
            return 404, "application/json", json.dumps({"error": {"code": "not_found", "message": message}})
        event = mail_feedback.event_for(
            outcome,
            invitation_id=found[0],
            kind=found[1],
            message_id=wanted,
            configuration_set=config.settings().ses_configuration_set or "local",
        )
        event["id"] = f"local-{outcome}-{wanted}"
        from chalice.local import LambdaContext

        result = self._function("mail_feedback", handler)(event, LambdaContext("mail_feedback", 256))
        return 200, "application/json", json.dumps({"invitation_id": found[0], **(result or {})})

    def _outbox_poll(self, query, headers, body):
        """Deliver the send queue now (what is visible), and answer how many messages went to the sender."""
        delivered = self.sender_poller.poll_once()
        return 200, "application/json", json.dumps({"delivered": delivered, "sent": len(_sent_messages())})

    def _outbox_json(self, query, headers, body):
        emails = [parsed(m) for m in _sent_messages()]
        listed = [{k: e[k] for k in ("id", "to", "from", "subject", "headers", "text")} for e in reversed(emails)]
        return 200, "application/json", json.dumps({"emails": listed})

    def _outbox_email(self, query, headers, body):
        """One email's HTML part, as a mail client would show it (its links are the real ones)."""
        wanted = query.get("id", "")
        for raw in _sent_messages():
            if raw.id == wanted:
                return 200, "text/html; charset=utf-8", parsed(raw)["html"]
        return 404, "application/json", json.dumps({"error": {"code": "not_found", "message": "No such email."}})

    def _outbox(self, query, headers, body):
        token = html.escape(query.get("token", ""), quote=True)
        emails = [parsed(m) for m in _sent_messages()]
        rows = []
        for e in reversed(emails):
            shown = html.escape(e["id"], quote=True)
            heads = "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                for k, v in e["headers"]
                if k.lower() in ("from", "to", "reply-to", "subject", "list-unsubscribe", "list-unsubscribe-post")
            )
            rows.append(
                f'<article class="email" data-id="{shown}"><h2>{html.escape(e["subject"])}</h2>'
                f"<table class=heads>{heads}</table>"
                f'<iframe title="{html.escape(e["subject"], quote=True)}" '
                f'src="/local/outbox/email?id={shown}&amp;token={token}"></iframe>'
                f"<details><summary>Text part</summary><pre>{html.escape(e['text'])}</pre></details></article>"
            )
        listing = "".join(rows) or '<p class=empty>No email sent yet. Invite someone with "send": true.</p>'
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local outbox</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }}
header {{ background: #111827; color: #fff; padding: 12px 16px; }}
main {{ max-width: 860px; margin: 0 auto; padding: 12px; }}
.email {{ background: #fff; border-radius: 8px; margin: 12px 0; padding: 12px; box-shadow: 0 1px 2px #0002; }}
.email h2 {{ font-size: 17px; margin: 0 0 8px; overflow-wrap: anywhere; }}
.heads {{ border-collapse: collapse; font-size: 13px; margin-bottom: 8px; width: 100%; table-layout: fixed; }}
.heads th {{ text-align: left; color: #4b5563; width: 11em; vertical-align: top; font-weight: 600; }}
.heads td {{ overflow-wrap: anywhere; }}
iframe {{ width: 100%; height: 560px; border: 1px solid #e5e7eb; border-radius: 6px; background: #fff; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; font-size: 13px; }}
.empty {{ color: #4b5563; }}
@media (max-width: 480px) {{ .heads th {{ width: 7.5em; }} iframe {{ height: 640px; }} }}
</style></head>
<body><header><strong>Local outbox</strong> &middot; {len(emails)} sent (moto's SES; nothing leaves this machine)
</header><main>{listing}</main></body></html>"""
        return 200, "text/html; charset=utf-8", page
