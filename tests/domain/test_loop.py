"""Close-the-loop rules without AWS: who opens a task, the bounds that keep a task one item, If-Match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import loop
from chalicelib.domain.errors import Malformed
from chalicelib.domain.facts import fact_of

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attributed", "erased", "age", "category", "opens"),
    [
        (True, False, timedelta(hours=1), "detractor", True),
        (False, False, timedelta(hours=1), "detractor", False),  # anonymous: nobody could act on it
        (True, True, timedelta(hours=1), "detractor", False),
        (True, False, timedelta(days=15), "detractor", False),
        (True, False, timedelta(hours=1), "passive", False),
    ],
)
def test_which_answers_open_a_task(attributed, erased, age, category, opens):
    assert loop.opens_task(category, ["detractor"], NOW - age, NOW, erased, attributed=attributed) is opens


def test_notes_are_bounded_by_count_and_by_bytes():
    assert loop.note_refusal([], "x" * 2000) is None
    full = [{"text": "ok"}] * loop.MAX_NOTES
    assert "100 notes" in loop.note_refusal(full, "one more")
    heavy = [{"text": "€" * 2000}] * 10  # 60,000 bytes of 65,536
    assert loop.note_refusal(heavy, "x" * 5000) is None
    refusal = loop.note_refusal(heavy, "€" * 2000)
    assert "64 KB" in refusal and "5536 bytes left" in refusal


def test_history_keeps_the_first_entry_and_the_latest():
    history = [{"n": i} for i in range(loop.MAX_HISTORY)]
    kept = loop.bounded_history(history, [{"n": "new"}])
    assert len(kept) == loop.MAX_HISTORY
    assert kept[0] == {"n": 0} and kept[1] == {"n": 2} and kept[-1] == {"n": "new"}
    assert loop.bounded_history(history[:3], [{"n": "x"}]) == [*history[:3], {"n": "x"}]


@pytest.mark.parametrize(
    ("header", "revisions"),
    [
        (None, None),
        ("*", None),
        (' "3" ', {3}),
        ('"3", "4"', {3, 4}),
        ('W/"3"', set()),
        ('"abc"', set()),
        ('"3", W/"4"', {3}),
    ],
)
def test_if_match_names_the_revisions_it_accepts(header, revisions):
    assert loop.if_match_revisions(header) == revisions


@pytest.mark.parametrize("header", ["3", '"3', "abc", '"3";"4"', ""])
def test_an_if_match_that_is_not_entity_tags_is_malformed(header):
    with pytest.raises(Malformed):
        loop.if_match_revisions(header)


def test_an_erased_answer_keeps_its_score_and_account_but_not_the_person():
    response = {
        "response_id": "r",
        "survey_id": "s",
        "account_id": "a",
        "contact_id": "c",
        "invitation_id": "i",
        "channel": "email",
        "score": 3,
        "comment": "Ann here: billing",
        "erased": True,
        "version": 2,
    }
    fact = fact_of(response)
    assert (fact["score"], fact["account_id"], fact["contact_id"], fact["invitation_id"], fact["themes"]) == (
        3,
        "a",
        None,
        None,
        [],
    )
    kept = fact_of({**response, "erased": None})
    assert (kept["contact_id"], kept["invitation_id"]) == ("c", "i")
