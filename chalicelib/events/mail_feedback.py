"""The function `mail_feedback`: SES bounce and complaint events of the stack's configuration set, delivered by
an EventBridge rule (asynchronously: Lambda retries, then the event goes to the async-failures queue)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.logs import end_invocation, logger

bp = Blueprint(__name__)


@bp.lambda_function(name="mail_feedback")
@logger.inject_lambda_context(correlation_id_path="id")
def mail_feedback(event, context):
    from chalicelib.domain import clock
    from chalicelib.usecases import mail_feedback as feedback

    try:
        result = feedback.record(event, clock.utcnow())
        logger.info("mail feedback", extra={"result": result, "detail_type": (event or {}).get("detail-type")})
        return {"result": result}
    finally:
        end_invocation()
