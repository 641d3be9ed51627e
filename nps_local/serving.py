"""How the local stack serves HTTP: moto one request at a time and without Nagle's delay, and the Chalice app
with a per-thread current request."""

from __future__ import annotations

import contextlib
import threading


class NotYetHandler:
    """Never used: the real handler is installed before serving starts."""


def serialised_wsgi(app, lock: threading.Lock | None = None):
    """A WSGI app that answers one request at a time under `lock` (the body is produced under it, too)."""
    lock = lock or threading.Lock()

    def serialised(environ, start_response):
        with lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                with contextlib.suppress(Exception):
                    if hasattr(result, "close"):
                        result.close()

    return serialised


def without_nagle(handler_class):
    """The handler with TCP_NODELAY on its connections. Werkzeug writes an answer's headers and body in two
    sends; with Nagle's algorithm the body then waits for the client's delayed ACK, about 40 ms on Linux, on
    every DynamoDB call the functions make."""
    return type(handler_class.__name__, (handler_class,), {"disable_nagle_algorithm": True})


def thread_local_requests(app) -> None:
    """Give the app a per-thread current_request, as `chalice local` does, so parallel requests don't mix."""
    from chalice.local import CustomLocalChalice, LocalChalice

    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
