"""Events on the stage's bus (moto's EventBridge, routed by a rule to a queue the test reads), published by the
real functions: every detail-type from the change that causes it, each valid by its published schema (which
allows no other field) and with no personal data beyond it; the same happening published again has the same id
and the same detail; PutEvents refusing entries is retried, then fails the record, request or run, and the retry
publishes the same events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support import path_of, scheduled_event

from chalicelib.domain import clock
from chalicelib.domain import events as bus_events
from chalicelib.domain.months import Month
from chalicelib.events.monthly_job import run_month
from chalicelib.events.sweep import run_sweep
from chalicelib.store import responses as response_store
from chalicelib.store.models import LoopTask
from nps_local.responses_stream import responses_poller

pytest_plugins = ["support_bus"]  # bus, put_events_faults

EMAIL = "ana.lopez@example.com"
NAME = "Ana Lopez"


_POLLERS: dict[int, object] = {}


def _stream(api) -> dict:
    """Deliver the stream's new records (one poller per test client, so each record goes once)."""
    poller = _POLLERS.get(id(api.client))
    if poller is None:
        _POLLERS.clear()
        poller = _POLLERS[id(api.client)] = responses_poller(api.client)
    stats = poller.poll_once()
    assert stats["records_discarded"] == 0, stats
    return stats


def _no_personal_data(events: list[dict]) -> None:
    """No address or name anywhere, and the respondent's comment only in the response events."""
    from support_bus import check_detail

    for event in events:
        check_detail(event)
        text = json.dumps(event["detail"])
        assert EMAIL not in text and NAME not in text, event
        if not event["detail-type"].startswith("Response "):
            assert "Support never answered" not in text, event


@pytest.fixture
def invited(api, survey):
    """Ana, of account acc-1 (segment smb, owner olive), invited to the survey."""
    r = api.put("/v1/accounts/acc-1", {"owner": "olive@example.com", "manager": "max@example.com", "segment": "smb"})
    assert r.status_code in (200, 201)
    contact = {"contact_id": "con-1", "account_id": "acc-1", "email": EMAIL, "name": NAME}
    r = api.put("/v1/contacts/con-1", {"account_id": "acc-1", "email": EMAIL, "name": NAME})
    assert r.status_code in (200, 201)
    [invitation] = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [contact]}).json[
        "invitations"
    ]
    return invitation


def test_an_answer_publishes_recorded_then_updated_and_its_task_opened(api, invited, bus):
    link = path_of(invited["link"])
    answer = {"score": 2, "comment": "Support never answered", "drivers": ["support"]}
    assert api.post(link, answer, token=None).status_code == 201
    _stream(api)
    [recorded] = bus.of_type(bus_events.RESPONSE_RECORDED)
    [opened] = bus.of_type(bus_events.TASK_OPENED)
    detail = recorded["detail"]
    assert recorded["source"] == "nps.test"
    assert (detail["score"], detail["category"], detail["comment"], detail["drivers"]) == (
        2,
        "detractor",
        "Support never answered",
        ["support"],
    )
    assert (detail["account_id"], detail["segment"], detail["contact_id"]) == ("acc-1", "smb", "con-1")
    task = LoopTask.get(opened["detail"]["task_id"])
    assert opened["detail"]["response_id"] == detail["response_id"] == task.response_id
    assert (opened["detail"]["owner"], opened["detail"]["due_at"]) == (
        "olive@example.com",
        clock.timestamp(task.due_at),
    )

    assert api.post(link, {"score": 9, "comment": "Support called back"}, token=None).status_code == 200
    _stream(api)
    [updated] = bus.of_type(bus_events.RESPONSE_UPDATED)
    assert (updated["detail"]["previous_score"], updated["detail"]["score"]) == (2, 9)
    assert updated["detail"]["previous_category"] == "detractor" and updated["detail"]["category"] == "promoter"
    assert updated["detail"]["event_id"] != recorded["detail"]["event_id"]
    assert len(bus.of_type(bus_events.TASK_OPENED)) == 1  # a task is opened once
    _no_personal_data(bus.seen)


def test_redelivered_records_publish_the_same_events_again(api, survey, bus):
    response_store.record_answer(
        response_id="rsp_again",
        survey_id=survey["survey_id"],
        channel="email",
        answer={"score": 1, "comment": "Slow"},
        now=clock.utcnow(),
        touchpoint=None,
        contact_id="con-9",
        account_id="acc-9",
    )
    poller = responses_poller(api.client)
    records = poller.read_new()
    assert poller.deliver(records, redeliver=True) == []  # every batch twice
    first = bus.drain()
    assert sorted(e["detail-type"] for e in first) == [bus_events.RESPONSE_RECORDED] * 2 + [bus_events.TASK_OPENED] * 2
    by_id: dict[str, list[dict]] = {}
    for event in first:
        by_id.setdefault(event["detail"]["event_id"], []).append(event)
    assert len(by_id) == 2
    for copies in by_id.values():
        assert [c["detail"] for c in copies] == [copies[0]["detail"]] * 2
        assert {c["detail-type"] for c in copies} == {copies[0]["detail-type"]}
    # The owner changes and the task is followed; delivered once more, the opening is told as it was.
    task = next(iter(LoopTask.scan()))
    assert api.patch(f"/v1/tasks/{task.task_id}", {"owner": "someone.else@example.com"}).status_code == 200
    assert poller.deliver(records) == []
    again = bus.drain()
    assert {e["detail"]["event_id"]: e["detail"] for e in again} == {k: v[0]["detail"] for k, v in by_id.items()}


def test_task_moves_publish_escalated_resolved_and_reopened(api, invited, bus):
    assert api.post(path_of(invited["link"]), {"score": 0, "comment": "Support never answered"}, token=None)
    _stream(api)
    [task] = list(LoopTask.scan())
    path = f"/v1/tasks/{task.task_id}"
    assert len(bus.drain()) == 2  # the answer and its task
    assert api.patch(path, {"status": "in_progress"}).status_code == 200
    assert api.patch(path, {"note": "Called"}).status_code == 200
    assert bus.drain() == []  # neither a move between open states nor a note is an event
    assert api.patch(path, {"status": "resolved", "root_cause": "support_delay", "resolution": "Ana said ok"})
    assert api.patch(path, {"status": "open"}).status_code == 200
    [resolved] = bus.details(bus_events.TASK_RESOLVED)
    [reopened] = bus.details(bus_events.TASK_REOPENED)
    assert (resolved["previous_status"], resolved["status"], resolved["root_cause"]) == (
        "in_progress",
        "resolved",
        "support_delay",
    )
    assert (reopened["previous_status"], reopened["status"]) == ("resolved", "open")
    # Overdue: the sweep escalates to the account's manager, once; a second run publishes it again (same id).
    now = clock.utcnow()
    LoopTask(task.task_id).update(actions=[LoopTask.due_at.set(now - timedelta(hours=1))])
    assert run_sweep(now)["escalated"] == 1
    assert run_sweep(now + timedelta(minutes=2))["escalated"] == 0
    escalations = bus.details(bus_events.TASK_ESCALATED)
    assert len(escalations) == 2 and escalations[0] == escalations[1]
    assert (escalations[0]["manager"], escalations[0]["previous_status"]) == ("max@example.com", "open")
    # The next hourly run publishes nothing more.
    assert run_sweep(now + timedelta(hours=1)) == {"overdue": 1, "escalated": 0}
    assert len(bus.details(bus_events.TASK_ESCALATED)) == 2
    _no_personal_data(bus.seen)


def test_contacts_unsubscribing_bouncing_and_complaining_publish_once_by_id(api, client, survey, bus):
    from chalicelib.domain import mail_feedback
    from chalicelib.usecases.mail_feedback import record

    contacts = [
        {"contact_id": f"con-{n}", "account_id": "acc-1", "email": f"person{n}@example.com", "name": NAME}
        for n in range(4)
    ]
    invitations = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": contacts}).json["invitations"]
    unsubscribe = path_of(invitations[0]["unsubscribe_link"])
    for _ in range(2):  # a person clicking twice
        assert api.post(unsubscribe, token=None).status_code == 200
    for invitation, outcome in zip(invitations[1:], ("bounced", "complained", "soft_bounce"), strict=True):
        event = mail_feedback.event_for(
            outcome,
            invitation_id=invitation["invitation_id"],
            kind="invitation",
            message_id=f"msg-{invitation['contact_id']}",
            configuration_set="nps-test",
        )
        for _ in range(2):  # EventBridge delivers at least once
            record(event, clock.utcnow())
    events = bus.drain()
    got = sorted((e["detail-type"], e["detail"]["contact_id"], e["detail"]["event_id"]) for e in events)
    assert [(t, c) for t, c, _ in got] == [
        (bus_events.CONTACT_BOUNCED, "con-1"),
        (bus_events.CONTACT_BOUNCED, "con-1"),
        (bus_events.CONTACT_COMPLAINED, "con-2"),
        (bus_events.CONTACT_COMPLAINED, "con-2"),
        (bus_events.CONTACT_UNSUBSCRIBED, "con-0"),
        (bus_events.CONTACT_UNSUBSCRIBED, "con-0"),
    ]
    assert len({i for _, _, i in got}) == 3  # each twice, by the same id
    for event in events:
        assert event["detail"]["account_id"] == "acc-1" and set(event["detail"]) == {
            "schema_version",
            "event_id",
            "contact_id",
            "account_id",
            "status",
        }
        assert "person" not in json.dumps(event["detail"])
    _no_personal_data(events)
    # An erased person publishes nothing when a late bounce arrives.
    assert api.delete("/v1/contacts/con-3").status_code == 200
    late = mail_feedback.event_for(
        "bounced",
        invitation_id=invitations[3]["invitation_id"],
        kind="invitation",
        message_id="msg-late",
        configuration_set="nps-test",
    )
    assert record(late, clock.utcnow()) == "gone"
    assert bus.drain() == []


def _answer(survey_id, rid, account, contact, score, when):
    response_store.record_answer(
        response_id=rid,
        survey_id=survey_id,
        channel="api",
        answer={"score": score},
        now=when,
        touchpoint=None,
        contact_id=contact,
        account_id=account,
    )


def test_a_month_publishes_month_computed_and_each_change_of_health_band(api, survey, bus):
    now = clock.utcnow()
    month = Month.of(now).previous()
    before = month.previous()
    assert api.put("/v1/accounts/acc-1", {"segment": "enterprise"}).status_code in (200, 201)
    sid = survey["survey_id"]
    _answer(sid, "rsp_m1", "acc-1", "c1", 10, before.start() + timedelta(days=3))  # acc-1: safe ...
    _answer(sid, "rsp_m2", "acc-1", "c1", 1, month.start() + timedelta(days=3))  # ... then at risk
    _answer(sid, "rsp_m3", "acc-2", "c2", 9, month.start() + timedelta(days=4))  # acc-2: unrated, then safe
    _answer(sid, "rsp_m4", "acc-3", "c3", 8, before.start() + timedelta(days=5))  # acc-3: gray zone both months
    _stream(api)
    bus.drain()
    run_month(str(month), now)
    computed = bus.details(bus_events.MONTH_COMPUTED)
    changed = bus.details(bus_events.ACCOUNT_HEALTH_CHANGED)
    assert [(c["month"], c["partial"], c["responses"]) for c in computed] == [(str(month), False, 2)]
    assert sorted((c["account_id"], c["segment"], c["previous_health"], c["health"]) for c in changed) == [
        ("acc-1", "enterprise", "safe", "at_risk"),
        ("acc-2", None, "unrated", "safe"),
    ]
    # A rerun computes again (a new Month Computed) and finds the same changes (the same ids).
    run_month(str(month), now + timedelta(minutes=1))
    assert len({c["event_id"] for c in bus.details(bus_events.MONTH_COMPUTED)}) == 2
    rerun = bus.details(bus_events.ACCOUNT_HEALTH_CHANGED)
    assert len(rerun) == 4 and {c["event_id"] for c in rerun} == {c["event_id"] for c in changed}
    # The running month's bands are "so far": its document is announced, no band change.
    run_month(str(Month.of(now)), now)
    assert bus.details(bus_events.MONTH_COMPUTED)[-1]["partial"] is True
    assert len(bus.details(bus_events.ACCOUNT_HEALTH_CHANGED)) == 4
    _no_personal_data(bus.seen)


# ---- PutEvents refusing entries ---------------------------------------------------------------------------


def test_a_refused_entry_is_retried_then_fails_its_record_which_publishes_on_redelivery(
    api, survey, bus, put_events_faults
):
    for n, score in enumerate((3, 10)):
        response_store.record_answer(
            response_id=f"rsp_fail_{n}",
            survey_id=survey["survey_id"],
            channel="email",
            answer={"score": score},
            now=clock.utcnow(),
            touchpoint=None,
            contact_id=f"con-f{n}",
            account_id="acc-f",
        )
    records = responses_poller(api.client).read_new()
    [first] = [r for r in records if "score" in r["dynamodb"]["NewImage"] and "rsp_fail_0" in json.dumps(r)]
    refused = bus_events.event_id(bus_events.RESPONSE_RECORDED, "rsp_fail_0", "1")
    put_events_faults.refusals = lambda event_id: 3 if event_id == refused else 0  # every attempt of one call
    result = api.client.lambda_.invoke("response_stream", {"Records": records}).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": first["dynamodb"]["SequenceNumber"]}]}
    assert put_events_faults.refused[refused] == 3  # tried three times, then the record failed
    published = bus.drain()  # the other events went: the second answer's, and the first one's task
    assert refused not in {e["detail"]["event_id"] for e in published}
    assert sorted(e["detail-type"] for e in published) == [
        bus_events.RESPONSE_RECORDED,
        bus_events.TASK_OPENED,
        bus_events.TASK_OPENED,
    ]
    # Lambda delivers the failed record again (and those after it): now everything goes, with the same ids.
    result = api.client.lambda_.invoke("response_stream", {"Records": records}).payload
    assert result == {"batchItemFailures": []}
    again = bus.drain()
    assert refused in {e["detail"]["event_id"] for e in again}
    ids = {e["detail"]["event_id"]: e["detail"] for e in published}
    assert all(ids[e["detail"]["event_id"]] == e["detail"] for e in again if e["detail"]["event_id"] in ids)


def test_a_refused_entry_retried_within_the_call_fails_nothing(api, survey, bus, put_events_faults):
    response_store.record_answer(
        response_id="rsp_once",
        survey_id=survey["survey_id"],
        channel="email",
        answer={"score": 9},
        now=clock.utcnow(),
        touchpoint=None,
    )
    put_events_faults.refusals = lambda event_id: 2
    records = responses_poller(api.client).read_new()
    assert api.client.lambda_.invoke("response_stream", {"Records": records}).payload == {"batchItemFailures": []}
    [event] = bus.drain()
    assert put_events_faults.refused[event["detail"]["event_id"]] == 2 and put_events_faults.requests == 3


def test_a_failed_request_fails_every_record_with_events(api, survey, bus, put_events_faults):
    for n in range(3):
        response_store.record_answer(
            response_id=f"rsp_down_{n}",
            survey_id=survey["survey_id"],
            channel="email",
            answer={"score": 8},
            now=clock.utcnow(),
            touchpoint=None,
        )
    put_events_faults.fail_requests = 3
    records = responses_poller(api.client).read_new()
    result = api.client.lambda_.invoke("response_stream", {"Records": records}).payload
    assert len(result["batchItemFailures"]) == 3 and bus.drain() == []
    assert api.client.lambda_.invoke("response_stream", {"Records": records}).payload == {"batchItemFailures": []}
    assert len(bus.drain()) == 3


def test_a_patch_whose_event_is_refused_answers_503_and_its_repeat_publishes_it(api, invited, bus, put_events_faults):
    assert api.post(path_of(invited["link"]), {"score": 1}, token=None).status_code == 201
    _stream(api)
    bus.drain()
    [task] = list(LoopTask.scan())
    put_events_faults.refusals = lambda event_id: 3
    body = {"status": "resolved", "root_cause": "pricing"}
    r = api.patch(f"/v1/tasks/{task.task_id}", body)
    assert r.status_code == 503 and r.json["error"]["code"] == "events_not_published"
    assert LoopTask.get(task.task_id).status == "resolved"  # the change is kept
    assert bus.drain() == []
    put_events_faults.refusals = lambda event_id: 0
    assert api.patch(f"/v1/tasks/{task.task_id}", body).status_code == 409  # already resolved, as any repeat
    [resolved] = bus.details(bus_events.TASK_RESOLVED)
    assert resolved["root_cause"] == "pricing" and resolved["task_id"] == task.task_id


def test_an_unsubscribe_whose_event_is_refused_answers_503_and_its_repeat_publishes_it(
    api, invited, bus, put_events_faults
):
    put_events_faults.refusals = lambda event_id: 3
    link = path_of(invited["unsubscribe_link"])
    assert api.post(link, token=None).status_code == 503
    put_events_faults.refusals = lambda event_id: 0
    assert api.post(link, token=None).status_code == 200
    [event] = bus.details(bus_events.CONTACT_UNSUBSCRIBED)
    assert event["contact_id"] == "con-1"


def test_a_sweep_whose_events_are_refused_fails_and_its_retry_publishes_them(
    api, client, invited, bus, put_events_faults
):
    assert api.post(path_of(invited["link"]), {"score": 1}, token=None).status_code == 201
    _stream(api)
    [task] = list(LoopTask.scan())
    now = clock.utcnow()
    LoopTask(task.task_id).update(actions=[LoopTask.due_at.set(now - timedelta(hours=1))])
    put_events_faults.fail_requests = 3
    with pytest.raises(Exception, match="events"):
        client.lambda_.invoke("sla_sweep", scheduled_event(now))
    assert LoopTask.get(task.task_id).status == "escalated"
    assert bus.of_type(bus_events.TASK_ESCALATED) == []
    # Lambda's retry, a minute later: nothing to escalate, the escalation published.
    assert client.lambda_.invoke("sla_sweep", scheduled_event(now + timedelta(minutes=1))).payload["escalated"] == 0
    assert len(bus.of_type(bus_events.TASK_ESCALATED)) == 1


def test_without_a_bus_nothing_is_published_and_nothing_fails(api, invited):
    from chalicelib import config

    assert config.settings().event_bus_name is None
    assert api.post(path_of(invited["link"]), {"score": 1}, token=None).status_code == 201
    assert _stream(api)["partial_failures"] == 0
    assert len(list(LoopTask.scan())) == 1
