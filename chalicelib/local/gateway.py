"""Chalice's local API Gateway, answering the way the deployed API does.

API Gateway answers some requests itself: no Authorization header (UNAUTHORIZED), a token the authorizer
refuses (ACCESS_DENIED), a path or method with no route (MISSING_AUTHENTICATION_TOKEN), an authorizer that
fails (AUTHORIZER_FAILURE, AUTHORIZER_CONFIGURATION_ERROR). The deployed API gives those answers the contract's
error shape with the GatewayResponses of infra/template.yaml. Chalice's LocalGateway answers with API Gateway's
default bodies instead; `ContractGateway` answers with the template's GatewayResponses (or the same shapes
built in, when there is no template), so tests (`contract_client`) and the local server see what a client of
the deployed API sees.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sys
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
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from chalicelib.local import template as cfn

log = logging.getLogger("nps.local.gateway")

# A local-only route: (query parameters, lower-cased headers, body) -> (status, content type, body).
LocalRoute = Callable[[dict, dict, bytes | None], tuple[int, str, str]]


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None  # None: API Gateway's own status for the error
    body: str  # a mapping template; only $context.error.messageString is filled in
    headers: dict = field(default_factory=dict)


def _contract(code: str, message: str, status: int | None = None, headers: dict | None = None) -> GatewayResponse:
    body = json.dumps({"error": {"code": code, "message": message, "fields": {}}})
    return GatewayResponse(status, body, headers or {})


# What the gateway answers when the template has no GatewayResponses (the same contract shapes).
BUILT_IN = {
    "UNAUTHORIZED": _contract("unauthorized", "An admin token is required: Authorization: Bearer <token>.", 401),
    "ACCESS_DENIED": _contract("unauthorized", "The admin token is not valid.", 401),
    "MISSING_AUTHENTICATION_TOKEN": _contract("not_found", "No such resource.", 404),
    "DEFAULT_5XX": _contract("internal_error", "The service failed to answer; retry later."),
}
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
    """The RestAPI's GatewayResponses in the template (empty when there is no template)."""
    try:
        doc = cfn.load(path)
    except cfn.TemplateError:
        return {}
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
    ):
        super().__init__(app_object, config)
        self._local_routes = local_routes or {}
        self._responses = gateway_responses(Path(template_path))

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
        response = (
            self._responses.get(kind)
            or self._responses.get(family)
            or BUILT_IN.get(kind)
            or BUILT_IN["DEFAULT_5XX"]
        )
        body = re.sub(r"\$context\.error\.messageString", json.dumps(message), response.body)
        headers = {"Content-Type": "application/json"}
        headers.update({k: v for k, v in (error_headers or {}).items() if k.lower().startswith("x-amzn")})
        headers.update(response.headers)
        return {"statusCode": response.status or status, "headers": headers, "multiValueHeaders": {}, "body": body}

    @staticmethod
    def _local_response(route: LocalRoute, path: str, headers: dict, body: bytes | None) -> dict:
        query = dict(parse_qsl(urlsplit(path).query))
        try:
            status, content_type, text = route(query, {k.lower(): v for k, v in headers.items()}, body)
        except Exception:
            log.exception("local route %s failed", urlsplit(path).path)
            status, content_type = 500, "application/json"
            text = json.dumps({"error": {"code": "internal_error", "message": "The local route failed.", "fields": {}}})
        return {
            "statusCode": status,
            "headers": {"Content-Type": content_type, "Cache-Control": "no-store"},
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


class ContractRequestHandler(ChaliceRequestHandler):
    """The local server's request handler: every request goes through one shared `ContractGateway`, and any
    HTTP method reaches it (unknown ones are answered like the deployed API answers them)."""

    def __init__(self, request, client_address, server, app_object, config, gateway: ContractGateway):
        # ChaliceRequestHandler.__init__ would build a plain LocalGateway per request.
        self.local_gateway = gateway
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def log_message(self, format, *args):
        # The access log would print paths, and paths carry signed tokens; the app logs route templates.
        pass


class LocalHTTPServer(ThreadedHTTPServer):
    """Chalice's threaded server (a thread per connection), quiet about clients that hang up early."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipe, ConnectionReset...: the client left
            return
        log.exception("request from %s failed", client_address[0])
