"""The monthly job end to end on real tables: demo data imported through the API, processed by the stream,
computed by the job; the stored document equals the computation on the generator's own rows (so nothing is
lost or doubled between import, stream and job), and the routes serve it. Recompute queues the job: the
monthly function runs the queued event (through `support_runs`) while the request waits for its document."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urljoin

import pytest

from chalicelib.domain import clock
from chalicelib.domain.clock import parse_timestamp
from chalicelib.domain.monthly import AccountRow, ResponseRow, compute_month
from chalicelib.domain.months import previous as previous_month
from chalicelib.domain.nps import classify
from chalicelib.domain.themes import themes_of
from chalicelib.events.monthly_job import run_month
from nps_demo.generator import generate, write_csv, write_ndjson
from nps_local.responses_stream import responses_poller

END = "2026-09"

pytest_plugins = ["support_runs"]  # queued_runs


@pytest.fixture
def demo(api):
    import io

    data = generate(seed=3, accounts=60, end_month=END)
    keys = {}
    for body in data.surveys():
        key = body.pop("key")
        r = api.post("/v1/surveys", body)
        assert r.status_code == 201, r.body
        keys[key] = (r.json["survey_id"], body["touchpoint"])
    out = io.StringIO()
    write_csv(data.accounts_rows(), out)
    r = api.post("/v1/accounts/import", raw=out.getvalue(), content_type="text/csv")
    assert r.json["rejected"] == [] and r.json["accepted"] == 60
    rows = []
    for row in data.iter_responses():
        row = dict(row)
        row["survey_id"] = keys[row.pop("survey_key")][0]
        rows.append(row)
    out = io.StringIO()
    write_ndjson(rows, out)
    r = api.post("/v1/responses/import", raw=out.getvalue(), content_type="application/x-ndjson")
    assert r.json["rejected"] == [] and r.json["accepted"] == len(rows)
    assert responses_poller(api.client).poll_once()["records_discarded"] == 0
    return data, keys, rows


def expected_document(data, keys, rows, month, computed_at):
    touchpoint = dict(keys.values())
    from chalicelib.store.imports import response_id_for

    responses = [
        ResponseRow(
            response_id=response_id_for(r["external_id"]),
            survey_id=r["survey_id"],
            account_id=r["account_id"],
            contact_id=r["contact_id"],
            score=r["score"],
            first_submitted_at=parse_timestamp(r["submitted_at"]),
            themes=tuple(themes_of(r["comment"] or None)),
            touchpoint=touchpoint[r["survey_id"]],
        )
        for r in rows
    ]
    accounts = [AccountRow(a["account_id"], a["segment"], a["revenue"]) for a in data.accounts_rows()]
    return compute_month(
        month, responses=responses, accounts=accounts, invitations={}, tasks=[], computed_at=computed_at
    )


def test_job_document_equals_the_computation_on_the_source_rows(api, demo, queued_runs):
    data, keys, rows = demo
    document = run_month(END, workers=3)
    expected = expected_document(data, keys, rows, END, datetime.fromisoformat(document["computed_at"]))
    assert document == expected
    # an independent count of the headline
    month_rows = [r for r in rows if r["submitted_at"].startswith(END)]
    cats = [classify(r["score"]) for r in month_rows]
    naive = 100 * (cats.count("promoter") - cats.count("detractor")) / len(cats)
    assert document["nps"]["all"]["n"] == len(month_rows)
    assert document["nps"]["all"]["nps"] == pytest.approx(naive, abs=0.005)

    served = api.get(f"/v1/metrics/{END}")
    assert served.status_code == 200 and served.json == document
    again = api.post(f"/v1/metrics/{END}/recompute")
    assert again.status_code == 200
    assert [event["detail"] for event in queued_runs.queued] == [{"month": END}], "the function computed it"
    assert {k: v for k, v in again.json.items() if k != "computed_at"} == {
        k: v for k, v in document.items() if k != "computed_at"
    }


def test_metrics_routes_errors(api):
    assert api.get("/v1/metrics/2026-13").status_code == 422
    missing = api.get("/v1/metrics/2020-01")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "metrics_not_computed"
    assert api.get("/v1/reports/2020-01").status_code == 404
    assert api.get("/v1/metrics/2026-01", token=None).status_code == 401


def test_schedule_targets_the_month_just_ended():
    assert previous_month(datetime(2026, 1, 1, 3)) == "2025-12"
    assert previous_month(datetime(2026, 11, 1, 3)) == "2026-10"


def test_report_page_serves_html(api, demo):
    run_month(END)
    r = api.get(f"/v1/reports/{END}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    assert 'data-chart="nps-trend"' in body and "<script" not in body
    json.dumps(body)
    # Surveys are labelled by name in the breakdown, with the id kept as the label's title.
    data, keys, _ = demo
    by_survey = body[body.index("<h3>By survey</h3>") :]
    by_survey = by_survey[: by_survey.index("</table>")]
    in_month = api.get(f"/v1/metrics/{END}").json["nps"]["by_survey"]
    names = {keys[spec["key"]][0]: spec["name"] for spec in data.surveys()}
    assert in_month and set(in_month) <= set(names)
    for survey_id in in_month:
        assert f'<span title="{survey_id}">{names[survey_id]}</span>' in by_survey


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


def test_recompute_without_waiting_queues_an_event_the_monthly_function_runs(api, client, demo, lambda_invocations):
    from chalicelib.store import metrics_inputs

    answer = api.post(f"/v1/metrics/{END}/recompute?wait=false")
    assert answer.status_code == 202, answer.body
    assert answer.json["month"] == END and answer.json["status"] == "started"
    # The Location is relative, so it keeps a stage prefix (the default API Gateway URL) and leads to the figures.
    called = f"https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/metrics/{END}/recompute"
    assert urljoin(called, answer.headers["Location"]) == called.removesuffix("/recompute")
    assert metrics_inputs.load([END]) == {}, "nothing is computed inside the API call"
    assert api.get(f"/v1/metrics/{END}").status_code == 404
    assert metrics_inputs.current_run(END).run_id == answer.json["run_id"], "the month is locked for this run"

    (call,) = lambda_invocations
    assert call["FunctionName"] == "nps-backend-test-monthly_metrics"  # NPS_STAGE=test; infra/ names it so
    assert call["InvocationType"] == "Event"
    event = json.loads(call["Payload"])
    assert event["detail"] == {"month": END} and event["id"] == answer.json["run_id"]

    # What Lambda then runs: the deployed function, invoked with exactly the queued event.
    ran = client.lambda_.invoke("monthly_metrics", event)
    assert ran.payload["month"] == END and ran.payload["status"] == "computed", ran.payload
    assert metrics_inputs.current_run(END) is None, "the run released the month's lock"
    served = api.get(f"/v1/metrics/{END}")
    assert served.status_code == 200
    data, keys, rows = demo
    expected = expected_document(data, keys, rows, END, datetime.fromisoformat(served.json["computed_at"]))
    assert served.json == expected


@pytest.mark.parametrize("query", ["", "?wait=false"])
def test_recompute_answers_503_when_lambda_refuses_the_invocation(api, lambda_invocations, query):
    """Lambda throttles (or the role may not invoke): a clear 503 to retry, nothing computed or stored."""
    import boto3
    from botocore.exceptions import ClientError

    from chalicelib.store import metrics_inputs

    def throttle(**kwargs):
        raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "Invoke")

    events = boto3._get_default_session().events
    events.register("before-call.lambda.Invoke", throttle)
    try:
        answer = api.post(f"/v1/metrics/{END}/recompute{query}")
    finally:
        events.unregister("before-call.lambda.Invoke", throttle)
    assert answer.status_code == 503, answer.body
    assert answer.json["error"]["code"] == "recompute_unavailable"
    assert metrics_inputs.load([END]) == {}
    assert metrics_inputs.current_run(END) is None, "a run that never started holds no lock"


def test_recompute_waits_for_the_queued_function_and_answers_its_document(api, demo, queued_runs):
    """The default recompute: the API queues the monthly function (it computes nothing itself) and answers the
    document that run stored, which equals the computation on the source rows."""
    from chalicelib.store import metrics_inputs

    answer = api.post(f"/v1/metrics/{END}/recompute")
    assert answer.status_code == 200, answer.body
    (event,) = queued_runs.queued
    assert event["detail"] == {"month": END} and event["detail-type"] == "Recompute requested"
    (ran,) = queued_runs.results
    assert ran["status"] == "computed" and ran["n"] == answer.json["nps"]["all"]["n"]
    data, keys, rows = demo
    expected = expected_document(data, keys, rows, END, datetime.fromisoformat(answer.json["computed_at"]))
    assert answer.json == expected
    assert api.get(f"/v1/metrics/{END}").json == answer.json
    assert metrics_inputs.current_run(END) is None


@pytest.mark.parametrize("query", ["wait=no", "wait=", "wait=false&force=1", "now=true"])
def test_recompute_refuses_unknown_options_and_queues_nothing(api, lambda_invocations, query):
    answer = api.post(f"/v1/metrics/{END}/recompute?{query}")
    assert answer.status_code == 422, answer.body
    assert answer.json["error"]["code"] == "invalid"
    assert lambda_invocations == []
    assert api.post("/v1/metrics/2026-13/recompute?wait=false").status_code == 422
    assert lambda_invocations == []


def test_the_month_of_a_run_comes_from_the_schedule_or_from_the_event():
    from chalicelib.domain.errors import Invalid
    from chalicelib.events.monthly_job import month_of_event
    from chalicelib.events.recompute import event_for

    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert month_of_event(scheduled) == previous_month(clock.utcnow())
    assert month_of_event(event_for("2025-02")) == "2025-02"
    assert month_of_event({**scheduled, "detail": {"month": "2024-12"}}) == "2024-12"
    with pytest.raises(ValueError, match="detail"):  # a hand-written event that misspells the month
        month_of_event({"source": "nps.metrics", "detail": {"monht": "2025-02"}})
    with pytest.raises(ValueError, match="detail"):
        month_of_event({"month": "2025-02"})
    with pytest.raises(Invalid):
        month_of_event({"source": "nps.metrics", "detail": {"month": "2025-2"}})
