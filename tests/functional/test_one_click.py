"""One-click scores that mail scanners cannot fake (issue 10, item 1), through the real Chalice app on moto.

A gesture (and the no-script form, and the API) counts at once; a page left open without a gesture posts a
`dwell` that is kept `pending` with its page view; the settle job, fired "later" through its event time, counts
an answer whose views agree and excludes one whose views disagree (a scanner opening every score link). A
submission id already applied changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from support import path_of
from support_ddb import all_tables, assert_error, count_dynamodb_calls, invite

from chalicelib.domain import clock
from chalicelib.events.schedules import settle_pending
from chalicelib.events.settle import run_for_event, run_settle
from chalicelib.store import responses as response_store
from chalicelib.store.models import Response

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def invitation(api, survey):
    return invite(api, survey["survey_id"], {"contact_id": "con-1", "account_id": "acc-1"})[0]


@pytest.fixture
def link(invitation):
    return path_of(invitation["link"])


def stored() -> Response:
    [item] = list(Response.scan(consistent_read=True))
    return item


def dwell(api, link, score, view, **extra):
    return api.post(link, {"score": score, "signal": "dwell", "view": view, **extra}, token=None)


def later(seconds: float = 91) -> dict:
    """A scheduled event that fires `seconds` from now (the quiet period is 90 s)."""
    return {"time": (clock.utcnow() + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_plain_post_counts_at_once_as_before(api, link):
    r = api.post(link, {"score": 7}, token=None)
    assert r.status_code == 201 and r.json["status"] == "counted"
    item = stored()
    assert item.status == "counted" and item.pending_shard is None and item.views is None


def test_a_dwell_is_kept_pending_with_its_page_view(api, link):
    r = dwell(api, link, 3, "view-aaaaaaaa")
    assert r.status_code == 201, r.body
    assert r.json == {"response_id": r.json["response_id"], "score": 3, "created": True, "status": "pending"}
    item = stored()
    assert (item.score, item.status, item.version) == (3, "pending", 1)
    assert item.views == {"view-aaaaaaaa:3"}
    assert item.pending_shard == response_store.pending_shard_of(item.response_id)
    assert item.pending_shard in {"pending#0", "pending#1", "pending#2", "pending#3"}
    assert item.pending_at is not None


def test_a_dwell_and_a_gesture_are_each_one_write_and_no_read(api, link):
    api.get(link, token=None)  # warms the survey cache
    with count_dynamodb_calls() as calls:
        assert dwell(api, link, 3, "view-aaaaaaaa", submission="sub-00000001").status_code == 201
    assert calls == {"UpdateItem": 1}
    with count_dynamodb_calls() as calls:
        r = api.post(
            link, {"score": 4, "signal": "gesture", "view": "view-aaaaaaaa", "submission": "sub-00000002"}, token=None
        )
        assert r.status_code == 200 and r.json["status"] == "counted"
    assert calls == {"UpdateItem": 1}
    with count_dynamodb_calls() as calls:
        assert dwell(api, link, 5, "view-bbbbbbbb").status_code == 200
    assert calls == {"UpdateItem": 1, "GetItem": 1}, "only a refused write reads, to say why"


def test_a_dwell_never_touches_an_answer_a_person_gave(api, link):
    assert api.post(link, {"score": 9, "comment": "Great"}, token=None).status_code == 201
    before = all_tables()
    r = dwell(api, link, 0, "scanner-view-1")
    assert r.status_code == 200
    assert r.json == {"response_id": r.json["response_id"], "score": 9, "created": False, "status": "counted"}
    assert all_tables() == before


def test_a_gesture_after_a_dwell_counts_at_once(api, link):
    dwell(api, link, 3, "view-aaaaaaaa")
    r = api.post(link, {"score": 3, "signal": "gesture", "view": "view-aaaaaaaa"}, token=None)
    assert r.status_code == 200 and r.json["status"] == "counted"
    item = stored()
    assert (item.status, item.pending_shard, item.pending_at, item.views) == ("counted", None, None, None)
    assert run_for_event(later())["examined"] == 0, "nothing is left to settle"


def test_one_view_is_counted_when_settled_later(api, link):
    dwell(api, link, 8, "view-aaaaaaaa")
    assert run_for_event(later(30))["counted"] == 0, "not before the quiet period"
    assert stored().status == "pending"
    assert run_for_event(later(91)) == {"examined": 1, "counted": 1, "excluded": 0, "skipped": 0}
    item = stored()
    assert (item.score, item.status, item.version) == (8, "counted", 2)
    assert (item.pending_shard, item.pending_at, item.views, item.excluded_reason) == (None, None, None, None)


def test_the_same_score_opened_twice_is_still_one_person(api, link):
    dwell(api, link, 8, "view-aaaaaaaa")
    dwell(api, link, 8, "view-bbbbbbbb")
    assert run_for_event(later())["counted"] == 1


def test_eleven_score_pages_of_one_invitation_are_excluded_as_a_scanner(api, invitation):
    for score, url in enumerate(invitation["score_links"]):
        r = dwell(api, path_of(url), score, f"scanner-view-{score:02d}")
        assert r.status_code in (200, 201) and r.json["status"] == "pending", r.body
    item = stored()
    assert len(item.views) == 11 and item.status == "pending"
    assert run_for_event(later()) == {"examined": 1, "counted": 0, "excluded": 1, "skipped": 0}
    item = stored()
    assert (item.status, item.excluded_reason, item.pending_shard) == ("excluded", "suspected_scanner", None)
    # Another page view later changes nothing that counts: settled again, it is excluded again.
    r = dwell(api, path_of(invitation["score_links"][10]), 10, "scanner-view-late")
    assert r.status_code == 200 and r.json["status"] == "pending"
    run_for_event(later(200))
    assert (stored().status, stored().excluded_reason) == ("excluded", "suspected_scanner")


def test_a_gesture_after_exclusion_counts(api, invitation, link):
    for score in (0, 10):
        dwell(api, path_of(invitation["score_links"][score]), score, f"scanner-view-{score:02d}")
    run_for_event(later())
    assert stored().status == "excluded"
    r = api.post(link, {"score": 6, "signal": "gesture", "view": "person-view-1"}, token=None)
    assert r.status_code == 200 and r.json["status"] == "counted"
    item = stored()
    assert (item.score, item.status, item.excluded_reason, item.views) == (6, "counted", None, None)


def test_settling_twice_changes_nothing(api, invitation):
    for score in (2, 9):
        dwell(api, path_of(invitation["score_links"][score]), score, f"view-{score:02d}xxxxx")
    event = later()
    assert run_for_event(event)["excluded"] == 1
    after_first = all_tables()
    assert run_for_event(event) == {"examined": 0, "counted": 0, "excluded": 0, "skipped": 0}
    assert all_tables() == after_first


def test_a_newer_page_view_restarts_the_quiet_period(aws, survey):
    now = clock.utcnow()
    common = {"response_id": "rsp_quiet", "survey_id": survey["survey_id"], "touchpoint": None, "signal": "dwell"}
    response_store.answer_by_link(answer={"score": 7}, now=now, view="view-first1", **common)
    response_store.answer_by_link(answer={"score": 7}, now=now + timedelta(seconds=60), view="view-second", **common)
    assert run_settle(now + timedelta(seconds=100))["counted"] == 0
    assert Response.get("rsp_quiet").status == "pending"
    assert run_settle(now + timedelta(seconds=151))["counted"] == 1


def test_a_gesture_between_the_read_and_the_write_of_settle_wins(api, link):
    dwell(api, link, 2, "view-aaaaaaaa")
    read = stored()
    assert api.post(link, {"score": 9}, token=None).json["status"] == "counted"
    from chalicelib.domain import presence

    assert response_store.settle(read, presence.Settlement("excluded", "suspected_scanner")) is False
    item = stored()
    assert (item.score, item.status) == (9, "counted")


def test_the_scheduled_handler_takes_its_clock_from_the_event(api, link):
    from chalice.app import CloudWatchEvent

    dwell(api, link, 5, "view-aaaaaaaa")
    event = {
        "version": "0",
        "id": "e1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "1",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
        **later(),
    }
    assert settle_pending(event, None)["counted"] == 1
    assert isinstance(CloudWatchEvent(event, None).time, str)


def test_views_stop_growing_past_the_limit(aws, survey):
    from chalicelib.domain import presence

    now = clock.utcnow()
    common = {
        "response_id": "rsp_many",
        "survey_id": survey["survey_id"],
        "touchpoint": None,
        "signal": "dwell",
        "now": now,
    }
    for n in range(presence.MAX_VIEWS):
        assert response_store.answer_by_link(answer={"score": n % 11}, view=f"view-{n:04d}", **common).changed
    extra = response_store.answer_by_link(answer={"score": 4}, view="view-extra", **common)
    assert not extra.changed and extra.status == "pending"
    assert len(Response.get("rsp_many").views) == presence.MAX_VIEWS


# ---- replays ---------------------------------------------------------------------------------------------


def test_a_replayed_form_post_after_a_later_change_leaves_the_later_change(api, link):
    form = urlencode({"score": "4", "comment": "Slow", "submission": "form-sub-0001"})
    assert api.post(link, raw=form, content_type=FORM, token=None).status_code == 201
    later_change = api.post(link, {"score": 9, "comment": "Fixed now", "submission": "page-sub-0002"}, token=None)
    assert later_change.status_code == 200
    before = all_tables()
    replay = api.post(link, raw=form, content_type=FORM, token=None)
    assert replay.status_code == 200 and replay.headers["Content-Type"].startswith("text/html")
    assert all_tables() == before
    item = stored()
    assert (item.score, item.comment, item.version) == (9, "Fixed now", 2)
    json_replay = api.post(link, {"score": 9, "comment": "Fixed now", "submission": "page-sub-0002"}, token=None)
    assert json_replay.status_code == 200
    assert json_replay.json == {
        "response_id": item.response_id,
        "score": 9,
        "created": False,
        "status": "counted",
        "replayed": True,
    }
    assert all_tables() == before


def test_each_page_load_carries_a_fresh_submission_id(api, link):
    import re

    ids = {
        re.search(r'name="submission" value="([^"]+)"', api.get(link, token=None).body.decode()).group(1)
        for _ in range(3)
    }
    assert len(ids) == 3


def test_a_dwell_replayed_after_a_gesture_changes_nothing(api, link):
    body = {"score": 1, "signal": "dwell", "view": "view-aaaaaaaa", "submission": "dwell-sub-001"}
    assert api.post(link, body, token=None).status_code == 201
    assert api.post(link, {"score": 8}, token=None).status_code == 200
    before = all_tables()
    r = api.post(link, body, token=None)
    assert r.status_code == 200 and r.json["replayed"] is True and r.json["score"] == 8
    assert all_tables() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 3, "signal": "dwell"}, "view"),
        ({"score": 3, "signal": "dwell", "view": "short"}, "view"),
        ({"score": 3, "signal": "dwell", "view": "has space in it"}, "view"),
        ({"score": 3, "signal": "dwell", "view": "v" * 65}, "view"),
        ({"score": 3, "signal": "dwell", "view": "view-aaaaaaaa", "comment": "hi"}, "comment"),
        ({"score": 3, "signal": "wink"}, "signal"),
        ({"score": 3, "signal": None}, "signal"),
        ({"score": 3, "submission": "x"}, "submission"),
        ({"score": 3, "submission": 12345678}, "submission"),
        ({"score": 3, "colour": "red"}, "colour"),
    ],
)
def test_bad_one_click_fields_are_422_and_write_nothing(api, link, body, field):
    before = all_tables()
    error = assert_error(api.post(link, body, token=None), 422, "invalid")
    assert field in error["fields"], error
    assert all_tables() == before


def test_a_form_may_not_claim_a_dwell(api, link):
    r = api.post(link, raw="score=3&signal=dwell&view=view-aaaaaaaa", content_type=FORM, token=None)
    assert r.status_code == 422 and r.headers["Content-Type"].startswith("text/html")
    assert Response.count() == 0


def test_an_erased_tombstone_refuses_every_post_and_the_page_still_shows(api, survey, invitation, link):
    # What erasure leaves for an unanswered invitation: no score, no contact.
    Response(clock.stable_id("rsp", invitation["invitation_id"])).update(
        actions=[
            Response.survey_id.set(survey["survey_id"]),
            Response.erased.set(True),
            Response.status.set("excluded"),
            Response.excluded_reason.set("erased"),
        ]
    )
    before = all_tables()
    assert_error(api.post(link, {"score": 5}, token=None), 410, "response_closed")
    assert_error(dwell(api, link, 5, "view-aaaaaaaa"), 410, "response_closed")
    form = api.post(link, raw="score=5&submission=form-sub-0001", content_type=FORM, token=None)
    assert form.status_code == 410 and "Traceback" not in form.body.decode()
    assert api.get(link, token=None).status_code == 200
    assert all_tables() == before
    assert run_for_event(later())["examined"] == 0
