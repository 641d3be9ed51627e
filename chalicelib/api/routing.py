"""Routes and the one place their errors become the contract's answers.

Chalice turns an exception a view raises into its own 500 before middleware sees it, unless it is a
`ChaliceUnhandledError`. So `api_route` registers a view (with the content types every route accepts) and lets
any exception leave it as a `RouteFailed` carrying the original; `answer_errors`, the one error middleware
(app.py registers it), maps a domain error to its status and envelope (`http.error_response`) and anything
else to a bare 500 with no detail: the stack trace goes to the log, never to the client.
"""

from __future__ import annotations

import functools
import logging

from chalice import ChaliceUnhandledError

from chalicelib.api.http import ANY_TYPES, error_body, error_response, json_response
from chalicelib.domain.errors import DomainError

log = logging.getLogger("nps.api")


class RouteFailed(ChaliceUnhandledError):
    """A view raised; `__cause__` is what it raised."""


def api_route(bp, path: str, *, content_types: list[str] | None = None, **options):
    def register(view):
        @functools.wraps(view)
        def escalating(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except Exception as error:
                raise RouteFailed(path) from error

        bp.route(path, content_types=content_types or ANY_TYPES, **options)(escalating)
        return view

    return register


def answer_errors(event, get_response):
    """The error middleware of every route."""
    try:
        return get_response(event)
    except RouteFailed as failed:
        cause = failed.__cause__
        if isinstance(cause, DomainError):
            return error_response(cause)
        log.error("unhandled error on %s", failed, exc_info=cause)  # noqa: TRY400 (the cause, not the wrapper)
        return json_response(error_body("internal", "Something went wrong on our side."), 500)
