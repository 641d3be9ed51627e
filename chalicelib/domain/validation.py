"""Validation of every field that comes from outside. Each function returns clean values or raises Invalid
with a message per field; unknown fields are refused, never ignored."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain import page_text
from chalicelib.domain.errors import Invalid
from chalicelib.domain.months import MONTH_RE, is_month
from chalicelib.domain.nps import CATEGORIES

SURVEY_KINDS = ("relationship", "transactional")
DEFAULT_QUESTION = "How likely are you to recommend us to a friend or colleague?"
MAX_COMMENT = 2000
MAX_SLA_HOURS = 14 * 24
DEFAULT_SLA_HOURS = 48
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}\Z")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}\Z")
ACCOUNT_STATUSES = ("active", "churned", "trial", "paused")
# A DNS name (letters, digits, hyphens, dots) or an IPv4 address; IPv6 literals are checked apart.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_RE = re.compile(rf"^(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\Z")
# BCP 47 in its common shapes: en, pt-BR, zh-Hant, es-419.
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}\Z")
ANONYMOUS_ANSWERS = ("counted", "excluded", "refused")
# Ids the survey page makes for each page view and each submission.
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")
SIGNALS = ("gesture", "dwell")


class FieldErrors:
    """Collects per-field messages so one response names every problem at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self, message: str = "Some fields are invalid.") -> None:
        if self.fields:
            raise Invalid(message, fields=self.fields)


def json_object(body: object) -> dict[str, object]:
    """`body` when it is a JSON object; Invalid otherwise."""
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    return body


def require_object(body: object, allowed: AbstractSet[str], required: AbstractSet[str] = frozenset()) -> FieldErrors:
    errors = FieldErrors()
    body = json_object(body)
    for key in body:
        if key not in allowed:
            errors.add(key, "unknown field")
    for key in required:
        if key not in body or body[key] is None:
            errors.add(key, "required")
    return errors


def text(
    errors: FieldErrors,
    body: Mapping[str, object],
    field: str,
    *,
    max_len: int,
    default: str | None = None,
    min_len: int = 0,
) -> str | None:
    if field not in body or body[field] is None:
        return default
    value = body[field]
    if not isinstance(value, str):
        errors.add(field, "must be a string")
        return default
    value = value.strip()
    if len(value) < min_len:
        errors.add(field, f"must have at least {min_len} characters")
    if len(value) > max_len:
        errors.add(field, f"must have at most {max_len} characters")
    return value


def identifier(errors: FieldErrors, body: Mapping[str, object], field: str, default: str | None = None) -> str | None:
    if field not in body or body[field] is None:
        return default
    value = body[field]
    if not isinstance(value, str) or not ID_RE.match(value):
        errors.add(field, "must be 1-128 letters, digits or _.:@- characters")
        return default
    return value


def integer(
    errors: FieldErrors, body: Mapping[str, object], field: str, *, lo: int, hi: int, default: int | None = None
) -> int | None:
    if field not in body or body[field] is None:
        return default
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, f"must be an integer from {lo} to {hi}")
        return default
    if not lo <= value <= hi:
        errors.add(field, f"must be an integer from {lo} to {hi}")
        return default
    return value


def string_list(
    errors: FieldErrors,
    body: Mapping[str, object],
    field: str,
    *,
    max_items: int,
    max_len: int,
    default: Iterable[str] = (),
) -> list[str]:
    if field not in body or body[field] is None:
        return list(default)
    value = body[field]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(field, "must be a list of strings")
        return list(default)
    if len(value) > max_items:
        errors.add(field, f"must have at most {max_items} items")
    cleaned: list[str] = []
    for v in value:
        v = v.strip()
        if not v or len(v) > max_len:
            errors.add(field, f"each item must have 1 to {max_len} characters")
        elif v not in cleaned:
            cleaned.append(v)
    return cleaned


def origin(value: str) -> str | None:
    """The canonical form of a web origin, as browsers send it: scheme and host in lower case, no default
    port, no path (scheme://host[:port]); None when it is not an origin."""
    if not isinstance(value, str) or len(value) > 255 or not value.isascii():
        return None
    try:
        parts = urlsplit(value.strip())  # raises on a bracketed host that is no IP address
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    if "?" in value or "#" in value:  # an empty query or fragment marker is still not an origin
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets, as browsers send it
        try:
            import ipaddress

            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    elif not HOST_RE.match(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default_port else "")


# ---- surveys ---------------------------------------------------------------------------------------------

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
    if partial and not body:
        errors.add("body", "nothing to change")
    errors.raise_if_any()
    return out


# ---- answers ---------------------------------------------------------------------------------------------


SCORE_TEXT_RE = re.compile(r"^\s*[0-9]{1,2}\s*$")


def score_value(errors: FieldErrors, body: Mapping[str, object], *, strict: bool = False) -> int | None:
    """The 0-10 score. Text digits are accepted only when not `strict` (forms and CSV carry text); a JSON
    body must send a number."""
    if "score" not in body or body["score"] is None:
        errors.add("score", "required")
        return None
    value = body["score"]
    if not strict and isinstance(value, str) and SCORE_TEXT_RE.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        errors.add("score", "must be an integer from 0 to 10")
        return None
    return value


def answer(
    body: object, survey_drivers: list[str], extra_fields: AbstractSet[str] = frozenset(), *, form: bool = False
) -> tuple[dict[str, Any], FieldErrors]:
    """Validate score, comment and drivers; the caller validates its extra fields and raises.

    `comment` and `drivers` are in the result only when the body has them: absent means "leave as it is" to
    a later update, present and empty (or null) means "clear". A JSON body (`form=False`) must send the score
    as a number and drivers as a list; a form sends text, and one checked driver as a single value.
    """
    errors = require_object(body, {"score", "comment", "drivers"} | set(extra_fields))
    body = json_object(body)
    out: dict[str, Any] = {"score": score_value(errors, body, strict=not form)}
    if "comment" in body:
        out["comment"] = text(errors, body, "comment", max_len=MAX_COMMENT, default=None) or None
    if "drivers" in body:
        drivers = body["drivers"]
        if form and isinstance(drivers, str):
            drivers = [drivers]
        drivers = string_list(errors, {"drivers": drivers}, "drivers", max_items=20, max_len=100)
        unknown = [d for d in drivers if d not in survey_drivers]
        if unknown:
            errors.add("drivers", f"not a driver of this survey: {', '.join(unknown)}")
        out["drivers"] = drivers
    return out, errors


LINK_FIELDS = {"signal", "view", "submission"}


def link_answer(body: object, survey_drivers: list[str], *, form: bool = False) -> dict[str, Any]:
    """An answer posted to an email link: the answer's fields, plus `signal` ("gesture", the default, or
    "dwell": the page was left open without a gesture), the page `view` id (required with dwell) and a
    `submission` id that makes a replay change nothing. A form carries only `submission`."""
    out, errors = answer(body, survey_drivers, {"submission"} if form else LINK_FIELDS, form=form)
    body = json_object(body)  # answer() has refused anything else
    signal = body.get("signal", "gesture")
    if signal not in SIGNALS:
        errors.add("signal", "must be gesture or dwell")
    out["signal"] = signal if signal in SIGNALS else "gesture"
    for field in ("view", "submission"):
        value = body.get(field)
        if value is not None and (not isinstance(value, str) or not CLIENT_ID_RE.match(value)):
            errors.add(field, "must be 8 to 64 letters, digits, _ or -")
            value = None
        out[field] = value
    if out["signal"] == "dwell":
        if not out["view"] and "view" not in errors.fields:
            errors.add("view", "required with signal dwell")
        for field in ("comment", "drivers"):
            if field in body:
                errors.add(field, "a dwell carries the score only")
    errors.raise_if_any()
    return out


WIDGET_FIELDS = {"contact_id", "account_id", "identity", "page"}


def widget_answer(body: object, survey_drivers: list[str]) -> dict[str, Any]:
    out, errors = answer(body, survey_drivers, WIDGET_FIELDS)
    body = json_object(body)  # answer() has refused anything else
    out["contact_id"] = identifier(errors, body, "contact_id")
    out["account_id"] = identifier(errors, body, "account_id")
    out["identity"] = text(errors, body, "identity", max_len=128, default=None)
    out["page"] = text(errors, body, "page", max_len=2048, default=None)
    if out["identity"] and not out["contact_id"]:
        errors.add("identity", "needs contact_id")
    errors.raise_if_any()
    return out


# ---- contacts and accounts -------------------------------------------------------------------------------

CONTACT_FIELDS = {"contact_id", "email", "account_id", "name", "attributes"}


def contact(body: object, index: int) -> dict[str, Any]:
    try:
        errors = require_object(body, CONTACT_FIELDS, {"contact_id", "account_id"})
    except Invalid:
        raise Invalid("Each contact must be an object.", fields={f"contacts[{index}]": "must be an object"}) from None
    body = json_object(body)
    out: dict[str, Any] = {
        "contact_id": identifier(errors, body, "contact_id"),
        "account_id": identifier(errors, body, "account_id"),
        "email": text(errors, body, "email", max_len=320, default=None),
        "name": text(errors, body, "name", max_len=200, default=None),
    }
    if out["email"] and not EMAIL_RE.match(out["email"]):
        errors.add("email", "is not an email address")
    attrs = body.get("attributes")
    if attrs is not None and (
        not isinstance(attrs, dict)
        or len(attrs) > 30
        or not all(
            isinstance(k, str) and len(k) <= 50 and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 200
            for k, v in attrs.items()
        )
    ):
        errors.add("attributes", "must be an object of at most 30 short scalar values")
        attrs = None
    out["attributes"] = attrs or {}
    if errors.fields:
        raise Invalid(
            f"Contact {index} is invalid.", fields={f"contacts[{index}].{k}": v for k, v in errors.fields.items()}
        )
    return out


ACCOUNT_FIELDS = {"name", "segment", "owner", "manager", "revenue", "status"}


def revenue(errors: FieldErrors, value: object) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("revenue", 'must be an object like {"2026-01": 1200.0}')
        return {}
    out: dict[str, float] = {}
    for month, amount in value.items():
        if not isinstance(month, str) or not MONTH_RE.match(month):
            errors.add("revenue", f"{month!r} is not a month like 2026-01")
            continue
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0 or amount > 1e12:
            errors.add("revenue", f"revenue for {month} must be a number from 0")
            continue
        if amount != amount:  # NaN
            errors.add("revenue", f"revenue for {month} must be a number")
            continue
        out[month] = float(amount)
    return out


def account(body: object, *, allow_id: bool = False) -> dict[str, Any]:
    allowed = ACCOUNT_FIELDS | ({"account_id"} if allow_id else set())
    errors = require_object(body, allowed, {"account_id"} if allow_id else set())
    body = json_object(body)
    out: dict[str, Any] = {
        "name": text(errors, body, "name", max_len=200, default=None),
        "segment": text(errors, body, "segment", max_len=100, default=None),
        "owner": text(errors, body, "owner", max_len=200, default=None),
        "manager": text(errors, body, "manager", max_len=200, default=None),
        "revenue": revenue(errors, body.get("revenue")),
        "status": body.get("status", "active"),
    }
    if out["status"] not in ACCOUNT_STATUSES:
        errors.add("status", "must be one of " + ", ".join(ACCOUNT_STATUSES))
    if allow_id:
        out["account_id"] = identifier(errors, body, "account_id")
    errors.raise_if_any()
    return out


def month(value: str) -> str:
    if not is_month(value):
        raise Invalid("Months are written YYYY-MM.", fields={"month": "must be YYYY-MM"})
    return value
