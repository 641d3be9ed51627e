"""The survey page's words for one person (issue 13 item 6): the survey's own strings per language win over the
built-in ones, the language falls back along the chain, the single-language strings of before work unchanged,
and a page never mixes a frame in one language with a question in another."""

from __future__ import annotations

from chalicelib.domain import email_text, languages, page_text, survey_definition, validation, widget_text

CUSTOM_QUESTION = "Wie wahrscheinlich ist es, dass Sie Acme einem Kollegen empfehlen?"


def test_without_a_language_it_is_the_english_defaults_with_the_survey_strings_over_them_as_before():
    assert page_text.page_strings(None) == page_text.DEFAULTS
    assert page_text.page_strings({}) == page_text.DEFAULTS
    custom = {"send": "Absenden", "back": "Zurück", "colour": "red", "update": ""}
    assert page_text.page_strings(custom) == {**page_text.DEFAULTS, "send": "Absenden", "back": "Zurück"}


def test_the_flat_strings_of_before_are_in_the_survey_default_language():
    custom = {"send": "Absenden"}
    german = page_text.page_strings(custom, default_language="de")
    assert german == {**page_text.GERMAN, "send": "Absenden"}
    # A French reader of the same survey reads French: the German override is German.
    assert page_text.page_strings(custom, "fr", default_language="de") == page_text.FRENCH


def test_a_survey_strings_per_language_win_over_the_built_in_ones():
    custom = {"de": {"send": "Abschicken"}, "fr": {"thanks_heading": "Merci beaucoup\u00a0!"}, "pt": {"send": "Enviar"}}
    assert page_text.page_strings(custom, "de-AT")["send"] == "Abschicken"
    assert page_text.page_strings(custom, "de-AT")["back"] == page_text.GERMAN["back"]
    assert page_text.page_strings(custom, "fr")["thanks_heading"] == "Merci beaucoup\u00a0!"
    # pt-BR → pt (the survey's own) → the default language (German) for the rest.
    portuguese = page_text.page_strings(custom, "pt-BR", default_language="de")
    assert portuguese["send"] == "Enviar" and portuguese["back"] == page_text.GERMAN["back"]
    assert page_text.page_strings(custom, "ja", default_language="es") == page_text.SPANISH
    assert page_text.page_strings(custom, "ja") == page_text.DEFAULTS


def test_the_built_in_question_is_read_in_every_built_in_language():
    text = page_text.page_text(page_text.DEFAULT_QUESTIONS["en"], None, "es-MX")
    assert (text.language, text.direction) == ("es", "ltr")
    assert text.question == page_text.DEFAULT_QUESTIONS["es"]
    assert text.strings == page_text.SPANISH
    # The survey's language is German but its question the (English) default: the question is German too.
    assert page_text.page_text(page_text.DEFAULT_QUESTIONS["en"], None, None, "de").question.startswith("Wie")


def test_a_survey_with_its_own_question_speaks_only_the_languages_it_has_the_question_in():
    custom = {"send": "Absenden", "fr": {"question": "Recommanderiez-vous Acme\u00a0?"}}
    assert page_text.offered(CUSTOM_QUESTION, custom, "de") == ["de", "fr"]
    # Spanish is asked for, the question exists only in German and French: German, not a Spanish frame.
    spanish_reader = page_text.page_text(CUSTOM_QUESTION, custom, "es", "de")
    assert spanish_reader.language == "de" and spanish_reader.question == CUSTOM_QUESTION
    assert spanish_reader.strings == {**page_text.GERMAN, "send": "Absenden"}
    french_reader = page_text.page_text(CUSTOM_QUESTION, custom, ["fr-BE", "de"], "de")
    assert french_reader.language == "fr" and french_reader.question == "Recommanderiez-vous Acme\u00a0?"
    assert french_reader.strings == page_text.FRENCH


def test_a_language_the_service_does_not_ship_falls_back_key_by_key():
    custom = {"pt": {"question": "Recomendaria a Acme?", "send": "Enviar", "back": "Voltar"}}
    text = page_text.page_text(CUSTOM_QUESTION, custom, "pt-BR", "de")
    assert text.language == "pt" and text.question == "Recomendaria a Acme?"
    assert text.strings["send"] == "Enviar" and text.strings["thanks"] == page_text.GERMAN["thanks"]


def test_right_to_left_languages_report_rtl():
    custom = {"ar": {"question": "ما مدى احتمال أن توصي بنا لصديق أو زميل؟", "send": "إرسال"}}
    text = page_text.page_text(page_text.DEFAULT_QUESTIONS["en"], custom, "ar-EG")
    assert (text.language, text.direction) == ("ar", "rtl")
    assert text.strings["send"] == "إرسال" and text.strings["back"] == page_text.DEFAULTS["back"]
    assert page_text.page_text(None, None, "he").direction == "ltr", "no Hebrew question: English, left to right"


def test_the_email_and_the_widget_choose_as_the_page_does():
    custom = {"de": {"subject": "Kurze Frage von Acme", "scale_low": "Gar nicht"}, "fr": {"question": "Et Acme\u00a0?"}}
    email = email_text.email_text(CUSTOM_QUESTION, custom, "de-CH", "de")
    assert (email.language, email.question) == ("de", CUSTOM_QUESTION)
    assert email.strings["subject"] == "Kurze Frage von Acme" and email.strings["scale_low"] == "Gar nicht"
    assert email.strings["intro"] == email_text.GERMAN["intro"]
    assert email.strings["scale_high"] == page_text.GERMAN["scale_high"]
    assert email_text.email_text(CUSTOM_QUESTION, custom, "es", "de").language == "de"
    french = email_text.email_text(CUSTOM_QUESTION, custom, "fr", "de")
    assert french.strings == {
        **email_text.FRENCH,
        "scale_low": page_text.FRENCH["scale_low"],
        "scale_high": page_text.FRENCH["scale_high"],
    }
    widget = widget_text.widget_strings(None, {"es": {"send": "Mandar"}}, "es-AR")
    assert widget["lang"] == "es" and widget["dir"] == "ltr" and widget["send"] == "Mandar"
    assert widget["question"] == page_text.DEFAULT_QUESTIONS["es"] and widget["close"] == "Cerrar"
    assert set(widget) == {*widget_text.WIDGET_NAMES, "question", "lang", "dir"}


def test_every_built_in_text_is_one_a_survey_could_give_itself():
    """The validation's placeholder rules (survey_definition.STRING_PLACEHOLDERS) fit every built-in text: each
    table of each built-in language passes as a survey's own strings for that language, and stays as it is."""
    tables = (page_text.BUILT_IN, email_text.BUILT_IN, widget_text.BUILT_IN)
    for tag in languages.BUILT_IN:
        own = {key: text for table in tables for key, text in table[tag].items()}
        own["question"] = page_text.DEFAULT_QUESTIONS[tag]
        assert set(own) == set(survey_definition.LANGUAGE_STRING_KEYS), tag
        errors = validation.FieldErrors()
        assert survey_definition.page_strings(errors, {tag: own}) == {tag: own}
        assert errors.fields == {}, (tag, errors.fields)
    # {score} in the texts that name the score, {name} in the named greeting, nothing elsewhere.
    holders = {key: names for key, names in survey_definition.STRING_PLACEHOLDERS.items() if names}
    assert holders == {
        **dict.fromkeys(page_text.WITH_SCORE, frozenset({"score"})),
        "score_label": frozenset({"score"}),
        "greeting_named": frozenset({"name"}),
    }


def test_the_flat_shape_stays_the_pages_and_mixes_with_languages():
    errors = validation.FieldErrors()
    mixed = {"send": "Abschicken", "DE-at": {"send": "Senden", "widget_label": "Meinung"}}
    assert survey_definition.page_strings(errors, mixed) == {
        "send": "Abschicken",
        "de-AT": {"send": "Senden", "widget_label": "Meinung"},
    }
    assert errors.fields == {}
    # Read back: the flat string is the survey's language (German), the object wins within its language.
    stored = survey_definition.page_strings(errors, mixed)
    assert languages.overrides(stored, "de") == {"de": {"send": "Abschicken"}, "de-AT": mixed["DE-at"]}
    assert page_text.page_strings(stored, "de-AT", default_language="de")["send"] == "Senden"
    assert page_text.page_strings(stored, "de", default_language="de")["send"] == "Abschicken"
    assert widget_text.widget_strings(None, stored, "de-AT", "de")["label"] == "Meinung"
    # A regional form with strings of its own is spoken, with its language's question (here the survey's own).
    austrian = page_text.page_text(CUSTOM_QUESTION, stored, "de-AT", "de")
    assert (austrian.language, austrian.question, austrian.strings["send"]) == ("de-AT", CUSTOM_QUESTION, "Senden")
    assert page_text.page_text(CUSTOM_QUESTION, stored, "de-CH", "de").language == "de"
