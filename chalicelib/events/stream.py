"""The responses table's stream handler (placeholder until the stream issue fills it in)."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)


@bp.lambda_function(name="response_stream")
def response_stream(event, context):
    from chalicelib.events.processing import handle_stream_event

    return handle_stream_event(event, context)
