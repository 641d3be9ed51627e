"""Chalice's local API Gateway, answering the way the deployed API does.

The deployed API has GatewayResponses that give API Gateway's own refusals the contract's error shape: no
Authorization header or a token the authorizer refuses is 401 `unauthorized`, a path or method with no route is
404 `not_found`. Chalice's LocalGateway answers those with API Gateway's default bodies; `ContractGateway` maps
them, so tests (`contract_client`) and the local server (`ContractRequestHandler`) see what a client of the
deployed API sees.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    InvalidAuthorizerError,
    LocalGateway,
    NotAuthorizedError,
)

log = logging.getLogger("nps.local.gateway")

UNAUTHORIZED_MESSAGE = "Send a valid admin token: 'Authorization: Bearer <token>'."

# A local-only route: (query parameters, headers, body) -> (status, content type, body).
LocalRoute = Callable[[dict, dict, bytes | None], tuple[int, str, str]]


class RouteNotFound(Exception):
    def __init__(self, method: str, path: str):
        super().__init__(f"{method} {path}")
        self.method, self.path = method, path


def contract_error(status: int, code: str, message: str, headers: dict | None = None) -> dict:
    """A gateway answer in the contract's error shape, as a Lambda proxy response."""
    body = {"error": {"code": code, "message": message, "fields": {}}}
    h = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    h.update({k: v for k, v in (headers or {}).items() if k.lower().startswith("x-amzn")})
    text = json.dumps(body, separators=(",", ":"))
    return {"statusCode": status, "headers": h, "multiValueHeaders": {}, "body": text}


class ContractGateway(LocalGateway):
    """LocalGateway with the deployed API's GatewayResponses, and optional local-only routes."""

    def __init__(self, app_object, config, local_routes: dict[tuple[str, str], LocalRoute] | None = None):
        super().__init__(app_object, config)
        self._local_routes = local_routes or {}

    def _generate_lambda_event(self, method, path, headers, body):
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:
            raise RouteNotFound(method, path) from None
        resource = event["requestContext"]["resourcePath"]
        # API Gateway has no method there: the same answer as no route (CORS preflights are answered anyway).
        if method != "OPTIONS" and method not in self._app_object.routes.get(resource, {}):
            raise RouteNotFound(method, path)
        return event

    def handle_request(self, method, path, headers, body):
        local = self._local_routes.get((method, path.split("?", 1)[0]))
        if local is not None:
            return self._local_response(local, path, headers, body)
        try:
            return super().handle_request(method, path, headers, body)
        except RouteNotFound as missing:
            return contract_error(404, "not_found", f"There is no {missing.method} {missing.path.split('?')[0]}.")
        except (NotAuthorizedError, ForbiddenError) as refusal:
            return contract_error(401, "unauthorized", UNAUTHORIZED_MESSAGE, refusal.headers)
        except InvalidAuthorizerError as error:
            return contract_error(500, "internal", "Something went wrong on our side.", error.headers)
        except Exception:
            # Only the authorizer can raise here (the app answers its own errors): API Gateway's 500.
            log.exception("authorizer failed")
            return contract_error(500, "internal", "Something went wrong on our side.")

    @staticmethod
    def _local_response(route: LocalRoute, path: str, headers: dict, body: bytes | None) -> dict:
        from urllib.parse import parse_qsl, urlsplit

        query = dict(parse_qsl(urlsplit(path).query))
        lowered = {k.lower(): v for k, v in headers.items()}
        status, content_type, text = route(query, lowered, body)
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
    HTTP method reaches it (the gateway answers unknown ones with 404, as the deployed API does)."""

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
