"""Route registration that turns our domain errors into the contract's error shape.

Chalice turns any exception a view raises into its own 500 before middleware sees it, so each view is
wrapped here instead: an ApiError becomes its status and `{"error": {...}}`, anything else a bare 500 with
no detail (the stack trace goes to the log, never to the client).
"""

from __future__ import annotations

import functools
import logging

from chalicelib.api.http import ANY_TYPES, error_response, json_response
from chalicelib.errors import ApiError

log = logging.getLogger("nps.api")


def api_route(bp, path: str, *, content_types: list[str] | None = None, **options):
    def register(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except ApiError as error:
                extra = getattr(error, "headers", None)
                return error_response(error, extra)
            except Exception:
                log.exception("unhandled error on %s", path)
                return json_response(
                    {"error": {"code": "internal", "message": "Something went wrong on our side.", "fields": {}}},
                    500,
                )

        bp.route(path, content_types=content_types or ANY_TYPES, **options)(guarded)
        return view

    return register
