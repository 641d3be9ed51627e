"""The responses table's stream handler: the Lambda function `response_stream`, its work in processing.py."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.logs import end_invocation, logger

bp = Blueprint(__name__)


# Every line of the invocation carries the function's context; each record's lines carry the record's eventID
# as correlation id, and the batch's own lines the invocation's request id (processing.handle_stream_event).
@bp.lambda_function(name="response_stream")
@logger.inject_lambda_context
def response_stream(event, context):
    from chalicelib.events.processing import handle_stream_event

    try:
        return handle_stream_event(event, context)
    finally:
        end_invocation()
