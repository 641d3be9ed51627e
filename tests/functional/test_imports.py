"""Account and response-history imports: good files, every kind of bad row, re-import, a large file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.store.models import Account, Response

CSV = "text/csv"
NDJSON = "application/x-ndjson"


def post_import(api, kind, text, ctype):
    return api.post(f"/v1/{kind}/import", raw=text, content_type=ctype)


def test_accounts_csv_with_month_columns_and_json_revenue(api):
    text = (
        "account_id,name,segment,owner,manager,status,2026-01,revenue:2026-02\n"
        "acc-1,Acme,smb,olive@example.com,max@example.com,active,100,110.5\n"
        'acc-2,"Beta, Inc.",enterprise,pat@example.com,,churned,2000,\n'
    )
    r = post_import(api, "accounts", text, CSV)
    assert r.status_code == 200, r.body
    assert (r.json["accepted"], r.json["rejected"], r.json["written"]) == (2, [], 2)
    acme = api.get("/v1/accounts/acc-1").json
    assert acme["revenue"] == {"2026-01": 100.0, "2026-02": 110.5} and acme["owner"] == "olive@example.com"
    beta = api.get("/v1/accounts/acc-2").json
    assert (beta["name"], beta["status"], beta["revenue"], beta["manager"]) == (
        "Beta, Inc.",
        "churned",
        {"2026-01": 2000.0},
        None,
    )
    lines = "\n".join(
        json.dumps(r)
        for r in [
            {"account_id": "acc-3", "segment": "smb", "revenue": {"2026-01": 50}},
            {
                "account_id": "acc-1",
                "name": "Acme",
                "segment": "smb",
                "owner": "olive@example.com",
                "manager": "max@example.com",
                "status": "active",
                "revenue": {"2026-01": 100, "2026-02": 110.5},
            },
        ]
    )
    r = post_import(api, "accounts", lines, NDJSON)
    assert (r.json["accepted"], r.json["written"], r.json["unchanged"]) == (2, 1, 1)


BAD_ACCOUNT_ROWS = [
    ('{"name": "no id"}', "account_id"),
    ('{"account_id": "a b"}', "account_id"),
    ('{"account_id": "acc-9", "revenue": {"2026-13": 5}}', "revenue"),
    ('{"account_id": "acc-9", "revenue": {"2026-01": -5}}', "revenue"),
    ('{"account_id": "acc-9", "revenue": {"2026-01": "lots"}}', "revenue"),
    ('{"account_id": "acc-9", "status": "sleeping"}', "status"),
    ('{"account_id": "acc-9", "colour": "red"}', "colour"),
    ("[1, 2]", "not a JSON object"),
    ("{not json", "not valid JSON"),
]


def test_accounts_every_bad_row_is_reported_with_its_line_and_nothing_written(api):
    text = "\n".join(row for row, _ in BAD_ACCOUNT_ROWS) + "\n" + '{"account_id": "acc-ok"}\n'
    r = post_import(api, "accounts", text, NDJSON)
    assert r.status_code == 200
    assert r.json["accepted"] == 1
    assert [x["line"] for x in r.json["rejected"]] == list(range(1, len(BAD_ACCOUNT_ROWS) + 1))
    for rejection, (_, expected) in zip(r.json["rejected"], BAD_ACCOUNT_ROWS, strict=True):
        assert expected in rejection["error"]
    assert [a.account_id for a in Account.scan()] == ["acc-ok"]


def test_csv_rows_with_the_wrong_number_of_cells_and_bad_headers(api):
    r = post_import(api, "accounts", "account_id,name\nacc-1,A,extra\nacc-2,B\n", CSV)
    assert r.json["accepted"] == 1 and r.json["rejected"][0]["line"] == 2
    bad_header = post_import(api, "accounts", "account_id,account_id\nx,y\n", CSV)
    assert bad_header.status_code == 400 and bad_header.json["error"]["code"] == "malformed"


def test_import_content_type_encoding_and_auth(api):
    assert post_import(api, "accounts", "{}", "application/json").status_code == 415
    r = api.post("/v1/accounts/import", raw=b"\xff\xfe\x00bad", content_type=CSV)
    assert r.status_code == 422
    assert api.post("/v1/accounts/import", raw="a\n", content_type=CSV, token=None).status_code == 401


def history_rows(survey_id, now):
    return [
        {
            "external_id": "ext-1",
            "survey_id": survey_id,
            "contact_id": "c-1",
            "account_id": "acc-1",
            "score": 3,
            "comment": "Too expensive",
            "drivers": ["price"],
            "channel": "phone",
            "submitted_at": (now - timedelta(days=40)).isoformat(),
        },
        {
            "external_id": "ext-2",
            "survey_id": survey_id,
            "contact_id": "c-2",
            "account_id": "acc-1",
            "score": 10,
            "channel": "email",
            "submitted_at": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    ]


def test_responses_import_is_idempotent_on_external_id(api, survey):
    now = datetime.now(timezone.utc)
    text = "\n".join(json.dumps(r) for r in history_rows(survey["survey_id"], now))
    first = post_import(api, "responses", text, NDJSON)
    assert (first.json["accepted"], first.json["written"], first.json["rejected"]) == (2, 2, [])
    stored = {r.external_id: r for r in Response.scan()}
    assert set(stored) == {"ext-1", "ext-2"}
    old = stored["ext-1"]
    assert (int(old.score), old.channel, old.month) == (3, "phone", (now - timedelta(days=40)).strftime("%Y-%m"))
    again = post_import(api, "responses", text, NDJSON)
    assert (again.json["accepted"], again.json["written"], again.json["unchanged"]) == (2, 0, 2)
    assert Response.count() == 2
    csv_text = (
        "external_id,survey_id,score,drivers,submitted_at,channel\n"
        f"ext-3,{survey['survey_id']},7,price|support,2026-01-05T10:00:00Z,api\n"
    )
    r = post_import(api, "responses", csv_text, CSV)
    assert r.json["written"] == 1
    assert Response.get(r_id(api, "ext-3")).drivers == ["price", "support"]


def r_id(api, external_id):
    from chalicelib.store.imports import response_id_for

    return response_id_for(external_id)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"score": 11}, "score"),
        ({"score": "seven"}, "score"),
        ({"score": 7.5}, "score"),
        ({"submitted_at": "yesterday"}, "submitted_at"),
        ({"submitted_at": "2999-01-01T00:00:00Z"}, "submitted_at"),
        ({"survey_id": "srv_unknown"}, "survey_id"),
        ({"channel": "pigeon"}, "channel"),
        ({"comment": "x" * 2001}, "comment"),
        ({"extra": 1}, "extra"),
        ({"external_id": None}, "external_id"),
    ],
)
def test_responses_import_rejects_each_bad_row(api, survey, change, expected):
    row = history_rows(survey["survey_id"], datetime.now(timezone.utc))[0]
    row.update(change)
    row = {k: v for k, v in row.items() if v is not None}
    r = post_import(api, "responses", json.dumps(row), NDJSON)
    assert r.json["accepted"] == 0
    assert r.json["rejected"][0]["line"] == 1 and expected in r.json["rejected"][0]["error"]
    assert Response.count() == 0


def test_cli_imports_a_100k_row_file_in_pages(api, tmp_path, monkeypatch):
    """The CLI pages a 100,000-row file through the real route (over the test client instead of a socket)."""
    from nps_cli import commands as cli

    path = tmp_path / "accounts.csv"
    with path.open("w") as fp:
        fp.write("account_id,segment,2026-01\n")
        for i in range(100_000):
            fp.write(f"acc-{i:06d},{'smb' if i % 3 else 'enterprise'},{i % 1000}\n")
        fp.write("bad id,smb,1\n")

    def post(url, token, ctype, body, attempts=5):
        r = api.post(url.replace("http://test", ""), raw=body, content_type=ctype)
        assert r.status_code == 200, r.body
        return r.json

    monkeypatch.setattr(cli, "post", post)
    report = cli.run_import("accounts", path, "http://test", api.token, rows_per_page=5000)
    assert report["accepted"] == 100_000
    assert report["rejected"] == [{"line": 100_002, "error": report["rejected"][0]["error"]}]
    assert "account_id" in report["rejected"][0]["error"]
    assert Account.count() == 100_000
    assert Account.get("acc-099999").revenue.as_dict() == {"2026-01": 999}


# ---- inputs that used to 500 or to lose rows silently ------------------------------------------------------


def test_an_ndjson_line_nested_5000_deep_is_rejected_by_number_and_the_others_import(api, survey):
    rows = history_rows(survey["survey_id"], datetime.now(timezone.utc))
    deep = '{"external_id": "deep", "comment": ' + "[" * 5000 + "]" * 5000 + "}"
    text = "\n".join([json.dumps(rows[0]), deep, json.dumps(rows[1])]) + "\n"
    r = post_import(api, "responses", text, NDJSON)
    assert r.status_code == 200, r.body
    assert r.json["accepted"] == 2 and r.json["written"] == 2
    assert r.json["rejected"] == [{"line": 2, "error": "nested too deeply"}]
    nested = '{"x": ' * 5000 + "1" + "}" * 5000
    accounts = '{"account_id": "a-1"}\n' + '{"account_id": "a-2", "revenue": ' + nested + "}\n"
    r = post_import(api, "accounts", accounts, NDJSON)
    assert r.status_code == 200 and r.json["accepted"] == 1
    assert r.json["rejected"] == [{"line": 2, "error": "nested too deeply"}]


def test_a_csv_revenue_cell_nested_3000_deep_is_rejected_by_number(api):
    deep = '"' + ('{"2026-01": ' * 3000 + "1" + "}" * 3000).replace('"', '""') + '"'
    text = f'account_id,name,revenue\na-1,One,\na-2,Two,{deep}\na-3,Three,"{{""2026-01"": 5}}"\n'
    r = post_import(api, "accounts", text, CSV)
    assert r.status_code == 200, r.body
    assert r.json["accepted"] == 2 and r.json["rejected"] == [{"line": 3, "error": "revenue: nested too deeply"}]
    assert sorted(a.account_id for a in Account.scan()) == ["a-1", "a-3"]
    assert Account.get("a-3").revenue.as_dict() == {"2026-01": 5}


def test_an_unterminated_quote_refuses_the_rest_of_the_file_by_name_instead_of_swallowing_it(api):
    text = 'account_id,name\na-1,One\na-2,"Two\na-3,Three\na-4,Four\n'
    r = post_import(api, "accounts", text, CSV)
    assert r.status_code == 200, r.body
    assert r.json["accepted"] == 1 and [a.account_id for a in Account.scan()] == ["a-1"]
    (rejected,) = r.json["rejected"]
    assert rejected["line"] == 3 and "never closed" in rejected["error"] and "lines 3 to 5" in rejected["error"]


def test_a_stray_quote_that_joins_rows_names_the_lines_it_joined(api):
    text = 'account_id,name\na-1,"One\na-2,Two\na-3,"Th"ree\na-4,Four\n'
    r = post_import(api, "accounts", text, CSV)
    assert r.status_code == 200, r.body
    assert [a.account_id for a in Account.scan()] == ["a-4"]
    (rejected,) = r.json["rejected"]
    assert rejected["line"] == 2 and "lines 2 to 4" in rejected["error"]


def test_a_quoted_cell_with_a_line_break_still_imports_and_rows_are_named_by_their_first_line(api, survey):
    sid = survey["survey_id"]
    text = (
        "external_id,survey_id,score,comment,submitted_at\n"
        f'm-1,{sid},4,"Two\nlines",2026-01-05T10:00:00Z\n'
        f"m-2,{sid},11,,2026-01-05T10:00:00Z\n"
    )
    r = post_import(api, "responses", text, CSV)
    assert r.json["accepted"] == 1 and r.json["rejected"][0]["line"] == 4
    assert Response.get(r_id(api, "m-1")).comment == "Two\nlines"
