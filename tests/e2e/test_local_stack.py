"""The local stack as a user meets it: a process serving the app over HTTP, refusing like the deployed API,
delivering the responses stream to the real handler, and stopping cleanly."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import pytest


def assert_contract_error(answer, status: int, code: str) -> None:
    assert answer.status == status, answer.text
    assert answer.headers.get("Content-Type", "").startswith("application/json")
    error = answer.json["error"]
    assert error["code"] == code
    assert error["message"] and isinstance(error["fields"], dict)
    assert set(answer.json) == {"error"}


def test_health_is_ok_once_the_stack_is_up(stack):
    answer = stack.get("/v1/health", token=None)
    assert answer.status == 200
    assert answer.json == {"status": "ok"}


def test_an_admin_call_with_the_token_works(stack):
    answer = stack.get("/v1/surveys")
    assert answer.status == 200, answer.text
    assert any(s["name"].startswith("Demo") for s in answer.json["surveys"])


def test_admin_calls_without_a_valid_token_are_401_in_the_contract_shape(stack):
    assert_contract_error(stack.get("/v1/surveys", token=None), 401, "unauthorized")
    assert_contract_error(stack.get("/v1/surveys", token="not-a-token"), 401, "unauthorized")
    assert_contract_error(
        stack.get("/v1/surveys", headers={"Authorization": "Basic abc"}, token=None), 401, "unauthorized"
    )
    assert_contract_error(stack.get("/local/status", token=None), 401, "unauthorized")


def test_unknown_routes_and_methods_are_404_in_the_contract_shape(stack):
    assert_contract_error(stack.get("/v1/nope", token=None), 404, "not_found")
    assert_contract_error(stack.get("/v1/nope"), 404, "not_found")  # with a token too
    assert_contract_error(stack.delete("/v1/health"), 404, "not_found")
    assert_contract_error(stack.request("PROPFIND", "/v1/health", token=None), 404, "not_found")


def test_the_demo_prints_a_survey_link_a_widget_page_and_the_admin_token(stack):
    assert stack.demo["Admin token"] == stack.admin_token
    survey_link = stack.demo["Demo survey page"]
    assert survey_link.startswith(f"{stack.base_url}/s/")
    page = stack.get(survey_link, token=None)
    assert page.status == 200 and "<form" in page.text

    widget = stack.get(stack.demo["Widget demo page"], token=None)
    assert widget.status == 200
    assert widget.headers["Content-Type"].startswith("text/html")
    # The page loads the widget from the stack itself (the snippet it shows names the same script).
    assert "/widget.js" in widget.text and stack.base_url in widget.text
    script = stack.get("/widget.js", token=None)
    assert script.status == 200 and script.headers["Content-Type"].startswith("application/javascript")


def test_a_captured_detractor_reaches_the_stream_handler_and_opens_a_task(stack):
    # An invited contact's answer from the page's no-script Send button: attributed and counted at once.
    survey_id = stack.post(
        "/v1/surveys", {"name": "e2e detractor", "loop_rules": {"fallback_owner": "cx@e2e.example"}}
    ).json["survey_id"]
    assert stack.put("/v1/accounts/acct-e2e-detractor", {"name": "E2E", "owner": "o@e2e.example"}).status in (200, 201)
    invited = stack.post(
        f"/v1/surveys/{survey_id}/invitations",
        {"contacts": [{"contact_id": "c-e2e-detractor", "account_id": "acct-e2e-detractor"}]},
    )
    link = invited.json["invitations"][0]["link"]
    answer = stack.post(
        link,
        token=None,
        raw="score=2&comment=e2e%3A+setup+took+too+long",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert answer.status == 201, answer.text

    stack.drain_stream()

    (response,) = stack.get(f"/v1/responses?survey_id={survey_id}").json["responses"]
    tasks = stack.get("/v1/tasks").json["tasks"]
    assert response["response_id"] in {t["response_id"] for t in tasks}
    poller = stack.status()["poller"]
    assert poller["records_checkpointed"] >= 1 and poller["on_failure_messages"] == 0


def test_scheduled_handlers_fire_on_demand(stack):
    answer = stack.fire("sla_sweep")
    assert answer.status == 200, answer.text
    assert set(answer.json["result"]) >= {"overdue", "escalated"}
    names = {j["name"] for j in stack.status()["scheduler"]}
    assert names >= {"sla_sweep", "monthly_metrics"}
    # Every schedule of the app is discovered, and the banner lists each with its expression.
    from app import app

    assert names == {s.name for s in app.event_sources if getattr(s, "schedule_expression", None) is not None}
    assert all(name in stack.banner["Schedules"] for name in names)


def test_twenty_parallel_requests_are_served_together(stack):
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: stack.get("/v1/surveys"), range(20)))
    assert [a.status for a in answers] == [200] * 20


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_the_stack_cleanly_and_promptly(start_local_stack, sig):
    running = start_local_stack(demo=False)
    assert running.get("/v1/health", token=None).status == 200

    code = running.stop(sig)  # waits at most 20 s, then kills it and fails

    assert code == 0, running.describe()
    assert "Traceback" not in running.stderr, running.stderr
    assert running.output[-1] == "Stopped."


def test_sigterm_while_the_demo_loads_stops_the_load_and_exits_0(start_local_stack):
    from nps_local.banner import READY_LINE

    # HTTP is served before the demo loads; a history of 500 accounts keeps the loader busy for a while.
    running = start_local_stack(demo=True, ready=False, extra_env={"NPS_DEMO_ACCOUNTS": "500"})
    assert running.get("/v1/health", token=None).status == 200

    code = running.stop(signal.SIGTERM)

    assert code == 0, running.describe()
    assert "Traceback" not in running.stderr, running.stderr
    assert READY_LINE not in running.output  # the load was cut short, not waited for
    assert running.output[-1] == "Stopped."


def event_time_of(stack, name: str) -> str | None:
    return next(j for j in stack.status()["scheduler"] if j["name"] == name)["last_event_time"]


def test_fire_takes_the_event_time_and_refuses_junk(stack):
    # The handler's event carries the time given (what settle_pending takes as "now"); /local/status shows it.
    for given, seen in [
        ("2025-03-01T03:00:00Z", "2025-03-01T03:00:00+00:00"),
        ("2025-07-01T05:30:00%2B02:00", "2025-07-01T03:30:00+00:00"),
        ("2025-07-01T05:30:00", "2025-07-01T05:30:00+00:00"),
    ]:  # no offset: UTC
        answer = stack.post(f"/local/scheduler/fire?name=sla_sweep&at={given}")
        assert answer.status == 200, answer.text
        assert event_time_of(stack, "sla_sweep") == seen

    fired = next(j for j in stack.status()["scheduler"] if j["name"] == "sla_sweep")["fired"]
    for junk in ("yesterday", "2025-13-01T00:00:00Z", "", "1700000000"):
        answer = stack.post(f"/local/scheduler/fire?name=sla_sweep&at={junk}")
        assert_contract_error(answer, 400, "malformed")
        assert "at" in answer.json["error"]["fields"]
    assert next(j for j in stack.status()["scheduler"] if j["name"] == "sla_sweep")["fired"] == fired  # not run


def test_the_demo_runs_a_wave_whose_emails_are_in_the_outbox(stack):
    """The demo's survey has a quarterly schedule; the demo starts its first wave at once: the directory's
    people with an address, two per account, decision makers first; those the demo just invited by link are
    throttled. Each invited person's email is in the outbox."""
    surveys = stack.get("/v1/surveys").json["surveys"]
    [demo] = [s for s in surveys if s["name"].startswith("Demo: quarterly")]
    assert demo["schedule"]["every_days"] == 90
    [wave] = stack.get(f"/v1/surveys/{demo['survey_id']}/waves").json["waves"]
    assert wave["status"] == "done" and wave["invited"] == 3 and wave["skipped"]["throttled"] == 3, wave
    assert stack.demo["Demo wave"] == "3 of 6 invited (3 throttled)"
    stack.post("/local/outbox/poll")
    sent = {e["to"] for e in stack.get("/local/outbox.json").json["emails"]}
    for address in ("dana@northwind.demo.example", "jonas@blueyonder.demo.example", "camille@fabrikam.demo.example"):
        assert any(address in to for to in sent), (address, sent)
