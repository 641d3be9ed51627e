"""DynamoDB requests per captured response (the issue's figure): one write, and no read once the survey's
settings are cached."""

from __future__ import annotations

from support import path_of
from support_ddb import count_dynamodb_calls, invite

from chalicelib.store import surveys
from chalicelib.store.models import Response

SHOP = "https://shop.example.com"


def test_the_counter_sees_pynamodb_requests(aws):
    with count_dynamodb_calls() as calls:
        assert Response.count() == 0
        list(Response.scan())
    assert calls == {"DescribeTable": 1, "Scan": 1} and calls.reads == 2 and calls.writes == 0


def test_link_capture_is_one_update_and_no_read_with_a_warm_cache(api, survey):
    link = path_of(invite(api, survey["survey_id"], "con-1")[0]["link"])
    surveys.clear_cache()
    with count_dynamodb_calls() as cold:
        assert api.get(link, token=None).status_code == 200
    assert cold == {"GetItem": 1}, "a cold page reads the survey once"

    with count_dynamodb_calls() as page:
        assert api.get(f"{link}?score=9", token=None).status_code == 200
    assert page == {}, "a warm page makes no request at all"

    with count_dynamodb_calls() as first:
        assert api.post(link, {"score": 9}, token=None).status_code == 201
    assert first == {"UpdateItem": 1} and first.reads == 0

    with count_dynamodb_calls() as later:
        assert api.post(link, {"score": 10, "comment": "Great", "drivers": ["support"]}, token=None).status_code == 200
    assert later == {"UpdateItem": 1} and later.reads == 0


def test_widget_capture_is_one_put_and_no_read_with_a_warm_cache(api, survey):
    path = f"/v1/surveys/{survey['survey_id']}/responses"
    surveys.clear_cache()
    with count_dynamodb_calls() as preflight:
        r = api.call("OPTIONS", path, token=None, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"})
        assert r.status_code == 200
    assert preflight == {"GetItem": 1}, "the preflight warms the cache"

    with count_dynamodb_calls() as first:
        r = api.post(path, {"score": 9}, token=None, headers={"Origin": SHOP, "Idempotency-Key": "once"})
        assert r.status_code == 201
    assert first == {"PutItem": 1} and first.reads == 0

    with count_dynamodb_calls() as retry:
        r = api.post(path, {"score": 9}, token=None, headers={"Origin": SHOP, "Idempotency-Key": "once"})
        assert r.status_code == 200
    assert retry == {"PutItem": 1} and retry.reads == 0, "a retry is one refused conditional put"

    with count_dynamodb_calls() as server:
        assert api.post(path, {"score": 3}, token=None).status_code == 201
    assert server == {"PutItem": 1}


def test_refused_requests_make_no_request_at_all(api, survey):
    link = path_of(invite(api, survey["survey_id"], "con-1")[0]["link"])
    path = f"/v1/surveys/{survey['survey_id']}/responses"
    api.get(link, token=None)
    with count_dynamodb_calls() as calls:
        assert api.post(link, {"score": 11}, token=None).status_code == 422
        assert api.post(link[:-3] + "AAA", {"score": 5}, token=None).status_code == 403
        evil = {"Origin": "https://evil.example.com"}
        assert api.post(path, {"score": 5}, token=None, headers=evil).status_code == 403
        assert api.post(path, raw="{", token=None).status_code == 400
    assert calls == {}
