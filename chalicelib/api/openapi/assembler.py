"""Assembles the OpenAPI 3.1 document from the component schemas and the path modules, and answers with it."""

from __future__ import annotations

import re
from functools import lru_cache

from chalicelib.api.openapi import (
    account_paths,
    contact_paths,
    metrics_paths,
    public_paths,
    survey_paths,
    task_paths,
    token_paths,
    wave_paths,
)
from chalicelib.api.openapi.fragments import GATEWAY_ERRORS, HTML, JSON, Operations, ref, string
from chalicelib.api.openapi.schemas import component_schemas

OPENAPI_VERSION = "3.1.0"

ERROR_MEANING = {
    400: "The input cannot be read: not JSON, a form or CSV header that cannot be read, a cursor or token this "
    "API never gave out (`malformed`).",
    401: "No admin token, or an unknown or revoked one (`unauthorized`).",
    403: "Refused: the token lacks the scope (`insufficient_scope`), a tampered or foreign link (`invalid_link`), "
    "an origin not allowed (`origin_not_allowed`), an identity refused or required.",
    404: "No such route or item (`not_found` and the item's own code, such as `survey_not_found`).",
    409: "A conflict: `invalid_transition`, `concurrent_change`, `too_many_changes`, `wave_running`.",
    410: "It existed but is over: `link_expired`, `survey_closed`, `response_closed`, `contact_erased`.",
    413: "The body is larger than the route takes (`too_large`).",
    415: "The body's Content-Type is not one the route takes (`unsupported_content_type`).",
    422: "Readable but refused by a rule (`invalid`, `future_month`); `fields` names each problem.",
    429: "API Gateway throttling (`throttled`, deployed API only).",
    503: "A dependency did not answer; trying again later may work (`sending_unavailable`, `recompute_unavailable`, "
    "`events_not_published`: the change is kept, and sending it again publishes its event).",
}


def _operations(schemas: dict) -> list[dict]:
    op = Operations()
    for paths in (
        public_paths,
        survey_paths,
        wave_paths,
        account_paths,
        contact_paths,
        task_paths,
        metrics_paths,
        token_paths,
    ):
        paths.add(op, schemas)
    return op.entries


def _error_responses(statuses, kind: str) -> dict:
    """The error answers of an operation, by `kind` of route: "json" (the envelope), "html" (the error page;
    the gateway's own 404 and 429 are still the JSON envelope), "json-or-html" (a route that answers a form
    post with a page) or "none" (HEAD: no body)."""
    envelope = {JSON: {"schema": ref("Error")}}
    page = {HTML: {"schema": string(description="The error page.")}}
    out = {}
    for status in sorted(statuses):
        answer: dict = {"description": ERROR_MEANING[status]}
        if kind == "json":
            answer["content"] = envelope
        elif kind == "html":
            answer["content"] = {**envelope, **page} if status in GATEWAY_ERRORS else page
        elif kind == "json-or-html":
            answer["content"] = {**envelope, **page}
        out[str(status)] = answer
    return out


def _path_parameters(path: str, given: list[dict]) -> list[dict]:
    by_name = {p["name"]: p for p in given}
    out = []
    for name in re.findall(r"{(\w+)}", path):
        spec = by_name.get(name, {})
        out.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": spec.get("schema", string(min_len=1)),
                **({"description": spec["description"]} if "description" in spec else {}),
            }
        )
    return out


SECURITY_DESCRIPTION = (
    "An admin token: `Authorization: Bearer npsa_...`. Tokens have scopes: `read` (the GET admin routes), `write` "
    "(also every change: create, update, import, recompute, erase) and `admin` (also token management); each "
    "scope includes the ones before it. Each operation names the scope it needs. No token, or an unknown or "
    "revoked one, answers 401; a token without the scope answers 403 `insufficient_scope`."
)


@lru_cache(maxsize=1)
def document() -> dict:
    """The OpenAPI 3.1 document (the same object each call: do not change it)."""
    schemas = component_schemas()
    paths: dict[str, dict] = {}
    for entry in _operations(schemas):
        operation: dict = {
            "operationId": f"{entry['method'].lower()}_"
            + re.sub(r"[^A-Za-z0-9]+", "_", entry["path"]).strip("_").replace("__", "_"),
            "summary": entry["summary"],
            "tags": [entry["tag"]],
        }
        parameters = _path_parameters(entry["path"], entry.get("path_params", [])) + entry["params"]
        if parameters:
            operation["parameters"] = parameters
        if entry["body"] is not None:
            operation["requestBody"] = entry["body"]
        if entry["scope"]:
            operation["security"] = [{"adminToken": [entry["scope"]]}]
            operation["x-required-scope"] = entry["scope"]
        else:
            operation["security"] = []
        responses = {str(status): answer for status, answer in entry["ok"].items()}
        responses.update(_error_responses(entry["errors"] - set(entry["ok"]), entry.get("errors_as", "json")))
        operation["responses"] = dict(sorted(responses.items()))
        paths.setdefault(entry["path"], {})[entry["method"].lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "NPS and close-the-loop backend",
            "version": "1",
            "summary": "Surveys, capture, close-the-loop tasks, accounts, metrics and reports.",
            "description": "Every route the deployed app serves. Errors always have the `Error` shape. The local "
            "stack's own `/local/...` routes (stream poll, scheduler, status, dashboard, widget demo) are local "
            "tooling, never deployed, and not described here; see the README's 'Local-only routes'.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer", "description": SECURITY_DESCRIPTION}
            },
        },
    }


def operations() -> set[tuple[str, str]]:
    """(path, METHOD) of every operation the document describes."""
    return {(path, method.upper()) for path, methods in document()["paths"].items() for method in methods}
