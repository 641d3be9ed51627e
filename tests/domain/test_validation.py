"""Validation of everything that comes from outside: pure functions, no AWS."""

from __future__ import annotations

import pytest

from chalicelib.domain import account_fields, answers, nps, survey_definition, validation
from chalicelib.domain import invitations as invitation_rules
from chalicelib.domain.errors import Invalid

DRIVERS = ["price", "support", "product"]


def invalid_fields(fn, *args, **kwargs) -> dict:
    with pytest.raises(Invalid) as info:
        fn(*args, **kwargs)
    assert info.value.code == "invalid"
    return info.value.fields


# ---- surveys ---------------------------------------------------------------------------------------------


def test_minimal_survey_gets_the_defaults():
    out = survey_definition.survey({"name": "  Q1 relationship  "})
    assert out == {
        "name": "Q1 relationship",
        "kind": "relationship",
        "touchpoint": None,
        "question": survey_definition.DEFAULT_QUESTION,
        "drivers": [],
        "allowed_origins": [],
        "throttle_days": 90,
        "loop_rules": {"categories": ["detractor"], "sla_hours": 48, "fallback_owner": None},
        "themes": None,
        "status": "active",
        "language": None,
        "strings": None,
        "anonymous_answers": None,
    }


def test_full_survey_is_cleaned():
    out = survey_definition.survey(
        {
            "name": "Onboarding",
            "kind": "transactional",
            "touchpoint": "onboarding",
            "question": "How likely...?",
            "drivers": [" price ", "support", "price"],
            "allowed_origins": ["https://Shop.Example.com/", "https://shop.example.com:443", "http://localhost:3000"],
            "throttle_days": 0,
            "loop_rules": {"categories": ["detractor", "passive"], "sla_hours": 336, "fallback_owner": "cx@x.com"},
            "themes": {"Price": ["Expensive", "cost"]},
            "status": "closed",
        }
    )
    assert out["drivers"] == ["price", "support"]
    assert out["allowed_origins"] == ["https://shop.example.com", "http://localhost:3000"]
    assert out["throttle_days"] == 0
    assert out["loop_rules"] == {"categories": ["detractor", "passive"], "sla_hours": 336, "fallback_owner": "cx@x.com"}
    assert out["themes"] == {"Price": ["expensive", "cost"]}
    assert out["kind"] == "transactional" and out["status"] == "closed"


def test_survey_requires_a_name_and_an_object():
    assert invalid_fields(survey_definition.survey, {}) == {"name": "required"}
    assert "name" in invalid_fields(survey_definition.survey, {"name": "   "})
    assert "name" in invalid_fields(survey_definition.survey, {"name": "x" * 201})
    assert "name" in invalid_fields(survey_definition.survey, {"name": 5})
    for body in ([], "survey", None, 3):
        with pytest.raises(Invalid):
            survey_definition.survey(body)


def test_unknown_survey_fields_are_refused_not_ignored():
    fields = invalid_fields(survey_definition.survey, {"name": "x", "colour": "red", "identity_secret": "mine"})
    assert fields == {"colour": "unknown field", "identity_secret": "unknown field"}
    fields = invalid_fields(survey_definition.survey, {"name": "x", "loop_rules": {"sla_hours": 5, "owner": "me"}})
    assert fields == {"loop_rules.owner": "unknown field"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "nps"),
        ("kind", None),
        ("touchpoint", "x" * 101),
        ("touchpoint", ["a"]),
        ("question", ""),
        ("question", "q" * 501),
        ("drivers", "price"),
        ("drivers", ["ok", 3]),
        ("drivers", ["x"] * 21),
        ("drivers", [""]),
        ("drivers", ["d" * 101]),
        ("allowed_origins", ["shop.example.com"]),
        ("allowed_origins", ["https://shop.example.com/path"]),
        ("allowed_origins", ["https://shop.example.com?x=1"]),
        ("allowed_origins", ["https://user@shop.example.com"]),
        ("allowed_origins", ["ftp://shop.example.com"]),
        ("allowed_origins", ["https://shop.example.com:99999"]),
        ("allowed_origins", ["*"]),
        ("allowed_origins", ["null"]),
        ("allowed_origins", "https://shop.example.com"),
        ("throttle_days", -1),
        ("throttle_days", 3651),
        ("throttle_days", 1.5),
        ("throttle_days", "90"),
        ("throttle_days", True),
        ("loop_rules", "detractor"),
        ("loop_rules", {"categories": ["angry"]}),
        ("loop_rules", {"categories": "detractor"}),
        ("loop_rules", {"sla_hours": 0}),
        ("loop_rules", {"sla_hours": 14 * 24 + 1}),
        ("loop_rules", {"sla_hours": 24.5}),
        ("loop_rules", {"fallback_owner": 7}),
        ("themes", ["price"]),
        ("themes", {"price": []}),
        ("themes", {"price": "expensive"}),
        ("themes", {"": ["x"]}),
        ("status", "paused"),
    ],
)
def test_each_survey_field_refuses_bad_values(field, value):
    fields = invalid_fields(survey_definition.survey, {"name": "x", field: value})
    assert list(fields) and all(k.split(".")[0] == field for k in fields), fields


def test_sla_is_at_most_fourteen_days():
    assert survey_definition.survey({"name": "x", "loop_rules": {"sla_hours": 336}})["loop_rules"]["sla_hours"] == 336
    assert invalid_fields(survey_definition.survey, {"name": "x", "loop_rules": {"sla_hours": 337}}) == {
        "loop_rules.sla_hours": "must be an integer from 1 to 336"
    }


def test_one_error_names_every_bad_field():
    fields = invalid_fields(survey_definition.survey, {"name": "", "kind": "x", "throttle_days": -5, "extra": 1})
    assert set(fields) == {"name", "kind", "throttle_days", "extra"}


def test_partial_survey_only_touches_given_fields():
    assert survey_definition.survey({"throttle_days": 7}, partial=True) == {"throttle_days": 7}
    assert survey_definition.survey({"drivers": ["a"], "status": "closed"}, partial=True) == {
        "drivers": ["a"],
        "status": "closed",
    }
    assert invalid_fields(survey_definition.survey, {}, partial=True) == {"body": "nothing to change"}
    assert "kind" in invalid_fields(survey_definition.survey, {"kind": None}, partial=True)
    assert "name" in invalid_fields(survey_definition.survey, {"name": None}, partial=True)
    assert "colour" in invalid_fields(survey_definition.survey, {"colour": "red"}, partial=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://SHOP.Example.COM/", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://shop.example.com:80", "http://shop.example.com"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("  https://shop.example.com  ", "https://shop.example.com"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://[::1]:443", "https://[::1]"),
        ("shop.example.com", None),
        ("https://", None),
        ("https://shop.example.com/page", None),
        ("https://shop.example.com#x", None),
        ("https://a:b@shop.example.com", None),
        ("https://shop.example.com:notaport", None),
        ("javascript:alert(1)", None),
        ("null", None),
        ("", None),
        (None, None),
        (42, None),
        ("https://" + "a" * 300 + ".com", None),
        # One canonical spelling: upper-case schemes, padded ports, long IPv6 forms all fold to it.
        ("HTTPS://SHOP.EXAMPLE.COM", "https://shop.example.com"),
        ("https://shop.example.com:0443", "https://shop.example.com"),
        ("http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080"),
        ("https://shop.example.com:0", "https://shop.example.com:0"),
        # Not origins at all.
        ("https://shop.example.com?", None),
        ("https://shop.example.com/#", None),
        ("https://@shop.example.com", None),
        ("https://shop example.com", None),
        ("https://shop_example.com", None),
        ("https://shöp.example.com", None),
        ("https://-shop.example.com", None),
        ("https://[not-v6]", None),
    ],
)
def test_origin_normalisation(raw, expected):
    assert validation.origin(raw) == expected


def test_canonical_origins_are_fixed_points():
    for raw in ("HTTPS://Shop.Example.com:443/", "http://LOCALHOST:80", "http://[0::1]:9000"):
        once = validation.origin(raw)
        assert validation.origin(once) == once


# ---- survey page settings ---------------------------------------------------------------------------------


def test_language_strings_and_anonymous_policy_are_validated():
    out = survey_definition.survey(
        {
            "name": "x",
            "language": "pt-BR",
            "strings": {"send": " Enviar ", "score_saved": "Nota {score} salva."},
            "anonymous_answers": "excluded",
        }
    )
    assert out["language"] == "pt-BR" and out["anonymous_answers"] == "excluded"
    assert out["strings"] == {"send": "Enviar", "score_saved": "Nota {score} salva."}
    fields = invalid_fields(
        survey_definition.survey,
        {
            "name": "x",
            "language": "portuguese!",
            "anonymous_answers": "no",
            "strings": {
                "colour": "red",
                "send": "",
                "back": "x" * 301,
                "thanks": "Thanks {name}",
                "send_x": 1,
                "update": "Update {score}",
            },
        },
    )
    assert set(fields) == {
        "language",
        "anonymous_answers",
        "strings.colour",
        "strings.send",
        "strings.back",
        "strings.thanks",
        "strings.send_x",
        "strings.update",
    }
    assert "strings" in invalid_fields(survey_definition.survey, {"name": "x", "strings": ["send"]})
    assert survey_definition.survey({"language": None, "strings": None}, partial=True) == {
        "language": None,
        "strings": None,
    }


# ---- email link answers -----------------------------------------------------------------------------------


def test_link_answers_default_to_a_gesture():
    assert answers.link_answer({"score": 7}, DRIVERS) == {
        "score": 7,
        "signal": "gesture",
        "view": None,
        "submission": None,
    }
    out = answers.link_answer({"score": 7, "signal": "dwell", "view": "abcdef0123456789"}, DRIVERS)
    assert (out["signal"], out["view"]) == ("dwell", "abcdef0123456789")
    form = answers.link_answer({"score": "7", "submission": "sub_0123456789"}, DRIVERS, form=True)
    assert (form["score"], form["submission"], form["signal"]) == (7, "sub_0123456789", "gesture")


def test_a_form_carries_only_its_submission_id():
    fields = invalid_fields(
        answers.link_answer, {"score": "7", "signal": "dwell", "view": "abcdefgh"}, DRIVERS, form=True
    )
    assert set(fields) == {"signal", "view"}


# ---- answers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", range(11))
def test_every_score_from_0_to_10_is_accepted(score):
    out, errors = answers.answer({"score": score}, DRIVERS)
    assert errors.fields == {} and out == {"score": score}


@pytest.mark.parametrize(
    "score",
    [11, -1, 100, 7.5, 7.0, "7", " 7 ", "seven", "", True, False, None, [7], {"v": 7}, float("nan"), float("inf")],
)
def test_json_scores_must_be_integers_from_0_to_10(score):
    _, errors = answers.answer({"score": score}, DRIVERS)
    assert errors.fields == {"score": "required" if score is None else "must be an integer from 0 to 10"}


def test_score_is_required():
    _, errors = answers.answer({"comment": "hi"}, DRIVERS)
    assert errors.fields == {"score": "required"}


@pytest.mark.parametrize(("text", "expected"), [("7", 7), (" 10 ", 10), ("0", 0), ("07", 7)])
def test_form_scores_arrive_as_text(text, expected):
    out, errors = answers.answer({"score": text}, DRIVERS, form=True)
    assert errors.fields == {} and out["score"] == expected


@pytest.mark.parametrize("text", ["11", "-1", "7.5", "seven", "", "²", "\u0661", "1" * 5000, "0x7"])
def test_form_scores_that_are_not_0_to_10_are_refused(text):
    _, errors = answers.answer({"score": text}, DRIVERS, form=True)
    assert errors.fields == {"score": "must be an integer from 0 to 10"}


def test_score_value_keeps_text_for_imports():
    # CSV imports carry text too; the default (not strict) reads it.
    errors = validation.FieldErrors()
    assert answers.score_value(errors, {"score": "9"}) == 9 and errors.fields == {}
    assert answers.score_value(errors, {"score": "9"}, strict=True) is None and "score" in errors.fields


def test_comment_up_to_2000_characters():
    out, errors = answers.answer({"score": 5, "comment": "é" * 2000}, DRIVERS)
    assert errors.fields == {} and len(out["comment"]) == 2000
    _, errors = answers.answer({"score": 5, "comment": "x" * 2001}, DRIVERS)
    assert errors.fields == {"comment": "must have at most 2000 characters"}
    _, errors = answers.answer({"score": 5, "comment": 12}, DRIVERS)
    assert errors.fields == {"comment": "must be a string"}


def test_absent_comment_and_drivers_stay_absent_and_empty_ones_clear():
    out, _ = answers.answer({"score": 5}, DRIVERS)
    assert "comment" not in out and "drivers" not in out
    out, errors = answers.answer({"score": 5, "comment": "   ", "drivers": []}, DRIVERS)
    assert errors.fields == {} and out == {"score": 5, "comment": None, "drivers": []}
    out, _ = answers.answer({"score": 5, "comment": None, "drivers": None}, DRIVERS)
    assert out == {"score": 5, "comment": None, "drivers": []}


def test_drivers_must_be_among_the_surveys():
    out, errors = answers.answer({"score": 5, "drivers": ["price", "support", "price"]}, DRIVERS)
    assert errors.fields == {} and out["drivers"] == ["price", "support"]
    _, errors = answers.answer({"score": 5, "drivers": ["price", "weather"]}, DRIVERS)
    assert errors.fields == {"drivers": "not a driver of this survey: weather"}
    _, errors = answers.answer({"score": 5, "drivers": ["price"]}, [])
    assert "drivers" in errors.fields
    _, errors = answers.answer({"score": 5, "drivers": [1]}, DRIVERS)
    assert errors.fields == {"drivers": "must be a list of strings"}


def test_a_single_driver_is_a_list_in_json_but_may_be_text_in_a_form():
    _, errors = answers.answer({"score": 5, "drivers": "price"}, DRIVERS)
    assert errors.fields == {"drivers": "must be a list of strings"}
    out, errors = answers.answer({"score": 5, "drivers": "price"}, DRIVERS, form=True)
    assert errors.fields == {} and out["drivers"] == ["price"]


def test_unknown_answer_fields_are_refused():
    _, errors = answers.answer({"score": 5, "contact_id": "c1", "rating": 5}, DRIVERS)
    assert errors.fields == {"contact_id": "unknown field", "rating": "unknown field"}
    with pytest.raises(Invalid):
        answers.answer([5], DRIVERS)


def test_widget_answer_fields():
    out = answers.widget_answer(
        {"score": 9, "contact_id": "con-1", "account_id": "acc-1", "identity": "abc", "page": "/pricing"}, DRIVERS
    )
    assert out == {"score": 9, "contact_id": "con-1", "account_id": "acc-1", "identity": "abc", "page": "/pricing"}
    assert invalid_fields(answers.widget_answer, {"score": 9, "identity": "abc"}, DRIVERS) == {
        "identity": "needs contact_id"
    }
    assert "contact_id" in invalid_fields(answers.widget_answer, {"score": 9, "contact_id": "a b"}, DRIVERS)
    assert "page" in invalid_fields(answers.widget_answer, {"score": 9, "page": "p" * 2049}, DRIVERS)
    assert "score" in invalid_fields(answers.widget_answer, {"score": "9"}, DRIVERS)
    assert "user" in invalid_fields(answers.widget_answer, {"score": 9, "user": "x"}, DRIVERS)


def test_classification():
    assert [nps.classify(s) for s in range(11)] == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2


# ---- contacts, accounts, months --------------------------------------------------------------------------


def test_contact_validation_names_the_contact():
    ok = invitation_rules.contact({"contact_id": "c1", "account_id": "a1", "email": "ann@example.com"}, 0)
    assert ok == {"contact_id": "c1", "account_id": "a1", "email": "ann@example.com", "name": None, "attributes": {}}
    # No account_id is no error here: the directory may know the contact's account (the use case checks).
    fields = invalid_fields(invitation_rules.contact, {"contact_id": "c1", "email": "nope", "x": 1}, 3)
    assert fields == {
        "contacts[3].email": "is not an email address",
        "contacts[3].x": "unknown field",
    }
    assert invalid_fields(invitation_rules.contact, "c1", 2) == {"contacts[2]": "must be an object"}
    assert "contacts[0].attributes" in invalid_fields(
        invitation_rules.contact, {"contact_id": "c1", "account_id": "a1", "attributes": {"k": [1]}}, 0
    )
    assert "contacts[0].contact_id" in invalid_fields(
        invitation_rules.contact, {"contact_id": "has space", "account_id": "a1"}, 0
    )


def test_account_and_revenue():
    out = account_fields.account({"name": "Acme", "revenue": {"2026-01": 1200, "2026-02": 99.5}, "status": "churned"})
    assert out["revenue"] == {"2026-01": 1200.0, "2026-02": 99.5} and out["status"] == "churned"
    for bad in ({"2026-13": 1}, {"2026-01": -1}, {"2026-01": "1"}, {"2026-01": float("nan")}, [1], {"2026-01": True}):
        assert "revenue" in invalid_fields(account_fields.account, {"revenue": bad})
    assert "status" in invalid_fields(account_fields.account, {"status": "gone"})
    assert "account_id" in invalid_fields(account_fields.account, {"name": "x"}, allow_id=True)


@pytest.mark.parametrize(
    "value", ["2026-00", "2026-13", "26-01", "2026-1", "2026-01-01", "", None, 202601, "2026-01\n"]
)
def test_bad_months(value):
    assert invalid_fields(validation.month, value) == {"month": "must be YYYY-MM"}


def test_a_trailing_newline_is_never_part_of_a_valid_value():
    """`$` in a Python pattern also matches before a final newline: every anchored check must refuse one."""
    assert "contacts[0].contact_id" in invalid_fields(
        invitation_rules.contact, {"contact_id": "c1\n", "account_id": "a1"}, 0
    )
    assert "contacts[0].account_id" in invalid_fields(
        invitation_rules.contact, {"contact_id": "c1", "account_id": "a1\n"}, 0
    )
    assert "language" in invalid_fields(survey_definition.survey, {"name": "x", "language": "en\n"})
