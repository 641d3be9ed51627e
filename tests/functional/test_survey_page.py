"""The survey page itself (issue 10 item 4, issue 11 items 12-13): its language and per-survey strings, the
no-script error page, a Content-Security-Policy without 'unsafe-inline' whose hashes match the inline style
and script, and HEAD answered like GET without a body."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlencode

import pytest
from support import path_of
from support_ddb import all_tables, assert_error, invite

from chalicelib.store import surveys

FORM = "application/x-www-form-urlencoded"
GERMAN = {
    "scale_low": "Überhaupt nicht wahrscheinlich",
    "scale_high": "Äußerst wahrscheinlich",
    "comment_label": "Was ist der wichtigste Grund für Ihre Bewertung?",
    "send": "Senden",
    "thanks_heading": "Vielen Dank!",
    "thanks_recorded": "Ihre Bewertung {score} ist gespeichert.",
    "choose_score": "Bitte wählen Sie zuerst eine Bewertung von 0 bis 10.",
    "back": "Zurück zur Umfrage",
}


@pytest.fixture
def link(api, survey):
    return path_of(invite(api, survey["survey_id"], {"contact_id": "con-1", "account_id": "acc-1"})[0]["link"])


def localise(api, survey, **fields):
    r = api.patch(f"/v1/surveys/{survey['survey_id']}", fields)
    assert r.status_code == 200, r.body
    surveys.clear_cache()


def inline(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.DOTALL)


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_page_is_english_by_default_with_the_scale_ends_under_0_and_10(api, link):
    html = api.get(link, token=None).body.decode()
    assert '<html lang="en">' in html
    ends = re.search(r'<div class="ends"[^>]*><span>([^<]+)</span>\s*<span>([^<]+)</span></div>', html)
    assert ends.groups() == ("Not at all likely", "Extremely likely")
    assert "grid-template-columns:repeat(11,minmax(0,1fr))" in html and "flex-wrap" not in html


def test_a_survey_sets_its_language_and_strings(api, survey, link):
    localise(api, survey, language="de", strings=GERMAN)
    html = api.get(f"{link}?score=4", token=None).body.decode()
    assert '<html lang="de">' in html
    for key in ("scale_low", "scale_high", "comment_label", "send"):
        assert GERMAN[key] in html, key
    assert "What is the main reason" not in html and "Extremely likely" not in html
    thanks = api.post(link, raw="score=4&submission=form-sub-0001", content_type=FORM, token=None).body.decode()
    assert '<html lang="de">' in thanks and "Vielen Dank!" in thanks and "Ihre Bewertung 4 ist gespeichert." in thanks


def test_a_form_that_does_not_validate_says_what_is_wrong_and_links_back(api, survey, link):
    localise(api, survey, strings={"choose_score": GERMAN["choose_score"], "back": GERMAN["back"]})
    before = all_tables()
    token = link.rsplit("/", 1)[1]
    r = api.post(link, raw=urlencode({"comment": "x" * 2001, "drivers": "weather"}), content_type=FORM, token=None)
    assert r.status_code == 422 and r.headers["Content-Type"].startswith("text/html")
    html = r.body.decode()
    assert GERMAN["choose_score"] in html
    assert "Your comment is too long: 2,000 characters at most." in html
    assert "One of the reasons you ticked is not offered by this survey." in html
    assert f'<a href="./{token}">{GERMAN["back"]}</a>' in html
    assert "drivers" not in re.sub(r"<[^>]+>", "", html.split("<main>")[1]), "no field names for a person"
    assert all_tables() == before


def test_a_link_that_is_not_valid_says_so_without_a_way_back(api):
    r = api.post("/s/not-a-token", raw="score=4", content_type=FORM, token=None)
    assert r.status_code == 403 and "This link is not valid." in r.body.decode() and "<a href" not in r.body.decode()


def test_the_csp_allows_exactly_the_inline_style_and_script(api, link):
    r = api.get(f"{link}?score=9", token=None)
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    html = r.body.decode()
    [style], [script] = inline(html, "style"), inline(html, "script")
    assert directives["style-src"] == sha256(style)
    assert directives["script-src"] == sha256(script)
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert 'style="' not in html and " on" not in re.sub(r"<script>.*?</script>", "", html, flags=re.DOTALL).lower()


@pytest.mark.parametrize("page", ["thanks", "error", "unsubscribe"])
def test_pages_without_script_allow_no_script(api, survey, link, page):
    if page == "thanks":
        r = api.post(link, raw="score=8", content_type=FORM, token=None)
    elif page == "error":
        r = api.post(link, raw="score=99", content_type=FORM, token=None)
    else:
        unsubscribe = invite(api, survey["survey_id"], "con-2")[0]["unsubscribe_link"]
        r = api.get(path_of(unsubscribe), token=None)
    csp = r.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    [style] = inline(r.body.decode(), "style")
    assert f"style-src {sha256(style)}" in csp
    assert "<script" not in r.body.decode()


def test_head_answers_like_get_without_a_body(api, survey, link):
    unsubscribe = path_of(invite(api, survey["survey_id"], "con-3")[0]["unsubscribe_link"])
    before = all_tables()
    for path in (link, f"{link}?score=3", unsubscribe, "/s/not-a-token", "/u/not-a-token"):
        get, head = api.get(path, token=None), api.call("HEAD", path, token=None)
        assert head.status_code == get.status_code, path
        assert head.body in (b"", None), path
        for name in ("Content-Type", "Cache-Control", "Referrer-Policy", "X-Content-Type-Options"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)
        assert head.headers["Content-Security-Policy"] == get.headers["Content-Security-Policy"]
    assert all_tables() == before


def test_unknown_strings_and_bad_languages_are_refused(api, survey):
    path = f"/v1/surveys/{survey['survey_id']}"
    error = assert_error(api.patch(path, {"strings": {"send": "Go", "colour": "red"}}), 422, "invalid")
    assert "strings.colour" in error["fields"]
    assert_error(api.patch(path, {"language": "english please"}), 422, "invalid")
    assert_error(api.patch(path, {"anonymous_answers": "sometimes"}), 422, "invalid")
    assert_error(api.post("/v1/surveys", {"name": "x", "strings": {"send": "x" * 301}}), 422, "invalid")
