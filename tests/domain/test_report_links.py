"""Signed report links: what they carry, one spelling, and refusal of anything we did not sign as a report link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import report_links, tokens
from chalicelib.domain.errors import Forbidden, Gone

KEYS = {"k1": b"first", "k2": b"second"}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_a_link_carries_its_month_and_expiry_and_verifies_with_the_key_it_names():
    token = report_links.sign(KEYS, "k1", "2026-10", NOW + timedelta(minutes=15))
    claims = report_links.verify(KEYS, token, NOW)
    assert claims == report_links.ReportClaims("2026-10", int((NOW + timedelta(minutes=15)).timestamp()), "k1")
    # Rotation: k2 is now the active key, k1 still verifies the links it signed.
    assert report_links.verify({"k2": b"second", "k1": b"first"}, token, NOW).month == "2026-10"
    with pytest.raises(Forbidden):
        report_links.verify({"k2": b"second"}, token, NOW)  # k1 retired


def test_expiry_is_exclusive():
    token = report_links.sign(KEYS, "k2", "2026-10", NOW + timedelta(seconds=900))
    report_links.verify(KEYS, token, NOW + timedelta(seconds=899))
    with pytest.raises(Gone):
        report_links.verify(KEYS, token, NOW + timedelta(seconds=900))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "=",
        lambda t: t.replace(".", "==.", 1),
        lambda t: t[:-1] + ("B" if t[-1] != "B" else "C"),
        lambda t: t.split(".")[0],
        lambda t: t + ".x",
        lambda t: " " + t,
        lambda t: t + "\n",
    ],
)
def test_a_token_has_one_spelling(mangle):
    token = report_links.sign(KEYS, "k2", "2026-10", NOW + timedelta(seconds=900))
    with pytest.raises(Forbidden):
        report_links.verify(KEYS, mangle(token), NOW)


def test_an_invitation_token_is_not_a_report_link():
    survey = tokens.sign_link(
        KEYS,
        "k2",
        purpose=tokens.PURPOSE_SURVEY,
        invitation_id="i",
        survey_id="s",
        contact_id="c",
        account_id="a",
        expires_at=NOW + timedelta(days=3),
    )
    with pytest.raises(Forbidden):
        report_links.verify(KEYS, survey, NOW)
    report = report_links.sign(KEYS, "k2", "2026-10", NOW + timedelta(seconds=900))
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, report, tokens.PURPOSE_SURVEY, NOW)


@pytest.mark.parametrize("value", [None, 12, "", "x" * 513, "é.é"])
def test_junk_is_refused(value):
    with pytest.raises(Forbidden):
        report_links.verify(KEYS, value, NOW)
