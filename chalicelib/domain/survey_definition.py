"""A survey's definition as the API takes it (create, or a PATCH of some fields): its kind, question,
drivers, allowed origins, throttle, close-the-loop rules, themes, language, page strings and the policy for
anonymous answers. Unknown fields are refused, never ignored."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain import email_text, languages, page_text, send_window, waves, widget_text
from chalicelib.domain.loop import DEFAULT_SLA_HOURS, MAX_SLA_HOURS
from chalicelib.domain.nps import CATEGORIES
from chalicelib.domain.validation import (
    LANGUAGE_RE,
    FieldErrors,
    integer,
    json_object,
    origin,
    require_object,
    string_list,
    text,
)

SURVEY_KINDS = ("relationship", "transactional")
DEFAULT_QUESTION = "How likely are you to recommend us to a friend or colleague?"
ANONYMOUS_ANSWERS = ("counted", "excluded", "refused")

SURVEY_FIELDS = {
    "name",
    "kind",
    "touchpoint",
    "question",
    "drivers",
    "allowed_origins",
    "throttle_days",
    "loop_rules",
    "themes",
    "status",
    "language",
    "strings",
    "anonymous_answers",
    "send_window",
    "reminders",
    "schedule",
}
LOOP_RULE_FIELDS = {"categories", "sla_hours", "fallback_owner"}


def loop_rules(errors: FieldErrors, value: object) -> dict[str, Any]:
    rules: dict[str, Any] = {"categories": ["detractor"], "sla_hours": DEFAULT_SLA_HOURS, "fallback_owner": None}
    if value is None:
        return rules
    if not isinstance(value, dict):
        errors.add("loop_rules", "must be an object")
        return rules
    for key in value:
        if key not in LOOP_RULE_FIELDS:
            errors.add(f"loop_rules.{key}", "unknown field")
    sub = FieldErrors()
    cats = string_list(sub, value, "categories", max_items=3, max_len=20, default=rules["categories"])
    if any(c not in CATEGORIES for c in cats):
        sub.add("categories", "each must be one of promoter, passive, detractor")
    rules["categories"] = cats
    rules["sla_hours"] = integer(sub, value, "sla_hours", lo=1, hi=MAX_SLA_HOURS, default=DEFAULT_SLA_HOURS)
    rules["fallback_owner"] = text(sub, value, "fallback_owner", max_len=200, default=None)
    for key, msg in sub.fields.items():
        errors.add(f"loop_rules.{key}", msg)
    return rules


def themes_taxonomy(errors: FieldErrors, value: object) -> dict[str, list[str]] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 50:
        errors.add("themes", "must be an object of theme name to a list of keywords (at most 50 themes)")
        return None
    out: dict[str, list[str]] = {}
    for theme, words in value.items():
        if not isinstance(theme, str) or not 0 < len(theme) <= 50:
            errors.add("themes", "theme names must have 1 to 50 characters")
            continue
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and 0 < len(w) <= 50 for w in words):
            errors.add("themes", f"theme {theme!r} needs a list of keywords of 1 to 50 characters")
            continue
        out[theme] = [w.lower() for w in words[:100]]
    return out


# ---- a survey's own strings (Survey.strings) ---------------------------------------------------------------

STRINGS_MAX_LANGUAGES = 30
# The flat shape sets the page's strings in the survey's own language, as before.
FLAT_STRING_KEYS: tuple[str, ...] = tuple(page_text.DEFAULTS)
# A language's object sets any string of the page, the email and the widget, and the question in that language.
LANGUAGE_STRING_KEYS: tuple[str, ...] = (
    *page_text.DEFAULTS,
    *email_text.KEYS,
    *widget_text.KEYS,
    page_text.QUESTION_KEY,
)
assert len(set(LANGUAGE_STRING_KEYS)) == len(LANGUAGE_STRING_KEYS), "the page, email and widget keys are distinct"
# The placeholders each text may hold, and those it must (each score button's name says its score).
STRING_PLACEHOLDERS: dict[str, frozenset[str]] = {
    **page_text.PLACEHOLDERS,
    **email_text.PLACEHOLDERS,
    **widget_text.PLACEHOLDERS,
    page_text.QUESTION_KEY: frozenset(),
}
REQUIRED_PLACEHOLDERS: dict[str, frozenset[str]] = {"score_label": frozenset({"score"})}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def string_max_length(key: str) -> int:
    """The longest text a survey may give for `key`: a question as long as its own question, the rest 300."""
    return page_text.QUESTION_MAX_LENGTH if key == page_text.QUESTION_KEY else page_text.MAX_LENGTH


def _placeholder_problem(key: str, value: str) -> str | None:
    """What is wrong with the placeholders of `value` as the text of `key`, or None."""
    allowed = STRING_PLACEHOLDERS[key]
    used = _PLACEHOLDER.findall(value)
    rest = _PLACEHOLDER.sub("", value)
    own = (
        "its only placeholder is " + " and ".join(f"{{{name}}}" for name in sorted(allowed))
        if allowed
        else "it takes no placeholder"
    )
    if "{" in rest or "}" in rest:
        return f"braces may only write a placeholder; {own}"
    for name in used:
        if name not in allowed:
            where = sorted(k for k, names in STRING_PLACEHOLDERS.items() if name in names)
            if where:
                return f"{{{name}}} fits only " + ", ".join(where)
            return f"{{{name}}} is not a placeholder; {own}"
    missing = sorted(REQUIRED_PLACEHOLDERS.get(key, frozenset()) - set(used))
    if missing:
        return f"must contain {{{missing[0]}}}"
    return None


def _string_text(errors: FieldErrors, field: str, key: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.add(field, "must be a non-empty string")
        return None
    limit = string_max_length(key)
    if len(value) > limit:
        errors.add(field, f"must have at most {limit} characters")
        return None
    problem = _placeholder_problem(key, value)
    if problem:
        errors.add(field, problem)
        return None
    return value.strip()


def _language_strings(errors: FieldErrors, field: str, value: dict[str, object]) -> dict[str, str]:
    """One language's object: any of LANGUAGE_STRING_KEYS, each checked."""
    if not value:
        errors.add(field, "must set at least one string (or leave the language out)")
    out: dict[str, str] = {}
    for key, text_value in value.items():
        where = f"{field}.{key}"
        if key not in STRING_PLACEHOLDERS:
            errors.add(where, "unknown string; the known ones are " + ", ".join(sorted(LANGUAGE_STRING_KEYS)))
            continue
        checked = _string_text(errors, where, key, text_value)
        if checked is not None:
            out[key] = checked
    return out


def page_strings(errors: FieldErrors, value: object) -> dict[str, Any] | None:
    """A survey's own strings, in two shapes that may be mixed (`languages.overrides` reads them):

    - a page string's name to its text, in the survey's own language (`{"send": "Absenden"}`), as before;
    - a language tag to an object of names to texts (`{"de": {"subject": "..."}}`), which may set any string of
      the page, the email and the widget, and the question in that language.

    Each text has 1-300 characters (a question 1-500), placeholders only where they fit (`STRING_PLACEHOLDERS`);
    tags are stored normalized (`pt-br` → `pt-BR`), at most STRINGS_MAX_LANGUAGES of them."""
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("strings", "must be an object of string names to texts, or of language tags to such objects")
        return None
    out: dict[str, Any] = {}
    tags: dict[str, str] = {}  # normalized tag → the key as given
    for key, item in value.items():
        field = f"strings.{key}"
        if key in page_text.DEFAULTS:
            checked = _string_text(errors, field, key, item)
            if checked is not None:
                out[key] = checked
            continue
        tag = languages.normalize(key)
        if key in STRING_PLACEHOLDERS:
            errors.add(field, f'set it per language, as in {{"de": {{"{key}": "..."}}}}; flat names are the page\'s')
        elif tag is None:
            known = ", ".join(sorted(FLAT_STRING_KEYS))
            errors.add(field, f"unknown string; the known ones are {known}; or a language tag such as de or pt-BR")
        elif not isinstance(item, dict):
            errors.add(field, "a language takes an object of string names to texts")
        elif tag in tags:
            errors.add(field, f"the same language as {tags[tag]}")
        else:
            tags[tag] = key
            texts = _language_strings(errors, field, item)
            if texts:
                out[tag] = texts
    if len(tags) > STRINGS_MAX_LANGUAGES:
        errors.add("strings", f"at most {STRINGS_MAX_LANGUAGES} languages")
    return out or None


def survey(body: object, *, partial: bool = False) -> dict[str, Any]:
    """Validate a survey definition (create) or a subset of it (PATCH)."""
    errors = require_object(body, SURVEY_FIELDS, set() if partial else {"name"})
    body = json_object(body)
    out: dict[str, Any] = {}

    def has(field: str) -> bool:
        return not partial or field in body

    if has("name"):
        out["name"] = text(errors, body, "name", max_len=200, min_len=1)
        if out["name"] is None:  # PATCH {"name": null} would remove a required attribute
            errors.add("name", "required")
    if has("kind"):
        kind = body.get("kind", "relationship") if not partial else body.get("kind")
        if kind not in SURVEY_KINDS:
            errors.add("kind", "must be relationship or transactional")
        out["kind"] = kind
    if has("touchpoint"):
        out["touchpoint"] = text(errors, body, "touchpoint", max_len=100, default=None)
    if has("question"):
        out["question"] = text(errors, body, "question", max_len=500, min_len=1, default=DEFAULT_QUESTION)
    if has("drivers"):
        out["drivers"] = string_list(errors, body, "drivers", max_items=20, max_len=100)
    if has("allowed_origins"):
        raw = string_list(errors, body, "allowed_origins", max_items=20, max_len=255)
        origins: list[str] = []
        for value in raw:
            norm = origin(value)
            if norm is None:
                errors.add("allowed_origins", f"{value!r} is not an origin like https://example.com")
            elif norm not in origins:
                origins.append(norm)
        out["allowed_origins"] = origins
    if has("throttle_days"):
        out["throttle_days"] = integer(errors, body, "throttle_days", lo=0, hi=3650, default=90)
    if has("loop_rules"):
        out["loop_rules"] = loop_rules(errors, body.get("loop_rules"))
    if has("themes"):
        out["themes"] = themes_taxonomy(errors, body.get("themes"))
    if has("status"):
        status = body.get("status", "active") if not partial else body.get("status")
        if status not in ("active", "closed"):
            errors.add("status", "must be active or closed")
        out["status"] = status
    if has("language"):
        language = body.get("language")
        if language is not None and (not isinstance(language, str) or not LANGUAGE_RE.match(language)):
            errors.add("language", "must be a language tag such as en, de or pt-BR")
            language = None
        out["language"] = language
    if has("strings"):
        out["strings"] = page_strings(errors, body.get("strings"))
    if has("anonymous_answers"):
        policy = body.get("anonymous_answers")
        if policy is not None and policy not in ANONYMOUS_ANSWERS:
            errors.add("anonymous_answers", "must be counted, excluded or refused")
            policy = None
        out["anonymous_answers"] = policy
    checks = (
        ("send_window", send_window.checked_window),
        ("reminders", send_window.checked_reminders),
        ("schedule", waves.checked_schedule),
    )
    for name, check in checks:
        if name in body:  # absent: the defaults, which the survey shows (domain/send_window.py)
            setting, problems = check(body.get(name))
            for field, message in problems.items():
                errors.add(field, message)
            out[name] = setting
    if partial and not body:
        errors.add("body", "nothing to change")
    errors.raise_if_any()
    return out
