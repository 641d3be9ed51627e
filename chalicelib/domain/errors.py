"""What can go wrong, in the product's words. Lower layers (domain, store, use cases) raise these; only the
handlers know HTTP: `chalicelib/api/http.py` maps each kind to its status and the contract's error envelope.

`code` is the machine-readable reason the contract documents (for instance `concurrent_change`), `fields` the
per-field details of a refused input.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class Malformed(DomainError):
    """The input cannot be read at all (not JSON, a cursor or token we never gave out)."""

    code = "malformed"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Gone(DomainError):
    """It existed but is over: an expired link, an erased person."""

    code = "expired"


class TooLarge(DomainError):
    code = "too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_content_type"


class Invalid(DomainError):
    """Readable, but refused by a rule: a bad field, a future month, a closed survey."""

    code = "invalid"


class Throttled(DomainError):
    code = "throttled"


class Unavailable(DomainError):
    """A dependency did not answer; trying again later may work."""

    code = "unavailable"
