"""Tasks carry the answer: the survey page posts the score first and the comment and drivers later, and the
task follows the response's latest comment and drivers exactly once, however the records are batched and
redelivered. Answers go through the real capture routes, and the records come from moto's real stream."""

from __future__ import annotations

import pytest
from support import path_of
from support_events import emf_lines, metric_total

from chalicelib.store.models import LoopTask, ResponseFact
from nps_local.responses_stream import responses_poller


@pytest.fixture
def link(api, survey):
    assert api.put(
        "/v1/accounts/acc-7", {"owner": "olive@example.com", "manager": "max@example.com", "segment": "smb"}
    ).status_code in (200, 201)
    r = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations",
        {"contacts": [{"contact_id": "c-7", "account_id": "acc-7", "email": "ann@example.com"}]},
    )
    assert r.status_code == 201, r.body
    return path_of(r.json["invitations"][0]["link"])


def answer(api, link, body, expected=(200, 201)):
    r = api.post(link, body, token=None)
    assert r.status_code in expected, r.body
    return r


@pytest.fixture
def stream(client):
    """The responses stream as Lambda delivers it, from its start, to the function invoked through the client."""
    return responses_poller(client)


def only_task(api):
    (task,) = LoopTask.scan()
    return api.get(f"/v1/tasks/{task.task_id}").json


def test_score_then_comment_as_two_deliveries_each_twice(api, link, stream, capsys):
    answer(api, link, {"score": 2})
    first = stream.read_new()
    answer(api, link, {"score": 2, "comment": "Invoices are wrong every month", "drivers": ["price", "support"]})
    second = stream.read_new()
    assert first and second
    assert stream.deliver(first, redeliver=True) == []
    assert only_task(api)["comment"] is None
    assert stream.deliver(second, redeliver=True) == []
    task = only_task(api)
    assert (task["comment"], task["drivers"], task["score"]) == (
        "Invoices are wrong every month",
        ["price", "support"],
        2,
    )
    assert task["notes"] == []  # the score did not change: no re-score note
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == 1
    assert metric_total(lines, "Detractors") == 1
    assert metric_total(lines, "TasksOpened") == 1
    assert "billing" in ResponseFact.get(task["response_id"]).themes


def test_score_then_comment_in_one_batch_delivered_twice(api, link, stream, capsys):
    answer(api, link, {"score": 3})
    answer(api, link, {"score": 3, "comment": "Setup took two weeks", "drivers": ["product"]})
    records = stream.read_new()
    assert stream.deliver(records, redeliver=True) == []
    assert stream.stats.batches == 2  # one batch, twice
    task = only_task(api)
    assert (task["comment"], task["drivers"]) == ("Setup took two weeks", ["product"])
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == 1 and metric_total(lines, "TasksOpened") == 1


def test_the_latest_answer_wins_and_a_rescore_still_adds_one_note(api, link, stream):
    answer(api, link, {"score": 1, "comment": "Slow", "drivers": ["support"]})
    answer(api, link, {"score": 4, "comment": "Better after the call", "drivers": ["price"]})
    assert stream.poll_once(redeliver=True)["records_discarded"] == 0
    task = only_task(api)
    assert (task["score"], task["comment"], task["drivers"]) == (4, "Better after the call", ["price"])
    assert [n["text"] for n in task["notes"]] == ["Re-scored from 1 to 4 (detractor)."]
    # An empty comment and no drivers clear them on the task as on the response.
    answer(api, link, {"score": 4, "comment": "", "drivers": []})
    assert stream.poll_once(redeliver=True)["records_discarded"] == 0
    task = only_task(api)
    assert (task["comment"], task["drivers"]) == (None, [])
    assert len(task["notes"]) == 1


def test_a_task_follows_its_answer_after_the_score_leaves_the_loop_rules(api, survey, stream):
    # The survey opens tasks for detractors and promoters; a passive answer opens none but still updates
    # the task its earlier answer opened.
    r = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c-8", "account_id": "acc-8"}]}
    )
    link = path_of(r.json["invitations"][0]["link"])
    answer(api, link, {"score": 0})
    answer(api, link, {"score": 7})
    answer(api, link, {"score": 7, "comment": "Fine now"})
    assert stream.poll_once(redeliver=True)["records_discarded"] == 0
    task = only_task(api)
    assert (task["score"], task["comment"]) == (7, "Fine now")
    assert [n["text"] for n in task["notes"]] == ["Re-scored from 0 to 7 (passive)."]


def test_an_anonymous_detractor_counts_but_opens_no_task(api, survey, stream, capsys):
    r = api.post(f"/v1/surveys/{survey['survey_id']}/responses", {"score": 1, "comment": "Awful"}, token=None)
    assert r.status_code == 201, r.body
    assert stream.poll_once(redeliver=True)["records_discarded"] == 0
    assert LoopTask.count() == 0
    fact = ResponseFact.get(r.json["response_id"])
    assert (fact.category, fact.account_id, fact.contact_id) == ("detractor", None, None)
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Detractors") == 1 and metric_total(lines, "TasksOpened") == 0


def test_when_the_notes_are_full_a_rescore_updates_the_task_without_another_note(api, link, stream):
    answer(api, link, {"score": 1})
    assert stream.poll_once()["records_discarded"] == 0
    (task,) = LoopTask.scan()
    for i in range(100):
        assert api.patch(f"/v1/tasks/{task.task_id}", {"note": f"Attempt {i}"}).status_code == 200
    answer(api, link, {"score": 3, "comment": "Still waiting", "drivers": ["support"]})
    assert stream.poll_once(redeliver=True)["records_discarded"] == 0
    after = only_task(api)
    assert (after["score"], after["comment"], after["drivers"]) == (3, "Still waiting", ["support"])
    assert len(after["notes"]) == 100 and after["notes"][-1]["text"] == "Attempt 99"
