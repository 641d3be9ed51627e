"""A survey's definition as the API takes it (create, or a PATCH of some fields): its kind, question,
drivers, allowed origins, throttle, close-the-loop rules, themes, language, page strings and the policy for
anonymous answers. Unknown fields are refused, never ignored."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import page_text, send_window, waves
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


def page_strings(errors: FieldErrors, value: object) -> dict[str, str] | None:
    """A survey's own page strings: known keys only, each 1-300 characters, `{score}` only where it fits."""
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add("strings", "must be an object of string name to text")
        return None
    out: dict[str, str] = {}
    for key, text_value in value.items():
        field = f"strings.{key}"
        if key not in page_text.DEFAULTS:
            errors.add(field, "unknown string; the known ones are " + ", ".join(sorted(page_text.DEFAULTS)))
        elif not isinstance(text_value, str) or not text_value.strip():
            errors.add(field, "must be a non-empty string")
        elif len(text_value) > page_text.MAX_LENGTH:
            errors.add(field, f"must have at most {page_text.MAX_LENGTH} characters")
        elif "{" in text_value.replace("{score}", "") or "}" in text_value.replace("{score}", ""):
            errors.add(field, "the only placeholder is {score}")
        elif "{score}" in text_value and key not in page_text.WITH_SCORE:
            errors.add(field, "{score} fits only " + ", ".join(sorted(page_text.WITH_SCORE)))
        else:
            out[key] = text_value.strip()
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
