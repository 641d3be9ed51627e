"""Scheduled handlers: the hourly SLA sweep, the monthly metrics job, the settlement of pending answers, the
dispatch of planned emails and the relationship waves.

Each runs under Powertools' `inject_lambda_context`, with the EventBridge event's id as the correlation id of
every line it logs (the monthly job's queued runs carry an id of their own too)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.logs import end_invocation, logger

bp = Blueprint(__name__)

SLA_SWEEP_SCHEDULE = "rate(1 hour)"
MONTHLY_METRICS_SCHEDULE = "cron(0 3 1 * ? *)"
# Pending one-click answers wait PENDING_QUIET_SECONDS (90) after their last page view; a run a minute keeps
# "counted within a few minutes" true at a cost of four small index queries per run when nothing waits.
SETTLE_PENDING_SCHEDULE = "rate(1 minute)"
# Planned emails (a later send_at, reminders) are queued within five minutes of their time.
EMAIL_DISPATCH_SCHEDULE = "rate(5 minutes)"
# Relationship waves: a schedule's wave starts, and a wave's next day runs, within five minutes of its time.
SURVEY_WAVES_SCHEDULE = "rate(5 minutes)"
WAVE_RUN_MARGIN_MS = 60_000
EVENT_ID = "id"  # the EventBridge event's id, as correlation id


@bp.schedule(SLA_SWEEP_SCHEDULE, name="sla_sweep", description="Escalate overdue close-the-loop tasks")
def sla_sweep(event):
    return _as_invoked(_sweep, event)


@bp.schedule(MONTHLY_METRICS_SCHEDULE, name="monthly_metrics", description="Compute last month's metrics")
def monthly_metrics(event):
    return _as_invoked(_monthly_metrics, event)


@bp.schedule(
    SETTLE_PENDING_SCHEDULE,
    name="settle_pending",
    description="Count or exclude one-click answers recorded without a gesture",
)
def settle_pending(event):
    return _as_invoked(_settle, event)


@bp.schedule(EMAIL_DISPATCH_SCHEDULE, name="email_dispatch", description="Queue the survey emails that are due")
def email_dispatch(event):
    return _as_invoked(_dispatch, event)


@bp.schedule(SURVEY_WAVES_SCHEDULE, name="survey_waves", description="Start and run relationship waves")
def survey_waves(event):
    return _as_invoked(_waves, event)


@logger.inject_lambda_context(correlation_id_path=EVENT_ID)
def _waves(event: dict, context) -> dict:
    """The schedule's tick, or (queued by `POST /v1/surveys/{id}/waves`) one wave's run, named in `detail`."""
    from chalicelib.domain import clock
    from chalicelib.usecases import waves

    now = clock.parse_timestamp((event or {}).get("time")) or clock.utcnow()

    # Stop inviting a minute before the timeout (a quarter of the time, for a short one), to save the counts.
    margin = min(WAVE_RUN_MARGIN_MS, context.get_remaining_time_in_millis() / 4) if context is not None else 0

    def out_of_time() -> bool:
        return context is not None and context.get_remaining_time_in_millis() < margin

    detail = (event or {}).get("detail") or {}
    if isinstance(detail, dict) and detail.get("wave_id") and detail.get("survey_id"):
        return waves.run_now(str(detail["survey_id"]), str(detail["wave_id"]), now, out_of_time)
    return waves.tick(now, out_of_time)


@logger.inject_lambda_context(correlation_id_path=EVENT_ID)
def _dispatch(event: dict, context) -> dict:
    from chalicelib import config
    from chalicelib.domain import clock
    from chalicelib.store import send_queue
    from chalicelib.usecases.dispatch_emails import dispatch

    settings = config.settings()
    now = clock.parse_timestamp((event or {}).get("time")) or clock.utcnow()
    queue = settings.send_queue_url
    if not queue:
        return {"due": 0, "queued": 0, "changed": 0, "skipped": "no send queue"}
    return dispatch(now, lambda emails: send_queue.enqueue(queue, settings.region, emails))


@logger.inject_lambda_context(correlation_id_path=EVENT_ID)
def _sweep(event: dict, context) -> dict:
    from chalicelib.events.sweep import run_sweep

    return run_sweep()


@logger.inject_lambda_context(correlation_id_path=EVENT_ID)
def _monthly_metrics(event: dict, context) -> dict:
    from chalicelib.events.monthly_job import run_for_event

    return run_for_event(event)


@logger.inject_lambda_context(correlation_id_path=EVENT_ID)
def _settle(event: dict, context) -> dict:
    from chalicelib.events.settle import run_for_event

    return run_for_event(event)


def _as_invoked(function, event) -> dict:
    """Chalice hands a schedule's function the event alone (its Lambda context on it): call the decorated
    function with both, as Lambda would. Called without a context (a script or a test calling the handler
    directly) the job runs without the function's keys. The correlation id goes when the run ends."""
    try:
        if event.context is None:
            return function.__wrapped__(event.to_dict(), None)
        return function(event.to_dict(), event.context)
    finally:
        end_invocation()
