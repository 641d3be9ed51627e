"""Themes of comments from a keyword taxonomy: whole words, simple endings, case-insensitive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.themes import DEFAULT_TAXONOMY, themes_of

THEMES = ["billing", "features", "onboarding", "price", "product quality", "reliability", "support", "usability"]


def test_default_taxonomy_has_the_themes_metrics_md_names():
    assert sorted(DEFAULT_TAXONOMY) == THEMES
    for keywords in DEFAULT_TAXONOMY.values():
        assert keywords and all(k == k.lower().strip() and k for k in keywords)


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Way too EXPENSIVE for what we get", ["price"]),
        ("The prices went up again", ["price"]),
        ("Support never answered my ticket", ["support"]),
        ("Customer service was rude", ["support"]),
        ("Onboarding took forever", ["onboarding"]),
        ("The set-up was painful", ["onboarding"]),
        ("Full of bugs, feels half-baked", ["product quality"]),
        ("It doesn\u2019t work half the time", ["product quality"]),
        ("Constant outages and the app crashes", ["reliability"]),
        ("So slow", ["reliability"]),
        ("Confusing interface", ["usability"]),
        ("Not user friendly at all", ["usability"]),
        ("We were charged twice and the invoices are wrong", ["billing"]),
        ("Still waiting for a refund", ["billing"]),
        ("Missing features we need", ["features"]),
        ("No API and no Salesforce integration", ["features"]),
        ("Nice people", []),
        ("", []),
        (None, []),
    ],
)
def test_default_themes(comment, expected):
    assert themes_of(comment) == expected


def test_several_themes_come_back_sorted_and_once():
    comment = "Pricing is steep, support is slow to respond, and support tickets pile up. Pricey!"
    assert themes_of(comment) == ["price", "reliability", "support"]


def test_only_whole_words_match():
    assert themes_of("A priceless tool") == []
    assert themes_of("We feed it data daily") == []
    assert themes_of("price-sensitive buyers") == ["price"]
    assert themes_of("(expensive)") == ["price"]
    assert themes_of("expensive2") == []


def test_endings_and_dropped_e():
    taxonomy = {"money": ["charge"], "fail": ["crash"]}
    assert themes_of("They keep charging us", taxonomy) == ["money"]
    assert themes_of("We got charged", taxonomy) == ["money"]
    assert themes_of("Charges everywhere", taxonomy) == ["money"]
    assert themes_of("It crashed, crashes, keeps crashing", taxonomy) == ["fail"]
    assert themes_of("Chargers are not sold", taxonomy) == ["money"]  # a simple stem, not a dictionary
    assert themes_of("A charm", taxonomy) == []


def test_custom_taxonomy_replaces_the_default():
    taxonomy = {"speed": ["fast"], "team": ["account manager"]}
    assert themes_of("Fast, but expensive", taxonomy) == ["speed"]
    assert themes_of("Our ACCOUNT   manager is great", taxonomy) == ["team"]
    assert themes_of("Our account-manager is great", taxonomy) == ["team"]
    assert themes_of("Our manager account", taxonomy) == []


def test_wildcard_keyword_matches_a_prefix():
    taxonomy = {"onboarding": ["onboard*"]}
    assert themes_of("onboarders were kind", taxonomy) == ["onboarding"]
    assert themes_of("Onboard", taxonomy) == ["onboarding"]
    assert themes_of("we board at nine", taxonomy) == []


def test_regex_characters_in_keywords_are_literal():
    taxonomy = {"lang": ["c++", "a.b"]}
    assert themes_of("written in c++ sadly", taxonomy) == ["lang"]
    assert themes_of("axb", taxonomy) == []


def test_empty_taxonomy_and_blank_keywords():
    assert themes_of("expensive", {}) == []
    assert themes_of("expensive", {"price": ["  "]}) == []


@pytest.mark.parametrize(("theme", "keyword"), [(t, k) for t, ks in DEFAULT_TAXONOMY.items() for k in ks])
def test_every_default_keyword_matches_itself_in_a_sentence(theme, keyword):
    assert theme in themes_of(f"Honestly, {keyword.upper()}. That is all.")


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(words, max_size=8),
    st.sampled_from([(t, k) for t, ks in DEFAULT_TAXONOMY.items() for k in ks]),
    st.lists(words, max_size=8),
    st.sampled_from([" ", ", ", "! ", "\n"]),
)
def test_a_keyword_between_any_words_is_found(before, pick, after, separator):
    theme, keyword = pick
    comment = separator.join([*before, keyword, *after])
    found = themes_of(comment)
    assert theme in found
    assert found == sorted(set(found))
    assert set(found) <= set(DEFAULT_TAXONOMY)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_sorted_known_themes(comment):
    found = themes_of(comment)
    assert found == sorted(set(found))
    assert set(found) <= set(DEFAULT_TAXONOMY)
    if comment.isascii():
        assert themes_of(comment.upper()) == found
