"""Moved to chalicelib/domain/errors.py (the HTTP statuses to chalicelib/api/http.py); this name goes once the
last importers have moved."""

from chalicelib.domain.errors import (  # noqa: F401
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    Malformed,
    NotFound,
    Throttled,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)

ApiError = DomainError
