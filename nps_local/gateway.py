"""Chalice's local API Gateway, answering the way the deployed API does.

API Gateway answers some requests itself: no Authorization header (UNAUTHORIZED), a token the authorizer
refuses (ACCESS_DENIED), a path or method with no route (MISSING_AUTHENTICATION_TOKEN), an authorizer that
fails (AUTHORIZER_FAILURE, AUTHORIZER_CONFIGURATION_ERROR). The deployed API gives those answers the contract's
error shape with the GatewayResponses of infra/template.yaml. Chalice's LocalGateway answers with API Gateway's
default bodies instead; `ContractGateway` answers with the template's GatewayResponses (API Gateway's own body for
a kind they leave out), so tests (`contract_client`) and the local server see what a client of
the deployed API sees.

The local server runs a thread per connection, but the app is one object: Chalice keeps `current_request` on it,
Powertools keeps log keys on shared loggers, and moto's backends have no locks. In Lambda every invocation has a
sandbox of its own; here `ContractRequestHandler` runs one app invocation at a time under `FUNCTION_LOCK` (the
local stack's stream poller and scheduler take the same lock around their handlers), and only `GET /v1/health`
and the local-only routes skip it, so liveness answers while a long import runs.

Every answer the local server sends carries `X-Content-Type-Options: nosniff` (the app's middleware sets it on
the app's answers; this covers the gateway's own answers and the local-only routes too). A HEAD request gets
the headers GET would get, with the body left out.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    InvalidAuthorizerError,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from nps_local import template as cfn

log = logging.getLogger("nps.local.gateway")

# A local-only route: (query parameters, lower-cased headers, body) -> (status, content type, body).
LocalRoute = Callable[[dict, dict, bytes | None], tuple[int, str, str]]
# Runs one invocation of the app (the call) and answers its result: a hook to measure it.
Invoker = Callable[[Callable[[], dict]], dict]
# Told of every request the API answered: (method, path, status, latency in ms).
RequestObserver = Callable[[str, str, int, float], None]

# One in-process function invocation at a time (API requests, stream batches, scheduled runs). Reentrant, so a
# handler that ends up invoking another in the same thread does not wait for itself.
FUNCTION_LOCK = threading.RLock()
# Requests served without the lock: they read one item and must answer while a long request runs.
UNLOCKED = frozenset({("GET", "/v1/health")})
# On every answer of the local server, whoever produced it.
NOSNIFF = ("X-Content-Type-Options", "nosniff")
# On every local-only route's answer and on every answer the gateway gives itself.
LOCAL_ROUTE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", NOSNIFF[0]: NOSNIFF[1]}
# Connections the kernel holds while every handler thread is busy starting: socketserver's default of 5 drops
# connection attempts as soon as 20 clients connect at once.
LISTEN_BACKLOG = 128


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None  # None: API Gateway's own status for the error
    body: str  # a mapping template; only $context.error.messageString is filled in
    headers: dict = field(default_factory=dict)


# API Gateway's own body for a kind the template gives no GatewayResponse (nor its family's default).
AWS_DEFAULT = GatewayResponse(None, '{"message":$context.error.messageString}')


# API Gateway's status and message for each kind of answer it gives itself.
DEFAULTS = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
}


@functools.cache
def gateway_responses(path: Path = cfn.TEMPLATE_PATH) -> dict[str, GatewayResponse]:
    """The RestAPI's GatewayResponses in the template."""
    doc = cfn.load(path)
    rest = ((doc.get("Resources") or {}).get("RestAPI") or {}).get("Properties") or {}
    out = {}
    for kind, spec in (rest.get("GatewayResponses") or {}).items():
        body = (spec.get("ResponseTemplates") or {}).get("application/json")
        if body is None:
            continue
        headers = ((spec.get("ResponseParameters") or {}).get("Headers")) or {}
        status = spec.get("StatusCode")
        out[kind] = GatewayResponse(
            int(status) if status else None,
            body,
            {name: str(value).strip("'") for name, value in headers.items() if isinstance(value, str)},
        )
    return out


class RouteNotFound(Exception):
    pass


class ContractGateway(LocalGateway):
    """LocalGateway with the deployed API's GatewayResponses, and optional local-only routes."""

    def __init__(
        self,
        app_object,
        config,
        local_routes: dict[tuple[str, str], LocalRoute] | None = None,
        template_path: Path = cfn.TEMPLATE_PATH,
        invoke: Invoker | None = None,
    ):
        super().__init__(app_object, config)
        self._local_routes = local_routes or {}
        self._responses = gateway_responses(Path(template_path))
        if invoke is not None:
            self._app_object = _InvokedApp(app_object, invoke)

    def is_local_route(self, method: str, path: str) -> bool:
        return (method, urlsplit(path).path) in self._local_routes

    def _generate_lambda_event(self, method, path, headers, body):
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:
            raise RouteNotFound(path) from None
        resource = event["requestContext"]["resourcePath"]
        # A path without this method is, to API Gateway, no route at all (CORS preflights are answered anyway).
        if method != "OPTIONS" and method not in self._app_object.routes.get(resource, {}):
            raise RouteNotFound(path)
        return event

    def handle_request(self, method, path, headers, body):
        local = self._local_routes.get((method, urlsplit(path).path))
        if local is not None:
            return self._local_response(local, path, headers, body)
        try:
            return super().handle_request(method, path, headers, body)
        except RouteNotFound:
            return self.gateway_answer("MISSING_AUTHENTICATION_TOKEN")
        except NotAuthorizedError as refusal:
            return self.gateway_answer("UNAUTHORIZED", refusal.headers)
        except ForbiddenError as refusal:
            return self.gateway_answer("ACCESS_DENIED", refusal.headers)
        except InvalidAuthorizerError as error:
            return self.gateway_answer("AUTHORIZER_CONFIGURATION_ERROR", error.headers)
        except Exception:
            # The app answers its own errors, so only the authorizer can raise here.
            log.exception("the authorizer failed")
            return self.gateway_answer("AUTHORIZER_FAILURE")

    def gateway_answer(self, kind: str, error_headers: dict | None = None) -> dict:
        """API Gateway's own answer of this kind, shaped by the GatewayResponses, as a Lambda proxy response."""
        status, message = DEFAULTS[kind]
        family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        response = self._responses.get(kind) or self._responses.get(family) or AWS_DEFAULT
        body = re.sub(r"\$context\.error\.messageString", json.dumps(message), response.body)
        # An error is never worth caching, and its URL may carry a token (a HEAD on /r/<token>, say).
        headers = {"Content-Type": "application/json", **LOCAL_ROUTE_HEADERS}
        headers.update({k: v for k, v in (error_headers or {}).items() if k.lower().startswith("x-amzn")})
        headers.update(response.headers)
        return {"statusCode": response.status or status, "headers": headers, "multiValueHeaders": {}, "body": body}

    @staticmethod
    def _local_response(route: LocalRoute, path: str, headers: dict, body: bytes | None) -> dict:
        query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        try:
            status, content_type, text = route(query, {k.lower(): v for k, v in headers.items()}, body)
        except Exception:
            log.exception("local route %s failed", urlsplit(path).path)
            status, content_type = 500, "application/json"
            text = json.dumps({"error": {"code": "internal_error", "message": "The local route failed.", "fields": {}}})
        return {
            "statusCode": status,
            # The dashboard carries the admin token in its URL: never cached, never sent on as a Referer.
            "headers": {"Content-Type": content_type, **LOCAL_ROUTE_HEADERS},
            "multiValueHeaders": {},
            "body": text,
        }


@contextlib.contextmanager
def contract_client(app, stage_name: str = "dev", project_dir: str = ".") -> Iterator:
    """A `chalice.test.Client` whose HTTP calls go through `ContractGateway`."""
    from chalice.test import Client

    with Client(app, stage_name=stage_name, project_dir=project_dir) as client:
        http = client.http
        http._local_gateway = ContractGateway(app, http._config)
        yield client


class _InvokedApp:
    """The app as the gateway sees it, with each invocation run through `invoke` (everything else is the app's)."""

    def __init__(self, app_object, invoke: Invoker):
        self._app = app_object
        self._invoke = invoke

    def __call__(self, event, context):
        return self._invoke(lambda: self._app(event, context))

    def __getattr__(self, name: str):
        return getattr(self._app, name)


class ContractRequestHandler(ChaliceRequestHandler):
    """The local server's request handler: every request goes through one shared `ContractGateway`, and any
    HTTP method reaches it (unknown ones are answered like the deployed API answers them). Requests for the app
    run one at a time under `lock` (all but `UNLOCKED` and the local-only routes); `observe` hears of each."""

    # Headers and body go out in two writes: without this the body waits for the client's delayed ACK.
    disable_nagle_algorithm = True

    def __init__(
        self,
        request,
        client_address,
        server,
        app_object,
        config,
        gateway: ContractGateway,
        lock=FUNCTION_LOCK,
        observe: RequestObserver | None = None,
    ):
        # ChaliceRequestHandler.__init__ would build a plain LocalGateway per request.
        self.local_gateway = gateway
        self._function_lock = lock
        self._observe = observe
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _generic_handle(self) -> None:
        headers, body = self._parse_payload()
        started = time.perf_counter()
        local = self.local_gateway.is_local_route(self.command, self.path)
        serialise = not local and (self.command, urlsplit(self.path).path) not in UNLOCKED
        try:
            with self._function_lock if serialise else contextlib.nullcontext():
                response = self.local_gateway.handle_request(
                    method=self.command, path=self.path, headers=headers, body=body
                )
        except LocalGatewayException as error:
            self._observed(local, error.CODE, started)
            self._send_error_response(error)
            return
        self._observed(local, response["statusCode"], started)
        out_headers = response["headers"].copy()
        out_headers.update(response["multiValueHeaders"])
        response = self._handle_binary(response)
        self._send_http_response(response["statusCode"], out_headers, response["body"])

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_http_response(self, code: int, headers: dict, body) -> None:
        """Send one answer: nosniff on all of them, and no body for HEAD (its Content-Length is GET's)."""
        data = b"" if body is None else body if isinstance(body, bytes) else body.encode("utf-8")
        headers = dict(headers)
        # As Chalice's handler: a body without a type is JSON; no body, no type unless the answer names one.
        content_type = None if body is None else "application/json"
        for name in [k for k in headers if k.lower() in ("content-length", "content-type", NOSNIFF[0].lower())]:
            if name.lower() == "content-type":
                content_type = headers[name]
            del headers[name]
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header(*NOSNIFF)
        self._send_headers(headers)
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def _observed(self, local: bool, status: int, started: float) -> None:
        if local or self._observe is None:
            return
        try:
            self._observe(self.command, urlsplit(self.path).path, int(status), (time.perf_counter() - started) * 1000)
        except Exception:
            log.exception("observing a request failed")

    def log_message(self, format, *args):
        # The access log would print paths, and paths carry signed tokens; the app logs route templates.
        pass


class LocalHTTPServer(ThreadedHTTPServer):
    """Chalice's threaded server (a thread per connection), quiet about clients that hang up early."""

    request_queue_size = LISTEN_BACKLOG

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipe, ConnectionReset...: the client left
            return
        log.exception("request from %s failed", client_address[0])  # noqa: LOG004 (socketserver calls this inside its except)
