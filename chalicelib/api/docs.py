"""`GET /openapi.json`: the OpenAPI 3.1 document of every route (built by chalicelib/api/openapi.py, imported
only here and only when asked, so no other request pays for it)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_response
from chalicelib.api.routing import api_route

bp = Blueprint(__name__)


@api_route(bp, "/openapi.json", methods=["GET"])
def openapi_document():
    from chalicelib.api import openapi

    # The document changes only with a deployment: caches may keep it a few minutes.
    return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})
