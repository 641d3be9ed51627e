"""The local stack's event bus: the template's bus created in moto and named to the functions, and
/local/events.json showing what it accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nps_local.event_room import BusWatch, bus_names

ROOT = Path(__file__).resolve().parents[2]

STACK = """
import json, urllib.request, urllib.error
from nps_local.stack import LocalStack

stack = LocalStack(port=0, demo=False)


def call(method, path, body=None, token=True, origin=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + stack.admin_token
    if origin:
        headers["Origin"] = origin
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


try:
    stack.start()
    shop = "https://shop.example.com"
    status, survey = call("POST", "/v1/surveys", {"name": "Local", "allowed_origins": [shop]})
    assert status == 201, survey
    path = "/v1/surveys/" + survey["survey_id"] + "/responses"
    status, answer = call("POST", path, {"score": 9, "comment": "Nice"}, token=False, origin=shop)
    assert status == 201, answer
    call("POST", "/local/stream/poll")
    out = {
        "banner": stack.banner(),
        "response_id": answer["response_id"],
        "events": call("GET", "/local/events.json"),
        "typed": call("GET", "/local/events.json?detail_type=Task%20Opened"),
        "no_token": call("GET", "/local/events.json", token=False)[0],
        "bad_limit": call("GET", "/local/events.json?limit=x")[0],
    }
finally:
    stack.stop()
print(json.dumps(out))
"""


def test_the_stack_creates_the_templates_bus_and_lists_what_it_accepted():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    for name in ("NPS_STAGE", "TABLE_PREFIX", "EVENT_BUS_NAME", "LINK_SIGNING_KEYS", "LINK_SIGNING_KEY_ID"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", STACK], capture_output=True, text=True, cwd=ROOT, env=env, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    status, events = out["events"]
    assert status == 200 and events["bus"] == "nps-dev-events"
    [recorded] = [e for e in events["events"] if e["detail-type"] == "Response Recorded"]
    assert recorded["source"] == "nps.dev" and recorded["detail"]["response_id"] == out["response_id"]
    assert recorded["detail"]["comment"] == "Nice" and recorded["id"]
    assert events["counts"] == {"Response Recorded": 1} and events["accepted"] == 1 and events["refused"] == 0
    assert out["typed"] == [
        200,
        {"bus": "nps-dev-events", "accepted": 1, "refused": 0, "counts": events["counts"], "events": []},
    ]
    assert (out["no_token"], out["bad_limit"]) == (401, 422)
    assert any("Events:" in line and "/local/events.json?token=" in line for line in out["banner"])


def test_bus_names_come_from_the_template_for_the_stage():
    assert bus_names(ROOT / "infra" / "template.yaml", "dev", "nps-dev-", "us-east-1") == ["nps-dev-events"]
    assert bus_names(ROOT / "infra" / "template.yaml", "prod", "nps-prod-", "us-east-1") == ["nps-prod-events"]


def test_the_watch_keeps_accepted_entries_newest_first_and_counts_refused_ones():
    watch = BusWatch(kept=2)
    for n in range(3):
        context: dict = {}
        entries = [
            {"Source": "nps.dev", "DetailType": "Task Opened", "Detail": json.dumps({"n": n})},
            {"Source": "nps.dev", "DetailType": "Response Recorded", "Detail": json.dumps({"n": n})},
        ]
        watch.sending({"Entries": entries}, context)
        watch.answered({"Entries": [{"EventId": f"e{n}"}, {"ErrorCode": "ThrottlingException"}]}, context)
    view = watch.view()
    assert [e["id"] for e in view["events"]] == ["e2", "e1"]  # the latest two, newest first
    assert (view["accepted"], view["refused"], view["counts"]) == (3, 3, {"Task Opened": 3})
    assert watch.view("Response Recorded")["events"] == [] and watch.view(limit=0)["events"] == []
