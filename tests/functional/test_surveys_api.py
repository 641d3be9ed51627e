"""Survey admin routes on real tables: create, read, list with pagination, partial update, refusals."""

from __future__ import annotations

from support_ddb import all_tables, assert_error

from chalicelib.store.models import Survey


def test_create_answers_201_with_the_survey(api):
    r = api.post(
        "/v1/surveys",
        {
            "name": "Support ticket",
            "kind": "transactional",
            "touchpoint": "support",
            "drivers": ["speed", "tone"],
            "allowed_origins": ["https://Help.Example.com/"],
            "throttle_days": 30,
            "loop_rules": {"sla_hours": 24},
        },
    )
    assert r.status_code == 201, r.body
    body = r.json
    assert body["survey_id"].startswith("srv_")
    assert body["name"] == "Support ticket" and body["kind"] == "transactional" and body["touchpoint"] == "support"
    assert body["drivers"] == ["speed", "tone"] and body["allowed_origins"] == ["https://help.example.com"]
    assert body["throttle_days"] == 30 and body["status"] == "active"
    assert body["loop_rules"] == {"categories": ["detractor"], "sla_hours": 24, "fallback_owner": None}
    assert body["question"] and len(body["identity_secret"]) >= 32
    stored = Survey.get(body["survey_id"])
    assert stored.name == "Support ticket" and list(stored.allowed_origins) == ["https://help.example.com"]


def test_create_defaults(api):
    r = api.post("/v1/surveys", {"name": "Minimal"})
    assert r.status_code == 201
    assert r.json["kind"] == "relationship" and r.json["throttle_days"] == 90 and r.json["drivers"] == []
    assert r.json["loop_rules"]["sla_hours"] == 48 and r.json["loop_rules"]["categories"] == ["detractor"]


def test_get_returns_what_create_returned_but_the_secret(api, survey):
    r = api.get(f"/v1/surveys/{survey['survey_id']}")
    assert r.status_code == 200
    assert r.json == {k: v for k, v in survey.items() if k != "identity_secret"}


def test_list_pages_through_every_survey_once(api):
    created = {api.post("/v1/surveys", {"name": f"Survey {i}"}).json["survey_id"] for i in range(5)}
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get("/v1/surveys?limit=2" + (f"&next={cursor}" if cursor else ""))
        assert r.status_code == 200 and len(r.json["surveys"]) <= 2
        seen += [s["survey_id"] for s in r.json["surveys"]]
        pages += 1
        cursor = r.json["next"]
        if cursor is None:
            break
        assert pages < 10
    assert sorted(seen) == sorted(created) and pages >= 3
    everything = api.get("/v1/surveys")
    assert everything.json["next"] is None and len(everything.json["surveys"]) == 5


def test_patch_changes_only_the_given_fields(api, survey):
    sid = survey["survey_id"]
    r = api.patch(f"/v1/surveys/{sid}", {"throttle_days": 0, "drivers": ["price", "speed"]})
    assert r.status_code == 200, r.body
    assert r.json["throttle_days"] == 0 and r.json["drivers"] == ["price", "speed"]
    for field in ("name", "kind", "question", "allowed_origins", "loop_rules", "created_at"):
        assert r.json[field] == survey[field], field
    assert "identity_secret" not in r.json
    assert r.json["updated_at"] >= survey["updated_at"]
    assert api.get(f"/v1/surveys/{sid}").json == r.json


def test_patch_touchpoint_null_removes_it(api):
    sid = api.post("/v1/surveys", {"name": "T", "touchpoint": "renewal"}).json["survey_id"]
    r = api.patch(f"/v1/surveys/{sid}", {"touchpoint": None})
    assert r.status_code == 200 and r.json["touchpoint"] is None
    assert Survey.get(sid).touchpoint is None


BAD_CREATES = [
    ({"name": "x", "colour": "red"}, {"colour"}),
    ({"name": "x", "identity_secret": "chosen"}, {"identity_secret"}),
    ({"name": "x", "survey_id": "srv_mine"}, {"survey_id"}),
    ({}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": "x", "kind": "weekly"}, {"kind"}),
    ({"name": "x", "throttle_days": -1}, {"throttle_days"}),
    ({"name": "x", "throttle_days": "90"}, {"throttle_days"}),
    ({"name": "x", "allowed_origins": ["shop.example.com"]}, {"allowed_origins"}),
    ({"name": "x", "loop_rules": {"sla_hours": 24 * 15}}, {"loop_rules.sla_hours"}),
    ({"name": "x", "loop_rules": {"categories": ["angry"]}}, {"loop_rules.categories"}),
    ({"name": "", "kind": "x", "extra": 1}, {"name", "kind", "extra"}),
]


def test_create_refuses_bad_fields_with_422_and_writes_nothing(api):
    for body, fields in BAD_CREATES:
        error = assert_error(api.post("/v1/surveys", body), 422, "invalid")
        assert set(error["fields"]) == fields, body
    assert Survey.count() == 0


def test_patch_refuses_bad_fields_with_422_and_writes_nothing(api, survey):
    before = all_tables()
    for body, fields in [
        ({"colour": "red"}, {"colour"}),
        ({"name": None}, {"name"}),
        ({"kind": None}, {"kind"}),
        ({"status": "paused"}, {"status"}),
        ({"loop_rules": {"sla_hours": 0}}, {"loop_rules.sla_hours"}),
        ({"identity_secret": "mine"}, {"identity_secret"}),
        ({}, {"body"}),
    ]:
        error = assert_error(api.patch(f"/v1/surveys/{survey['survey_id']}", body), 422, "invalid")
        assert set(error["fields"]) == fields, body
    assert all_tables() == before


def test_a_json_body_that_is_not_an_object_is_422(api):
    for body in ([], "name", 3, None):
        raw = "null" if body is None else None
        assert_error(api.post("/v1/surveys", body, raw=raw), 422, "invalid")


def test_unknown_survey_is_404(api):
    for sid in ["srv_doesnotexist", "x" * 2000, "%20", "a%2Fb"]:
        assert_error(api.get(f"/v1/surveys/{sid}"), 404, "survey_not_found")
        assert_error(api.patch(f"/v1/surveys/{sid}", {"name": "y"}), 404, "survey_not_found")
        assert_error(
            api.post(f"/v1/surveys/{sid}/invitations", {"contacts": [{"contact_id": "c1", "account_id": "a1"}]}),
            404,
            "survey_not_found",
        )
    assert Survey.count() == 0


def test_bad_limit_is_422(api):
    for query in ["limit=0", "limit=501", "limit=abc", "limit=-1", "limit=%C2%B2", "limit=" + "9" * 5000]:
        assert_error(api.get(f"/v1/surveys?{query}"), 422, "invalid")


def test_unknown_list_parameter_is_422(api):
    answer = api.get("/v1/surveys?limit=5&status=open")
    assert_error(answer, 422, "invalid")
    assert answer.json["error"]["fields"] == {"status": "unknown parameter"}


def test_bad_cursor_is_400(api, survey):
    for cursor in [
        "!!!",
        "bm90IGpzb24",
        "WzFd",
        "eyJrIjogImFiYyJ9",
        "eyJrIjogeyJ4IjogMX19",
        "eyJrIjogeyJzdXJ2ZXlfaWQiOiB7Ik4iOiAiMSJ9fX0",
        "W" * 3000,
    ]:
        assert_error(api.get(f"/v1/surveys?next={cursor}"), 400, "malformed")
