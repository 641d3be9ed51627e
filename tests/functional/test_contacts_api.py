"""The contact directory: PUT/GET one entry, lists by account and in all, imports in CSV and NDJSON with row
errors, the status the service keeps, and erasure's hold on an entry."""

from __future__ import annotations

import json

import pytest
from support import Api, path_of
from support_ddb import assert_error, count_dynamodb_calls

from chalicelib.domain import contacts as rules
from chalicelib.domain import languages
from chalicelib.store.models import Contact

CSV = "text/csv"
NDJSON = "application/x-ndjson"


@pytest.fixture
def read_only_api(client):
    from chalicelib.store import admin_tokens

    token, _ = admin_tokens.create("reader", ["read"])
    return Api(client, token)


ANA = {
    "email": "ana@contoso.example",
    "name": "Ana Lima",
    "account_id": "acct-1",
    "role": "decision_maker",
    "language": "pt-br",
    "timezone": "America/Sao_Paulo",
    "attributes": {"plan": "pro", "seats": 12},
}


def test_put_creates_then_replaces_and_get_shows_status(api):
    r = api.put("/v1/contacts/c-1", ANA)
    assert r.status_code == 201, r.body
    body = r.json
    assert body["language"] == "pt-BR"  # stored in its usual case
    assert (body["status"], body["email"], body["attributes"]) == ("active", "ana@contoso.example", ANA["attributes"])
    assert body["created_at"].endswith("Z") and body["created_at"] == body["updated_at"]

    # PUT replaces the entry: a field left out is gone, created_at stays.
    r = api.put("/v1/contacts/c-1", {"account_id": "acct-1", "email": "ana@fabrikam.example"})
    assert r.status_code == 200, r.body
    got = api.get("/v1/contacts/c-1").json
    assert got["email"] == "ana@fabrikam.example"
    assert (got["name"], got["role"], got["language"], got["timezone"], got["attributes"]) == (None,) * 4 + ({},)
    assert got["created_at"] == body["created_at"] and got["updated_at"] > body["updated_at"]


def test_put_is_one_write_and_keeps_what_the_service_recorded(api, survey):
    api.put("/v1/contacts/c-2", {**ANA, "email": "bo@contoso.example"})
    [invitation] = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c-2", "account_id": "acct-1"}]}
    ).json["invitations"]
    stamped = Contact.get("c-2")
    assert stamped.last_invited is not None and stamped.invitation_ids == [invitation["invitation_id"]]
    with count_dynamodb_calls() as calls:
        r = api.put("/v1/contacts/c-2", {"account_id": "acct-1", "name": "Bo"})
    assert r.status_code == 200
    assert calls.writes == 1
    after = Contact.get("c-2")
    assert after.invitation_ids == stamped.invitation_ids
    assert after.last_invited.as_dict() == stamped.last_invited.as_dict()
    # The email the invitation call did not bring is gone: PUT replaced the entry.
    assert (after.name, after.email) == ("Bo", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "account_id"),
        ({"account_id": "a b"}, "account_id"),
        ({"account_id": "a", "email": "not-an-email"}, "email"),
        ({"account_id": "a", "email": "a,b@example.com"}, "email"),  # the shape, but not one To: can carry
        ({"account_id": "a", "email": "a<b@example.com"}, "email"),
        ({"account_id": "a", "role": "Decision Maker"}, "role"),
        ({"account_id": "a", "language": "english!"}, "language"),
        ({"account_id": "a", "timezone": "Mars/Olympus"}, "timezone"),
        ({"account_id": "a", "timezone": "../../etc/passwd"}, "timezone"),
        ({"account_id": "a", "attributes": {"k": {"nested": 1}}}, "attributes"),
        ({"account_id": "a", "attributes": {f"k{i}": i for i in range(31)}}, "attributes"),
        ({"account_id": "a", "status": "active"}, "status"),
        ({"account_id": "a", "favourite_colour": "blue"}, "favourite_colour"),
        ({"account_id": "a", "name": 7}, "name"),
    ],
)
def test_bad_fields_are_refused_with_nothing_written(api, body, field):
    r = api.put("/v1/contacts/c-bad", body)
    error = assert_error(r, 422, "invalid")
    assert field in error["fields"], error
    assert api.get("/v1/contacts/c-bad").status_code == 404


def test_bad_ids_and_bodies(api):
    assert_error(api.put("/v1/contacts/a%20b", {"account_id": "a"}), 422, "invalid")
    assert_error(api.get("/v1/contacts/nobody"), 404, "contact_not_found")
    assert_error(api.put("/v1/contacts/c-x", raw="{not json", content_type="application/json"), 400)
    assert_error(api.put("/v1/contacts/c-x", raw="[1, 2]", content_type="application/json"), 422, "invalid")
    assert_error(api.get("/v1/contacts?acount_id=typo"), 422, "invalid")
    assert_error(api.get("/v1/contacts?account_id=a%20b"), 422, "invalid")
    assert_error(api.get("/v1/contacts?limit=0"), 422)


def test_write_routes_need_the_write_scope(api, read_only_api):
    assert_error(read_only_api.put("/v1/contacts/c-3", {"account_id": "a"}), 403)
    assert_error(read_only_api.post("/v1/contacts/import", raw="contact_id,account_id\nc,a\n", content_type=CSV), 403)
    api.put("/v1/contacts/c-3", {"account_id": "a"})
    assert read_only_api.get("/v1/contacts/c-3").status_code == 200


def test_lists_by_account_and_in_all_page_through_everything_once(api):
    expected = {}
    for i in range(23):
        account = "acct-a" if i % 3 else "acct-b"
        api.put(f"/v1/contacts/p-{i:02d}", {"account_id": account, "email": f"p{i}@example.com"})
        expected.setdefault(account, []).append(f"p-{i:02d}")
    for account, ids in expected.items():
        seen, nxt = [], None
        while True:
            r = api.get(f"/v1/contacts?account_id={account}&limit=4" + (f"&next={nxt}" if nxt else ""))
            assert r.status_code == 200, r.body
            seen += [c["contact_id"] for c in r.json["contacts"]]
            assert all(c["account_id"] == account for c in r.json["contacts"])
            nxt = r.json["next"]
            if not nxt:
                break
        assert seen == sorted(ids)  # contact_id order within an account
    everyone, nxt = [], None
    while True:
        r = api.get("/v1/contacts?limit=7" + (f"&next={nxt}" if nxt else ""))
        everyone += [c["contact_id"] for c in r.json["contacts"]]
        nxt = r.json["next"]
        if not nxt:
            break
    assert sorted(everyone) == sorted(expected["acct-a"] + expected["acct-b"])
    # A cursor of one account's list is refused for another's.
    first = api.get("/v1/contacts?account_id=acct-a&limit=2").json["next"]
    assert_error(api.get(f"/v1/contacts?account_id=acct-b&next={first}"), 400, "malformed")


def test_status_follows_what_happened(api, survey):
    api.put("/v1/contacts/c-4", {"account_id": "acct-1", "email": "cy@example.com"})
    [inv] = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c-4", "account_id": "acct-1"}]}
    ).json["invitations"]
    r = api.post(
        path_of(inv["unsubscribe_link"]),
        raw="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        token=None,
    )
    assert r.status_code == 200, r.body
    got = api.get("/v1/contacts/c-4").json
    assert got["status"] == "unsubscribed" and got["unsubscribed_at"].endswith("Z")
    # A PUT does not resubscribe anyone: the status is the service's.
    api.put("/v1/contacts/c-4", {"account_id": "acct-1", "email": "cy@example.com"})
    assert api.get("/v1/contacts/c-4").json["status"] == "unsubscribed"


def test_an_erased_person_stays_erased(api):
    api.put("/v1/contacts/c-5", ANA)
    assert api.delete("/v1/contacts/c-5").status_code == 200
    got = api.get("/v1/contacts/c-5").json
    assert got == {"contact_id": "c-5", "status": "erased", "erased_at": got["erased_at"]}
    assert_error(api.put("/v1/contacts/c-5", ANA), 410, "contact_erased")
    stored = Contact.get("c-5")
    assert (stored.email, stored.name, stored.role, stored.language, stored.timezone) == (None,) * 5
    r = api.post("/v1/contacts/import", raw=json.dumps({"contact_id": "c-5", **ANA}), content_type=NDJSON)
    assert r.json["accepted"] == 0 and r.json["rejected"][0]["line"] == 1
    assert "erased" in r.json["rejected"][0]["error"]
    assert Contact.get("c-5").email is None


def test_import_csv_and_ndjson_with_row_errors_and_reimport(api):
    text = (
        "contact_id,account_id,email,name,role,language,timezone,attributes.plan\n"
        "i-1,acct-1,ana@example.com,Ana,decision_maker,de,Europe/Berlin,pro\n"
        'i-2,acct-1,bo@example.com,"Bo, Jr.",user,,,\n'
        "i-3,,cy@example.com,Cy,user,,,\n"  # no account
        "i-4,acct-2,not-an-email,Di,user,,,\n"
        "i-5,acct-2,ed@example.com,Ed,user,fr,Mars/Base,\n"
    )
    r = api.post("/v1/contacts/import", raw=text, content_type=CSV)
    assert r.status_code == 200, r.body
    assert (r.json["accepted"], r.json["written"], r.json["unchanged"]) == (2, 2, 0)
    assert [(e["line"], e["error"].split(":")[0]) for e in r.json["rejected"]] == [
        (4, "account_id"),
        (5, "email"),
        (6, "timezone"),
    ]
    ana = api.get("/v1/contacts/i-1").json
    assert (ana["language"], ana["timezone"], ana["attributes"]) == ("de", "Europe/Berlin", {"plan": "pro"})
    assert api.get("/v1/contacts/i-2").json["name"] == "Bo, Jr."
    assert api.get("/v1/contacts/i-3").status_code == 404

    # The same file again: read, nothing written.
    with count_dynamodb_calls() as calls:
        again = api.post("/v1/contacts/import", raw=text, content_type=CSV).json
    assert (again["accepted"], again["written"], again["unchanged"]) == (2, 0, 2)
    assert calls.writes == 0

    lines = "\n".join(
        [
            json.dumps({"contact_id": "i-1", "account_id": "acct-1", "email": "ana@example.com", "role": "user"}),
            "{not json",
            json.dumps({"contact_id": "i-6", "account_id": "acct-3", "attributes": {"plan": "free"}}),
            json.dumps(["not", "an", "object"]),
            json.dumps({"contact_id": "i-6", "account_id": "acct-3", "attributes": {"plan": "team"}}),
        ]
    )
    r = api.post("/v1/contacts/import", raw=lines, content_type=NDJSON)
    assert [e["line"] for e in r.json["rejected"]] == [2, 4]
    assert (r.json["accepted"], r.json["written"]) == (3, 2)
    assert api.get("/v1/contacts/i-6").json["attributes"] == {"plan": "team"}  # the later row wins
    assert api.get("/v1/contacts/i-1").json["name"] is None  # a row replaces the entry, as PUT does


def test_import_refuses_other_media_types_and_huge_bodies(api):
    assert_error(api.post("/v1/contacts/import", raw="x", content_type="text/plain"), 415)
    big = "contact_id,account_id\n" + "c,a\n" * (5 * 1024 * 1024 // 4 + 10)
    assert_error(api.post("/v1/contacts/import", raw=big, content_type=CSV), 413)


def test_import_of_many_rows_reads_in_batches(api):
    rows = [{"contact_id": f"m-{i:04d}", "account_id": f"acct-{i % 7}"} for i in range(250)]
    body = "\n".join(json.dumps(r) for r in rows)
    r = api.post("/v1/contacts/import", raw=body, content_type=NDJSON)
    assert (r.json["accepted"], r.json["written"], r.json["rejected"]) == (250, 250, [])
    assert sum(1 for _ in Contact.scan()) >= 250
    with count_dynamodb_calls() as calls:
        again = api.post("/v1/contacts/import", raw=body, content_type=NDJSON).json
    assert again["unchanged"] == 250 and calls.writes == 0
    assert calls.reads <= 3 * 3  # one BatchGetItem a page of 100 (moto answers each in one go)


@pytest.mark.parametrize(
    ("moments", "status"),
    [
        ({}, "active"),
        ({"unsubscribed_at": 1}, "unsubscribed"),
        ({"unsubscribed_at": 1, "bounced_at": 1}, "bounced"),
        ({"bounced_at": 1, "complained_at": 1}, "complained"),
        ({"complained_at": 1, "erased_at": 1}, "erased"),
    ],
)
def test_status_precedence(moments, status):
    given = dict.fromkeys(("erased_at", "complained_at", "bounced_at", "unsubscribed_at")) | moments
    assert rules.status_of(**given) == status


@pytest.mark.parametrize(
    ("tag", "usual"), [("pt-br", "pt-BR"), ("EN", "en"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419")]
)
def test_language_tags_in_their_usual_case(tag, usual):
    assert languages.normalize(tag) == usual
