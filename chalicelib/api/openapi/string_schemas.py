"""The schema of a survey's own strings (domain/survey_definition.py `page_strings`), for the document."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import ecma, object_schema, string
from chalicelib.domain import languages, page_text, survey_definition


def string_text_schema(key: str) -> dict:
    """One of a survey's own texts: its length, and braces only in the placeholders `key` takes (and must)."""
    allowed = sorted(survey_definition.STRING_PLACEHOLDERS[key])
    required = sorted(survey_definition.REQUIRED_PLACEHOLDERS.get(key, ()))
    assert len(required) <= 1
    piece = "(?:" + "|".join(["[^{}]", *(rf"\{{{name}\}}" for name in allowed)]) + ")*" if allowed else "[^{}]*"
    pattern = f"^{piece}" + (rf"\{{{required[0]}\}}{piece}" if required else "") + "$"
    placeholders = ", ".join(f"{{{name}}}" for name in allowed) or "none"
    return string(
        survey_definition.string_max_length(key),
        1,
        pattern=pattern,
        description=f"Placeholders: {placeholders}" + (f" ({{{required[0]}}} required)." if required else "."),
    )


def survey_strings_schema() -> dict:
    """A survey's own strings (domain/survey_definition.py `page_strings`): the page's by name, in the survey's
    own language, and per language tag any string of the page, the email and the widget."""
    per_language = object_schema(
        {key: string_text_schema(key) for key in sorted(survey_definition.LANGUAGE_STRING_KEYS)},
        minProperties=1,
        description="One language's own strings: the page's, the email's, the widget's, and the question.",
    )
    return object_schema(
        {key: string_text_schema(key) for key in sorted(survey_definition.FLAT_STRING_KEYS)},
        patternProperties={ecma(languages.TAG_RE): per_language},
        maxProperties=len(survey_definition.FLAT_STRING_KEYS) + survey_definition.STRINGS_MAX_LANGUAGES,
        description="The survey's own words over the built-in ones. A page string's name maps to its text in the "
        "survey's `language`; a language tag (`de`, `pt-BR`, stored normalized; at most "
        f"{survey_definition.STRINGS_MAX_LANGUAGES}) maps to that language's strings. Each text is 1-"
        f"{page_text.MAX_LENGTH} characters (a question 1-{page_text.QUESTION_MAX_LENGTH}); `{{score}}` fits only "
        + ", ".join(sorted(k for k, p in survey_definition.STRING_PLACEHOLDERS.items() if "score" in p))
        + ", `{name}` only greeting_named.",
    )
