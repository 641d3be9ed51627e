from support import path_of


def test_link_capture_first_201_then_200(api, survey):
    r = api.post(f"/v1/surveys/{survey['survey_id']}/invitations",
                 {"contacts": [{"contact_id": "c1", "account_id": "a1", "email": "ann@example.com"}]})
    assert r.status_code == 201
    link = path_of(r.json["invitations"][0]["link"])
    assert api.post(link, {"score": 3}, token=None).status_code == 201
    assert api.post(link, {"score": 9, "comment": "better"}, token=None).status_code == 200
