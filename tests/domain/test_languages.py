"""Language tags, the fallback chain, writing direction and the built-in strings of the page, the email and the
widget in English, German, French and Spanish (issue 13 item 6)."""

from __future__ import annotations

import re

import pytest

from chalicelib.domain import email_text, languages, page_text, widget_text

TABLES = {"page": page_text.BUILT_IN, "email": email_text.BUILT_IN, "widget": widget_text.BUILT_IN}
EVERY_TEXT = [
    (table, tag, key, text)
    for table, built_in in TABLES.items()
    for tag, texts in built_in.items()
    for key, text in texts.items()
] + [("question", tag, "question", text) for tag, text in page_text.DEFAULT_QUESTIONS.items()]


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("pt-br", "pt-BR"),
        ("PT_BR", "pt-BR"),
        (" de ", "de"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("en-US-x-Twain", "en-US-x-twain"),
        ("", None),
        ("e", None),
        ("english", None),
        ("de--CH", None),
        ("de-", None),
        ("<script>", None),
        (None, None),
        (42, None),
    ],
)
def test_tags_are_normalized_or_refused(tag, expected):
    assert languages.normalize(tag) == expected


@pytest.mark.parametrize(
    ("requested", "default", "expected"),
    [
        ("pt-BR", "de", ("pt-BR", "pt", "de", "en")),
        ("pt-BR", None, ("pt-BR", "pt", "en")),
        (None, "fr-CA", ("fr-CA", "fr", "en")),
        (None, None, ("en",)),
        ("en-GB", "en", ("en-GB", "en")),
        ("DE-at", "de", ("de-AT", "de", "en")),
        ("zh-Hant-TW", "es", ("zh-Hant-TW", "zh-Hant", "zh", "es", "en")),
        ("not a tag", "es", ("es", "en")),
        (["fr-CH", "de"], "es", ("fr-CH", "fr", "de", "es", "en")),
        ("en-US-x-twain", None, ("en-US-x-twain", "en-US", "en")),
    ],
)
def test_the_chain_goes_from_the_requested_tag_through_the_survey_default_to_english(requested, default, expected):
    assert languages.chain(requested, default) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ar", "rtl"),
        ("ar-EG", "rtl"),
        ("he", "rtl"),
        ("fa-IR", "rtl"),
        ("ur", "rtl"),
        ("yi", "rtl"),
        ("ckb", "rtl"),
        ("az-Arab", "rtl"),
        ("pa-Arab-PK", "rtl"),
        ("ks-Deva", "ltr"),
        ("en", "ltr"),
        ("de-CH", "ltr"),
        ("pt-BR", "ltr"),
        ("zh-Hant", "ltr"),
        (None, "ltr"),
        ("bogus!", "ltr"),
    ],
)
def test_right_to_left_languages_and_scripts_report_rtl(tag, expected):
    assert languages.direction(tag) == expected


def test_accept_language_is_read_in_order_of_preference():
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5, xx-;q=0.9, es;q=0"
    assert languages.preferred(header) == ["fr-CH", "fr", "en", "de"]
    assert languages.preferred("de;q=0.5,pt-br") == ["pt-BR", "de"]
    assert languages.preferred(None) == []
    assert languages.chain(languages.preferred("pt-br,de;q=0.5"), "es") == ("pt-BR", "pt", "de", "es", "en")


def test_overrides_read_both_shapes_and_the_flat_one_is_in_the_default_language():
    assert languages.overrides({"send": "Absenden"}, "de") == {"de": {"send": "Absenden"}}
    assert languages.overrides({"send": "Go"}, None) == {"en": {"send": "Go"}}
    mixed = {"send": "Absenden", "DE": {"back": "Zurück"}, "fr-ca": {"send": " Soumettre "}, "es": {"send": ""}}
    assert languages.overrides(mixed, "de") == {
        "de": {"send": "Absenden", "back": "Zurück"},
        "fr-CA": {"send": "Soumettre"},
    }
    assert languages.overrides(None, "de") == {}


def test_resolve_takes_each_key_from_the_first_language_that_has_it():
    built_in = {"en": {"a": "A", "b": "B", "c": "C"}, "de": {"a": "A-de"}}
    custom = {"pt": {"b": "B-pt"}, "en": {"c": "C-own"}}
    chain = languages.chain("pt-BR", "de")
    assert languages.resolve(built_in, custom, chain, ["a", "b", "c", "z"]) == {"a": "A-de", "b": "B-pt", "c": "C-own"}
    assert languages.pick(chain, ["de", "fr"]) == "de"
    assert languages.pick(chain, ["PT"]) == "pt"
    assert languages.pick(chain, ["ja"]) == "en"


@pytest.mark.parametrize("table", TABLES)
def test_every_language_has_every_key(table):
    built_in = TABLES[table]
    assert set(built_in) == set(languages.BUILT_IN)
    for tag, texts in built_in.items():
        assert set(texts) == set(built_in["en"]), (table, tag)
        assert all(text.strip() == text and text for text in texts.values()), (table, tag)
    assert set(page_text.DEFAULT_QUESTIONS) == set(languages.BUILT_IN)


@pytest.mark.parametrize("table", TABLES)
def test_every_translation_keeps_the_placeholders_of_the_english(table):
    built_in = TABLES[table]
    for key, english in built_in["en"].items():
        for tag, texts in built_in.items():
            assert placeholders(texts[key]) == placeholders(english), (table, tag, key)
    assert {k for k, t in page_text.DEFAULTS.items() if placeholders(t)} == page_text.WITH_SCORE
    assert email_text.PLACEHOLDERS["greeting_named"] == {"name"}
    assert email_text.PLACEHOLDERS["score_label"] == {"score"}


def test_the_page_the_email_and_the_widget_share_one_namespace_of_keys():
    """One Survey.strings[language] object serves all three: a key means the same thing wherever it is used."""
    page, email, widget = set(page_text.DEFAULTS), set(email_text.KEYS), set(widget_text.KEYS)
    assert not page & email and not page & widget and not email & widget
    assert page_text.QUESTION_KEY not in page | email | widget
    assert set(email_text.FROM_PAGE) <= page
    assert set(widget_text.WIDGET_NAMES.values()) <= page | widget


@pytest.mark.parametrize(("table", "tag", "key", "text"), EVERY_TEXT)
def test_typography(table, tag, key, text):
    assert len(text) <= page_text.MAX_LENGTH
    assert "'" not in text and '"' not in text, "typographic apostrophes and quotes only"
    assert "  " not in text
    if tag == "fr":
        # A no-break space before ? ! : ; (and never a plain space or none).
        for mark in re.finditer(r"[?!:;]", text):
            assert text[mark.start() - 1] in "\u00a0\u202f", (key, text)
    else:
        assert "\u00a0" not in text and not re.search(r" [?!:;]", text), (key, text)
    if tag == "es":
        assert text.count("¿") == text.count("?") and text.count("¡") == text.count("!"), (key, text)
    if tag == "de":
        assert text.count("„") == text.count("“") and "”" not in text, "German quotes are „…“"
    english = page_text.DEFAULT_QUESTIONS["en"] if table == "question" else TABLES[table]["en"][key]
    if tag != "en" and key != "widget_label":  # "Feedback" is German too
        assert text != english, "translated"


def test_the_polite_register():
    german = " ".join([*page_text.GERMAN.values(), *email_text.GERMAN.values(), *widget_text.GERMAN.values()])
    french = " ".join([*page_text.FRENCH.values(), *email_text.FRENCH.values(), *widget_text.FRENCH.values()])
    spanish = " ".join([*page_text.SPANISH.values(), *email_text.SPANISH.values(), *widget_text.SPANISH.values()])
    assert "Sie" in german and not re.search(r"\b(du|dich|dir|dein\w*)\b", german, re.IGNORECASE)
    assert "vous" in french and not re.search(r"\b(tu|toi|ton|ta|tes)\b", french)
    assert "su " in spanish and not re.search(r"\b(tú|tu|tus|te|puedes|quieres)\b", spanish)
