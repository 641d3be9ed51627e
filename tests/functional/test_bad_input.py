"""Bad input on the capture routes: every refusal has the contract's shape and 4xx, and writes nothing."""

from __future__ import annotations

import json

import pytest
from support import path_of
from support_ddb import all_tables, assert_error, invite

from chalicelib.store.models import Response


@pytest.fixture
def link(api, survey):
    return path_of(invite(api, survey["survey_id"], "con-1")[0]["link"])


@pytest.fixture
def widget(survey):
    return f"/v1/surveys/{survey['survey_id']}/responses"


BAD_SCORES = [11, -1, 100, 7.5, 7.0, "7", "seven", "", True, None, [7], {"score": 7}]


def test_scores_outside_0_to_10_non_integers_and_text_are_422(api, link, widget):
    before = all_tables()
    for path in (link, widget):
        for score in BAD_SCORES:
            error = assert_error(api.post(path, {"score": score}, token=None), 422, "invalid")
            assert set(error["fields"]) == {"score"}, (path, score)
        assert_error(api.post(path, {"comment": "no score"}, token=None), 422, "invalid")
        assert_error(api.post(path, raw='{"score": NaN}', token=None), 422, "invalid")
        assert_error(api.post(path, raw='{"score": 1e400}', token=None), 422, "invalid")
    assert all_tables() == before


def test_comments_over_2000_characters_are_422(api, link, widget):
    before = all_tables()
    for path in (link, widget):
        error = assert_error(api.post(path, {"score": 5, "comment": "x" * 2001}, token=None), 422, "invalid")
        assert error["fields"] == {"comment": "must have at most 2000 characters"}
        assert_error(api.post(path, {"score": 5, "comment": ["a"]}, token=None), 422, "invalid")
    assert all_tables() == before
    assert api.post(link, {"score": 5, "comment": "é" * 2000}, token=None).status_code == 201
    assert api.post(widget, {"score": 5, "comment": "x" * 2000}, token=None).status_code == 201
    assert Response.count() == 2


def test_unknown_fields_and_drivers_are_422(api, link, widget):
    before = all_tables()
    for path in (link, widget):
        error = assert_error(api.post(path, {"score": 5, "rating": 5}, token=None), 422, "invalid")
        assert error["fields"] == {"rating": "unknown field"}
        error = assert_error(api.post(path, {"score": 5, "drivers": ["weather"]}, token=None), 422, "invalid")
        assert error["fields"] == {"drivers": "not a driver of this survey: weather"}
        assert_error(api.post(path, {"score": 5, "drivers": "price"}, token=None), 422, "invalid")
    error = assert_error(api.post(link, {"score": 5, "contact_id": "someone-else"}, token=None), 422)
    assert error["fields"] == {"contact_id": "unknown field"}
    assert all_tables() == before


def test_bodies_over_16_kb_are_413(api, link, widget):
    before = all_tables()
    big = json.dumps({"score": 5, "comment": "x" * (16 * 1024)})
    big_form = "score=5&comment=" + "x" * 17000
    for path in (link, widget):
        assert_error(api.post(path, raw=big, token=None), 413, "too_large")
    assert_error(api.post(widget, raw=big_form, token=None, content_type="application/x-www-form-urlencoded"), 413)
    # A form posted by the page without script gets a page back.
    r = api.post(link, raw=big_form, token=None, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and r.headers["Content-Type"].startswith("text/html")
    assert_error(api.post("/v1/surveys", raw=json.dumps({"name": "x" * 17000})), 413, "too_large")
    assert all_tables() == before


def test_wrong_content_types_are_415(api, link, widget):
    before = all_tables()
    for content_type in [
        "text/plain",
        "application/xml",
        "text/html",
        "multipart/form-data; boundary=x",
        "image/png",
        "application/octet-stream",
        "application/vnd.custom+json",
        "nonsense",
    ]:
        for path in (link, widget, "/v1/surveys"):
            token = ... if path == "/v1/surveys" else None
            r = api.post(path, raw='{"score": 5, "name": "x"}', content_type=content_type, token=token)
            assert_error(r, 415, "unsupported_content_type")
    # A form is fine on the link (a page without script posts one) but not on the JSON API.
    assert_error(api.post(widget, raw="score=5", content_type="application/x-www-form-urlencoded", token=None), 415)
    assert all_tables() == before


def test_a_missing_content_type_is_415(api, link, widget):
    for path in (link, widget):
        r = api.client.http.request("POST", path, headers={}, body=b'{"score": 5}')
        r.json = json.loads(r.body)
        assert_error(r, 415, "unsupported_content_type")
    assert Response.count() == 0


def test_malformed_json_is_400(api, link, widget):
    before = all_tables()
    for raw in [
        "",
        "   ",
        "{",
        '{"score": 5',
        "score=5",
        "[1,",
        "\xff\xfe",
        "[" * 16000,
        '{"score": 5}garbage',
        '{"score": 5,}',
        "{'score': 5}",
    ]:
        for path in (link, widget, "/v1/surveys"):
            token = ... if path == "/v1/surveys" else None
            assert_error(api.post(path, raw=raw, token=token), 400, "malformed")
    assert all_tables() == before


def test_json_that_is_not_an_object_is_422(api, link, widget):
    for path in (link, widget):
        for raw in ("[]", '"score"', "5", "null", "true"):
            assert_error(api.post(path, raw=raw, token=None), 422, "invalid")
    assert Response.count() == 0


def test_unknown_survey_is_404(api):
    before = all_tables()
    for sid in ("srv_doesnotexist", "x" * 300, "%00"):
        assert_error(api.post(f"/v1/surveys/{sid}/responses", {"score": 5}, token=None), 404, "survey_not_found")
        r = api.call(
            "OPTIONS",
            f"/v1/surveys/{sid}/responses",
            token=None,
            headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert_error(r, 404, "survey_not_found")
    assert all_tables() == before


def test_unknown_routes_and_methods_have_the_contract_shape(api, link):
    assert_error(api.get("/nothing-here", token=None), 404)
    assert_error(api.delete(link, token=None), 404)
    assert_error(api.put("/v1/surveys", {"name": "x"}), 404)


def test_closed_survey_refuses_widget_answers(api, survey, widget):
    api.patch(f"/v1/surveys/{survey['survey_id']}", {"status": "closed"})
    from chalicelib.store import surveys

    surveys.clear_cache()
    assert_error(api.post(widget, {"score": 5}, token=None), 410, "survey_closed")
    assert Response.count() == 0


# ---- the read routes: odd ids and parameters are 4xx with the contract's shape, never a 500 -----------------

ODD_IDS = ["%20", "a%2Fb", "x" * 300, "%C3%A9t%C3%A9", "..", "a%00b", "-leading-dash"]


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_ids_on_the_read_routes_are_4xx_and_write_nothing(api, survey, odd):
    before = all_tables()
    for method, path in (
        ("GET", f"/v1/responses/{odd}"),
        ("GET", f"/v1/accounts/{odd}"),
        ("POST", f"/v1/surveys/{odd}/identity-secret"),
        ("DELETE", f"/v1/contacts/{odd}"),
        ("GET", f"/v1/responses?contact_id={odd}"),
        ("GET", f"/v1/responses?account_id={odd}"),
    ):
        r = api.call(method, path)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.body)
        assert_error(r, r.status_code)
    assert all_tables() == before


@pytest.mark.parametrize(
    "params",
    [
        "limit=0",
        "limit=abc",
        "limit=-1",
        "limit=101",
        "segment=",
        "owner=" + "o" * 201,
        "next=%00",
        "next=" + "A" * 5000,
        "next=e30",
        "status=active",
    ],
)
def test_bad_account_list_parameters_are_4xx(api, params):
    r = api.get(f"/v1/accounts?{params}")
    assert r.status_code in (400, 422), (params, r.status_code, r.body)
    assert_error(r, r.status_code)


def test_every_kind_of_domain_error_has_its_status_and_the_one_envelope():
    """api/http.py is the only place that knows statuses: each kind maps, a subclass takes its base's."""
    from chalicelib.api.http import HTTP_STATUS, error_response, status_of
    from chalicelib.domain import errors

    kinds = {k for k in vars(errors).values() if isinstance(k, type) and issubclass(k, errors.DomainError)}
    assert kinds == set(HTTP_STATUS)

    class Stale(errors.Conflict):
        code = "stale"

    assert (status_of(errors.Gone("x")), status_of(errors.Invalid("x")), status_of(Stale("x"))) == (410, 422, 409)
    answer = error_response(Stale("Changed meanwhile.", fields={"revision": "old"}))
    assert answer.status_code == 409
    assert json.loads(answer.body) == {
        "error": {"code": "stale", "message": "Changed meanwhile.", "fields": {"revision": "old"}}
    }
