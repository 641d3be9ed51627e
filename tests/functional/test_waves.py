"""Relationship waves on moto, through the real routes and the survey_waves function as Lambda invokes it: the
counts of a 2,000-contact wave with caps, throttles and unsubscribes, a day at a time; every email of a wave as
valid MIME; the schedule; a run cut short or repeated; the wave's response rate; the routes' refusals."""

from __future__ import annotations

import email
import email.policy
import json
from collections import Counter
from datetime import datetime, timedelta

import boto3
import pytest
from support import path_of, scheduled_event
from support_mail import _sender, _settings_again, sent_messages

from chalicelib.domain import clock
from chalicelib.events import wave_runs
from chalicelib.store import contacts as contact_store
from chalicelib.store import invitations as invitation_store
from chalicelib.store.models import Invitation, Wave

NDJSON = "application/x-ndjson"
ALWAYS = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}
ROLES = ("decision_maker", "influencer", "user", "user", "finance")


def _event(at: datetime | None = None) -> dict:
    return scheduled_event(at or clock.utcnow())


@pytest.fixture
def waves_fn(client, queues):
    """The survey_waves function as Lambda runs it, with its configured 15 minutes (Chalice's test client gives
    every function Lambda's default 3 seconds): a started wave's queued run, and the schedule's tick."""
    from chalice.local import LambdaContext

    from app import app

    def invoke(payload):
        return app.handler_map["survey_waves"](payload, LambdaContext("survey_waves", 512, max_runtime_ms=900_000))

    wave_runs.use_local_runner(invoke)
    yield lambda at=None: invoke(_event(at))
    wave_runs.use_local_runner(None)


def _directory(api, rows):
    body = "\n".join(json.dumps(r) for r in rows)
    r = api.post("/v1/contacts/import", raw=body, content_type=NDJSON)
    assert r.status_code == 200 and r.json["accepted"] == len(rows), r.json["rejected"][:3]


def _survey(api, **fields):
    r = api.post("/v1/surveys", {"name": "Relationship", "throttle_days": 90, **fields})
    assert r.status_code == 201, r.body
    return r.json


def test_a_wave_over_2000_contacts_counts_exactly_a_day_at_a_time(
    api, queues, waves_fn, monkeypatch, fast_moto_transactions
):
    monkeypatch.setenv("CONTACT_THROTTLE_DAYS", "30")
    _settings_again()
    survey = _survey(api)
    other = _survey(api, name="Onboarding")
    sid = survey["survey_id"]
    accounts = [f"a{n:03d}" for n in range(400)]
    churned, paused = set(accounts[:15]), set(accounts[15:20])
    lines = [
        json.dumps(
            {
                "account_id": a,
                "status": "churned"
                if a in churned
                else "paused"
                if a in paused
                else "trial"
                if a == "a020"
                else "active",
            }
        )
        for a in accounts
    ]
    imported = api.post("/v1/accounts/import", raw="\n".join(lines), content_type=NDJSON)
    assert imported.status_code == 200 and imported.json["accepted"] == 400, imported.json
    rows = []
    for n, a in enumerate(accounts):
        for k, role in enumerate(ROLES):
            cid = f"c{n:03d}-{k}"
            rows.append({"contact_id": cid, "account_id": a, "email": f"{cid}@example.com", "role": role})
    rows.append({"contact_id": "no-address", "account_id": "a399", "role": "decision_maker"})
    _directory(api, rows)
    people = [r["contact_id"] for r in rows if "email" in r]
    assert len(people) == 2000
    now = clock.utcnow()
    status = {}
    for i, cid in enumerate(people):
        if i % 37 == 5:
            invitation_store.unsubscribe(cid, now)
            status[cid] = "unsubscribed"
        elif i % 53 == 7:
            contact_store.mark(cid, "bounced", now)
            status[cid] = "bounced"
        elif i % 71 == 9:
            contact_store.mark(cid, "complained", now)
            status[cid] = "complained"
    # Throttled: 60 asked this survey lately, 40 another survey within the stack's 30 days.
    fresh = [c for c in people if c not in status]
    lately_here, lately_there = fresh[3:603:10], fresh[7:407:10]
    for target, group in ((sid, lately_here), (other["survey_id"], lately_there)):
        r = api.post(f"/v1/surveys/{target}/invitations", {"contacts": [{"contact_id": c} for c in group]})
        assert r.status_code == 201 and all("invitation_id" in x for x in r.json["invitations"])

    # What the wave must find, worked out plainly from the data above.
    asked = {"decision_maker": 0, "influencer": 1, "user": 2}
    role_of = {r["contact_id"]: r["role"] for r in rows}
    account_of = {r["contact_id"]: r["account_id"] for r in rows}
    expected = Counter()
    eligible, places = [], []
    for cid in people:
        if role_of[cid] not in asked:
            continue
        eligible.append(cid)
        if cid in status:
            expected[status[cid]] += 1
        elif account_of[cid] in churned | paused:
            expected["account_inactive"] += 1
        elif cid in lately_here or cid in lately_there:
            expected["throttled"] += 1
        else:
            places.append(cid)
    per_account = {}
    for cid in sorted(places, key=lambda c: (asked[role_of[c]], c)):
        per_account.setdefault(account_of[cid], []).append(cid)
    within = [c for cs in per_account.values() for c in cs[:2]]
    expected["over_account_cap"] = len(places) - len(within)
    order = sorted(within, key=lambda c: (asked[role_of[c]], c))

    started = api.post(
        f"/v1/surveys/{sid}/waves",
        {"roles": ["decision_maker", "influencer", "user"], "per_account": 2, "daily_cap": 300},
    )
    assert started.status_code == 202, started.body
    wave = api.get(f"/v1/surveys/{sid}/waves/{started.json['wave_id']}").json
    runs = 1
    while True:
        # A run that stops short (pending) is due again at once; the next goes on.
        left = len(order) - wave["invited"]
        assert wave["eligible"] == len(eligible), wave
        assert wave["skipped"] == {
            "unsubscribed": expected["unsubscribed"],
            "bounced": expected["bounced"],
            "complained": expected["complained"],
            "account_inactive": expected["account_inactive"],
            "throttled": expected["throttled"],
            "over_account_cap": expected["over_account_cap"],
            "over_daily_cap": left - wave["pending"],
        }, wave
        assert wave["invited"] + sum(wave["skipped"].values()) + wave["pending"] == wave["eligible"]
        if wave["status"] == "done":
            break
        assert left > 0 and wave["next_run_at"] is not None
        nxt = clock.parse_timestamp(wave["next_run_at"])
        if not wave["pending"]:
            assert waves_fn(nxt - timedelta(minutes=1))["ran"] == 0  # not before its day
        assert waves_fn(nxt + timedelta(seconds=1))["ran"] == 1  # (the schedule's time is in whole seconds)
        runs += 1
        wave = api.get(f"/v1/surveys/{sid}/waves/{wave['wave_id']}").json
    days = [d["invited"] for d in wave["days"]]
    assert days == [300] * (len(order) // 300) + [len(order) % 300] and runs >= len(days)
    assert len({d["day"] for d in wave["days"]}) == len(days)
    # Decision makers first, each account at most two, nobody twice; each invitation planned to be emailed.
    made = list(Invitation.by_wave.query(wave["wave_id"]))
    invited = [Invitation.get(i.invitation_id) for i in made]
    assert sorted(i.contact_id for i in invited) == sorted(order)
    first_day = sorted(invited, key=lambda i: i.created_at)[:300]
    assert {i.contact_id for i in first_day} == set(order[:300])
    # Each emailed: planned for its day's opening, or (a run at the opening itself) queued at once.
    assert all(
        i.send_at is not None
        and (i.next_email_kind == "invitation" or [h["event"] for h in i.history or []] == ["queued"])
        for i in invited
    )
    assert max(Counter(i.account_id for i in invited).values()) == 2
    # A run again (a redelivered event) invites nobody more.
    again = waves_fn(clock.parse_timestamp(wave["updated_at"]) + timedelta(days=1))
    assert again["ran"] == 0 and Invitation.by_wave.count(wave["wave_id"]) == len(order)


def test_every_email_of_a_wave_is_valid_mime_and_the_response_rate_follows_the_answers(api, client, queues, waves_fn):
    survey = _survey(api, send_window={**ALWAYS, "timezone": "UTC"}, reminders={"count": 0})
    sid = survey["survey_id"]
    _directory(
        api,
        [
            {
                "contact_id": f"m{i:02d}",
                "account_id": f"acct-{i % 8}",
                "email": f"m{i:02d}@example.com",
                "name": f"Person {i}",
                "role": "decision_maker" if i % 3 == 0 else "user",
                "language": "de" if i % 4 else "fr",
            }
            for i in range(40)
        ],
    )
    r = api.post(f"/v1/surveys/{sid}/waves", {"per_account": 3})
    assert r.status_code == 202 and r.json["invited"] == 24 and r.json["skipped"]["over_account_cap"] == 16
    ses = boto3.client("sesv2", region_name="us-east-1")
    _sender(queues, ses).poll_once()
    sent = sent_messages()
    assert len(sent) == 24 and len({m.destinations[0] for m in sent}) == 24
    for raw in sent:
        message = email.message_from_string(raw.raw_data, policy=email.policy.default)
        assert message.get_content_type() == "multipart/alternative" and message.defects == []
        assert message["List-Unsubscribe"].startswith("<http") and message["List-Unsubscribe-Post"]
        assert message["To"].endswith(f"<{raw.destinations[0]}>")
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert text.count("?score=") == 11 and html.count("?score=") == 11
    wave_id = r.json["wave_id"]
    # Three people answer from the email's links.
    made = [Invitation.get(i.invitation_id) for i in Invitation.by_wave.query(wave_id)]
    links = {}
    for raw in sent:
        message = email.message_from_string(raw.raw_data, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        link = next(w for w in text.split() if "?score=9" in w)
        links[raw.destinations[0]] = link.split("?")[0]
    for address in sorted(links)[:3]:
        page = path_of(links[address])
        answer = client.http.post(page, headers={"Content-Type": "application/json"}, body=json.dumps({"score": 9}))
        assert answer.status_code == 201
    assert waves_fn()["tallied"] == 1
    shown = api.get(f"/v1/surveys/{sid}/waves/{wave_id}").json
    assert (shown["sent"], shown["responded"], shown["response_rate"]) == (24, 3, 0.125)
    assert len(made) == 24
    listed = api.get(f"/v1/surveys/{sid}/waves").json
    assert [w["wave_id"] for w in listed["waves"]] == [wave_id] and listed["next"] is None


def test_a_schedule_starts_its_waves_by_itself(api, queues, waves_fn):
    survey = _survey(api, schedule={"every_days": 90, "roles": ["decision_maker"], "per_account": 1})
    sid = survey["survey_id"]
    assert survey["schedule"] == {"every_days": 90, "roles": ["decision_maker"], "per_account": 1, "daily_cap": None}
    _directory(
        api,
        [
            {
                "contact_id": f"s{i}",
                "account_id": f"acct-{i % 5}",
                "email": f"s{i}@example.com",
                "role": "decision_maker",
            }
            for i in range(10)
        ],
    )
    now = clock.utcnow()
    assert waves_fn(now)["started"] == 1
    assert waves_fn(now + timedelta(minutes=5)) == {"started": 0, "ran": 0, "tallied": 0}
    [first] = api.get(f"/v1/surveys/{sid}/waves").json["waves"]
    assert (first["trigger"], first["status"], first["invited"], first["skipped"]["over_account_cap"]) == (
        "schedule",
        "done",
        5,
        5,
    )
    assert waves_fn(now + timedelta(days=89))["started"] == 0
    second = waves_fn(now + timedelta(days=90, minutes=1))
    assert second["started"] == 1
    newest, oldest = api.get(f"/v1/surveys/{sid}/waves").json["waves"]
    assert oldest["wave_id"] == first["wave_id"] and newest["invited"] == 5  # 90 days on: no longer throttled
    # A schedule removed starts nothing more.
    assert api.patch(f"/v1/surveys/{sid}", {"schedule": None}).json["schedule"] is None
    assert waves_fn(now + timedelta(days=400))["started"] == 0


def test_a_run_cut_short_leaves_the_rest_to_the_next_run_and_counts_stay_exact(
    api, client, queues, fast_moto_transactions
):
    survey = _survey(api)
    sid = survey["survey_id"]
    _directory(
        api, [{"contact_id": f"p{i:03d}", "account_id": f"acct-{i}", "email": f"p{i}@example.com"} for i in range(250)]
    )
    from chalicelib.store import surveys as survey_store
    from chalicelib.usecases import waves

    now = clock.utcnow()
    stored = survey_store.get(sid)
    wave = waves.start(stored, waves.waves.Rules(), now)
    calls = iter([False, True])  # the deadline comes after the first chunk of 100
    first = waves.run(stored, wave, now, out_of_time=lambda: next(calls, True))
    assert (first["invited"], first["pending"], first["status"]) == (100, 150, "running")
    assert first["invited"] + first["pending"] + sum(first["skipped"].values()) == first["eligible"] == 250
    # The same run again, as a retried invocation would: nobody twice, the rest invited.
    again = waves.run(stored, Wave.get(sid, wave.wave_id), now)
    assert (again["invited"], again["pending"], again["status"]) == (250, 0, "done")
    assert Invitation.by_wave.count(wave.wave_id) == 250
    assert Counter(i.contact_id for i in Invitation.scan()).most_common(1)[0][1] == 1


def test_the_wave_routes_refuse_what_they_cannot_do(api, queues, waves_fn):
    survey = _survey(api)
    sid = survey["survey_id"]
    bad = api.post(f"/v1/surveys/{sid}/waves", {"per_account": 0, "daily_cap": "x", "colour": "red"})
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"per_account", "daily_cap", "colour"}
    assert api.post(f"/v1/surveys/{sid}/waves", raw="[", content_type="application/json").status_code == 400
    assert api.post("/v1/surveys/srv_missing/waves", {}).status_code == 404
    assert api.get(f"/v1/surveys/{sid}/waves/wav_missing").json["error"]["code"] == "wave_not_found"
    assert api.get(f"/v1/surveys/{sid}/waves?limit=0").status_code == 422
    assert api.get(f"/v1/surveys/{sid}/waves?next=forged").status_code == 400
    bad_schedule = api.patch(f"/v1/surveys/{sid}", {"schedule": {"every_days": 0, "per_account": -1}})
    assert bad_schedule.status_code == 422
    assert set(bad_schedule.json["error"]["fields"]) == {"schedule.every_days", "schedule.per_account"}
    assert Wave.count(sid) == 0
    # A wave that waits for its next day is running: a second one is refused until it is done.
    api.post(
        "/v1/contacts/import",
        raw="\n".join(
            json.dumps({"contact_id": f"r{i}", "account_id": "a", "email": f"r{i}@x.example"}) for i in range(3)
        ),
        content_type=NDJSON,
    )
    first = api.post(f"/v1/surveys/{sid}/waves", {"daily_cap": 1})
    assert first.status_code == 202 and first.json["status"] == "running" and first.json["invited"] == 1, first.json
    assert api.post(f"/v1/surveys/{sid}/waves", {}).json["error"]["code"] == "wave_running"
    assert api.patch(f"/v1/surveys/{sid}", {"status": "closed"}).status_code == 200
    other = _survey(api, name="closed", status="closed")
    assert api.post(f"/v1/surveys/{other['survey_id']}/waves", {}).json["error"]["code"] == "survey_closed"
    # Read-only tokens read waves and start none.
    from chalicelib.store import admin_tokens

    reader, _ = admin_tokens.create("reader", ["read"])
    assert api.get(f"/v1/surveys/{sid}/waves", token=reader).status_code == 200
    assert api.post(f"/v1/surveys/{sid}/waves", {}, token=reader).status_code == 403


def test_a_wave_ends_when_its_survey_closes(api, queues, waves_fn):
    sid = _survey(api)["survey_id"]
    _directory(api, [{"contact_id": f"z{i}", "account_id": f"a{i}", "email": f"z{i}@x.example"} for i in range(3)])
    first = api.post(f"/v1/surveys/{sid}/waves", {"daily_cap": 1}).json
    assert (first["status"], first["invited"], first["skipped"]["over_daily_cap"]) == ("running", 1, 2)
    assert api.patch(f"/v1/surveys/{sid}", {"status": "closed"}).status_code == 200
    assert waves_fn(clock.parse_timestamp(first["next_run_at"]) + timedelta(seconds=1))["ran"] == 1
    ended = api.get(f"/v1/surveys/{sid}/waves/{first['wave_id']}").json
    assert (ended["status"], ended["invited"], ended["next_run_at"]) == ("done", 1, None)
    assert Invitation.by_wave.count(first["wave_id"]) == 1
    # Nothing more runs for it, and a closed survey's schedule starts nothing.
    assert waves_fn(clock.utcnow() + timedelta(days=3))["ran"] == 0


def test_without_a_send_queue_a_wave_is_refused(api, monkeypatch):
    monkeypatch.delenv("SEND_QUEUE_URL", raising=False)
    _settings_again()
    survey = _survey(api)
    r = api.post(f"/v1/surveys/{survey['survey_id']}/waves", {})
    assert r.status_code == 503 and r.json["error"]["code"] == "sending_unavailable"
    assert Wave.count(survey["survey_id"]) == 0
