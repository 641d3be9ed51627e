"""The alarms of the deployed stack as plain data (infra/package.py renders them into CloudWatch alarm
resources); each watches metrics of the dashboard's definition (`dashboard.Names`, `dashboard.Metric`)."""

from __future__ import annotations

from chalicelib.ops.dashboard import (
    ITERATOR_AGE_LIMIT_MS,
    LAMBDA,
    SQS,
    Alarm,
    Expression,
    Metric,
    Names,
    api_metric,
    custom_metric,
)


def alarms(names: Names) -> list[Alarm]:
    """What pages someone: every alarm goes to the stack's SNS topic."""
    stream_fn = names.function("response_stream")
    return [
        Alarm(
            "StreamIteratorAgeAlarm",
            "The responses stream handler is more than 5 minutes behind.",
            (Metric("iterator_age", LAMBDA, "IteratorAge", (("FunctionName", stream_fn),), "Maximum", 300),),
            "GreaterThanThreshold",
            ITERATOR_AGE_LIMIT_MS,
        ),
        Alarm(
            "StreamHandlerErrorsAlarm",
            "The responses stream handler failed whole invocations (crash or timeout); Lambda is retrying.",
            (Metric("errors", LAMBDA, "Errors", (("FunctionName", stream_fn),), "Sum", 300),),
            "GreaterThanThreshold",
            0,
        ),
        Alarm(
            "StreamFailureQueueAlarm",
            "Stream records were skipped after their retries: their pointers are on the on-failure queue.",
            (
                Metric(
                    "depth",
                    SQS,
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", names.failure_queue),),
                    "Maximum",
                    300,
                ),
            ),
            "GreaterThanThreshold",
            0,
        ),
        Alarm(
            "MonthlyMetricsErrorsAlarm",
            "A monthly metrics run failed (scheduled, or queued by a recompute). Lambda retries it twice; "
            "until a run succeeds the month keeps its previous document.",
            (Metric("errors", LAMBDA, "Errors", (("FunctionName", names.function("monthly_metrics")),), "Sum", 300),),
            "GreaterThanThreshold",
            0,
        ),
        Alarm(
            "AsyncFailureQueueAlarm",
            "A scheduled or queued run (SLA sweep, monthly metrics, settling pending answers) still failed after "
            "Lambda's retries: its event is on the async failure queue.",
            (
                Metric(
                    "depth",
                    SQS,
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", names.async_failure_queue),),
                    "Maximum",
                    300,
                ),
            ),
            "GreaterThanThreshold",
            0,
        ),
        Alarm(
            "SettlePendingErrorsAlarm",
            "Settling pending one-click answers failed in two 5-minute periods running: answers stay pending (not "
            "counted) until a run succeeds.",
            (Metric("errors", LAMBDA, "Errors", (("FunctionName", names.function("settle_pending")),), "Sum", 300),),
            "GreaterThanThreshold",
            0,
            evaluation_periods=2,
            datapoints_to_alarm=2,
        ),
        Alarm(
            "Api5xxRateAlarm",
            "The API answered too many requests with 5xx over 5 minutes.",
            (
                api_metric("errors", "5XXError", names, period=300, visible=False),
                api_metric("requests", "Count", names, period=300, visible=False),
            ),
            "GreaterThanThreshold",
            0.02,
            "Api5xxRateThreshold",
            expression=Expression("rate", "errors / requests", "5xx rate"),
        ),
        Alarm(
            "TasksOverdueAlarm",
            "More close-the-loop tasks are overdue than the threshold allows.",
            (custom_metric("overdue", "TasksOverdue", stat="Maximum", period=3600),),
            "GreaterThanThreshold",
            10,
            "TasksOverdueThreshold",
        ),
    ]
