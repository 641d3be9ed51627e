"""`GET /openapi.json`: the OpenAPI 3.1 document of every route (built by the chalicelib/api/openapi package,
imported only here and only when asked, so no other request pays for it)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_response
from chalicelib.api.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/openapi.json", methods=["GET"])
def openapi_document():
    from chalicelib.api.openapi import assembler

    # The document changes only with a deployment: caches may keep it a few minutes.
    return json_response(assembler.document(), headers={"Cache-Control": "public, max-age=300"})
