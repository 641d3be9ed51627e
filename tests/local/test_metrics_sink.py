"""The local stack's metric collection: EMF lines read off stdout without changing it, a bounded per-minute store,
the AWS metrics measured around invocations, the dashboard definition drawn with them (metric math included), and
the local server running one app invocation at a time."""

from __future__ import annotations

import functools
import io
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.ops import dashboard
from chalicelib.ops.metric_names import NAMESPACE, SERVICE
from nps_local import dashboard_page, emf_tee
from nps_local.aws_metrics import AwsMetrics
from nps_local.emf import parse_emf
from nps_local.emf_tee import EmfTee
from nps_local.metrics_sink import MetricStore

T0 = 1_700_000_040.0  # the start of a minute
NAMES = dashboard.Names("dev")


def emf(
    values: dict,
    dimension_sets=(("service",),),
    *,
    at: float = T0,
    namespace: str = NAMESPACE,
    units: dict | None = None,
    **dimensions,
) -> str:
    doc = {
        "_aws": {
            "Timestamp": int(at * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(s) for s in dimension_sets],
                    "Metrics": [{"Name": n, "Unit": (units or {}).get(n, "Count")} for n in values],
                }
            ],
        },
        "service": SERVICE,
        **dimensions,
        **values,
    }
    return json.dumps(doc, separators=(",", ":"))


def store_at(now: float = T0 + 30, **options) -> MetricStore:
    return MetricStore(clock=lambda: now, **options)


# ---- parsing --------------------------------------------------------------------------------------------------


def test_an_emf_line_gives_one_sample_per_value_and_dimension_set():
    line = emf({"Responses": [1.0, 2.0, 3.0]}, (("service", "channel"), ("service",)), channel="email")

    samples = parse_emf(line)

    assert len(samples) == 6
    assert {s.namespace for s in samples} == {NAMESPACE}
    assert {s.name for s in samples} == {"Responses"}
    assert {s.unit for s in samples} == {"Count"}
    assert {s.timestamp for s in samples} == {T0}
    by_dims = {}
    for s in samples:
        by_dims.setdefault(tuple(sorted(s.dimensions.items())), []).append(s.value)
    assert by_dims == {
        (("channel", "email"), ("service", SERVICE)): [1.0, 2.0, 3.0],
        (("service", SERVICE),): [1.0, 2.0, 3.0],
    }


def test_several_metrics_in_one_line_and_scalar_values():
    line = emf({"Promoters": 2, "Detractors": 1.0}, units={"Promoters": "Count", "Detractors": "None"})
    samples = {s.name: s for s in parse_emf(line)}
    assert set(samples) == {"Promoters", "Detractors"}
    assert samples["Promoters"].value == 2.0 and samples["Detractors"].unit == "None"


def test_powertools_single_metric_output_is_understood(capsys):
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name="TasksOpened", unit=MetricUnit.Count, value=3, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="kind", value="recovery")
    [line] = capsys.readouterr().out.splitlines()

    [sample] = parse_emf(line)
    assert (sample.namespace, sample.name, sample.value, sample.unit) == (NAMESPACE, "TasksOpened", 3.0, "Count")
    assert dict(sample.dimensions) == {"service": SERVICE, "kind": "recovery"}


@pytest.mark.parametrize(
    "line",
    [
        "",
        "plain text",
        '{"level": "INFO", "message": "request"}',
        '{"_aws": "not a directive"}',
        '{"_aws": {"CloudWatchMetrics": "nope"}}',
        (
            '{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["missing"]],'
            ' "Metrics": [{"Name": "M"}]}]}, "M": 1}'
        ),
        '{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Metrics": [{"Name": "M"}]}]}, "M": "x"}',
        '{"_aws": {broken json',
    ],
)
def test_lines_that_are_not_valid_emf_give_nothing(line):
    assert parse_emf(line) == []


def test_a_dimension_set_naming_a_missing_key_is_skipped_but_the_others_count():
    line = emf({"Responses": 1}, (("service", "channel"), ("service",)))  # no "channel" key in the line
    assert [dict(s.dimensions) for s in parse_emf(line)] == [{"service": SERVICE}]


# ---- the tee ----------------------------------------------------------------------------------------------------


def test_the_tee_writes_everything_through_and_records_emf_lines():
    out, store = io.StringIO(), store_at()
    tee = EmfTee(out, store)
    line = emf({"Detractors": 2})

    tee.write("starting\n")
    tee.write('{"level": "INFO", "message": "half a ')
    tee.write('line"}\n')
    print(line, file=tee)  # print writes the text, then the newline on its own
    tee.write("no newline yet")
    tee.flush()

    assert out.getvalue() == f'starting\n{{"level": "INFO", "message": "half a line"}}\n{line}\nno newline yet'
    assert store.emf_lines == 1
    assert store.aggregate(NAMESPACE, "Detractors", {"service": SERVICE}, "Sum", start=T0, end=T0 + 60) == 2.0
    assert tee.encoding == out.encoding  # anything else is the wrapped stream's


def test_a_quiet_tee_records_emf_lines_without_showing_them_and_shows_the_rest_at_once():
    out, store = io.StringIO(), store_at()
    tee = EmfTee(out, store, echo_emf=False)
    line = emf({"Detractors": 2})

    tee.write("\r  demo: loading 3/12")  # a progress line, rewritten in place: shown before any newline
    assert out.getvalue() == "\r  demo: loading 3/12"
    print(line, file=tee)  # the JSON, then its newline on its own
    tee.write(line + "\n")  # or both at once
    tee.write("\r  demo: loading 4/12\n")
    print("ordinary output", file=tee)

    assert out.getvalue() == "\r  demo: loading 3/12\r  demo: loading 4/12\nordinary output\n"
    assert store.emf_lines == 2
    assert store.aggregate(NAMESPACE, "Detractors", {"service": SERVICE}, "Sum", start=T0, end=T0 + 60) == 4.0


def test_installing_the_tee_captures_print_and_uninstalling_restores_stdout(capsys):
    import sys

    store = store_at()
    before = sys.stdout
    with emf_tee.capturing_stdout(store) as tee:
        assert sys.stdout is tee
        print(emf({"Promoters": 1}))
        print("ordinary output")
    assert sys.stdout is before
    printed = capsys.readouterr().out
    assert "ordinary output" in printed and '"Promoters"' in printed
    assert store.aggregate(NAMESPACE, "Promoters", {"service": SERVICE}, "Sum", start=T0, end=T0 + 60) == 1.0


def test_threads_printing_at_once_never_mix_their_lines():
    out, store = io.StringIO(), store_at()
    tee = EmfTee(out, store)
    threads, per_thread = 8, 200

    def work(n: int) -> None:
        line = emf({"Responses": 1}, (("service", "channel"),), channel=f"c{n}")
        for _ in range(per_thread):
            half = len(line) // 2
            tee.write(line[:half])  # a line arrives in pieces, between other threads' pieces
            tee.write(line[half:])
            tee.write("\n")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))

    assert store.emf_lines == threads * per_thread
    for n in range(threads):
        total = store.aggregate(
            NAMESPACE, "Responses", {"service": SERVICE, "channel": f"c{n}"}, "Sum", start=T0, end=T0 + 60
        )
        assert total == per_thread


# ---- the store --------------------------------------------------------------------------------------------------


def test_samples_are_aggregated_per_minute_with_each_statistic():
    store = store_at(T0 + 300)
    dims = {"FunctionName": "f"}
    for offset, value in ((5, 10.0), (30, 30.0), (59, 20.0), (65, 7.0), (185, 1.0)):
        store.put("AWS/Lambda", "Duration", value, dimensions=dims, timestamp=T0 + offset)

    def points(stat):
        return store.datapoints("AWS/Lambda", "Duration", dims, stat, start=T0, end=T0 + 240)

    assert [t for t, _ in points("Sum")] == [T0, T0 + 60, T0 + 120, T0 + 180]
    assert [v for _, v in points("Sum")] == [60.0, 7.0, None, 1.0]  # no sample, no datapoint (not zero)
    assert [v for _, v in points("Maximum")] == [30.0, 7.0, None, 1.0]
    assert [v for _, v in points("Minimum")] == [10.0, 7.0, None, 1.0]
    assert [v for _, v in points("Average")] == [20.0, 7.0, None, 1.0]
    assert [v for _, v in points("SampleCount")] == [3.0, 1.0, None, 1.0]
    assert [v for _, v in points("p50")] == [20.0, 7.0, None, 1.0]
    assert store.datapoints("AWS/Lambda", "Duration", dims, "Sum", start=T0, end=T0 + 240, period=120) == [
        (T0, 67.0),
        (T0 + 120, 1.0),
    ]
    assert store.aggregate("AWS/Lambda", "Duration", dims, "p95", start=T0, end=T0 + 240) == 30.0
    assert store.aggregate("AWS/Lambda", "Duration", dims, "Sum", start=T0 + 60, end=T0 + 120) == 7.0
    assert store.aggregate("AWS/Lambda", "Duration", {"FunctionName": "other"}, "Sum", start=T0, end=T0 + 240) is None
    with pytest.raises(ValueError):
        store.aggregate("AWS/Lambda", "Duration", dims, "Median", start=T0, end=T0 + 240)


def test_percentiles_are_nearest_rank():
    store = store_at()
    for value in range(1, 101):
        store.put("N", "Latency", float(value), timestamp=T0)
    for stat, expected in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("p100", 100.0), ("p99.5", 100.0)):
        assert store.aggregate("N", "Latency", {}, stat, start=T0, end=T0 + 60) == expected


def test_series_match_on_their_exact_dimensions():
    store = store_at()
    store.put(NAMESPACE, "Responses", 1, dimensions={"service": SERVICE, "channel": "email"}, timestamp=T0)
    assert store.seen(NAMESPACE, "Responses", {"channel": "email", "service": SERVICE})
    assert not store.seen(NAMESPACE, "Responses", {"service": SERVICE})  # CloudWatch: another metric
    assert not store.seen(NAMESPACE, "Responses", {"service": SERVICE, "channel": "link"})


def test_memory_is_bounded_in_series_buckets_and_values():
    now = [T0]
    store = MetricStore(clock=lambda: now[0], retention=600, max_series=5, values_per_bucket=50)

    for minute in range(100):  # 100 minutes of one series: only the retention's buckets stay
        now[0] = T0 + minute * 60
        store.put("N", "M", 1.0, timestamp=now[0])
    assert store.bucket_count() <= store.max_buckets == 12
    assert store.aggregate("N", "M", {}, "SampleCount", start=0, end=now[0] + 60) <= 12

    for _ in range(10_000):  # many values in one minute: exact counts, a bounded sample for percentiles
        store.put("N", "Busy", 2.0, timestamp=now[0])
    assert store.aggregate("N", "Busy", {}, "Sum", start=now[0], end=now[0] + 60) == 20_000.0
    assert store.aggregate("N", "Busy", {}, "p99", start=now[0], end=now[0] + 60) == 2.0
    assert store.stored_values() <= 2 * 12 * 50

    kept = [store.put("N", f"S{i}", 1.0, timestamp=now[0]) for i in range(10)]  # series beyond the limit
    assert kept.count(True) == 3 and store.describe()["series"] == 5
    assert not store.put("N", "M", 1.0, timestamp=now[0] - 3600)  # older than the retention
    assert store.describe()["dropped"] == 8


# ---- what AWS would publish -------------------------------------------------------------------------------------


def test_invocations_are_measured_like_lambda_and_requests_like_api_gateway():
    store = store_at()
    aws = AwsMetrics(store, NAMES)
    stream = {"FunctionName": NAMES.function("response_stream")}

    assert aws.invoke("response_stream", lambda: {"batchItemFailures": []}) == {"batchItemFailures": []}

    def crash():
        raise RuntimeError("the handler crashed")

    with pytest.raises(RuntimeError):
        aws.invoke("response_stream", crash)
    aws.iterator_age(
        "response_stream",
        [{"dynamodb": {"ApproximateCreationDateTime": T0 - 2}}, {"dynamodb": {"ApproximateCreationDateTime": T0 - 1}}],
        now=T0,
    )
    for status in (200, 201, 404, 401, 502):
        aws.api_request(status, 12.5)
    aws.queue_depth(NAMES.failure_queue, 2)

    window = {"start": T0 - 60, "end": T0 + 120}
    assert store.aggregate("AWS/Lambda", "Invocations", stream, "Sum", **window) == 2
    assert store.aggregate("AWS/Lambda", "Errors", stream, "Sum", **window) == 1
    assert store.aggregate("AWS/Lambda", "ConcurrentExecutions", stream, "Maximum", **window) == 1
    assert store.aggregate("AWS/Lambda", "Duration", stream, "SampleCount", **window) == 2
    assert store.aggregate("AWS/Lambda", "IteratorAge", stream, "Maximum", **window) == 1000
    api = {"ApiName": NAMES.api_name, "Stage": NAMES.api_stage}
    assert store.aggregate("AWS/ApiGateway", "Count", api, "Sum", **window) == 5
    assert store.aggregate("AWS/ApiGateway", "4XXError", api, "Sum", **window) == 2
    assert store.aggregate("AWS/ApiGateway", "5XXError", api, "Sum", **window) == 1
    assert store.aggregate("AWS/ApiGateway", "Latency", api, "p95", **window) == 12.5
    assert (
        store.aggregate(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": NAMES.failure_queue}, "Maximum", **window
        )
        == 2
    )


# ---- the dashboard drawn with the store -------------------------------------------------------------------------


H0 = T0 - T0 % 3600  # the start of T0's hour


def nps_store() -> MetricStore:
    """First answers over four hours, (promoters, passives, detractors) per hour, one hour with none; the clock
    moves with them, as it does while the stack runs."""
    now = [H0]
    store = MetricStore(clock=lambda: now[0])
    per_hour = {0: (5, 3, 2), 1: (1, 0, 4), 3: (2, 2, 1)}
    for hour, counts in per_hour.items():
        now[0] = H0 + hour * 3600 + 7
        for name, count in zip(("Promoters", "Passives", "Detractors"), counts, strict=True):
            for _ in range(count):  # one EMF line per batch, one batch per answer
                store.add_all(parse_emf(emf({name: 1}, at=now[0])))
    now[0] = H0 + 3 * 3600 + 10 * 60
    return store


def widget(model: dict, title: str) -> dict:
    return next(w for w in model["widgets"] if w["title"].startswith(title))


def series(w: dict, metric_id: str) -> dict:
    return next(s for s in w["series"] if s["id"] == metric_id)


def test_nps_is_computed_with_the_definitions_metric_math_per_hour_and_over_the_window():
    model = dashboard_page.build(nps_store(), dashboard.widgets(NAMES), names=NAMES, minutes=5)

    hourly = widget(model, "NPS")
    assert hourly["period"] == 3600 and hourly["window"] == "last 24 hours"
    assert hourly["buckets"] == [H0 + (h - 20) * 3600 for h in range(24)]  # the 24 hours ending with hour 3
    nps = series(hourly, "nps")
    # by hand: 100 * (P - D) / (P + Pa + D) for each hour. No answers: no datapoint. An hour where a category
    # has no datapoint (no passives in hour 1) has none either: arithmetic on a missing point is missing.
    assert nps["values"][-4:] == [30.0, None, None, 20.0] and set(nps["values"][:-4]) == {None}
    assert nps["latest"] == 20.0 and nps["latest_at"] == H0 + 3 * 3600
    # over the window: P 8, Pa 5, D 7
    assert nps["window"] == pytest.approx(100 * (8 - 7) / 20)
    detractors = series(widget(model, "Detractors per hour"), "detractors")
    assert detractors["values"][-4:] == [2.0, 4.0, None, 1.0] and detractors["window"] == 7.0
    assert detractors["latest"] == 1.0
    # Widgets of per-minute metrics keep per-minute datapoints over `minutes`.
    per_minute = widget(model, "Responses per minute")
    assert per_minute["period"] == 60 and per_minute["buckets"] == model["buckets"] and len(model["buckets"]) == 5


def test_a_chart_titled_per_hour_shows_hours():
    """Its buckets are hours and so are its axis labels (they were per-minute buckets labelled 14:05, 14:06...)."""
    import re

    model = dashboard_page.build(nps_store(), dashboard.widgets(NAMES), names=NAMES, minutes=30)
    page = dashboard_page.render(model)
    hourly = [w for w in model["widgets"] if w["period"] == 3600]
    assert {w["title"] for w in hourly} >= {"Detractors per hour", "NPS (hourly, first answers)"}
    for w in model["widgets"]:
        if "hour" in w["title"].lower():
            assert w["period"] == 3600, w["title"]
        start = page.index(f'data-widget="{w["id"]}"')
        svg_text = page[page.index("<svg", start) : page.index("</svg>", start)]
        labels = re.findall(r'<text [^>]*class="x-label"[^>]*>([^<]*)</text>', svg_text)
        if w["period"] != 3600 or not w["has_data"]:
            continue
        assert len(labels) >= 4 and all(re.fullmatch(r"\d\d:00", label) for label in labels), labels
        hours = [int(label[:2]) for label in labels]
        steps = {(b - a) % 24 for a, b in itertools.pairwise(hours)}
        assert len(steps) == 1 and steps.pop() >= 1, labels
        assert "one datapoint per hour here" in page[start : page.index("</section>", start)]
        assert "last 24 hours" in page[start : page.index("</section>", start)]


def test_every_widget_is_a_section_and_what_has_no_local_source_says_so():
    store = nps_store()
    model = dashboard_page.build(store, dashboard.widgets(NAMES), names=NAMES, minutes=5)
    page = dashboard_page.render(model)

    for w in dashboard.widgets(NAMES):
        assert f'<section class="widget" data-widget="{dashboard_page.widget_id(w)}"' in page
    assert page.count('<svg class="chart"') == len(dashboard.widgets(NAMES))
    assert '<span class="latest" data-metric="nps" data-value="20.0">20</span>' in page
    assert '<span class="window" data-metric="detractors" data-value="7.0">7</span>' in page
    throttles = widget(model, "Lambda throttles")
    assert not throttles["seen"] and not throttles["has_data"]
    assert all(s["note"].startswith("no local data") for s in throttles["series"])
    assert "nothing throttles a function" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert json.loads(json.dumps(model)) == model  # the JSON route serves the same numbers


def test_widget_ids_are_stable_and_unique():
    ids = [dashboard_page.widget_id(w) for w in dashboard.widgets(NAMES)]
    assert len(set(ids)) == len(ids)
    assert "detractors-per-hour" in ids and "nps-hourly-first-answers" in ids


# ---- one app invocation at a time -------------------------------------------------------------------------------


class SlowGateway:
    """Stands in for ContractGateway: answers after a pause and records how many requests overlapped."""

    def __init__(self):
        self.running = 0
        self.most = 0
        self.guard = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()

    def is_local_route(self, method, path):
        return path.startswith("/local/")

    def handle_request(self, method, path, headers, body):
        with self.guard:
            self.running += 1
            self.most = max(self.most, self.running)
        self.entered.set()
        if path == "/v1/slow":
            self.release.wait(10)
        else:
            time.sleep(0.005)  # widens the window in which two requests would overlap without the lock
        with self.guard:
            self.running -= 1
        status = 404 if path == "/v1/nope" else 200
        return {
            "statusCode": status,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "body": json.dumps({"path": path}),
        }


@pytest.fixture
def served():
    from nps_local.gateway import ContractRequestHandler, LocalHTTPServer

    gateway, seen, lock = SlowGateway(), [], threading.RLock()
    handler = functools.partial(
        ContractRequestHandler,
        app_object=None,
        config=None,
        gateway=gateway,
        lock=lock,
        observe=lambda method, path, status, ms: seen.append((method, path, status)),
    )
    server = LocalHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, gateway, seen, lock
    gateway.release.set()
    server.shutdown()
    server.server_close()


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_app_requests_run_one_at_a_time_and_are_observed(served):
    base, gateway, seen, _ = served
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(fetch, [f"{base}/v1/surveys"] * 10 + [f"{base}/v1/nope"] * 2))
    assert sorted(statuses) == [200] * 10 + [404] * 2
    assert gateway.most == 1
    assert sorted(s for _, _, s in seen) == [200] * 10 + [404] * 2


def test_health_and_local_routes_answer_while_the_app_is_busy(served):
    base, gateway, seen, _lock = served
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(fetch, f"{base}/v1/slow")
        assert gateway.entered.wait(10)  # the slow request holds the lock now
        assert fetch(f"{base}/v1/health") == 200
        assert fetch(f"{base}/local/status") == 200
        gateway.release.set()
        assert slow.result(10) == 200
    assert ("GET", "/local/status", 200) not in seen  # local-only routes are not the API's requests
    assert ("GET", "/v1/health", 200) in seen


def test_moto_requests_are_answered_one_at_a_time():
    from nps_local.serving import serialised_wsgi

    running, most, guard = [0], [0], threading.Lock()

    def app(environ, start_response):
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        start_response("200 OK", [])
        time.sleep(0.001)  # widens the window in which two requests would overlap without the lock
        with guard:
            running[0] -= 1
        return iter([b"a", b"b"])

    wrapped = serialised_wsgi(app, threading.Lock())
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: wrapped({}, lambda status, headers: None), range(200)))
    assert bodies == [[b"a", b"b"]] * 200 and most[0] == 1
