"""Every string of the survey page, the email and the widget, set per survey and language (Survey.strings):
what the API takes and refuses, the page and the email speaking a survey's own German, and the widget's words
(`GET /v1/surveys/{survey_id}/widget-strings`) with their CORS handling and the language chain."""

from __future__ import annotations

import email
import email.policy
import json
import os

import boto3
import pytest
from jsonschema import Draft202012Validator
from support import path_of
from support_ddb import all_tables, assert_error, invite

from chalicelib import config
from chalicelib.api.openapi import assembler
from chalicelib.domain import clock, email_text, page_text, sending, widget_text
from chalicelib.store import models
from chalicelib.store.mail import SesMailer
from chalicelib.usecases import send_email

SHOP = "https://shop.example.com"
QUESTION = "How likely are you to recommend Acme to a colleague?"
GERMAN_QUESTION = "Wie wahrscheinlich ist es, dass Sie Acme einem Kollegen empfehlen?"
# One language's object may set the page's, the email's and the widget's strings, and the question.
GERMAN = {
    "question": GERMAN_QUESTION,
    "comment_label": "Was sollen wir bei Acme besser machen?",
    "send": "Abschicken",
    "score_saved": "Ihre {score} ist gespeichert.",
    "subject": "Acme fragt: Würden Sie uns empfehlen?",
    "intro": "Acme möchte wissen, wie zufrieden Sie sind. Ein Klick genügt.",
    "greeting_named": "Hallo {name},",
    "score_label": "{score} von 10 Punkten",
    "widget_label": "Ihre Meinung zu Acme",
    "widget_close": "Zumachen",
}


def create(api, **fields):
    return api.post("/v1/surveys", {"name": "Strings", "question": QUESTION, "allowed_origins": [SHOP], **fields})


def created(api, **fields) -> dict:
    r = create(api, **fields)
    assert r.status_code == 201, r.body
    return r.json


def refused_fields(api, strings) -> dict:
    """The fields a create with these strings is refused for (422), having written nothing."""
    before = all_tables()
    error = assert_error(create(api, strings=strings), 422, "invalid")
    assert all_tables() == before
    return error["fields"]


# ---- what the API takes ------------------------------------------------------------------------------------


def test_flat_strings_are_the_page_strings_of_the_surveys_own_language_as_before(api):
    survey = created(api, language="de", strings={"send": " Abschicken ", "thanks_recorded": "Ihre {score}, danke."})
    assert survey["strings"] == {"send": "Abschicken", "thanks_recorded": "Ihre {score}, danke."}
    assert api.get(f"/v1/surveys/{survey['survey_id']}").json["strings"] == survey["strings"]


def test_per_language_strings_take_page_email_and_widget_keys_and_tags_are_stored_normalized(api):
    strings = {"send": "Go", "de": GERMAN, "pt_br": {"widget_more": "Quer acrescentar algo?"}, "HE": {"send": "שלח"}}
    survey = created(api, strings=strings)
    assert survey["strings"] == {"send": "Go", "de": GERMAN, "pt-BR": strings["pt_br"], "he": {"send": "שלח"}}
    # A PATCH replaces the whole set; null removes it.
    path = f"/v1/surveys/{survey['survey_id']}"
    assert api.patch(path, {"strings": {"fr": {"sign_off": "Merci\u00a0!"}}}).json["strings"] == {
        "fr": {"sign_off": "Merci\u00a0!"}
    }
    assert api.patch(path, {"strings": None}).json["strings"] is None
    # Every key of the three tables is taken in a language's object.
    every = {**page_text.DEFAULTS, **email_text.ENGLISH, **widget_text.ENGLISH, "question": QUESTION}
    assert created(api, strings={"en-GB": every})["strings"] == {"en-GB": every}


def test_placeholders_fit_only_where_the_key_takes_them(api):
    fields = refused_fields(
        api,
        {
            "update": "Update {score}",
            "de": {
                "subject": "Hallo {name}",
                "greeting_named": "Hallo {score}",
                "score_label": "Punkte",
                "widget_label": "Ihre {score}",
                "intro": "Ein Klick {genügt}",
                "sign_off": "Danke {",
            },
        },
    )
    assert fields == {
        "strings.update": "{score} fits only score_chosen, score_label, score_recorded, score_saved, thanks_recorded",
        "strings.de.subject": "{name} fits only greeting_named",
        "strings.de.greeting_named": (
            "{score} fits only score_chosen, score_label, score_recorded, score_saved, thanks_recorded"
        ),
        "strings.de.score_label": "must contain {score}",
        "strings.de.widget_label": (
            "{score} fits only score_chosen, score_label, score_recorded, score_saved, thanks_recorded"
        ),
        "strings.de.intro": "{genügt} is not a placeholder; it takes no placeholder",
        "strings.de.sign_off": "braces may only write a placeholder; it takes no placeholder",
    }


def test_unknown_keys_are_refused_with_the_known_ones(api):
    fields = refused_fields(api, {"colour": "red", "subject": "Hi", "de": {"colour": "rot", "send": "Senden"}})
    assert fields["strings.colour"].startswith("unknown string; the known ones are back, change_answer,")
    assert "subject" not in fields["strings.colour"]  # the flat shape is the page's
    assert fields["strings.subject"].startswith('set it per language, as in {"de": {"subject": "..."}}')
    known = fields["strings.de.colour"].removeprefix("unknown string; the known ones are ").split(", ")
    assert set(known) == {*page_text.DEFAULTS, *email_text.KEYS, *widget_text.KEYS, "question"}
    assert set(fields) == {"strings.colour", "strings.subject", "strings.de.colour"}


def test_tags_must_be_language_tags_once_each_and_at_most_thirty(api):
    fields = refused_fields(
        api, {"deutsch!": {"send": "Senden"}, "de": "Senden", "fr": {"send": "Envoyer"}, "FR": {"send": "Envoyer"}}
    )
    assert fields == {
        "strings.deutsch!": "unknown string; the known ones are "
        + ", ".join(sorted(page_text.DEFAULTS))
        + "; or a language tag such as de or pt-BR",
        "strings.de": "a language takes an object of string names to texts",
        "strings.FR": "the same language as fr",
    }
    assert refused_fields(api, {"de": {}}) == {"strings.de": "must set at least one string (or leave the language out)"}
    tags = [f"x{a}{b}" for a in "abcdef" for b in "abcdef"][:31]
    assert refused_fields(api, {tag: {"send": "Go"} for tag in tags}) == {"strings": "at most 30 languages"}
    assert created(api, strings={tag: {"send": "Go"} for tag in tags[:30]})["strings"]["xaa"] == {"send": "Go"}
    assert refused_fields(api, ["send"]) == {
        "strings": "must be an object of string names to texts, or of language tags to such objects"
    }


def test_each_text_has_one_to_max_length_characters_and_a_question_up_to_500(api):
    fields = refused_fields(
        api,
        {
            "back": "x" * 301,
            "de": {"intro": "x" * 301, "send": "  ", "widget_close": 3, "question": "Q" * 501},
        },
    )
    assert fields == {
        "strings.back": "must have at most 300 characters",
        "strings.de.intro": "must have at most 300 characters",
        "strings.de.send": "must be a non-empty string",
        "strings.de.widget_close": "must be a non-empty string",
        "strings.de.question": "must have at most 500 characters",
    }
    longest = {"intro": "x" * 300, "question": "Q" * 500}
    assert created(api, strings={"back": "y" * 300, "de": longest})["strings"]["de"] == longest


def test_a_refused_patch_leaves_the_survey_as_it_was(api):
    survey = created(api, strings={"de": {"send": "Senden"}})
    before = all_tables()
    error = assert_error(
        api.patch(f"/v1/surveys/{survey['survey_id']}", {"strings": {"de": {"subject": "{score}"}}}), 422, "invalid"
    )
    assert set(error["fields"]) == {"strings.de.subject"}
    assert all_tables() == before


# ---- the page and the email speak the survey's own German --------------------------------------------------


def test_the_page_speaks_the_surveys_own_german_when_asked_for_it(api):
    survey = created(api, strings={"de": GERMAN})
    link = path_of(invite(api, survey["survey_id"], "c-page")[0]["link"])
    german = api.get(f"{link}?lang=de", token=None).body.decode()
    assert '<html lang="de">' in german
    for text in (GERMAN_QUESTION, "Was sollen wir bei Acme besser machen?", "Abschicken"):
        assert text in german, text
    assert page_text.GERMAN["scale_low"] in german  # the rest is the built-in German
    english = api.get(link, token=None).body.decode()
    assert '<html lang="en">' in english and QUESTION in english and "Abschicken" not in english


@pytest.fixture
def mail(aws):
    boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity="nps.example")
    os.environ["MAIL_FROM"] = "Acme surveys <surveys@nps.example>"
    # Read here, not inside a request: the test client runs requests with the stage's environment.
    config.reset()
    config.settings()
    models.bind()
    yield
    os.environ.pop("MAIL_FROM", None)
    config.reset()


def sent_messages() -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_the_email_speaks_the_surveys_own_german_to_a_german_contact(api, mail):
    survey = created(api, strings={"de": GERMAN})
    contact = {"account_id": "acct-1", "email": "jana@example.com", "name": "Jana", "language": "de-AT"}
    assert api.put("/v1/contacts/c-de", contact).status_code == 201
    [invitation] = invite(api, survey["survey_id"], {"contact_id": "c-de", "account_id": "acct-1"})
    settings = config.settings()
    outcome = send_email.send(
        invitation["invitation_id"],
        sending.FIRST,
        clock.utcnow(),
        mailer=SesMailer(settings.region),
        settings=settings,
        last_try=True,
    )
    assert outcome.result == "sent", outcome
    [raw] = sent_messages()
    message = email.message_from_string(raw.raw_data, policy=email.policy.default)
    assert message["Subject"] == "Acme fragt: Würden Sie uns empfehlen?"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "Acme möchte wissen, wie zufrieden Sie sind. Ein Klick genügt." in part
        assert "Hallo Jana," in part and GERMAN_QUESTION in part
    assert "7 von 10 Punkten" in html and 'lang="de"' in html
    assert email_text.GERMAN["sign_off"] in text  # the rest is the built-in German


# ---- the widget's words ------------------------------------------------------------------------------------


def widget_words(api, survey_id: str, query: str = "", **headers):
    return api.get(f"/v1/surveys/{survey_id}/widget-strings{query}", token=None, headers=headers)


def check_documented(response, method: str = "GET") -> None:
    """The answer is one the OpenAPI document describes: its status, and its body against the schema."""
    doc = assembler.document()
    answers = doc["paths"]["/v1/surveys/{survey_id}/widget-strings"][method.lower()]["responses"]
    assert str(response.status_code) in answers, response.status_code
    schema = {**answers[str(response.status_code)]["content"]["application/json"]["schema"], **doc}
    errors = list(Draft202012Validator(schema).iter_errors(json.loads(response.body)))
    assert not errors, errors


def test_the_widget_gets_its_surveys_words_with_cors_for_an_allowed_origin(api):
    survey = created(api, strings={"de": GERMAN})
    r = widget_words(api, survey["survey_id"], "?lang=de", Origin="HTTPS://Shop.Example.com:443")
    assert r.status_code == 200, r.body
    check_documented(r)
    assert r.headers["Access-Control-Allow-Origin"] == SHOP
    assert r.headers["Cache-Control"] == "public, max-age=300"
    assert r.headers["Vary"] == "Origin, Accept-Language"
    assert r.json == {
        **widget_text.widget_strings(None, None, "de"),
        "question": GERMAN_QUESTION,
        "label": "Ihre Meinung zu Acme",
        "close": "Zumachen",
        "send": "Abschicken",  # the page's Send is the widget's too
    }
    assert (r.json["lang"], r.json["dir"]) == ("de", "ltr")
    preflight = api.call("OPTIONS", f"/v1/surveys/{survey['survey_id']}/widget-strings", headers={"Origin": SHOP})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    check_documented(preflight, "OPTIONS")
    # From a server (no Origin): the same words, no CORS headers.
    plain = widget_words(api, survey["survey_id"], "?lang=de")
    assert plain.json == r.json and "Access-Control-Allow-Origin" not in plain.headers


def test_another_origin_is_refused_and_an_unknown_survey_is_404(api):
    survey = created(api)
    for method in ("GET", "OPTIONS"):
        r = api.call(
            method, f"/v1/surveys/{survey['survey_id']}/widget-strings", headers={"Origin": "https://evil.example"}
        )
        assert_error(r, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in r.headers
        check_documented(r, method)
    missing = widget_words(api, "srv_nobody", Origin=SHOP)
    assert_error(missing, 404, "survey_not_found")
    check_documented(missing)
    unknown = widget_words(api, survey["survey_id"], "?lang=de&colour=red", Origin=SHOP)
    assert assert_error(unknown, 422, "invalid")["fields"] == {"colour": "unknown parameter"}
    assert unknown.headers["Access-Control-Allow-Origin"] == SHOP  # the widget may read why
    check_documented(unknown)


def test_the_language_runs_from_pt_br_to_pt_to_the_surveys_own_language(api):
    strings = {
        "pt-BR": {"question": "Pergunta do Brasil?", "widget_close": "Fechar"},
        "pt": {"question": "Pergunta?", "widget_label": "Opinião", "widget_more": "Quer acrescentar algo?"},
    }
    survey_id = created(api, language="de", strings=strings)["survey_id"]
    brazil = widget_words(api, survey_id, "?lang=pt-br", Origin=SHOP).json
    assert (brazil["lang"], brazil["question"], brazil["close"]) == ("pt-BR", "Pergunta do Brasil?", "Fechar")
    assert (brazil["label"], brazil["more"]) == ("Opinião", "Quer acrescentar algo?")  # pt-BR → pt
    assert brazil["low"] == page_text.GERMAN["scale_low"]  # → the survey's German
    portugal = widget_words(api, survey_id, "?lang=pt-PT", Origin=SHOP).json
    assert (portugal["lang"], portugal["question"], portugal["close"]) == ("pt", "Pergunta?", "Schließen")
    # A language the survey does not speak: its own language, German, with its built-in question.
    japanese = widget_words(api, survey_id, "?lang=ja", Origin=SHOP).json
    assert japanese == {**widget_text.widget_strings(None, None, "de"), "question": QUESTION}
    # Without lang (or with one that is no tag): the browser's Accept-Language.
    browser = widget_words(api, survey_id, "?lang=%3F%3F", **{"Accept-Language": "ja, pt-BR;q=0.8", "Origin": SHOP})
    assert browser.json == brazil
    assert widget_words(api, survey_id, Origin=SHOP).json == japanese


def test_right_to_left_languages_answer_rtl(api):
    strings = {
        "he": {"question": "מה הסיכוי שתמליצו עלינו?", "widget_label": "משוב"},
        "ar": {"question": "ما مدى احتمال أن توصي بنا؟", "widget_label": "رأيك"},
    }
    survey_id = created(api, strings=strings)["survey_id"]
    hebrew = widget_words(api, survey_id, "?lang=he-IL", Origin=SHOP).json
    assert (hebrew["lang"], hebrew["dir"], hebrew["label"]) == ("he", "rtl", "משוב")
    arabic = widget_words(api, survey_id, Origin=SHOP, **{"Accept-Language": "ar-EG"}).json
    assert (arabic["lang"], arabic["dir"], arabic["question"]) == ("ar", "rtl", strings["ar"]["question"])
    assert widget_words(api, survey_id, "?lang=en", Origin=SHOP).json["dir"] == "ltr"
