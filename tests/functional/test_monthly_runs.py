"""Runs of the monthly job through the API and the deployed function on moto: every recompute queues the function
and by default waits for its document, one run per month at a time (the lock on the month's item), future months
refused, the running month partial, and signed report links.

Time is driven through the product's one clock (`clock.utcnow`), never by waiting."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import clock as product_clock
from chalicelib.domain import tokens
from chalicelib.events.recompute import event_for
from chalicelib.store import metrics_inputs
from nps_local.responses_stream import responses_poller

pytest_plugins = ["support_runs"]  # queued_runs, background_runs, short_wait

MONTH = "2026-09"
NOW = datetime(2026, 10, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The product's clock, set by the test: clock.now = ...; clock.advance(seconds)."""

    class Clock:
        now = NOW

        def advance(self, seconds: float) -> None:
            self.now = self.now + timedelta(seconds=seconds)

    c = Clock()
    monkeypatch.setattr(product_clock, "utcnow", lambda: c.now)
    return c


@pytest.fixture
def lambda_invocations(monkeypatch):
    """Lambda on moto without Docker, and the parameters of every Invoke our code sends through boto3."""
    import boto3
    from moto.core.models import default_user_config

    monkeypatch.setitem(default_user_config["lambda"], "use_docker", False)
    sent = []

    def record(params, **kwargs):
        sent.append(dict(params))

    events = boto3._get_default_session().events
    events.register("provide-client-params.lambda.Invoke", record)
    yield sent
    events.unregister("provide-client-params.lambda.Invoke", record)


def queued_event(call: dict) -> dict:
    return json.loads(call["Payload"])


# ---- one run per month ------------------------------------------------------------------------------------------


def test_a_second_recompute_answers_with_the_run_already_going_and_queues_nothing(
    api, clock, lambda_invocations, short_wait
):
    first = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    assert first.status_code == 202 and first.json["status"] == "started", first.body
    run_id = first.json["run_id"]

    clock.advance(30)
    second = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    assert second.status_code == 202, second.body
    assert second.json == {"month": MONTH, "status": "running", "run_id": run_id}
    assert second.headers["Location"] == f"../{MONTH}"
    # The waiting recompute respects the lock too: it queues nothing and waits for that run, which nothing runs
    # here (moto's Lambda does not run our handler), so it answers the run once its wait is over.
    waited = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert waited.status_code == 202 and waited.json == second.json
    assert waited.headers["Location"] == f"../{MONTH}"
    assert len(lambda_invocations) == 1
    assert metrics_inputs.load([MONTH]) == {}
    # Another month is another lock.
    other = api.post("/v1/metrics/2026-08/recompute?wait=false")
    assert other.status_code == 202 and other.json["status"] == "started"
    assert len(lambda_invocations) == 2


def test_the_queued_run_releases_the_lock_so_the_next_request_starts_a_new_run(api, client, clock, lambda_invocations):
    first = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    ran = client.lambda_.invoke("monthly_metrics", queued_event(lambda_invocations[0]))
    assert ran.payload["status"] == "computed", ran.payload
    assert metrics_inputs.current_run(MONTH) is None
    assert api.get(f"/v1/metrics/{MONTH}").status_code == 200

    # Lambda retries an asynchronous invocation after a failure: the same event is the same run, so it goes ahead.
    again = client.lambda_.invoke("monthly_metrics", queued_event(lambda_invocations[0]))
    assert again.payload["status"] == "computed", again.payload

    second = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    assert second.json["status"] == "started" and second.json["run_id"] != first.json["run_id"]
    assert len(lambda_invocations) == 2


def test_a_lock_goes_stale_after_the_function_timeout_and_the_stale_run_then_does_nothing(
    api, client, clock, lambda_invocations
):
    stuck = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false").json["run_id"]
    clock.advance(14 * 60)
    assert api.post(f"/v1/metrics/{MONTH}/recompute?wait=false").json["status"] == "running"
    clock.advance(61)  # 15 min 1 s: the monthly function would have timed out
    fresh = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false").json
    assert fresh["status"] == "started" and fresh["run_id"] != stuck
    assert [queued_event(c)["id"] for c in lambda_invocations] == [stuck, fresh["run_id"]]

    # The old event delivered late (or retried) finds the month locked by the new run: it computes nothing.
    late = client.lambda_.invoke("monthly_metrics", queued_event(lambda_invocations[0]))
    assert late.payload == {"month": MONTH, "status": "skipped", "running_run_id": fresh["run_id"]}
    assert metrics_inputs.load([MONTH]) == {}
    assert metrics_inputs.current_run(MONTH).run_id == fresh["run_id"]
    done = client.lambda_.invoke("monthly_metrics", queued_event(lambda_invocations[1]))
    assert done.payload["status"] == "computed"
    assert metrics_inputs.current_run(MONTH) is None


def test_a_run_that_overran_leaves_its_successors_lock_alone(aws, clock):
    from chalicelib.events.monthly_job import run_month
    from chalicelib.events.recompute import take

    assert take(MONTH, "run-a") is None
    clock.advance(16 * 60)
    assert take(MONTH, "run-b") is None  # run-a is stale
    run_month(MONTH, run_id="run-a")  # run-a finishes after all: its document stands, the lock stays run-b's
    assert MONTH in metrics_inputs.load([MONTH])
    assert metrics_inputs.current_run(MONTH).run_id == "run-b"
    assert take(MONTH, "run-c").run_id == "run-b"


def test_recompute_queues_the_run_and_answers_the_document_it_stored(api, clock, queued_runs):
    answer = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert answer.status_code == 200, answer.body
    (event,) = queued_runs.queued
    assert event["detail"] == {"month": MONTH} and event["source"] == "nps.metrics"
    assert queued_runs.results == [{"month": MONTH, "status": "computed", "nps": None, "n": 0, "partial": False}]
    assert answer.json == metrics_inputs.load([MONTH])[MONTH] == api.get(f"/v1/metrics/{MONTH}").json
    assert answer.json["computed_at"] == "2026-10-20T09:30:00Z"
    assert metrics_inputs.current_run(MONTH) is None


def test_a_recompute_while_a_run_is_going_waits_for_that_run(api, clock, queued_runs):
    first = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    assert first.status_code == 202 and first.json["status"] == "started"
    assert queued_runs.results == [] and metrics_inputs.load([MONTH]) == {}, "wait=false answers before the run"

    waited = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert waited.status_code == 200, waited.body
    assert waited.json == metrics_inputs.load([MONTH])[MONTH]
    # One run: the first request's; the second queued nothing.
    assert [e["id"] for e in queued_runs.queued] == [first.json["run_id"]]
    assert [r["status"] for r in queued_runs.results] == ["computed"]


def test_the_request_waits_for_a_run_in_another_invocation(api, clock, background_runs):
    """The run on a thread of its own, the request pausing between its looks at the lock as it does in AWS."""
    answer = api.post(f"/v1/metrics/{MONTH}/recompute")
    background_runs.join()
    assert background_runs.errors == []
    assert answer.status_code == 200, answer.body
    assert [r["status"] for r in background_runs.results] == ["computed"]
    assert answer.json == metrics_inputs.load([MONTH])[MONTH]
    assert metrics_inputs.current_run(MONTH) is None


def test_a_failed_run_releases_the_lock_and_the_request_answers_the_run(api, clock, queued_runs):
    """An account whose revenue is not a number fails the run (and Lambda's two retries of it): the request
    answers 202 with the run, no document is stored and the month is free again."""
    import boto3

    from chalicelib.store.models import Account

    boto3.client("dynamodb").put_item(
        TableName=Account.Meta.table_name,
        Item={"account_id": {"S": "acc-bad"}, "revenue": {"M": {MONTH: {"S": "lots"}}}},
    )
    failed = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert failed.status_code == 202, failed.body
    assert failed.json == {"month": MONTH, "status": "started", "run_id": queued_runs.queued[0]["id"]}
    assert len(queued_runs.failures) == 3 and queued_runs.results == []
    assert all(isinstance(error, ValueError) for error in queued_runs.failures)
    assert metrics_inputs.load([MONTH]) == {}
    assert metrics_inputs.current_run(MONTH) is None

    assert api.put("/v1/accounts/acc-bad", {"name": "Fixed", "revenue": {MONTH: 10}}).status_code == 200
    done = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert done.status_code == 200 and done.json["month"] == MONTH
    assert metrics_inputs.current_run(MONTH) is None


def test_a_run_that_ends_after_the_wait_is_answered_as_queued_and_then_stored(
    api, client, clock, lambda_invocations, short_wait
):
    answer = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert answer.status_code == 202 and answer.json["status"] == "started", answer.body
    assert answer.headers["Location"] == f"../{MONTH}"
    (call,) = lambda_invocations
    assert call["InvocationType"] == "Event" and queued_event(call)["id"] == answer.json["run_id"]
    assert metrics_inputs.current_run(MONTH).run_id == answer.json["run_id"]
    ran = client.lambda_.invoke("monthly_metrics", queued_event(call))
    assert ran.payload["status"] == "computed"
    assert api.get(f"/v1/metrics/{MONTH}").status_code == 200


def test_a_scheduled_run_takes_the_lock_too(client, aws, clock):
    from chalicelib.events.recompute import take

    assert take(MONTH, "someone-else") is None
    scheduled = {**event_for(MONTH), "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    ran = client.lambda_.invoke("monthly_metrics", scheduled)
    assert ran.payload == {"month": MONTH, "status": "skipped", "running_run_id": "someone-else"}


def test_a_month_being_computed_for_the_first_time_is_still_not_found(api, clock, lambda_invocations):
    api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    missing = api.get(f"/v1/metrics/{MONTH}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "metrics_not_computed"
    assert api.get(f"/v1/reports/{MONTH}").status_code == 404


# ---- months -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?wait=false"])
def test_future_months_are_refused_and_nothing_is_queued(api, clock, lambda_invocations, query):
    for month in ("2026-11", "2027-01", "9999-12"):
        answer = api.post(f"/v1/metrics/{month}/recompute{query}")
        assert answer.status_code == 422, answer.body
        assert answer.json["error"]["code"] == "future_month"
        assert answer.json["error"]["fields"] == {"month": "in the future"}
    assert lambda_invocations == []
    assert metrics_inputs.load(["2026-11", "2027-01", "9999-12"]) == {}
    assert metrics_inputs.current_run("2026-11") is None


def test_the_monthly_function_refuses_a_future_month(client, aws, clock):
    from chalicelib.events.monthly_job import month_of_event

    with pytest.raises(ValueError, match="future"):
        month_of_event(event_for("2026-11"))
    assert month_of_event(event_for("2026-10")) == "2026-10"


def test_the_running_month_is_partial_and_a_finished_one_is_not(api, clock, queued_runs):
    running = api.post("/v1/metrics/2026-10/recompute")
    assert running.status_code == 200, running.body
    assert running.json["partial"] is True
    ended = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert ended.json["partial"] is False
    assert ended.json["currency"] == "USD"
    page = api.get("/v1/reports/2026-10")
    html = page.body.decode()
    assert "Partial month." in html and "Overdue when computed" in html
    assert "Partial month." not in api.get(f"/v1/reports/{MONTH}").body.decode()


def test_tasks_of_the_running_month_are_not_overdue_before_they_are_due(api, survey, clock, queued_runs):
    """A detractor answer on 20 Oct opens a task due 48 h later: recomputed on the 20th it is not overdue (today's
    main counted every open task of the running month as overdue at the month's end)."""
    api.put(
        "/v1/accounts/acc-1",
        {"name": "Acme", "segment": "smb", "owner": "owner@example.com", "revenue": {"2026-09": 100, "2026-10": 100}},
    )
    invitation = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c-1", "account_id": "acc-1"}]}
    ).json["invitations"][0]
    from support import path_of

    assert api.post(path_of(invitation["link"]), {"score": 2}, token=None).status_code == 201
    assert responses_poller(api.client).poll_once()["records_discarded"] == 0
    tasks = api.get("/v1/tasks").json["tasks"]
    assert len(tasks) == 1 and tasks[0]["status"] == "open"

    loop = api.post("/v1/metrics/2026-10/recompute").json["loop"]
    assert loop["opened"] == 1 and loop["overdue"] == 0 and loop["within_sla"] is None
    clock.advance(49 * 3600)  # past its due time, still in October
    loop = api.post("/v1/metrics/2026-10/recompute").json["loop"]
    assert loop["overdue"] == 1 and loop["within_sla"] == 0.0


# ---- signed report links ----------------------------------------------------------------------------------------


@pytest.fixture
def computed(api, clock, queued_runs):
    assert api.post(f"/v1/metrics/{MONTH}/recompute").status_code == 200


def report_token(api, month: str = MONTH, **kw) -> tuple[str, dict]:
    answer = api.post(f"/v1/reports/{month}/link", **kw)
    assert answer.status_code == 200, answer.body
    url = answer.json["url"]
    assert url.startswith("http://127.0.0.1:8000/r/")
    return url.rsplit("/", 1)[1], answer.json


def test_a_signed_report_link_opens_the_report_without_the_admin_token(api, computed, clock):
    from chalicelib.store import admin_tokens

    reader, _ = admin_tokens.create("dashboard", ["read"])
    token, link = report_token(api, token=reader)
    assert link["month"] == MONTH
    assert link["expires_at"] == (NOW + timedelta(seconds=900)).isoformat().replace("+00:00", "Z")
    assert reader not in link["url"] and api.token not in link["url"]

    page = api.get(f"/r/{token}", token=None)
    assert page.status_code == 200, page.body
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "September 2026" in page.body.decode()
    head = api.call("HEAD", f"/r/{token}", token=None)
    assert head.status_code == 200 and head.body == b""
    assert head.headers["Content-Type"] == page.headers["Content-Type"]
    assert head.headers["Referrer-Policy"] == "no-referrer" and head.headers["Cache-Control"] == "no-store"


def test_a_report_link_expires(api, computed, clock):
    token, _ = report_token(api)
    clock.advance(899)
    assert api.get(f"/r/{token}", token=None).status_code == 200
    clock.advance(1)
    gone = api.get(f"/r/{token}", token=None)
    assert gone.status_code == 410 and gone.json["error"]["code"] == "link_expired"
    assert gone.headers["Referrer-Policy"] == "no-referrer" and gone.headers["Cache-Control"] == "no-store"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_tampered_or_foreign_report_link_is_refused(api, computed, clock):
    import hashlib
    import hmac

    token, _ = report_token(api)
    body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert payload == {"p": "report", "m": MONTH, "e": int((NOW + timedelta(seconds=900)).timestamp()), "k": "k2"}

    def signed(claims: dict, key: bytes = b"second-test-key") -> str:
        raw = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return f"{b64(raw)}.{b64(hmac.new(key, raw, hashlib.sha256).digest())}"

    other_month = {**payload, "m": "2026-08"}
    forged = [
        f"{b64(json.dumps(other_month).encode())}.{sig}",  # another month under the same signature
        f"{body}.{sig[:-2]}AA",  # signature changed
        f"{body}==.{sig}",  # padding: a second spelling
        f"{body}.{sig}=",
        signed(payload, key=b"not-our-key"),
        signed({**payload, "k": "k9"}),
        signed({**payload, "p": "s"}),  # an invitation link's purpose
        "not-a-token",
        "a" * 600 + "." + "b",
    ]
    # An invitation token, validly signed with our key, is not a report link.
    forged.append(
        tokens.sign_link(
            {"k2": b"second-test-key"},
            "k2",
            purpose=tokens.PURPOSE_SURVEY,
            invitation_id="inv_1",
            survey_id="srv_1",
            contact_id="c",
            account_id="a",
            expires_at=NOW + timedelta(days=1),
        )
    )
    for bad in forged:
        answer = api.get(f"/r/{bad}", token=None)
        assert answer.status_code == 403, (bad, answer.body)
        assert answer.json["error"]["code"] == "invalid_link"
    # Signed with our key for a month that was never computed: a valid link to nothing.
    assert api.get(f"/r/{signed(other_month)}", token=None).status_code == 404


def test_report_links_need_a_computed_month_and_an_admin_token(api, clock):
    missing = api.post(f"/v1/reports/{MONTH}/link")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "metrics_not_computed"
    assert api.post(f"/v1/reports/{MONTH}/link", token=None).status_code == 401
    assert api.post("/v1/reports/2026-13/link").status_code == 422
    assert api.post(f"/v1/reports/{MONTH}/link?ttl=99999").status_code == 422


def test_the_response_rate_counts_only_counted_answers(api, survey, clock, queued_runs):
    """An invitation whose response is pending or excluded (a mail scanner's) has not been answered yet."""
    from support import path_of

    from chalicelib.store.models import Response

    contacts = [{"contact_id": f"c-{n}", "account_id": "acc-1"} for n in range(4)]
    invitations = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": contacts}).json["invitations"]
    assert api.post(path_of(invitations[0]["link"]), {"score": 9}, token=None).status_code == 201
    for invitation, status in zip(invitations[1:3], ("pending", "excluded"), strict=True):
        Response(
            product_clock.stable_id("rsp", invitation["invitation_id"]),
            survey_id=survey["survey_id"],
            invitation_id=invitation["invitation_id"],
            score=10,
            channel="email",
            first_submitted_at=NOW,
            submitted_at=NOW,
            month="2026-10",
            month_shard="2026-10#0",
            status=status,
        ).save()
    rate = api.post("/v1/metrics/2026-10/recompute").json["response_rate"][survey["survey_id"]]
    assert rate == {"invited": 4, "responded": 1, "rate": 0.25}
