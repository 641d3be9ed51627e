"""The headers every answer carries, walked over every route of the app (public and admin, from the Chalice
app's own route table) and every local-only route of the stack, including refusals, errors and 404s."""

from __future__ import annotations

import http.client
import re
from urllib.parse import quote, urlsplit

import pytest

BOGUS_TOKEN = "eyJub3QiOiJhIHRva2VuIn0.AAAA"


def app_routes() -> list[tuple[str, str, bool]]:
    """(method, route template, needs an admin token) for every route the app declares."""
    from app import app

    return sorted(
        (method, path, entry.authorizer is not None)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
    )


def local_routes() -> list[tuple[str, str]]:
    from nps_local.stack import LocalStack

    return sorted(LocalStack(port=0, demo=False).local_routes())


@pytest.fixture(scope="module")
def walk_data(stack):
    """Real ids and tokens to put into the route templates."""
    survey = stack.post("/v1/surveys", {"name": "header walk"}).json
    invited = stack.post(
        f"/v1/surveys/{survey['survey_id']}/invitations",
        {"contacts": [{"contact_id": "c-header-walk", "account_id": "acct-header-walk"}]},
    ).json
    invitation = invited["invitations"][0]
    tokens = {
        "/s/": [urlsplit(invitation["link"]).path.rsplit("/", 1)[1], BOGUS_TOKEN],
        "/u/": [urlsplit(invitation["unsubscribe_link"]).path.rsplit("/", 1)[1], BOGUS_TOKEN],
    }
    return {"survey_id": survey["survey_id"], "tokens": tokens}


def concrete_paths(method: str, template: str, data: dict) -> list[str]:
    """The paths to call for one route: each known token (valid and forged) for `{token}`, harmless ids else.
    Changes get ids that exist nowhere or values that are refused, so the walk changes nothing that matters."""
    values = {
        "survey_id": data["survey_id"],
        "account_id": "acct-header-walk",
        "response_id": "rsp_000000000000000000000000",
        "task_id": "tsk_000000000000000000000000",
        "token_id": "0000000000000000",
        "contact_id": "c-header-walk-nobody",
        "month": "2000-01" if method == "GET" else "2026-13",
    }
    if "{token}" in template:
        prefix = template.split("{token}")[0]
        return [template.replace("{token}", quote(t)) for t in data["tokens"].get(prefix, [BOGUS_TOKEN])]
    path = template
    for name in re.findall(r"{(\w+)}", template):
        path = path.replace("{" + name + "}", quote(values.get(name, "header-walk")))
    return [path]


def call(stack, method: str, path: str, *, token: str | None, body: bytes | None = None):
    """One request on its own connection; (status, headers with lower-case names, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def check(seen: list, problems: list, method: str, path: str, status: int, headers: dict) -> None:
    seen.append((method, path, status))
    where = f"{method} {path} -> {status}"
    if headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options is {headers.get('x-content-type-options')!r}")
    route = path.split("?")[0]
    if re.match(r"^/(s|u|r)/[^/]+$", route) or "token=" in path:
        if headers.get("referrer-policy") != "no-referrer":
            problems.append(f"{where}: Referrer-Policy is {headers.get('referrer-policy')!r}")
        if "no-store" not in (headers.get("cache-control") or ""):
            problems.append(f"{where}: Cache-Control is {headers.get('cache-control')!r}")


def test_every_answer_of_every_route_carries_the_security_headers(stack, walk_data):
    seen: list = []
    problems: list = []
    routes = app_routes()
    assert len(routes) > 20 and any(p.startswith("/s/") for _, p, _ in routes)

    for method, template, admin in routes:
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        for path in concrete_paths(method, template, walk_data):
            tokens = [stack.admin_token, None, "not-a-token"] if admin else [None]
            for token in tokens:
                status, headers, _ = call(stack, method, path, token=token, body=body)
                check(seen, problems, method, path, status, headers)
            if method == "GET":  # HEAD: answered like GET where the route allows it, else the gateway's 404
                status, headers, _ = call(stack, "HEAD", path, token=stack.admin_token if admin else None)
                check(seen, problems, "HEAD", path, status, headers)

    for method, path in local_routes():
        for token in (stack.admin_token, None):
            status, headers, _ = call(stack, method, path, token=token)
            check(seen, problems, method, path, status, headers)
        if method in ("GET", "HEAD"):
            for token in (stack.admin_token, "not-a-token"):  # the dashboard's ?token= form
                status, headers, _ = call(stack, method, f"{path}?token={quote(token)}", token=None)
                check(seen, problems, method, f"{path}?token=...", status, headers)

    # The gateway's own answers: no route, no method, a body too large for the local-only routes' parsers.
    for method, path in [
        ("GET", "/nope"),
        ("DELETE", "/v1/health"),
        ("PROPFIND", "/v1/surveys"),
        ("GET", "/s/"),
        ("GET", "/local/nope"),
    ]:
        status, headers, _ = call(stack, method, path, token=None)
        check(seen, problems, method, path, status, headers)

    statuses = {status for _, _, status in seen}
    # The walk met successes, refusals, client errors and 404s, not just one kind of answer.
    assert {200, 401, 404} <= statuses and statuses & {400, 403, 422}, sorted(statuses)
    assert not problems, "\n".join(problems)


def test_head_on_the_local_pages_answers_like_get_without_a_body(stack):
    survey_id = stack.demo["Widget demo page"].rsplit("survey=", 1)[1]
    pages = [f"/local/widget-demo?survey={survey_id}", f"/local/dashboard?token={quote(stack.admin_token)}"]
    for page in pages:
        connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
        try:
            connection.request("GET", page)
            got = connection.getresponse()
            got_body = got.read()
            # The same connection next: a HEAD answer that carried a body would corrupt what follows it.
            connection.request("HEAD", page)
            head = connection.getresponse()
            head_body = head.read()
            connection.request("GET", "/v1/health")
            after = connection.getresponse()
            assert after.status == 200 and after.read() == b'{"status":"ok"}'
            connection.request("GET", page)
            again_body = connection.getresponse().read()
        finally:
            connection.close()
        assert got.status == head.status == 200, page
        assert head_body == b""
        assert head.getheader("Content-Type") == got.getheader("Content-Type")
        assert head.getheader("Content-Type").startswith("text/html")
        length = int(head.getheader("Content-Length"))
        if page.startswith("/local/dashboard"):
            # The dashboard is live: the stack samples itself and its scheduled jobs add metrics at any moment,
            # so the page grows between two requests. HEAD's length is the page's as it stood between the GETs.
            assert len(got_body) <= length <= len(again_body), (len(got_body), length, len(again_body))
        else:
            assert length == len(got_body) == len(again_body) > 0
