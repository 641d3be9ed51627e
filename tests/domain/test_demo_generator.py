"""The seeded demo data generator: determinism, valid shapes for the import routes, and churn that follows the
NPS category (checked here from the generated rows alone, by the definitions of docs/metrics.md). No AWS."""

from __future__ import annotations

import inspect
import io
import itertools
import json
import re
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from chalicelib.domain import account_fields, answers, importing, survey_definition, validation
from chalicelib.domain.themes import themes_of
from nps_demo import generator, vocabulary
from nps_demo.generator import generate, last_full_month, write_csv, write_ndjson

END = "2026-03"
NOW = datetime(2026, 4, 2, tzinfo=UTC)  # after END: every generated response is in the past
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def data():
    return generate(seed=7, accounts=400, months=24, end_month=END)


@pytest.fixture(scope="module")
def responses(data):
    return list(data.iter_responses())


def everything(data) -> str:
    """Every output of a data set, in both file formats."""
    out = io.StringIO()
    out.write(json.dumps(data.surveys(), sort_keys=True))
    write_ndjson(data.accounts_rows(), out)
    write_csv(data.accounts_rows(), out)
    write_ndjson(data.contacts_rows(), out)
    write_csv(data.contacts_rows(), out)
    write_ndjson(data.iter_responses(), out)
    write_csv(data.iter_responses(), out)
    return out.getvalue()


# ---- determinism ---------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_output():
    first = everything(generate(seed=11, accounts=60, end_month=END))
    assert first == everything(generate(seed=11, accounts=60, end_month=END))


def test_a_different_seed_gives_different_data():
    assert everything(generate(seed=11, accounts=60, end_month=END)) != everything(
        generate(seed=12, accounts=60, end_month=END)
    )


def test_end_month_defaults_to_the_last_full_month():
    assert last_full_month(datetime(2026, 1, 15, tzinfo=UTC)) == "2025-12"
    assert last_full_month(datetime(2026, 7, 1, tzinfo=UTC)) == "2026-06"
    before = last_full_month(datetime.now(UTC))
    data = generate(accounts=3)
    assert data.end_month in (before, last_full_month(datetime.now(UTC)))


def test_an_explicit_end_month_does_not_read_the_clock(monkeypatch):
    expected = everything(generate(seed=5, accounts=30, end_month="2025-02"))

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2031, 9, 9, tzinfo=tz)

    monkeypatch.setattr(generator, "datetime", Frozen)
    assert generate(accounts=1).end_month == "2031-08"
    assert everything(generate(seed=5, accounts=30, end_month="2025-02")) == expected


def test_months_cover_the_window_ending_with_end_month():
    data = generate(accounts=2, months=14, end_month="2025-01")
    assert data.months[0] == "2023-12"
    assert data.months[-1] == data.end_month == "2025-01"
    assert len(data.months) == 14
    with pytest.raises(ValueError):
        generate(accounts=2, end_month="2025-13")


# ---- shapes --------------------------------------------------------------------------------------------------


def test_accounts_have_segments_owners_and_revenue_history(data):
    rows = data.accounts_rows()
    assert len(rows) == 400
    months = set(data.months)
    assert all(tuple(row) == generator.ACCOUNT_FIELDS for row in rows)
    assert [row["account_id"] for row in rows] == [f"acc-{i:05d}" for i in range(1, 401)]
    assert {row["segment"] for row in rows} == {"enterprise", "mid-market", "smb"}
    assert len({row["name"] for row in rows}) == 400
    owners = defaultdict(int)
    for row in rows:
        owners[row["owner"]] += 1
        assert re.fullmatch(r"csm-\d+@example\.com", row["owner"])
        assert re.fullmatch(r"manager-\d+@example\.com", row["manager"])
        assert row["revenue"], "every account is a customer at some point"
        assert set(row["revenue"]) <= months
        assert all(isinstance(v, float) and v > 0 for v in row["revenue"].values())
        assert row["status"] == ("active" if data.end_month in row["revenue"] else "churned")
        assert account_fields.account(row, allow_id=True)["revenue"] == row["revenue"]
    assert max(owners.values()) > 10, "owners are shared by many accounts"
    by_segment = defaultdict(list)
    for row in rows:
        by_segment[row["segment"]].append(max(row["revenue"].values()))
    median = {k: sorted(v)[len(v) // 2] for k, v in by_segment.items()}
    assert median["enterprise"] > median["mid-market"] > median["smb"]

    first, last = data.months[0], data.months[-1]
    statuses = {row["status"] for row in rows}
    assert statuses == {"active", "churned"}
    assert any(first not in row["revenue"] for row in rows), "new logos start later"
    came_back = [
        row for row in rows if re.search(r"10+1", "".join("1" if m in row["revenue"] else "0" for m in data.months))
    ]
    assert 0 < len(came_back) < 0.2 * len(rows), "a few churn and come back"
    assert any(last in row["revenue"] and first in row["revenue"] for row in rows)


def test_revenue_expands_and_contracts(data):
    ups = downs = 0
    for row in data.accounts_rows():
        values = [row["revenue"].get(m, 0) for m in data.months]
        for a, b in itertools.pairwise(values):
            if a and b:
                ups += b > a
                downs += b < a
    assert ups > 1000 and downs > 1000


def test_contacts_belong_to_their_accounts(data):
    domains = {}
    per_account = defaultdict(int)
    for row in data.contacts_rows():
        assert tuple(row) == generator.CONTACT_FIELDS
        match = re.fullmatch(r"con-(\d{5})-([1-4])", row["contact_id"])
        assert match and row["account_id"] == f"acc-{match.group(1)}"
        assert re.fullmatch(r"[a-z]+\.[a-z]+\d?@[a-z0-9-]+\.example", row["email"])
        assert validation.EMAIL_RE.match(row["email"])
        assert domains.setdefault(row["account_id"], row["email"].split("@")[1]) == row["email"].split("@")[1]
        first, last = row["name"].split(" ")
        assert row["email"].startswith(f"{first}.{last}".lower())
        per_account[row["account_id"]] += 1
    assert len(per_account) == 400
    assert set(per_account.values()) == {1, 2, 3, 4}
    assert len(set(domains.values())) == 400
    assert len({r["contact_id"] for r in data.contacts_rows()}) == sum(per_account.values())


def test_surveys_are_valid_create_bodies(data):
    surveys = data.surveys()
    assert [s["key"] for s in surveys] == ["relationship", "onboarding", "support", "renewal"]
    assert [s["kind"] for s in surveys] == ["relationship", "transactional", "transactional", "transactional"]
    assert {s["touchpoint"] for s in surveys[1:]} == {"onboarding", "support", "renewal"}
    for survey in surveys:
        body = {k: v for k, v in survey.items() if k != "key"}
        clean = survey_definition.survey(body)
        assert clean["allowed_origins"] == ["http://127.0.0.1:8000"]
        assert clean["loop_rules"]["categories"] == ["detractor"] and clean["loop_rules"]["sla_hours"] == 48
        assert clean["drivers"] == survey["drivers"] and len(clean["drivers"]) >= 3
    surveys[0]["drivers"].append("mutated")
    assert "mutated" not in data.surveys()[0]["drivers"], "callers get their own copies"


def test_responses_are_valid_and_come_from_customers(data, responses):
    accounts = {row["account_id"]: row for row in data.accounts_rows()}
    contacts = {row["contact_id"]: row["account_id"] for row in data.contacts_rows()}
    drivers = {s["key"]: set(s["drivers"]) for s in data.surveys()}
    months = set(data.months)
    assert inspect.isgenerator(data.iter_responses())
    assert len(responses) == data.response_count
    assert 8 * 400 < len(responses) < 20 * 400
    assert len({r["external_id"] for r in responses}) == len(responses)
    for r in responses:
        assert tuple(r) == generator.RESPONSE_FIELDS
        assert type(r["score"]) is int and 0 <= r["score"] <= 10
        assert TIME_RE.match(r["submitted_at"])
        month = r["submitted_at"][:7]
        assert month in months
        assert accounts[r["account_id"]]["revenue"].get(month, 0) > 0, "responses come from customers"
        assert contacts[r["contact_id"]] == r["account_id"]
        assert isinstance(r["comment"], str) and len(r["comment"]) <= answers.MAX_COMMENT
        assert set(r["drivers"]) <= drivers[r["survey_key"]]
        assert r["channel"] in ("email", "widget", "api", "phone")
        assert len(r["external_id"]) <= 200
    assert {r["survey_key"] for r in responses} == set(drivers)
    assert {r["channel"] for r in responses} == {"email", "widget", "api", "phone"}
    assert len({r["score"] for r in responses}) == 11


def test_responses_pass_the_import_validation(responses):
    for r in responses[:: max(1, len(responses) // 1500)]:
        row = {k: v for k, v in r.items() if k != "survey_key"} | {"survey_id": "srv_" + r["survey_key"]}
        clean = importing.response_row(row, NOW)
        assert clean["score"] == r["score"] and clean["drivers"] == r["drivers"]
        assert clean["comment"] == (r["comment"] or None)


def test_relationship_surveys_are_quarterly_with_realistic_response_rates(data, responses):
    contacts_of = defaultdict(list)
    for row in data.contacts_rows():
        contacts_of[row["account_id"]].append(row["contact_id"])
    # Per account, relationship responses fall in one month of each quarter.
    phases = defaultdict(set)
    answered = 0
    for r in responses:
        if r["survey_key"] == "relationship":
            phases[r["account_id"]].add((int(r["submitted_at"][5:7]) - 1) % 3)
            answered += 1
    assert all(len(p) == 1 for p in phases.values())
    invited = 0
    for row in data.accounts_rows():
        if row["account_id"] in phases:
            phase = next(iter(phases[row["account_id"]]))
            waves = sum(1 for m in row["revenue"] if (int(m[5:7]) - 1) % 3 == phase)
            invited += waves * len(contacts_of[row["account_id"]])
    assert 0.3 <= answered / invited <= 0.5


def test_comments_follow_the_score_and_carry_themes(responses):
    with_comment = [r for r in responses if r["comment"]]
    assert 0.25 < len(with_comment) / len(responses) < 0.7, "comments are often empty"
    assert all(themes_of(r["comment"]) for r in with_comment)
    praise = {p for phrases in vocabulary.PRAISE.values() for p in phrases}
    complaints = {p for phrases in vocabulary.COMPLAINTS.values() for p in phrases}
    for r in with_comment:
        if r["score"] >= 9:
            assert any(p in r["comment"] for p in praise) and not any(c[1:] in r["comment"] for c in complaints)
        elif r["score"] <= 6:
            assert any(c[1:] in r["comment"] for c in complaints) and not any(p in r["comment"] for p in praise)
    themes = {theme for r in with_comment for theme in themes_of(r["comment"])}
    assert themes == set(vocabulary.THEMES)


def test_chronological_order(data):
    small = generate(seed=3, accounts=40, end_month=END)
    rows = list(small.iter_responses(chronological=True))
    assert [r["submitted_at"] for r in rows] == sorted(r["submitted_at"] for r in rows)
    assert sorted(r["external_id"] for r in rows) == sorted(r["external_id"] for r in small.iter_responses())


# ---- files ---------------------------------------------------------------------------------------------------


def test_csv_files_read_back_through_the_importer(data, responses):
    out = io.StringIO(newline="")
    assert write_csv(data.accounts_rows(), out) == 400
    body = out.getvalue()
    assert body.splitlines()[0] == ",".join(generator.ACCOUNT_FIELDS)
    read = [importing.account_row(row) for _, row, error in importing.rows(body, importing.CSV) if not error]
    assert [(a["account_id"], a["revenue"], a["status"]) for a in read] == [
        (a["account_id"], a["revenue"], a["status"]) for a in data.accounts_rows()
    ]

    sample = responses[:300]
    out = io.StringIO(newline="")
    write_csv(sample, out)
    body = out.getvalue().replace("survey_key", "survey_id", 1)
    back = [importing.response_row(row, NOW) for _, row, error in importing.rows(body, importing.CSV) if not error]
    assert [(b["external_id"], b["score"], b["drivers"], b["comment"]) for b in back] == [
        (r["external_id"], r["score"], r["drivers"], r["comment"] or None) for r in sample
    ]


def test_ndjson_is_one_object_a_line(responses):
    out = io.StringIO()
    assert write_ndjson(responses[:50], out) == 50
    assert [json.loads(line) for line in out.getvalue().splitlines()] == responses[:50]
    assert write_csv([], io.StringIO()) == 0


def test_command_line_writes_the_files(tmp_path):
    assert generator.main(["--out", str(tmp_path), "--format", "csv", "--accounts", "12", "--end-month", END]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "accounts.csv",
        "contacts.csv",
        "responses.csv",
        "surveys.json",
    ]
    assert len((tmp_path / "accounts.csv").read_text().splitlines()) == 13


# ---- churn follows the category -------------------------------------------------------------------------------


def category_of(mean: float) -> str:
    return "promoter" if mean >= 9 else "passive" if mean >= 7 else "detractor"


def cohorts(data, responses):
    """(month index, category at the start of the month, R(a, M-1), R(a, M)) for every account with R(a, M-1) > 0,
    by docs/metrics.md: latest score per contact over the 12 months before M, mean read with the score bands."""
    by_account = defaultdict(list)
    for r in responses:
        by_account[r["account_id"]].append(r)
    months = data.months
    out = []
    for account in data.accounts_rows():
        mine = sorted(by_account[account["account_id"]], key=lambda r: (r["submitted_at"], r["external_id"]))
        revenue = account["revenue"]
        for mi in range(1, len(months)):
            before = revenue.get(months[mi - 1], 0)
            if not before:
                continue
            start = months[mi - 12] if mi >= 12 else "0000-00"
            latest = {r["contact_id"]: r["score"] for r in mine if start <= r["submitted_at"][:7] < months[mi]}
            category = category_of(sum(latest.values()) / len(latest)) if latest else "unrated"
            out.append((mi, category, before, revenue.get(months[mi], 0)))
    return out


@pytest.mark.parametrize("seed", [7, 21])
def test_detractor_accounts_churn_several_times_more_than_promoters(seed):
    data = generate(seed=seed, end_month=END)  # the default size: about 500 accounts
    observations = cohorts(data, data.iter_responses())
    count, churned, base, kept = (defaultdict(float) for _ in range(4))
    for _, category, before, after in observations:
        count[category] += 1
        churned[category] += after == 0
        base[category] += before
        kept[category] += after
    churn = {c: churned[c] / count[c] for c in count}
    nrr = {c: kept[c] / base[c] for c in count}
    assert count["promoter"] > 1000 and count["detractor"] > 1000
    assert churn["detractor"] > 3 * churn["promoter"]
    assert churn["detractor"] > churn["passive"] > churn["promoter"]
    assert nrr["promoter"] > 1.0 > nrr["detractor"]

    # Revenue per NPS point over the trailing 12 months (docs/metrics.md) is clearly positive.
    last = len(data.months) - 1
    pool = [o for o in observations if o[0] > last - 12 and o[1] != "unrated"]
    nrr12 = {}
    for c in ("promoter", "detractor"):
        rows = [o for o in pool if o[1] == c]
        nrr12[c] = sum(o[3] for o in rows) / sum(o[2] for o in rows)
    monthly_base = sum(o[2] for o in pool) / 12
    per_point = monthly_base * (nrr12["promoter"] - nrr12["detractor"]) / 200
    assert per_point > 0.0001 * monthly_base
