"""GET /v1/responses: the export, with survey and month filters and pagination across pages."""

from __future__ import annotations

import base64
import functools
import json
import operator
from datetime import UTC, datetime

import pytest
from support_ddb import assert_error

from chalicelib.store import responses as response_store
from chalicelib.store.models import Response

FIELDS = {"response_id", "survey_id", "score", "comment", "drivers", "channel", "submitted_at"}


@pytest.fixture
def data(api, survey):
    """Seven responses to the survey (three in January, two in February, two this month by the widget) and
    two to another survey in January."""
    other = api.post("/v1/surveys", {"name": "Other"}).json["survey_id"]
    sid = survey["survey_id"]
    ids: dict[tuple[str, str], list[str]] = {}

    def record(survey_id, month, day, score, comment=None):
        rid = f"rsp_{survey_id[-4:]}_{month}_{day}"
        response_store.record_answer(
            response_id=rid,
            survey_id=survey_id,
            channel="email",
            answer={"score": score, "comment": comment, "drivers": ["price"] if survey_id == sid else []},
            now=datetime(2025, int(month), day, 12, tzinfo=UTC),
            touchpoint=None,
            contact_id=f"con-{day}",
            account_id="acc-1",
        )
        ids.setdefault((survey_id, f"2025-{month}"), []).append(rid)

    for day in (3, 14, 28):
        record(sid, "01", day, day % 11, f"January comment {day}")
    for day in (1, 27):
        record(sid, "02", day, 9, None)
    for day in (5, 6):
        record(other, "01", day, 2, "other survey")
    path = f"/v1/surveys/{sid}/responses"
    now_ids = [api.post(path, {"score": 10}, token=None).json["response_id"] for _ in range(2)]
    return {"sid": sid, "other": other, "ids": ids, "now_ids": now_ids}


def page_through(api, query: str, limit: int = 2) -> tuple[list[dict], int]:
    rows, cursor, pages = [], None, 0
    while True:
        r = api.get(f"/v1/responses?{query}&limit={limit}" + (f"&next={cursor}" if cursor else ""))
        assert r.status_code == 200, r.body
        assert len(r.json["responses"]) <= limit
        rows += r.json["responses"]
        pages += 1
        cursor = r.json["next"]
        if cursor is None:
            return rows, pages
        assert pages < 50, "pagination must end"


def test_export_rows_have_the_contract_fields(api, data):
    r = api.get(f"/v1/responses?survey_id={data['sid']}&month=2025-01")
    assert r.status_code == 200 and r.json["next"] is None
    rows = r.json["responses"]
    assert len(rows) == 3 and all(set(row) >= FIELDS for row in rows)
    first = min(rows, key=lambda row: row["submitted_at"])
    assert first["survey_id"] == data["sid"] and first["score"] == 3 and first["comment"] == "January comment 3"
    assert first["drivers"] == ["price"] and first["channel"] == "email"
    assert first["submitted_at"] == "2025-01-03T12:00:00Z"


def test_filter_by_survey_pages_through_everything_once(api, data):
    rows, pages = page_through(api, f"survey_id={data['sid']}")
    expected = (
        functools.reduce(operator.iadd, (v for (s, _), v in data["ids"].items() if s == data["sid"]), [])
        + data["now_ids"]
    )
    assert sorted(row["response_id"] for row in rows) == sorted(expected) and len(rows) == 7
    assert pages >= 4
    assert [row["submitted_at"] for row in rows] == sorted(row["submitted_at"] for row in rows)


def test_filter_by_month_across_surveys_and_shards(api, data):
    rows, pages = page_through(api, "month=2025-01")
    expected = data["ids"][(data["sid"], "2025-01")] + data["ids"][(data["other"], "2025-01")]
    assert sorted(row["response_id"] for row in rows) == sorted(expected) and pages >= 3
    rows, _ = page_through(api, "month=2025-02", limit=1)
    assert sorted(row["response_id"] for row in rows) == sorted(data["ids"][(data["sid"], "2025-02")])
    assert page_through(api, "month=2024-12")[0] == []


def test_filter_by_survey_and_month(api, data):
    rows, _ = page_through(api, f"survey_id={data['sid']}&month=2025-02", limit=1)
    assert sorted(row["response_id"] for row in rows) == sorted(data["ids"][(data["sid"], "2025-02")])
    this_month = datetime.now(UTC).strftime("%Y-%m")
    rows, _ = page_through(api, f"survey_id={data['sid']}&month={this_month}")
    assert sorted(row["response_id"] for row in rows) == sorted(data["now_ids"])
    assert all(row["channel"] == "api" for row in rows)


def test_no_filter_pages_through_everything(api, data):
    rows, _ = page_through(api, "", limit=3)
    assert len(rows) == 9 and len({row["response_id"] for row in rows}) == 9


def test_erased_responses_keep_the_score_without_the_comment(api, data):
    rid = data["ids"][(data["sid"], "2025-01")][0]
    Response.get(rid).update(actions=[Response.erased.set(True)])
    rows = api.get(f"/v1/responses?survey_id={data['sid']}&month=2025-01").json["responses"]
    erased = next(row for row in rows if row["response_id"] == rid)
    assert erased["comment"] is None and erased["score"] == 3
    assert all(row["comment"] for row in rows if row["response_id"] != rid)


def test_bad_month_is_422(api, data):
    for month in ["2025-13", "2025-1", "25-01", "2025-01-01", "january", "2025-00", "%C2%B2"]:
        for query in (f"month={month}", f"survey_id={data['sid']}&month={month}"):
            error = assert_error(api.get(f"/v1/responses?{query}"), 422, "invalid")
            assert error["fields"] == {"month": "must be YYYY-MM"}


def test_bad_filters_are_422(api, data):
    assert_error(api.get("/v1/responses?survey_id=has%20space"), 422, "invalid")
    assert_error(api.get("/v1/responses?surveyid=x"), 422, "invalid")
    assert_error(api.get("/v1/responses?limit=0"), 422, "invalid")
    assert_error(api.get("/v1/responses?limit=1001"), 422, "invalid")


def enc(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_bad_cursors_are_400(api, data):
    garbage = [
        "!!!",
        "bm90IGpzb24",
        "WzFd",
        enc({"k": "abc"}),
        enc({"k": {"x": 1}}),
        enc({"k": {"response_id": {"N": "1"}}}),
        enc({"k": {"response_id": {"S": ""}}}),
        "W" * 3000,
    ]
    for query in ("", f"survey_id={data['sid']}&", "month=2025-01&", f"survey_id={data['sid']}&month=2025-01&"):
        for cursor in garbage:
            assert_error(api.get(f"/v1/responses?{query}next={cursor}"), 400, "malformed")
    for shard in ("abc", 9, 4, -1, True, None, [0]):
        assert_error(api.get(f"/v1/responses?month=2025-01&next={enc({'m': '2025-01', 's': shard})}"), 400, "malformed")
    assert_error(api.get(f"/v1/responses?month=2025-01&next={enc({'s': 0})}"), 400, "malformed")


def test_a_cursor_for_one_filter_is_refused_by_another(api, data):
    month_cursor = api.get("/v1/responses?month=2025-01&limit=1").json["next"]
    survey_cursor = api.get(f"/v1/responses?survey_id={data['sid']}&limit=1").json["next"]
    scan_cursor = api.get("/v1/responses?limit=1").json["next"]
    assert month_cursor and survey_cursor and scan_cursor
    assert_error(api.get(f"/v1/responses?next={month_cursor}"), 400, "malformed")
    assert_error(api.get(f"/v1/responses?survey_id={data['other']}&next={survey_cursor}"), 400, "malformed")
    assert_error(api.get(f"/v1/responses?month=2025-02&next={month_cursor}"), 400, "malformed")
    assert_error(api.get(f"/v1/responses?month=2025-01&next={scan_cursor}"), 400, "malformed")
    assert_error(api.get(f"/v1/responses?survey_id={data['sid']}&next={scan_cursor}"), 400, "malformed")
