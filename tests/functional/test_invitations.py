"""Invitations: signed links per contact, throttling, unsubscribe, and all-or-nothing validation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from support import path_of
from support_ddb import all_tables, assert_error, invite

from chalicelib.domain import clock, tokens
from chalicelib.store.models import Contact, Invitation, Response

BASE = "http://127.0.0.1:8000"


def test_one_result_per_contact_in_order_with_links(api, survey):
    sid = survey["survey_id"]
    results = invite(
        api,
        sid,
        {"contact_id": "c2", "account_id": "a1", "email": "bo@example.com", "name": "Bo"},
        "c1",
        {"contact_id": "c3", "account_id": "a2", "attributes": {"plan": "pro", "seats": 12}},
    )
    assert [r["contact_id"] for r in results] == ["c2", "c1", "c3"]
    assert len({r["invitation_id"] for r in results}) == 3
    for r in results:
        assert r["link"].startswith(f"{BASE}/s/")
        assert r["score_links"] == [f"{r['link']}?score={n}" for n in range(11)]
        assert r["unsubscribe_link"].startswith(f"{BASE}/u/")
        token = path_of(r["link"]).split("/")[2]
        claims = tokens.verify_link({"k2": b"second-test-key"}, token, tokens.PURPOSE_SURVEY, clock.utcnow())
        assert (claims.invitation_id, claims.survey_id, claims.contact_id) == (r["invitation_id"], sid, r["contact_id"])
        assert claims.key_id == "k2"
        days = (claims.expires_at - clock.utcnow().timestamp()) / 86400
        assert 29.9 < days <= 30
        score = parse_qs(urlsplit(r["score_links"][7]).query)["score"]
        assert score == ["7"]
        stored = Invitation.get(r["invitation_id"])
        assert (stored.survey_id, stored.contact_id, stored.key_id) == (sid, r["contact_id"], "k2")
    bo = Contact.get("c2")
    assert (bo.email, bo.name, bo.account_id) == ("bo@example.com", "Bo", "a1")
    assert Contact.get("c3").attributes.as_dict() == {"plan": "pro", "seats": 12}
    assert Response.count() == 0, "inviting records no response"


def test_contacts_invited_within_throttle_days_are_skipped(api, survey):
    sid = survey["survey_id"]
    first = invite(api, sid, "c1", "c2")
    assert all("link" in r for r in first)
    second = invite(api, sid, "c1", "c3", "c2")
    assert second[0] == {"contact_id": "c1", "skipped": "throttled"}
    assert "link" in second[1] and second[1]["contact_id"] == "c3"
    assert second[2] == {"contact_id": "c2", "skipped": "throttled"}
    assert Invitation.count() == 3


def test_the_same_contact_twice_in_one_call_is_invited_once(api, survey):
    results = invite(api, survey["survey_id"], "c1", "c1")
    assert "link" in results[0] and results[1] == {"contact_id": "c1", "skipped": "throttled"}
    assert Invitation.count() == 1


def test_throttling_is_per_survey(api, survey):
    other = api.post("/v1/surveys", {"name": "Onboarding", "kind": "transactional"}).json["survey_id"]
    assert "link" in invite(api, survey["survey_id"], "c1")[0]
    assert "link" in invite(api, other, "c1")[0]
    assert invite(api, other, "c1")[0]["skipped"] == "throttled"


def test_throttle_days_zero_never_throttles(api):
    sid = api.post("/v1/surveys", {"name": "Every ticket", "throttle_days": 0}).json["survey_id"]
    links = [invite(api, sid, "c1")[0]["link"] for _ in range(3)]
    assert len(set(links)) == 3


def test_an_old_invitation_outside_the_window_is_not_throttled(api, survey):
    sid = survey["survey_id"]
    invite(api, sid, "c1")
    long_ago = (clock.utcnow().replace(year=clock.utcnow().year - 1)).isoformat()
    Contact.get("c1").update(actions=[Contact.last_invited.set({sid: long_ago})])
    assert "link" in invite(api, sid, "c1")[0]


def test_unsubscribed_contacts_are_skipped(api, survey):
    sid = survey["survey_id"]
    first = invite(api, sid, "c1", "c2")
    unsubscribe = path_of(first[0]["unsubscribe_link"])
    r = api.post(unsubscribe, token=None, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json == {"unsubscribed": True}
    assert Contact.get("c1").unsubscribed_at is not None
    api.patch(f"/v1/surveys/{sid}", {"throttle_days": 0})
    again = invite(api, sid, "c1", "c2")
    assert again[0] == {"contact_id": "c1", "skipped": "unsubscribed"}
    assert "link" in again[1]
    other = api.post("/v1/surveys", {"name": "Other"}).json["survey_id"]
    assert invite(api, other, "c1") == [{"contact_id": "c1", "skipped": "unsubscribed"}]


def test_unsubscribe_page_is_safe_and_its_post_unsubscribes(api, survey):
    link = path_of(invite(api, survey["survey_id"], "c1")[0]["unsubscribe_link"])
    before = all_tables()
    for _ in range(3):
        page = api.get(link, token=None)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert f'action="./{link.rsplit("/", 1)[1]}"' in page.body.decode() and 'method="post"' in page.body.decode()
    assert all_tables() == before, "GET /u/{token} must not write"
    done = api.post(link, token=None, raw="", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "unsubscribed" in done.body.decode()
    first_time = Contact.get("c1").unsubscribed_at
    assert first_time is not None
    assert api.post(link, token=None).status_code == 200
    assert Contact.get("c1").unsubscribed_at == first_time, "unsubscribing twice keeps the first time"


def test_unsubscribe_refuses_survey_links_and_tampered_tokens(api, survey):
    result = invite(api, survey["survey_id"], "c1")[0]
    survey_token = path_of(result["link"]).split("/")[2]
    unsub_token = path_of(result["unsubscribe_link"]).split("/")[2]
    before = all_tables()
    for token in (survey_token, unsub_token[:-3] + "AAA", "garbage"):
        assert_error(api.post(f"/u/{token}", token=None), 403, "invalid_link")
        assert api.get(f"/u/{token}", token=None).status_code == 403
    # and a survey page refuses the unsubscribe token
    assert api.get(f"/s/{unsub_token}", token=None).status_code == 403
    assert_error(api.post(f"/s/{unsub_token}", {"score": 5}, token=None), 403, "invalid_link")
    assert all_tables() == before


def test_an_invalid_contact_refuses_the_whole_call_and_writes_nothing(api, survey):
    before = all_tables()
    ok = {"contact_id": "ok1", "account_id": "a"}
    for contacts, field in [
        ([ok, {"contact_id": "bad id", "account_id": "a"}], "contacts[1].contact_id"),
        ([ok, {"contact_id": "c2"}], "contacts[1].account_id"),
        ([{**ok, "email": "not-an-email"}], "contacts[0].email"),
        ([ok, {"contact_id": "c3", "account_id": "a", "phone": "1"}], "contacts[1].phone"),
        ([ok, "c2"], "contacts[1]"),
        ([ok, {"contact_id": "c4", "account_id": "a", "attributes": {"nested": {"x": 1}}}], "contacts[1].attributes"),
        ([], "contacts"),
        ("c1", "contacts"),
    ]:
        r = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": contacts})
        error = assert_error(r, 422, "invalid")
        assert field in error["fields"], (contacts, error)
        assert (Contact.count(), Invitation.count()) == (0, 0)
    assert all_tables() == before


def test_invitation_body_must_have_only_contacts_send_and_send_at(api, survey):
    path = f"/v1/surveys/{survey['survey_id']}/invitations"
    one = [{"contact_id": "c", "account_id": "a"}]
    error = assert_error(api.post(path, {"contacts": one, "mail": True}), 422)
    assert error["fields"] == {"mail": "unknown field"}
    assert_error(api.post(path, {}), 422)
    assert assert_error(api.post(path, {"contacts": one, "send": "yes"}), 422)["fields"] == {
        "send": "must be true or false"
    }
    assert (
        "send_at" in assert_error(api.post(path, {"contacts": one, "send_at": "2030-01-01T09:00:00Z"}), 422)["fields"]
    )
    bad_time = {"contacts": one, "send": True, "send_at": "next tuesday"}
    assert "send_at" in assert_error(api.post(path, bad_time), 422)["fields"]
    far = {"contacts": one, "send": True, "send_at": "2099-01-01T09:00:00Z"}
    assert "send_at" in assert_error(api.post(path, far), 422)["fields"]
    # Without a send queue (this test stack has none) the service cannot email: refused, nothing written.
    assert_error(api.post(path, {"contacts": one, "send": True}), 503, "sending_unavailable")
    assert Invitation.count() == 0


def test_too_many_contacts_in_one_call(api, survey):
    contacts = [{"contact_id": f"c{i}", "account_id": "a"} for i in range(501)]
    error = assert_error(api.post(f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": contacts}), 422)
    assert error["fields"] == {"contacts": "too many"}
    assert Contact.count() == 0


def test_a_closed_survey_invites_nobody(api, survey):
    api.patch(f"/v1/surveys/{survey['survey_id']}", {"status": "closed"})
    assert_error(
        api.post(
            f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": [{"contact_id": "c", "account_id": "a"}]}
        ),
        410,
        "survey_closed",
    )
    assert Contact.count() == 0 and Invitation.count() == 0


def test_a_failed_invitation_write_leaves_the_contact_invitable(api, survey):
    """The stamp on the contact and the invitation are one transaction: when the write that stores the
    invitation fails, the contact is not stamped either, so a retry invites them (it used to answer
    `throttled` for a contact who never got a link)."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    original = BaseClient._make_api_call
    invitations_table = Invitation.Meta.table_name

    def failing(self, operation, params):
        if (
            self.meta.service_model.service_name == "dynamodb"
            and invitations_table in repr(params)
            and (operation in ("PutItem", "TransactWriteItems", "BatchWriteItem"))
        ):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)
        return original(self, operation, params)

    body = {"contacts": [{"contact_id": "con-1", "account_id": "acc-1", "email": "ana@example.com"}]}
    BaseClient._make_api_call = failing
    try:
        failed = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", body)
    finally:
        BaseClient._make_api_call = original
    assert failed.status_code == 500 and "injected" not in failed.body.decode()
    assert Invitation.count() == 0
    stamped = [c for c in Contact.scan() if c.last_invited is not None]
    assert stamped == [], "no contact may be throttled by an invitation that was never stored"
    (result,) = api.post(f"/v1/surveys/{survey['survey_id']}/invitations", body).json["invitations"]
    assert "skipped" not in result and result["invitation_id"].startswith("inv_")
    contact = Contact.get("con-1")
    assert list(contact.invitation_ids) == [result["invitation_id"]] and contact.email == "ana@example.com"


def test_each_invitation_is_appended_to_the_contact(api, survey):
    other = api.post("/v1/surveys", {"name": "Other"}).json["survey_id"]
    first = invite(api, survey["survey_id"], "con-1")[0]["invitation_id"]
    second = invite(api, other, "con-1")[0]["invitation_id"]
    assert invite(api, other, "con-1")[0]["skipped"] == "throttled"
    assert list(Contact.get("con-1").invitation_ids) == [first, second]
    assert {i.invitation_id for i in Invitation.scan()} == {first, second}
