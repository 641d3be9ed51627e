"""The operations dashboard as plain data: one definition that infra/package.py renders into the CloudWatch
dashboard body of the deployed stack (`dashboard_body`), and that the local stack renders with the EMF metrics
its functions print. The alarms (`alarms`) watch the same metrics, named here; `metric_math` evaluates the
expressions.

Custom metrics come from `metric_names` (what the code emits); AWS metrics are those Lambda, DynamoDB, SQS and
API Gateway publish for the resources the template names. Physical names (functions, tables, queue, API) follow
the template's naming for a stage: `Names` is the one place that knows them. No AWS import here.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.importing import CHANNELS
from chalicelib.domain.loop import TASK_KIND
from chalicelib.ops.metric_names import NAMESPACE, SERVICE

LAMBDA = "AWS/Lambda"
DYNAMODB = "AWS/DynamoDB"
SQS = "AWS/SQS"
API_GATEWAY = "AWS/ApiGateway"

# Chalice function names, as in the template's FunctionName (nps-backend-<stage>-<name>).
FUNCTIONS = (
    "api_handler",
    "admin_auth",
    "response_stream",
    "sla_sweep",
    "monthly_metrics",
    "settle_pending",
    "survey_sender",
    "mail_feedback",
    "email_dispatch",
    "survey_waves",
)
# Logical table names (the PynamoDB models' MODELS keys; tests check the two lists agree).
TABLES = (
    "surveys",
    "invitations",
    "responses",
    "contacts",
    "accounts",
    "admin_tokens",
    "tasks",
    "response_facts",
    "monthly_metrics",
    "waves",
)
# The DynamoDB operations PynamoDB issues for this app: ThrottledRequests is published per table and operation.
OPERATIONS = ("GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


@dataclass(frozen=True)
class Names:
    """Physical names of one stage's resources, as infra/template.yaml creates them."""

    stage: str
    table_prefix: str = ""
    api_stage: str = ""

    def __post_init__(self) -> None:
        if not self.table_prefix:
            object.__setattr__(self, "table_prefix", f"nps-{self.stage}-")
        if not self.api_stage:
            object.__setattr__(self, "api_stage", self.stage)

    def function(self, name: str) -> str:
        return f"nps-backend-{self.stage}-{name}"

    def table(self, logical: str) -> str:
        return f"{self.table_prefix}{logical}"

    @property
    def failure_queue(self) -> str:
        return f"nps-{self.stage}-response-stream-failures"

    @property
    def async_failure_queue(self) -> str:
        """Where asynchronous invocations (schedules, queued recomputes) go after Lambda's retries."""
        return f"nps-{self.stage}-async-failures"

    @property
    def send_dead_letters(self) -> str:
        """Where an email's queue message goes after 5 deliveries (its invitation records it as failed)."""
        return f"nps-{self.stage}-send-dead-letters"

    @property
    def api_name(self) -> str:
        return f"nps-backend-{self.stage}"


@dataclass(frozen=True)
class Metric:
    """One metric series: `id` names it in expressions (lowercase letter first, then letters, digits, _)."""

    id: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str = "Sum"
    period: int = 60
    label: str = ""
    visible: bool = True

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)


@dataclass(frozen=True)
class Expression:
    """CloudWatch metric math over the widget's metric ids: + - * / ( ), numbers and SUM([ids])."""

    id: str
    expression: str
    label: str


@dataclass(frozen=True)
class Widget:
    title: str
    metrics: tuple[Metric, ...]
    expressions: tuple[Expression, ...] = ()
    unit: str = ""
    stacked: bool = False
    annotations: tuple[tuple[str, float], ...] = ()  # horizontal lines (label, value), e.g. alarm thresholds
    y_range: tuple[float | None, float | None] = (0, None)  # left axis (min, max); None: automatic


@dataclass(frozen=True)
class Alarm:
    """An alarm on one metric, or on one expression over several (the expression is what is compared)."""

    logical_id: str
    description: str
    metrics: tuple[Metric, ...]
    comparison: str
    threshold: float
    threshold_parameter: str | None = None  # the template parameter that sets the threshold in AWS
    expression: Expression | None = None
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing_data: str = "notBreaching"


def custom_metric(
    metric_id: str,
    name: str,
    *,
    stat: str = "Sum",
    period: int = 60,
    label: str = "",
    visible: bool = True,
    **dimensions: str,
) -> Metric:
    dims = (("service", SERVICE), *sorted(dimensions.items()))
    return Metric(metric_id, NAMESPACE, name, dims, stat, period, label or name, visible)


def per_function(metric: str, stat: str, names: Names, period: int = 60) -> tuple[Metric, ...]:
    return tuple(
        Metric(f"{metric.lower()}_{fn}", LAMBDA, metric, (("FunctionName", names.function(fn)),), stat, period, fn)
        for fn in FUNCTIONS
    )


def api_metric(metric_id: str, name: str, names: Names, stat: str = "Sum", **kwargs) -> Metric:
    dims = (("ApiName", names.api_name), ("Stage", names.api_stage))
    return Metric(metric_id, API_GATEWAY, name, dims, stat, **kwargs)


ITERATOR_AGE_LIMIT_MS = 5 * 60 * 1000


def widgets(names: Names) -> list[Widget]:
    """The dashboard, top to bottom: what customers say, what the team must do, how the system holds up."""
    stream_fn = names.function("response_stream")
    nps_inputs = tuple(
        custom_metric(name.lower(), name, period=3600, visible=False)
        for name in ("Promoters", "Passives", "Detractors")
    )
    throttles = []
    throttle_sums = []
    for i, table in enumerate(TABLES):
        ids = []
        for op in OPERATIONS:
            metric_id = f"t{i}_{op.lower()}"
            ids.append(metric_id)
            throttles.append(
                Metric(
                    metric_id,
                    DYNAMODB,
                    "ThrottledRequests",
                    (("Operation", op), ("TableName", names.table(table))),
                    "Sum",
                    300,
                    f"{table} {op}",
                    False,
                )
            )
        throttle_sums.append(Expression(f"t{i}", f"SUM([{', '.join(ids)}])", table))
    return [
        Widget(
            "Responses per minute by channel",
            tuple(custom_metric(f"responses_{c}", "Responses", label=c, channel=c) for c in CHANNELS),
            unit="responses",
            stacked=True,
        ),
        Widget(
            "NPS (hourly, first answers)",
            nps_inputs,
            (Expression("nps", "100 * (promoters - detractors) / (promoters + passives + detractors)", "NPS"),),
            unit="NPS",
            y_range=(-100, 100),
        ),
        Widget("Detractors per hour", (custom_metric("detractors", "Detractors", period=3600),), unit="responses"),
        Widget(
            "Close-the-loop tasks",
            (
                *(
                    custom_metric(f"opened_{k}", "TasksOpened", period=3600, label=f"opened: {k}", kind=k)
                    for k in TASK_KIND.values()
                ),
                custom_metric("escalated", "TasksEscalated", period=3600, label="escalated"),
                custom_metric("overdue", "TasksOverdue", stat="Maximum", period=3600, label="overdue (at the sweep)"),
            ),
            unit="tasks",
        ),
        Widget(
            "Survey emails",
            (
                *(
                    custom_metric(f"emails_{r}", "Emails", period=300, label=r, result=r)
                    for r in ("sent", "skipped", "failed", "retry")
                ),
                Metric(
                    "send_dead_letters",
                    SQS,
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", names.send_dead_letters),),
                    "Maximum",
                    300,
                    "dead-lettered",
                ),
            ),
            unit="emails",
        ),
        Widget("Lambda errors", per_function("Errors", "Sum", names), unit="errors"),
        Widget("Lambda throttles", per_function("Throttles", "Sum", names), unit="throttles"),
        Widget("Lambda duration (p95)", per_function("Duration", "p95", names), unit="ms"),
        Widget("Lambda concurrency", per_function("ConcurrentExecutions", "Maximum", names), unit="executions"),
        Widget(
            "Responses stream: iterator age and failed records",
            (
                Metric(
                    "iterator_age",
                    LAMBDA,
                    "IteratorAge",
                    (("FunctionName", stream_fn),),
                    "Maximum",
                    60,
                    "iterator age (ms)",
                ),
                custom_metric("handler_failures", "HandlerFailures", label="records failed (retried)"),
                custom_metric("task_write_failures", "TaskWriteFailures", label="task writes refused (fact kept)"),
            ),
            unit="ms / records",
            annotations=(("alarm: 5 min", ITERATOR_AGE_LIMIT_MS),),
        ),
        Widget(
            "Failure queues depth",
            (
                Metric(
                    "failed_batches",
                    SQS,
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", names.failure_queue),),
                    "Maximum",
                    300,
                    "skipped stream batches",
                ),
                Metric(
                    "failed_runs",
                    SQS,
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", names.async_failure_queue),),
                    "Maximum",
                    300,
                    "failed scheduled or queued runs",
                ),
            ),
            unit="messages",
        ),
        Widget(
            "API errors",
            (
                api_metric("api_4xx", "4XXError", names, label="4xx"),
                api_metric("api_5xx", "5XXError", names, label="5xx"),
            ),
            unit="requests",
        ),
        Widget(
            "API latency",
            tuple(api_metric(f"latency_{p}", "Latency", names, p, label=p) for p in ("p50", "p95", "p99")),
            unit="ms",
        ),
        Widget("DynamoDB throttled requests by table", tuple(throttles), tuple(throttle_sums), unit="requests"),
    ]
