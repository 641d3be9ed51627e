"""A replay of the audit's load against the local stack: 2,000 requests from 20 concurrent clients, each on a
new connection (widget answers with Idempotency-Keys, some of them retried at once from another client; survey
link POSTs, each link answered twice; admin GETs). No connection may be refused or reset, every answer is the
expected one, and afterwards the stored responses are exactly the answers sent: none lost, none duplicated."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

CLIENTS = 20
WIDGET_KEYS = 800  # distinct Idempotency-Keys
WIDGET_RETRIES = 200  # the same keys sent again (1,000 widget answers in all)
INVITATIONS = 300  # each link answered twice (600 link POSTs)
ADMIN_GETS = 400
TOTAL = WIDGET_KEYS + WIDGET_RETRIES + 2 * INVITATIONS + ADMIN_GETS


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from tests.e2e.conftest import start_stack

    running = start_stack(tmp_path_factory.mktemp("replay"), demo=False)
    yield running
    running.stop()


def plan(widget_survey: str, origin: str, links: list[str], link_survey: str) -> list[tuple]:
    """The 2,000 requests, in a shuffled but reproducible order: (kind, method, path, headers, body, key)."""
    rng = random.Random(11)
    requests = []
    keys = [f"replay-{i:04d}" for i in range(WIDGET_KEYS)]
    for i, key in enumerate(keys + rng.sample(keys, WIDGET_RETRIES)):
        body = {"score": i % 11, "page": "https://shop.example/checkout"}
        headers = {"Origin": origin, "Idempotency-Key": key, "Content-Type": "application/json"}
        requests.append(("widget", "POST", f"/v1/surveys/{widget_survey}/responses", headers, body, key))
    for round_ in range(2):
        for i, link in enumerate(links):
            body = {"score": (i + round_) % 11, "comment": f"round {round_}"}
            requests.append(("link", "POST", urlsplit(link).path, {"Content-Type": "application/json"}, body, link))
    admin_paths = [
        f"/v1/surveys/{widget_survey}",
        f"/v1/responses?survey_id={link_survey}&limit=50",
        "/v1/tasks?limit=20",
        "/v1/surveys?limit=10",
    ]
    for i in range(ADMIN_GETS):
        requests.append(("admin", "GET", admin_paths[i % len(admin_paths)], {}, None, None))
    rng.shuffle(requests)
    # Some retries right after their first send, so both race on two connections.
    return requests


def send(port: int, token: str, request: tuple) -> tuple:
    kind, method, path, headers, body, key = request
    headers = dict(headers)
    if kind == "admin":
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
    finally:
        connection.close()
    return kind, key, answer.status, json.loads(data) if data else None


def all_responses(stack, survey_id: str) -> list[dict]:
    out, cursor = [], None
    while True:
        path = f"/v1/responses?survey_id={survey_id}&limit=1000" + (f"&next={cursor}" if cursor else "")
        page = stack.get(path).json
        out += page["responses"]
        cursor = page["next"]
        if not cursor:
            return out


def test_two_thousand_requests_from_twenty_clients_lose_and_duplicate_nothing(loaded):
    stack = loaded
    origin = stack.base_url
    widget = stack.post("/v1/surveys", {"name": "replay widget", "allowed_origins": [origin]}).json["survey_id"]
    link_survey = stack.post("/v1/surveys", {"name": "replay links"}).json["survey_id"]
    contacts = [{"contact_id": f"replay-c-{i:03d}", "account_id": f"replay-a-{i % 30:02d}"} for i in range(INVITATIONS)]
    invited = stack.post(f"/v1/surveys/{link_survey}/invitations", {"contacts": contacts})
    assert invited.status == 201, invited.text
    links = [i["link"] for i in invited.json["invitations"]]
    assert len(links) == INVITATIONS
    requests = plan(widget, origin, links, link_survey)
    assert len(requests) == TOTAL == 2000

    failures: list[str] = []
    lock = threading.Lock()

    def one(request):
        try:
            return send(stack.port, stack.admin_token, request)
        except (OSError, http.client.HTTPException) as error:  # a reset, refused or dropped connection
            with lock:
                failures.append(f"{request[1]} {request[0]}: {type(error).__name__}: {error}")
            return None

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(one, requests))
    took = time.monotonic() - started
    print(f"\nreplay: {TOTAL} requests, {CLIENTS} clients, {took:.1f} s, {TOTAL / took:.0f} requests/s")

    assert failures == [], failures[:10]
    statuses = Counter((kind, status) for kind, _, status, _ in answers)
    assert statuses[("admin", 200)] == ADMIN_GETS, statuses
    assert statuses[("widget", 201)] == WIDGET_KEYS, statuses  # one creation per key, however it raced
    assert statuses[("widget", 200)] == WIDGET_RETRIES, statuses
    assert statuses[("link", 201)] == INVITATIONS and statuses[("link", 200)] == INVITATIONS, statuses

    # Every send of one key answered the same response; every link kept one response.
    by_key: dict[str, set] = {}
    for kind, key, _, body in answers:
        if kind in ("widget", "link"):
            by_key.setdefault(key, set()).add(body["response_id"])
    assert all(len(ids) == 1 for ids in by_key.values())

    stack.drain_stream()
    stored_widget = all_responses(stack, widget)
    stored_links = all_responses(stack, link_survey)
    assert len(stored_widget) == WIDGET_KEYS and len({r["response_id"] for r in stored_widget}) == WIDGET_KEYS
    assert len(stored_links) == INVITATIONS and len({r["response_id"] for r in stored_links}) == INVITATIONS
    widget_ids = {next(iter(ids)) for key, ids in by_key.items() if key.startswith("replay-")}
    assert widget_ids == {r["response_id"] for r in stored_widget}
    # Each link keeps one of the two answers it was sent, whole (last write wins; the clients race).
    sent_pairs = {
        invitation["invitation_id"]: {((i + round_) % 11, f"round {round_}") for round_ in range(2)}
        for i, invitation in enumerate(invited.json["invitations"])
    }
    for stored in stored_links:
        assert (stored["score"], stored["comment"]) in sent_pairs[stored["invitation_id"]], stored
    poller = stack.status()["poller"]
    assert poller["on_failure_messages"] == 0, poller
