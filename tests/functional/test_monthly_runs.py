"""Runs of the monthly job through the API and the deployed function on moto: one run per month at a time (the
lock on the month's item), future months refused, the running month partial, and signed report links.

Time is driven through the product's one clock (`tokens.utcnow`), never by waiting."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import tokens
from chalicelib.events.recompute import event_for
from chalicelib.store import metrics_inputs

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
    monkeypatch.setattr(tokens, "utcnow", lambda: c.now)
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


def test_a_second_recompute_answers_with_the_run_already_going_and_queues_nothing(api, clock, lambda_invocations):
    first = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    assert first.status_code == 202 and first.json["status"] == "started", first.body
    run_id = first.json["run_id"]

    clock.advance(30)
    second = api.post(f"/v1/metrics/{MONTH}/recompute?wait=false")
    assert second.status_code == 202, second.body
    assert second.json == {"month": MONTH, "status": "running", "run_id": run_id}
    assert second.headers["Location"] == f"../{MONTH}"
    # The synchronous recompute respects the lock too: it computes nothing while the run goes.
    waited = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert waited.status_code == 202 and waited.json == second.json
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


def test_a_synchronous_run_holds_the_month_only_while_the_api_could_be_running(aws, clock):
    from chalicelib.events.recompute import API_RUN_PREFIX, take

    crashed = f"{API_RUN_PREFIX}crashed"
    assert take(MONTH, crashed) is None
    clock.advance(59)
    assert take(MONTH, "queued").run_id == crashed
    clock.advance(2)  # the API's 28 s are long gone: that run died without releasing
    assert take(MONTH, "queued") is None


def test_a_failed_synchronous_run_releases_the_lock(api, clock, monkeypatch):
    from chalicelib.events import monthly_job

    def broken(*args, **kwargs):
        raise RuntimeError("the table went away")

    monkeypatch.setattr(monthly_job, "compute_month", broken)
    failed = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert failed.status_code == 500 and failed.json["error"]["code"] == "internal"
    assert metrics_inputs.current_run(MONTH) is None
    monkeypatch.undo()
    monkeypatch.setattr(tokens, "utcnow", lambda: clock.now)
    done = api.post(f"/v1/metrics/{MONTH}/recompute")
    assert done.status_code == 200 and done.json["month"] == MONTH
    assert metrics_inputs.current_run(MONTH) is None


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


def test_the_running_month_is_partial_and_a_finished_one_is_not(api, clock):
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


def test_tasks_of_the_running_month_are_not_overdue_before_they_are_due(api, survey, clock):
    """A detractor answer on 20 Oct opens a task due 48 h later: recomputed on the 20th it is not overdue (today's
    main counted every open task of the running month as overdue at the month's end)."""
    from support_stream import StreamReader, deliver

    from chalicelib.events.processing import handle_stream_event

    api.put(
        "/v1/accounts/acc-1",
        {"name": "Acme", "segment": "smb", "owner": "owner@example.com", "revenue": {"2026-09": 100, "2026-10": 100}},
    )
    invitation = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c-1", "account_id": "acc-1"}]}
    ).json["invitations"][0]
    from support import path_of

    assert api.post(path_of(invitation["link"]), {"score": 2}, token=None).status_code == 201
    assert deliver(handle_stream_event, StreamReader().read()) == []
    tasks = api.get("/v1/tasks").json["tasks"]
    assert len(tasks) == 1 and tasks[0]["status"] == "open"

    loop = api.post("/v1/metrics/2026-10/recompute").json["loop"]
    assert loop["opened"] == 1 and loop["overdue"] == 0 and loop["within_sla"] is None
    clock.advance(49 * 3600)  # past its due time, still in October
    loop = api.post("/v1/metrics/2026-10/recompute").json["loop"]
    assert loop["overdue"] == 1 and loop["within_sla"] == 0.0


# ---- signed report links ----------------------------------------------------------------------------------------


@pytest.fixture
def computed(api, clock):
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


def test_the_response_rate_counts_only_counted_answers(api, survey, clock):
    """An invitation whose response is pending or excluded (a mail scanner's) has not been answered yet."""
    from support import path_of

    from chalicelib.store.models import Response

    contacts = [{"contact_id": f"c-{n}", "account_id": "acc-1"} for n in range(4)]
    invitations = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": contacts}).json["invitations"]
    assert api.post(path_of(invitations[0]["link"]), {"score": 9}, token=None).status_code == 201
    for invitation, status in zip(invitations[1:3], ("pending", "excluded"), strict=True):
        Response(
            tokens.stable_id("rsp", invitation["invitation_id"]),
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
