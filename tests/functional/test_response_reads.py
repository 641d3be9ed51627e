"""From a task to its answer: one response with its status, the export by contact and by account, the account
list with its latest score, category and health (the monthly job's rule), on real tables and the real stream."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support_ddb import assert_error

from chalicelib.domain import clock
from chalicelib.store.models import Response
from chalicelib.store.responses import shard_of
from nps_local.responses_stream import responses_poller


def store(survey_id, rid, score, *, contact="con-1", account="acc-1", when=None, **extra):
    when = when or clock.utcnow()
    month = when.strftime("%Y-%m")
    fields = {
        "survey_id": survey_id,
        "score": score,
        "channel": "api",
        "first_submitted_at": when,
        "submitted_at": when,
        "month": month,
        "month_shard": f"{month}#{shard_of(rid)}",
        "version": 1,
        "contact_id": contact,
        "account_id": account,
    }
    fields.update(extra)
    Response(rid, **{k: v for k, v in fields.items() if v is not None}).save()


def tombstone(survey_id, rid):
    # What erasure leaves for an unanswered invitation: no score at all (an UpdateItem, as erasure writes it).
    Response(rid).update(
        actions=[
            Response.survey_id.set(survey_id),
            Response.erased.set(True),
            Response.status.set("excluded"),
            Response.excluded_reason.set("erased"),
        ]
    )


def ids(answer):
    return [r["response_id"] for r in answer.json["responses"]]


def every(api, path):
    out, cursor = [], None
    for _ in range(50):
        r = api.get(path + (f"&next={cursor}" if cursor else ""))
        assert r.status_code == 200, r.body
        out += r.json["responses"]
        cursor = r.json["next"]
        if cursor is None:
            return out
    raise AssertionError("the list did not end")


def test_one_response_shows_its_status_and_reason(api, survey):
    sid = survey["survey_id"]
    store(sid, "rsp_old", 4, comment="Slow")
    store(sid, "rsp_pending", 8, status="pending")
    store(sid, "rsp_scanner", 10, status="excluded", excluded_reason="suspected_scanner")
    r = api.get("/v1/responses/rsp_old")
    assert r.status_code == 200, r.body
    assert r.json["status"] == "counted" and r.json["excluded_reason"] is None
    assert (r.json["score"], r.json["comment"], r.json["contact_id"]) == (4, "Slow", "con-1")
    assert api.get("/v1/responses/rsp_pending").json["status"] == "pending"
    excluded = api.get("/v1/responses/rsp_scanner").json
    assert (excluded["status"], excluded["excluded_reason"]) == ("excluded", "suspected_scanner")
    exported = {row["response_id"]: row for row in every(api, f"/v1/responses?survey_id={sid}")}
    assert exported["rsp_scanner"]["status"] == "excluded"
    assert exported["rsp_scanner"]["excluded_reason"] == "suspected_scanner"
    assert exported["rsp_old"]["status"] == "counted"
    assert exported["rsp_old"] == r.json


def test_unknown_and_bad_ids_are_404_and_tombstones_410(api, survey):
    assert_error(api.get("/v1/responses/rsp_nothing"), 404, "response_not_found")
    assert_error(api.get("/v1/responses/" + "x" * 300), 404, "response_not_found")
    assert_error(api.get("/v1/responses/rsp_x", token=None), 401)
    tombstone(survey["survey_id"], "rsp_tomb")
    assert_error(api.get("/v1/responses/rsp_tomb"), 410, "response_closed")


def test_the_export_skips_tombstones_on_every_filter(api, survey):
    sid = survey["survey_id"]
    store(sid, "rsp_a", 7)
    tombstone(sid, "rsp_tomb")
    month = clock.utcnow().strftime("%Y-%m")
    for path in ("/v1/responses?limit=1", f"/v1/responses?survey_id={sid}", f"/v1/responses?month={month}"):
        assert [r["response_id"] for r in every(api, path)] == ["rsp_a"], path


def test_filter_by_contact_alone_and_with_survey_and_month(api, survey):
    sid = survey["survey_id"]
    other = api.post("/v1/surveys", {"name": "Other"}).json["survey_id"]
    last_month = clock.utcnow().replace(day=1) - timedelta(days=3)
    store(sid, "rsp_c1", 9, contact="con-1")
    store(other, "rsp_c2", 3, contact="con-1")
    store(sid, "rsp_c3", 5, contact="con-1", when=last_month)
    store(sid, "rsp_d1", 6, contact="con-2")
    assert sorted(r["response_id"] for r in every(api, "/v1/responses?contact_id=con-1&limit=1")) == [
        "rsp_c1",
        "rsp_c2",
        "rsp_c3",
    ]
    assert sorted(r["response_id"] for r in every(api, f"/v1/responses?contact_id=con-1&survey_id={sid}")) == [
        "rsp_c1",
        "rsp_c3",
    ]
    month = clock.utcnow().strftime("%Y-%m")
    both = every(api, f"/v1/responses?contact_id=con-1&survey_id={sid}&month={month}")
    assert [r["response_id"] for r in both] == ["rsp_c1"]
    assert every(api, "/v1/responses?contact_id=nobody") == []


def test_filter_by_account_lists_its_counted_responses_newest_first(api, survey):
    sid = survey["survey_id"]
    reader = responses_poller(api.client)
    now = clock.utcnow()
    store(sid, "rsp_a1", 9, contact="con-1", when=now - timedelta(days=40))
    store(sid, "rsp_a2", 2, contact="con-2", when=now - timedelta(days=1))
    store(sid, "rsp_a3", 8, contact="con-3", when=now - timedelta(hours=1), status="pending")
    store(sid, "rsp_b1", 10, contact="con-4", account="acc-2")
    assert reader.poll_once()["records_discarded"] == 0
    listed = every(api, "/v1/responses?account_id=acc-1&limit=1")
    assert [r["response_id"] for r in listed] == ["rsp_a2", "rsp_a1"]  # the pending one is not counted yet
    month = now.strftime("%Y-%m")
    in_month = [r["response_id"] for r in every(api, f"/v1/responses?account_id=acc-1&month={month}")]
    assert "rsp_a2" in in_month and "rsp_a1" not in in_month
    assert every(api, "/v1/responses?account_id=acc-1&survey_id=srv_other") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("contact_id=con-1&account_id=acc-1", "contact_id"),
        ("account_id=" + "a" * 200, "account_id"),
        ("contact_id=a%20b", "contact_id"),
        ("month=2026-13", "month"),
        ("owner=x", "owner"),
    ],
)
def test_bad_filters_are_422(api, survey, query, field):
    error = assert_error(api.get(f"/v1/responses?{query}"), 422, "invalid")
    assert field in error["fields"]


# ---- accounts -----------------------------------------------------------------------------------------------


def put_account(api, account_id, **fields):
    r = api.put(f"/v1/accounts/{account_id}", {"name": account_id, **fields})
    assert r.status_code in (200, 201), r.body


def test_accounts_show_latest_score_category_and_health_by_the_monthly_rule(api, survey):
    sid = survey["survey_id"]
    reader = responses_poller(api.client)
    now = clock.utcnow()
    put_account(api, "acc-1", segment="smb", owner="olive@example.com")
    put_account(api, "acc-2", segment="enterprise", owner="max@example.com")
    put_account(api, "acc-3", segment="smb", owner="olive@example.com")
    # acc-1: con-1 answered 10 then 2 (the later one replaces it), con-2 answered 3: two detractors -> at_risk.
    store(sid, "rsp_1", 10, contact="con-1", when=now - timedelta(days=90))
    store(sid, "rsp_2", 2, contact="con-1", when=now - timedelta(days=10))
    store(sid, "rsp_3", 3, contact="con-2", when=now - timedelta(days=5))
    # acc-2: a promoter inside the window; its latest answer is an excluded one, which does not count.
    store(sid, "rsp_4", 9, contact="con-3", account="acc-2", when=now - timedelta(days=2))
    store(sid, "rsp_5", 0, contact="con-3", account="acc-2", status="excluded", excluded_reason="suspected_scanner")
    # acc-3: one answer older than the 12-month window: a latest score, but unrated.
    store(sid, "rsp_6", 6, contact="con-5", account="acc-3", when=now - timedelta(days=500))
    assert reader.poll_once()["records_discarded"] == 0

    one = api.get("/v1/accounts/acc-1")
    assert one.status_code == 200, one.body
    a1 = one.json
    assert (a1["latest_score"], a1["latest_category"], a1["latest_response_id"]) == (3, "detractor", "rsp_3")
    assert (a1["category"], a1["nps"], a1["health"], a1["rated_contacts"]) == ("detractor", -100.0, "at_risk", 2)
    assert a1["owner"] == "olive@example.com" and a1["segment"] == "smb"
    a2 = api.get("/v1/accounts/acc-2").json
    assert (a2["latest_score"], a2["category"], a2["health"]) == (9, "promoter", "safe")
    a3 = api.get("/v1/accounts/acc-3").json
    assert (a3["latest_score"], a3["latest_category"], a3["category"], a3["health"]) == (
        6,
        "detractor",
        "unrated",
        "unrated",
    )

    listed, cursor = [], None
    for _ in range(5):
        r = api.get("/v1/accounts?limit=2" + (f"&next={cursor}" if cursor else ""))
        assert r.status_code == 200, r.body
        listed += r.json["accounts"]
        cursor = r.json["next"]
        if cursor is None:
            break
    assert {a["account_id"]: a["health"] for a in listed} == {"acc-1": "at_risk", "acc-2": "safe", "acc-3": "unrated"}
    assert next(a for a in listed if a["account_id"] == "acc-1") == a1

    smb = api.get("/v1/accounts?segment=smb").json["accounts"]
    assert sorted(a["account_id"] for a in smb) == ["acc-1", "acc-3"]
    owned = api.get("/v1/accounts?owner=max@example.com&segment=enterprise").json["accounts"]
    assert [a["account_id"] for a in owned] == ["acc-2"]


def test_an_account_without_answers_is_unrated_and_unknown_ones_404(api):
    put_account(api, "acc-9")
    a = api.get("/v1/accounts/acc-9").json
    assert (a["latest_score"], a["category"], a["health"], a["nps"]) == (None, "unrated", "unrated", None)
    assert_error(api.get("/v1/accounts/acc-404"), 404, "account_not_found")
    assert_error(api.get("/v1/accounts?color=red"), 422, "invalid")
    assert_error(api.get("/v1/accounts?limit=1000"), 422, "invalid")
    assert json.loads(api.get("/v1/accounts").body)["next"] is None
