"""The operations dashboard and alarms as plain data: one definition that infra/package.py renders into the
CloudWatch dashboard body and alarm resources of the deployed stack, and that the local stack renders with the
EMF metrics its functions print.

Custom metrics come from `metric_names` (what the code emits); AWS metrics are those Lambda, DynamoDB, SQS and
API Gateway publish for the resources the template names. Physical names (functions, tables, queue, API) follow
the template's naming for a stage: `Names` is the one place that knows them. No AWS import here.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.domain.importing import CHANNELS
from chalicelib.domain.loop import TASK_KIND
from chalicelib.ops.metric_names import NAMESPACE, SERVICE

LAMBDA = "AWS/Lambda"
DYNAMODB = "AWS/DynamoDB"
SQS = "AWS/SQS"
API_GATEWAY = "AWS/ApiGateway"

# Chalice function names, as in the template's FunctionName (nps-backend-<stage>-<name>).
FUNCTIONS = ("api_handler", "admin_auth", "response_stream", "sla_sweep", "monthly_metrics", "settle_pending")
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


def _custom(
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


def _per_function(metric: str, stat: str, names: Names, period: int = 60) -> tuple[Metric, ...]:
    return tuple(
        Metric(f"{metric.lower()}_{fn}", LAMBDA, metric, (("FunctionName", names.function(fn)),), stat, period, fn)
        for fn in FUNCTIONS
    )


def _api(metric_id: str, name: str, names: Names, stat: str = "Sum", **kwargs) -> Metric:
    dims = (("ApiName", names.api_name), ("Stage", names.api_stage))
    return Metric(metric_id, API_GATEWAY, name, dims, stat, **kwargs)


ITERATOR_AGE_LIMIT_MS = 5 * 60 * 1000


def widgets(names: Names) -> list[Widget]:
    """The dashboard, top to bottom: what customers say, what the team must do, how the system holds up."""
    stream_fn = names.function("response_stream")
    nps_inputs = tuple(
        _custom(name.lower(), name, period=3600, visible=False) for name in ("Promoters", "Passives", "Detractors")
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
            tuple(_custom(f"responses_{c}", "Responses", label=c, channel=c) for c in CHANNELS),
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
        Widget("Detractors per hour", (_custom("detractors", "Detractors", period=3600),), unit="responses"),
        Widget(
            "Close-the-loop tasks",
            (
                *(
                    _custom(f"opened_{k}", "TasksOpened", period=3600, label=f"opened: {k}", kind=k)
                    for k in TASK_KIND.values()
                ),
                _custom("escalated", "TasksEscalated", period=3600, label="escalated"),
                _custom("overdue", "TasksOverdue", stat="Maximum", period=3600, label="overdue (at the sweep)"),
            ),
            unit="tasks",
        ),
        Widget("Lambda errors", _per_function("Errors", "Sum", names), unit="errors"),
        Widget("Lambda throttles", _per_function("Throttles", "Sum", names), unit="throttles"),
        Widget("Lambda duration (p95)", _per_function("Duration", "p95", names), unit="ms"),
        Widget("Lambda concurrency", _per_function("ConcurrentExecutions", "Maximum", names), unit="executions"),
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
                _custom("handler_failures", "HandlerFailures", label="records failed (retried)"),
                _custom("task_write_failures", "TaskWriteFailures", label="task writes refused (fact kept)"),
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
            (_api("api_4xx", "4XXError", names, label="4xx"), _api("api_5xx", "5XXError", names, label="5xx")),
            unit="requests",
        ),
        Widget(
            "API latency",
            tuple(_api(f"latency_{p}", "Latency", names, p, label=p) for p in ("p50", "p95", "p99")),
            unit="ms",
        ),
        Widget("DynamoDB throttled requests by table", tuple(throttles), tuple(throttle_sums), unit="requests"),
    ]


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
                _api("errors", "5XXError", names, period=300, visible=False),
                _api("requests", "Count", names, period=300, visible=False),
            ),
            "GreaterThanThreshold",
            0.02,
            "Api5xxRateThreshold",
            expression=Expression("rate", "errors / requests", "5xx rate"),
        ),
        Alarm(
            "TasksOverdueAlarm",
            "More close-the-loop tasks are overdue than the threshold allows.",
            (_custom("overdue", "TasksOverdue", stat="Maximum", period=3600),),
            "GreaterThanThreshold",
            10,
            "TasksOverdueThreshold",
        ),
    ]


def metric_spec(metric: Metric) -> list:
    """A metric as one row of a dashboard widget's `metrics` list."""
    row: list = [metric.namespace, metric.name]
    for name, value in metric.dimensions:
        row += [name, value]
    options: dict = {"id": metric.id, "stat": metric.stat, "period": metric.period}
    if metric.label:
        options["label"] = metric.label
    if not metric.visible:
        options["visible"] = False
    return [*row, options]


def dashboard_body(items: Iterable[Widget], region: str, *, start: str = "-PT24H") -> str:
    """The CloudWatch dashboard body (JSON) for these widgets, two per row."""
    out = []
    for n, widget in enumerate(items):
        props: dict = {
            "title": widget.title,
            "region": region,
            "view": "timeSeries",
            "stacked": widget.stacked,
            "metrics": [
                *([{"id": e.id, "expression": e.expression, "label": e.label}] for e in widget.expressions),
                *(metric_spec(m) for m in widget.metrics),
            ],
            "yAxis": {"left": {"label": widget.unit, "showUnits": False}},
        }
        low, high = widget.y_range
        if low is not None:
            props["yAxis"]["left"]["min"] = low
        if high is not None:
            props["yAxis"]["left"]["max"] = high
        if widget.annotations:
            props["annotations"] = {
                "horizontal": [{"label": label, "value": value} for label, value in widget.annotations]
            }
        out.append(
            {"type": "metric", "x": 12 * (n % 2), "y": 6 * (n // 2), "width": 12, "height": 6, "properties": props}
        )
    return json.dumps({"start": start, "periodOverride": "inherit", "widgets": out}, sort_keys=True)


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def evaluate(expression: str, values: Mapping[str, float | None]) -> float | None:
    """The value of a metric-math expression at one timestamp, given each metric id's value there (None or
    absent: no datapoint). Like CloudWatch: arithmetic on a missing point or a division by zero gives no point;
    SUM skips missing points."""

    def walk(node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            value = values.get(node.id)
            return None if value is None else float(value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = walk(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp) and (type(node.op) in _OPS or isinstance(node.op, ast.Div)):
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div):
                return None if right == 0 else left / right
            return _OPS[type(node.op)](left, right)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "SUM"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.List)
        ):
            points = [p for p in (walk(e) for e in node.args[0].elts) if p is not None]
            return sum(points) if points else None
        raise ValueError(f"unsupported metric math in {expression!r}: {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval"))
