"""Reading fields that come from outside: the per-field error list, and the checks every body shares (objects
with known fields, text, ids, integers, string lists, origins, months). Each function returns clean values or
records a message per field; unknown fields are refused, never ignored. What a survey, an answer, an account
or an invitation's contact holds is checked in survey_definition.py, answers.py, account_fields.py and
invitations.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from urllib.parse import urlsplit

from chalicelib.domain.errors import Invalid
from chalicelib.domain.months import is_month

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}\Z")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}\Z")


def is_email(value: str) -> bool:
    """An address we can put in an email's To: the usual shape, and one the standard library's header parser
    takes as a single plain address (so `a,b@x.de` or `a<b@x.de` are refused here, not by the sender)."""
    from email.headerregistry import Address

    if not EMAIL_RE.match(value):
        return False
    try:
        parsed = Address(addr_spec=value)
    except (ValueError, IndexError):
        return False
    return parsed.addr_spec == value


# A DNS name (letters, digits, hyphens, dots) or an IPv4 address; IPv6 literals are checked apart.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_RE = re.compile(rf"^(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\Z")
# BCP 47 in its common shapes: en, pt-BR, zh-Hant, es-419.
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}\Z")


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


def month(value: str) -> str:
    if not is_month(value):
        raise Invalid("Months are written YYYY-MM.", fields={"month": "must be YYYY-MM"})
    return value
