"""Capture through email links: the page is safe (mail scanners record nothing), POST records one response per
invitation (first 201, later 200, last write wins), with or without script, and under a burst of parallel POSTs."""

from __future__ import annotations

import html as html_text
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode, urljoin

import pytest
from moto.core.botocore_stubber import BotocoreStubber
from support import path_of
from support_ddb import all_tables, assert_error, invite

from chalicelib import config
from chalicelib.domain import clock, tokens
from chalicelib.store.models import Response


@pytest.fixture
def invitation(api, survey):
    return invite(api, survey["survey_id"], {"contact_id": "con-1", "account_id": "acc-1", "email": "ann@example.com"})[
        0
    ]


@pytest.fixture
def link(invitation):
    return path_of(invitation["link"])


def checked_scores(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="score" value="(\d+)" checked', html)]


def the_response() -> Response:
    items = list(Response.scan(consistent_read=True))
    assert len(items) == 1, items
    return items[0]


def test_mail_scanner_fetching_every_link_records_nothing(api, invitation):
    before = all_tables()
    for url in [invitation["link"], *invitation["score_links"], invitation["unsubscribe_link"]]:
        assert api.get(path_of(url), token=None).status_code == 200, url
        api.call("HEAD", path_of(url), token=None)
    assert Response.count() == 0
    assert all_tables() == before, "GET and HEAD on links must never write"


def test_each_score_link_shows_its_score_chosen(api, invitation):
    for score, url in enumerate(invitation["score_links"]):
        r = api.get(path_of(url), token=None)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        assert checked_scores(r.body.decode()) == [score]
    assert Response.count() == 0


def test_the_page_works_without_script_and_loads_nothing_from_elsewhere(api, survey, link):
    html = api.get(link, token=None).body.decode()
    assert checked_scores(html) == []
    # Relative to the page, so that it also posts back to itself under a stage prefix (/api/s/{token}).
    assert f'<form id="nps-form" method="post" action="./{link.rsplit("/", 1)[1]}" data-dwell="5"' in html
    assert re.search(r'<input type="hidden" name="submission" value="[A-Za-z0-9_-]{8,64}">', html)
    assert html.count('type="radio" name="score"') == 11
    assert '<button id="submit" type="submit">' in html
    assert '<textarea id="comment" name="comment" maxlength="2000">' in html
    for driver in survey["drivers"]:
        assert f'name="drivers" value="{driver}"' in html
    assert survey["question"] in html and 'name="viewport"' in html and 'lang="en"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "no third-party assets"


def test_a_bad_score_in_the_link_shows_the_page_with_nothing_chosen(api, link):
    for score in ["11", "-1", "abc", "", "7.5", "%C2%B2", "9" * 5000]:
        r = api.get(f"{link}?score={score}", token=None)
        assert r.status_code == 200 and checked_scores(r.body.decode()) == [], score


def test_first_post_creates_later_posts_update_last_write_wins(api, link, invitation, survey):
    r = api.post(link, {"score": 3}, token=None)
    assert r.status_code == 201, r.body
    response_id = r.json["response_id"]
    assert r.json == {"response_id": response_id, "score": 3, "created": True, "status": "counted"}
    first = the_response()
    assert (first.score, first.version, first.channel) == (3, 1, "email")
    assert (first.invitation_id, first.contact_id, first.account_id) == (invitation["invitation_id"], "con-1", "acc-1")
    assert first.survey_id == survey["survey_id"] and first.comment is None and first.drivers is None

    r = api.post(link, {"score": 9, "comment": "Better after the call", "drivers": ["support"]}, token=None)
    assert r.status_code == 200
    assert r.json == {"response_id": response_id, "score": 9, "created": False, "status": "counted"}
    r = api.post(link, {"score": 8}, token=None)
    assert r.status_code == 200
    last = the_response()
    assert last.response_id == response_id
    assert (last.score, last.comment, last.drivers, last.version) == (8, "Better after the call", ["support"], 3)
    assert last.first_submitted_at == first.first_submitted_at and last.month == first.month
    assert last.submitted_at >= first.submitted_at

    r = api.post(link, {"score": 6, "comment": "", "drivers": []}, token=None)
    assert r.status_code == 200
    cleared = the_response()
    assert (cleared.score, cleared.comment, cleared.drivers) == (6, None, None)
    assert "email" not in Response.get(response_id).to_simple_dict(), "no PII on the response"


def test_form_post_without_script_works_and_answers_html(api, link):
    form = urlencode([("score", "4"), ("comment", "Too slow"), ("drivers", "support"), ("drivers", "price")])
    r = api.post(link, raw=form, content_type="application/x-www-form-urlencoded", token=None)
    assert r.status_code == 201 and r.headers["Content-Type"].startswith("text/html")
    html = r.body.decode()
    assert "Thank you" in html and "4" in html and f'href="./{link.rsplit("/", 1)[1]}?score=4"' in html
    stored = the_response()
    assert (stored.score, stored.comment, stored.drivers) == (4, "Too slow", ["support", "price"])

    again = api.post(
        link,
        raw=urlencode({"score": "10", "comment": ""}),
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
        token=None,
    )
    assert again.status_code == 200 and again.headers["Content-Type"].startswith("text/html")
    stored = the_response()
    assert (stored.score, stored.comment, stored.drivers) == (10, None, ["support", "price"])


def test_a_bad_form_post_answers_an_html_error_and_writes_nothing(api, link):
    before = all_tables()
    for form in [
        "score=11",
        "score=",
        "comment=hi",
        "score=7&drivers=weather",
        "score=%C2%B2",
        "score=5&colour=red",
        "score=5&comment=" + "x" * 2001,
        "score=7.5",
        "score=seven",
    ]:
        r = api.post(link, raw=form, content_type="application/x-www-form-urlencoded", token=None)
        assert r.status_code == 422 and r.headers["Content-Type"].startswith("text/html"), form
        assert "Traceback" not in r.body.decode()
    assert all_tables() == before


def test_twenty_parallel_posts_leave_one_response_and_one_201(api, link, monkeypatch):
    """Twenty threads POST to one invitation at the same moment.

    Chalice's test client is not thread-safe: the Chalice app keeps `current_request` on the shared app object,
    and each request swaps the global `os.environ` for a patched copy. One client per thread would not help, as
    both live on the shared app and the process; what matters here is that every thread runs the full view
    (validation and the conditional write) concurrently with the others, so each sends a distinct score and the
    environment is restored afterwards. Moto's in-process DynamoDB applies a request without any lock, so a
    lock around each request gives it the atomicity DynamoDB guarantees for a single-item write; without it
    the test would exercise moto's races instead of ours.
    """
    original = BotocoreStubber.process_request
    db_lock = threading.Lock()

    def atomic(self, request):
        with db_lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", atomic)
    environ = os.environ
    start = threading.Barrier(20)

    def post(score):
        start.wait(timeout=10)
        return api.post(link, {"score": score}, token=None)

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(post, [n % 11 for n in range(20)]))
    finally:
        os.environ = environ
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 19 + [201], statuses
    assert len({r.json["response_id"] for r in results}) == 1
    stored = the_response()
    assert stored.version == 20, "every one of the 20 writes was applied, none lost"
    assert 0 <= stored.score <= 10


def test_closed_survey_refuses_answers(api, survey, link):
    api.patch(f"/v1/surveys/{survey['survey_id']}", {"status": "closed"})
    from chalicelib.store import surveys

    surveys.clear_cache()
    assert api.get(link, token=None).status_code == 410
    assert_error(api.post(link, {"score": 5}, token=None), 410, "survey_closed")
    assert Response.count() == 0


def test_an_erased_response_is_not_written_again(api, link):
    assert api.post(link, {"score": 2, "comment": "Call me"}, token=None).status_code == 201
    item = the_response()
    item.update(actions=[Response.erased.set(True), Response.comment.remove()])
    assert_error(api.post(link, {"score": 10, "comment": "new"}, token=None), 410, "response_closed")
    after = the_response()
    assert (after.score, after.comment) == (2, None)


# ---- tokens that must write nothing -------------------------------------------------------------------------


def sign(invitation, survey_id, *, keys=None, key_id="k2", expires_in=timedelta(days=1), purpose="s"):
    s = config.settings()
    return tokens.sign_link(
        keys or s.link_keys,
        key_id,
        purpose=purpose,
        invitation_id=invitation["invitation_id"],
        survey_id=survey_id,
        contact_id=invitation["contact_id"],
        account_id="acc-1",
        expires_at=clock.utcnow() + expires_in,
    )


def bad_tokens(invitation, survey_id, link):
    good = link.split("/")[2]
    body, sig = good.split(".")
    return {
        "tampered signature": (f"{body}.{sig[:-4]}AAAA", 403),
        "tampered payload": (f"{body[:-4]}AAAA.{sig}", 403),
        "truncated": (good[:-10], 403),
        "garbage": ("not-a-token", 403),
        "foreign key id": (sign(invitation, survey_id, keys={"k9": b"elsewhere"}, key_id="k9"), 403),
        "foreign secret": (sign(invitation, survey_id, keys={"k2": b"not-ours"}), 403),
        "unsubscribe token": (sign(invitation, survey_id, purpose="u"), 403),
        "expired": (sign(invitation, survey_id, expires_in=timedelta(seconds=-1)), 410),
        "very long": ("A" * 1500 + "." + "B" * 40, 403),
    }


def test_bad_tokens_write_nothing(api, survey, invitation, link):
    before = all_tables()
    for name, (token, status) in bad_tokens(invitation, survey["survey_id"], link).items():
        page = api.get(f"/s/{token}?score=9", token=None)
        assert page.status_code == status, name
        assert page.headers["Content-Type"].startswith("text/html") and "Traceback" not in page.body.decode()
        code = "link_expired" if status == 410 else "invalid_link"
        assert_error(api.post(f"/s/{token}", {"score": 9}, token=None), status, code)
        form = api.post(f"/s/{token}", raw="score=9", content_type="application/x-www-form-urlencoded", token=None)
        assert form.status_code == status and form.headers["Content-Type"].startswith("text/html"), name
    assert all_tables() == before


def test_a_signed_link_to_an_unknown_survey_is_404(api, invitation):
    token = sign(invitation, "srv_doesnotexist")
    assert api.get(f"/s/{token}", token=None).status_code == 404
    assert_error(api.post(f"/s/{token}", {"score": 5}, token=None), 404, "survey_not_found")
    assert Response.count() == 0


def test_links_signed_with_the_previous_key_still_work_after_rotation(api, survey, invitation):
    # k1 is still configured (LINK_SIGNING_KEYS="k2:...,k1:..."), though k2 signs new links.
    old = sign(invitation, survey["survey_id"], key_id="k1")
    assert api.get(f"/s/{old}?score=8", token=None).status_code == 200
    assert api.post(f"/s/{old}", {"score": 8}, token=None).status_code == 201


def test_the_page_and_its_answer_point_back_to_themselves_under_a_stage_prefix(api, link):
    """On the default API Gateway URL every path carries the stage (/prod/s/{token}): relative URLs keep it."""
    page = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod" + link
    body = api.get(link, token=None).body.decode()
    action = re.search(r'<form id="nps-form" method="post" action="([^"]+)"', body).group(1)
    assert urljoin(page, html_text.unescape(action)) == page
    thanks = api.post(link, raw="score=8", content_type="application/x-www-form-urlencoded", token=None).body.decode()
    change = re.search(r'<a href="([^"]+)">Change your answer', thanks).group(1)
    assert urljoin(page, html_text.unescape(change)) == page + "?score=8"
