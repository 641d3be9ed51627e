"""The survey sender on moto's SQS and SES: each queued email is sent once, throttling is retried, a dead
letter gets what never went, and the email's MIME, links and headers are the invitation's."""

from __future__ import annotations

import email
import email.policy
import os
import re
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import ClientError
from support import path_of, scheduled_event
from support_mail import SENDER, FakeTime, _sender, _settings_again, sent_messages

from chalicelib import config
from chalicelib.domain import sending
from chalicelib.domain.clock import timestamp
from chalicelib.domain.months import Month
from chalicelib.events.sender import SendBatch
from chalicelib.store import send_queue
from chalicelib.store.mail import SesMailer
from chalicelib.store.models import Contact, Invitation
from nps_local.queue_poller import QueuePoller


def _invite(api, survey_id, people):
    for cid, mail, language in people:
        body = {"account_id": "acct-1", "email": mail, "name": f"Person {cid}", "language": language}
        assert api.put(f"/v1/contacts/{cid}", body).status_code == 201
    r = api.post(
        f"/v1/surveys/{survey_id}/invitations",
        {"contacts": [{"contact_id": c, "account_id": "acct-1"} for c, *_ in people]},
    )
    assert r.status_code == 201, r.body
    return r.json["invitations"]


class SesFaults:
    """Refuse the first `n` SendEmail calls with an SES error, through botocore's own event hooks, so the real
    client and moto run for every other call."""

    def __init__(self, client, n, code="TooManyRequestsException"):
        self.left = n
        self.code = code
        self.refused = 0
        client.meta.events.register("before-call.sesv2.SendEmail", self)

    def __call__(self, **kwargs):
        if self.left > 0:
            self.left -= 1
            self.refused += 1
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, "SendEmail")


def test_every_email_is_sent_once_under_throttling_and_redelivery(api, survey, queues):
    people = [(f"c-{i}", f"p{i}@example.com", "en") for i in range(30)]
    invitations = _invite(api, survey["survey_id"], people)
    ids = [inv["invitation_id"] for inv in invitations]
    # Every message queued twice: the queue, or a retried API call, may deliver any message more than once.
    emails = [(i, sending.FIRST, 0) for i in ids]
    send_queue.enqueue(queues["url"], "us-east-1", emails + emails)
    ses = boto3.client("sesv2", region_name="us-east-1")
    faults = SesFaults(ses, 12)
    poller = _sender(queues, ses)
    poller.poll_once()
    assert faults.refused == 12
    sent = sent_messages()
    assert sorted(m.destinations[0] for m in sent) == sorted(f"p{i}@example.com" for i in range(30))
    for inv in ids:
        stored = Invitation.get(inv)
        assert stored.first_email["state"] == "sent"
        events = [h["event"] for h in stored.history]
        assert events.count("sent") == 1
    # The throttled ones show their retries in their history, then the send.
    retried = [inv for inv in ids if "retrying" in [h["event"] for h in Invitation.get(inv).history]]
    assert (
        retried
        and sum([h["event"] for h in Invitation.get(inv).history].count("retrying") for inv in retried)
        == faults.refused
    )
    assert queues["sqs"].receive_message(QueueUrl=queues["dlq"]).get("Messages") is None


def test_the_email_is_valid_mime_with_the_invitations_links_and_headers(api, survey, queues):
    [inv] = _invite(api, survey["survey_id"], [("c-de", "de@example.com", "de-AT")])
    send_queue.enqueue(queues["url"], "us-east-1", [(inv["invitation_id"], sending.FIRST, 0)])
    ses = boto3.client("sesv2", region_name="us-east-1")
    _sender(queues, ses).poll_once()
    [raw] = sent_messages()
    message = email.message_from_string(raw.raw_data, policy=email.policy.default)
    assert message["To"] == "Person c-de <de@example.com>" and SENDER in message["From"]
    assert message["List-Unsubscribe"] == f"<{inv['unsubscribe_link']}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for n, link in enumerate(inv["score_links"]):
        assert len(re.findall(re.escape(link) + r"(?!\d)", text)) == 1, n  # ?score=1 is not ?score=10
        # The email's links also carry its language, for the page they open.
        assert html.count(f'href="{link}&amp;lang=de"') == 1, n
    assert inv["unsubscribe_link"] in text and inv["unsubscribe_link"] in html
    assert 'lang="de"' in html  # the contact's de-AT falls back to German
    # SES knows which invitation and email it sent (bounce events carry these tags back).
    stored = Invitation.get(inv["invitation_id"])
    assert stored.first_email["message_id"] == stored.history[-1]["message_id"]
    assert stored.history[-1]["language"] == "de"


def test_a_refused_email_fails_at_once_and_a_lasting_throttle_dead_letters(api, survey, queues):
    refused, throttled = _invite(
        api, survey["survey_id"], [("c-r", "r@example.com", "en"), ("c-t", "t@example.com", "en")]
    )
    ses = boto3.client("sesv2", region_name="us-east-1")
    SesFaults(ses, 1, code="MessageRejected")
    send_queue.enqueue(queues["url"], "us-east-1", [(refused["invitation_id"], sending.FIRST, 0)])
    _sender(queues, ses).poll_once()
    stored = Invitation.get(refused["invitation_id"])
    assert stored.first_email["state"] == "failed" and stored.first_email["error"] == "MessageRejected"

    faults = SesFaults(ses, 100)
    send_queue.enqueue(queues["url"], "us-east-1", [(throttled["invitation_id"], sending.FIRST, 0)])
    _sender(queues, ses).poll_once()
    assert faults.refused == 5  # one per delivery, then SQS moved it to the dead-letter queue
    stored = Invitation.get(throttled["invitation_id"])
    assert stored.first_email["state"] == "failed"  # the last delivery recorded the end
    assert [h["event"] for h in stored.history] == ["retrying"] * 4 + ["failed"]
    assert sent_messages() == []


def test_nothing_goes_to_an_unsubscribed_erased_or_addressless_contact_or_after_an_answer(api, survey, queues):
    people = [("c-u", "u@example.com", "en"), ("c-e", "e@example.com", "en"), ("c-a", "a@example.com", "en")]
    unsubscribed, erased, answered = _invite(api, survey["survey_id"], people)
    assert api.put("/v1/contacts/c-n", {"account_id": "acct-1"}).status_code == 201
    [no_email] = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c-n", "account_id": "acct-1"}]}
    ).json["invitations"]
    r = api.post(
        path_of(unsubscribed["unsubscribe_link"]),
        raw="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        token=None,
    )
    assert r.status_code == 200
    assert api.delete("/v1/contacts/c-e").status_code == 200
    assert api.post(path_of(answered["link"]), {"score": 9}, token=None).status_code == 201
    send_queue.enqueue(
        queues["url"],
        "us-east-1",
        [(i["invitation_id"], sending.FIRST, 0) for i in (unsubscribed, erased, answered, no_email)],
    )
    _sender(queues, boto3.client("sesv2", region_name="us-east-1")).poll_once()
    assert sent_messages() == []
    assert Invitation.get(unsubscribed["invitation_id"]).first_email["state"] == "skipped"
    assert Invitation.get(unsubscribed["invitation_id"]).history[-1]["reason"] == "unsubscribed"
    assert Invitation.get(answered["invitation_id"]).history[-1]["reason"] == "answered"
    assert Invitation.get(no_email["invitation_id"]).history[-1]["reason"] == "no_email"
    assert Invitation.count(erased["invitation_id"]) == 0  # erasure deleted it: nothing to send or record


def test_the_pace_keeps_the_rate(api, survey, queues):
    os.environ["SES_SEND_RATE"] = "4"
    _settings_again()
    people = [(f"r-{i}", f"r{i}@example.com", "en") for i in range(9)]
    ids = [i["invitation_id"] for i in _invite(api, survey["survey_id"], people)]
    send_queue.enqueue(queues["url"], "us-east-1", [(i, sending.FIRST, 0) for i in ids])
    clock = FakeTime()
    _sender(queues, boto3.client("sesv2", region_name="us-east-1"), clock).poll_once()
    # 9 emails at 4 a second, on a clock that only sleeps move: a quarter second before each but the first.
    assert len(sent_messages()) == 9
    assert clock.sleeps == [0.25] * 8


def test_get_invitation_shows_the_delivery_history(api, survey, queues):
    [inv] = _invite(api, survey["survey_id"], [("c-h", "h@example.com", "fr")])
    send_queue.enqueue(queues["url"], "us-east-1", [(inv["invitation_id"], sending.FIRST, 0)])
    _sender(queues, boto3.client("sesv2", region_name="us-east-1")).poll_once()
    r = api.get(f"/v1/invitations/{inv['invitation_id']}")
    assert r.status_code == 200, r.body
    body = r.json
    assert body["emails"]["invitation"]["state"] == "sent" and body["answered"] is False
    assert [h["event"] for h in body["history"]] == ["sent"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", body["history"][0]["at"])
    assert "h@example.com" not in r.body.decode()  # the address stays in the directory
    # Once answered from the email, the history says so, after the send.
    answer = api.post(path_of(inv["link"]), {"score": 8}, token=None)
    assert answer.status_code == 201, answer.body
    body = api.get(f"/v1/invitations/{inv['invitation_id']}").json
    assert body["answered"] is True
    assert [(h["event"], h["kind"]) for h in body["history"]] == [("sent", "invitation"), ("answered", "invitation")]
    assert api.get("/v1/invitations/inv_nope").status_code == 404
    assert api.get("/v1/invitations/a%20b").status_code == 404


def _feedback(client, outcome, stored, kind=sending.FIRST):
    from chalicelib.domain import mail_feedback

    event = mail_feedback.event_for(
        outcome,
        invitation_id=stored.invitation_id,
        kind=kind,
        message_id=stored.first_email["message_id"],
        configuration_set="nps-test",
    )
    event |= {"id": f"evt-{outcome}-{stored.invitation_id}", "time": "2026-12-03T10:00:00Z"}
    return client.lambda_.invoke("mail_feedback", event).payload


def test_a_permanent_bounce_stops_mail_once_however_often_it_arrives(api, client, survey, queues):
    soft, hard, spam = _invite(
        api,
        survey["survey_id"],
        [
            ("c-soft", "soft@example.com", "en"),
            ("c-hard", "hard@example.com", "en"),
            ("c-spam", "spam@example.com", "en"),
        ],
    )
    ids = [i["invitation_id"] for i in (soft, hard, spam)]
    send_queue.enqueue(queues["url"], "us-east-1", [(i, sending.FIRST, 0) for i in ids])
    ses = boto3.client("sesv2", region_name="us-east-1")
    _sender(queues, ses).poll_once()
    assert len(sent_messages()) == 3
    stored = {i: Invitation.get(i) for i in ids}
    # EventBridge delivers at least once: every event twice.
    results = [
        _feedback(client, outcome, stored[i])
        for i, outcome in zip(ids, ("soft_bounce", "bounced", "complained"), strict=True)
        for _ in range(2)
    ]
    assert [r["result"] for r in results] == [
        "soft_bounce",
        "duplicate",
        "bounced",
        "duplicate",
        "complained",
        "duplicate",
    ]
    statuses = [api.get(f"/v1/contacts/{c}").json["status"] for c in ("c-soft", "c-hard", "c-spam")]
    assert statuses == ["active", "bounced", "complained"]
    for i, event in zip(ids, ("soft_bounce", "bounced", "complained"), strict=True):
        assert [h["event"] for h in Invitation.get(i).history] == ["sent", event]  # recorded once
    # The reminders: nothing goes to the bounced or complaining contact; the soft bounce's does.
    send_queue.enqueue(queues["url"], "us-east-1", [(i, "reminder_1", 0) for i in ids])
    _sender(queues, ses).poll_once()
    assert len(sent_messages()) == 4 and sent_messages()[-1].destinations[0] == "soft@example.com"
    assert Invitation.get(ids[1]).reminder_1["reason"] == "bounced"
    assert Invitation.get(ids[2]).reminder_1["reason"] == "complained"
    # Not ours, or about an erased invitation: nothing happens.
    assert client.lambda_.invoke("mail_feedback", {"source": "aws.ec2", "detail": {}}).payload == {"result": "ignored"}
    assert api.delete("/v1/contacts/c-soft").status_code == 200
    assert _feedback(client, "bounced", stored[ids[0]])["result"] == "gone"


def _dispatch_at(client, at):
    return client.lambda_.invoke("email_dispatch", scheduled_event(at)).payload


def test_one_reminder_a_week_later_in_the_window_and_never_after_an_answer(api, client, survey, queues):
    from datetime import UTC, datetime, timedelta

    from chalicelib.domain import send_window

    people = [("c-quiet", "quiet@example.com", "en"), ("c-answers", "answers@example.com", "en")]
    quiet, answers = _invite(api, survey["survey_id"], people)
    assert api.put(
        "/v1/contacts/c-quiet", {"account_id": "acct-1", "email": "quiet@example.com", "timezone": "Asia/Tokyo"}
    )
    ids = [quiet["invitation_id"], answers["invitation_id"]]
    send_queue.enqueue(queues["url"], "us-east-1", [(i, sending.FIRST, 0) for i in ids])
    ses = boto3.client("sesv2", region_name="us-east-1")
    poller = _sender(queues, ses)
    poller.poll_once()
    planned = Invitation.get(ids[0])
    sent_at = datetime.fromisoformat(planned.first_email["at"])
    # Planned 7 days on, at the first weekday 09:00-17:00 in the contact's own zone (Tokyo).
    expected = send_window.next_opening(sent_at + timedelta(days=7), send_window.Window(), "Asia/Tokyo")
    assert (planned.next_email_kind, planned.next_email_at) == (
        "reminder_1",
        timestamp(expected),
    )
    local = expected.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local.weekday() < 5 and 9 <= local.hour < 17
    # Nothing is due before; the answer comes in between.
    assert _dispatch_at(client, datetime.now(UTC) + timedelta(days=6))["due"] == 0
    assert api.post(path_of(answers["link"]), {"score": 8}, token=None).status_code == 201
    later = datetime.now(UTC) + timedelta(days=12)
    assert _dispatch_at(client, later) == {"due": 2, "queued": 2, "changed": 0}
    assert _dispatch_at(client, later) == {"due": 0, "queued": 0, "changed": 0}  # a second run queues nothing
    poller.poll_once()
    assert [m.destinations[0] for m in sent_messages()].count("quiet@example.com") == 2
    assert [m.destinations[0] for m in sent_messages()].count("answers@example.com") == 1
    reminded, skipped = Invitation.get(ids[0]), Invitation.get(ids[1])
    assert reminded.reminder_1["state"] == "sent" and reminded.next_email_at is None  # one reminder by default
    assert (skipped.reminder_1["state"], skipped.reminder_1["reason"]) == ("skipped", "answered")
    assert [h["event"] for h in reminded.history] == ["sent", "queued", "sent"]
    last = email.message_from_string(sent_messages()[-1].raw_data, policy=email.policy.default)
    assert (
        last["Subject"]
        != email.message_from_string(sent_messages()[0].raw_data, policy=email.policy.default)["Subject"]
    )


def test_send_true_queues_each_email_or_plans_it_and_skips_who_bounced(api, client, survey, queues):
    from datetime import UTC, datetime, timedelta

    sid = survey["survey_id"]
    for cid in ("s-now", "s-later", "s-bounced"):
        assert (
            api.put(f"/v1/contacts/{cid}", {"account_id": "acct-9", "email": f"{cid}@example.com"}).status_code == 201
        )
    Contact("s-bounced").update(actions=[Contact.bounced_at.set(datetime.now(UTC))])
    # By id alone: the directory knows their account.
    r = api.post(
        f"/v1/surveys/{sid}/invitations",
        {"contacts": [{"contact_id": "s-now"}, {"contact_id": "s-bounced"}], "send": True},
    )
    assert r.status_code == 201, r.body
    now_result, bounced_result = r.json["invitations"]
    assert now_result["email"] == "queued" and bounced_result == {"contact_id": "s-bounced", "skipped": "bounced"}
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    r = api.post(
        f"/v1/surveys/{sid}/invitations",
        {"contacts": [{"contact_id": "s-later"}], "send": True, "send_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    [later] = r.json["invitations"]
    assert later["email"] == "scheduled" and later["send_at"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # A contact unknown to the directory still needs its account.
    error = api.post(f"/v1/surveys/{sid}/invitations", {"contacts": [{"contact_id": "nobody"}], "send": True})
    assert error.status_code == 422 and "contacts[0].account_id" in error.json["error"]["fields"]

    ses = boto3.client("sesv2", region_name="us-east-1")
    poller = _sender(queues, ses)
    poller.poll_once()
    assert [m.destinations[0] for m in sent_messages()] == ["s-now@example.com"]
    assert [h["event"] for h in api.get(f"/v1/invitations/{now_result['invitation_id']}").json["history"]] == [
        "queued",
        "sent",
    ]
    assert _dispatch_at(client, at - timedelta(minutes=1))["due"] == 0
    assert _dispatch_at(client, at + timedelta(minutes=4))["queued"] == 1
    poller.poll_once()
    assert [m.destinations[0] for m in sent_messages()] == ["s-now@example.com", "s-later@example.com"]


def test_a_queue_that_refuses_leaves_the_email_planned_not_lost(api, client, survey, queues):
    from datetime import UTC, datetime, timedelta

    assert api.put("/v1/contacts/q-1", {"account_id": "acct-9", "email": "q1@example.com"}).status_code == 201
    # The queue refuses: here it does not exist (the API's SQS call fails), as when SQS is down.
    os.environ["SEND_QUEUE_URL"] = queues["url"] + "-gone"
    _settings_again()
    try:
        r = api.post(
            f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "q-1"}], "send": True}
        )
    finally:
        os.environ["SEND_QUEUE_URL"] = queues["url"]
        _settings_again()
    assert r.status_code == 201, r.body
    [inv] = r.json["invitations"]
    assert Invitation.get(inv["invitation_id"]).next_email_kind == "invitation"
    assert _dispatch_at(client, datetime.now(UTC) + timedelta(minutes=5))["queued"] == 1
    _sender(queues, boto3.client("sesv2", region_name="us-east-1")).poll_once()
    assert [m.destinations[0] for m in sent_messages()] == ["q1@example.com"]


def test_the_response_rate_counts_only_invitations_that_were_sent(api, survey, queues):
    """METRICS.md: responses to invitations sent that month / invitations sent that month. A link handed out
    counts when made; an emailed one only once its email went."""
    from chalicelib.domain import clock
    from chalicelib.store import metrics_inputs

    sid = survey["survey_id"]
    handed = api.post(f"/v1/surveys/{sid}/invitations", {"contacts": [{"contact_id": "r-link", "account_id": "a"}]})
    [handed] = handed.json["invitations"]
    for cid, mail in (("r-sent", "sent@example.com"), ("r-none", None), ("r-answers", "answers@example.com")):
        assert api.put(f"/v1/contacts/{cid}", {"account_id": "a", "email": mail}).status_code == 201
    r = api.post(
        f"/v1/surveys/{sid}/invitations",
        {"contacts": [{"contact_id": c} for c in ("r-sent", "r-none", "r-answers")], "send": True},
    )
    sent, no_email, answers = r.json["invitations"]
    month = str(Month.of(clock.utcnow()))
    assert metrics_inputs.invitations(month)[sid] == (1, 0)  # only the handed-out link: nothing emailed yet
    _sender(queues, boto3.client("sesv2", region_name="us-east-1")).poll_once()
    assert Invitation.get(no_email["invitation_id"]).first_email["reason"] == "no_email"
    assert api.post(path_of(answers["link"]), {"score": 9}, token=None).status_code == 201
    assert api.post(path_of(handed["link"]), {"score": 3}, token=None).status_code == 201
    # Sent: the link, and the two emails that went (not the one without an address); answered: two of them.
    assert metrics_inputs.invitations(month)[sid] == (3, 2)
    assert sent["email"] == "queued"


def test_a_dispatch_run_is_bounded_and_the_next_takes_the_rest(api, survey, queues):
    from datetime import UTC, datetime, timedelta

    from chalicelib.usecases.dispatch_emails import dispatch

    for i in range(9):
        assert api.put(f"/v1/contacts/b-{i}", {"account_id": "a", "email": f"b{i}@example.com"}).status_code == 201
    at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    planned = {
        "contacts": [{"contact_id": f"b-{i}"} for i in range(9)],
        "send": True,
        "send_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    ids = [
        i["invitation_id"]
        for i in api.post(f"/v1/surveys/{survey['survey_id']}/invitations", planned).json["invitations"]
    ]
    queued: list = []
    first = dispatch(at, queued.extend, limit=4)
    second = dispatch(at, queued.extend, limit=100)
    # At most the limit (a share per shard, so fewer when a shard holds none of these), the rest next time.
    assert 1 <= first["queued"] <= 4 and first["queued"] + second["queued"] == 9
    assert sorted(q[0] for q in queued) == sorted(ids)  # each exactly once
    assert dispatch(at, queued.extend)["due"] == 0


def test_a_batch_that_would_outrun_its_invocation_leaves_the_rest_for_the_next_delivery(api, survey, queues):
    """At a slow share of the rate, a batch of 10 cannot be sent in one invocation: the emails whose slot
    would come after the deadline are reported for another delivery, untouched, and go next time."""
    people = [(f"d-{i}", f"d{i}@example.com", "en") for i in range(5)]
    ids = [i["invitation_id"] for i in _invite(api, survey["survey_id"], people)]
    send_queue.enqueue(queues["url"], "us-east-1", [(i, sending.FIRST, 0) for i in ids])
    settings = config.settings()
    ses = boto3.client("sesv2", region_name="us-east-1")
    clock = FakeTime()

    def handler(event, context):
        pace = sending.Pace(rate=1.0)  # one a second, the last start 2 s on: slots at 0, 1 and 2 s
        batch = SendBatch(
            SesMailer(settings.region, client=ses),
            settings,
            pace,
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            deadline=clock.now + 2.0,
        )
        return batch.run(event)

    poller = QueuePoller(queues["sqs"], queues["url"], handler, retry_now=True)
    poller._invoke(
        queues["sqs"].receive_message(QueueUrl=queues["url"], MaxNumberOfMessages=10, AttributeNames=["All"])[
            "Messages"
        ]
    )
    assert len(sent_messages()) == 3
    held = [i for i in ids if Invitation.get(i).first_email is None]
    assert len(held) == 2  # never claimed: nothing recorded, the next delivery sends them
    poller.handler = _sender(queues, ses).handler
    poller.poll_once()
    assert len(sent_messages()) == 5 and all(Invitation.get(i).first_email["state"] == "sent" for i in ids)


def test_a_later_send_at_keeps_the_link_alive_through_the_reminders(api, survey, queues):
    from datetime import UTC, datetime, timedelta

    assert api.put("/v1/contacts/late", {"account_id": "a", "email": "late@example.com"}).status_code == 201
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=45)
    r = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations",
        {"contacts": [{"contact_id": "late"}], "send": True, "send_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    [inv] = r.json["invitations"]
    # 30 days of link from the email, plus the default reminder's 7 days.
    assert inv["expires_at"] == timestamp(at + timedelta(days=37))


def test_only_the_claims_holder_records_an_attempt(api, survey, queues):
    """An attempt whose claim went stale and was taken over by another records nothing: the state and history
    are the attempt's that holds the claim."""
    from datetime import timedelta

    from chalicelib.domain import clock
    from chalicelib.store import deliveries

    [inv] = _invite(api, survey["survey_id"], [("c-stale", "stale@example.com", "en")])
    first = clock.utcnow()
    assert deliveries.claim(inv["invitation_id"], sending.FIRST, first)
    later = first + sending.STALE_CLAIM + timedelta(seconds=1)
    assert deliveries.claim(inv["invitation_id"], sending.FIRST, later)  # the first attempt's claim went stale

    def end(at, state):
        entry = sending.history_entry(state, sending.FIRST, at)
        return deliveries.record(
            inv["invitation_id"], sending.FIRST, {"state": state, "at": timestamp(at)}, entry, claimed_at=at
        )

    assert end(first, "failed") is False
    assert end(later, "sent") is True
    stored = Invitation.get(inv["invitation_id"])
    assert stored.first_email["state"] == "sent"
    assert [h["event"] for h in stored.history] == ["sent"]
    assert end(later, "failed") is False  # ended: nothing more under that claim
