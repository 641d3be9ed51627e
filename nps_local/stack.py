"""The local stack (`make run`, `python -m nps_local.stack`): the whole backend on one machine, with
no Docker, no AWS account and no network.

An in-process moto server holds the tables (created from infra/template.yaml) and the on-failure queue; the
Chalice app answers on 127.0.0.1:$PORT through the contract gateway; a poller delivers the responses stream to
the real stream handler with Lambda's semantics, and the send queue to the real sender (SES is moto's: every
email sent is at /local/outbox); the event bus is moto's (the events it accepted at /local/events.json); a
scheduler fires the scheduled handlers. HTTP is served only
once the tables exist and the poller and scheduler run, so `GET /v1/health` answering 200 means all are up.
State lives in memory and is lost on stop. Ctrl-C or SIGTERM stops everything and exits 0.

The stack collects the metrics its functions print as EMF (stdout is teed into a bounded in-memory store), and
measures what Lambda, SQS and API Gateway would publish for its invocations; `/local/dashboard?token=<admin token>`
draws the operations dashboard's definition with them (`/local/dashboard.json`: the same numbers). In-process
function invocations run one at a time (`gateway.FUNCTION_LOCK`), and moto answers one request at a time.

Environment: PORT (default 8000; 0 picks a free port), NPS_DEMO (1 loads the demo, the default),
NPS_LOCAL_ADMIN_TOKEN (the admin token; otherwise one is generated), PUBLIC_BASE_URL (default: the stack's URL).
The tables, queues and stream mapping come from infra/template.yaml.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nps_local.banner import StackBanner
from nps_local.event_room import EventRoom
from nps_local.local_routes import STAGE, LocalRoutes
from nps_local.mail_room import MailRoom
from nps_local.queue_sampler import QueueSampler
from nps_local.queued_runs import QueuedRuns
from nps_local.serving import NotYetHandler, serialised_wsgi, thread_local_requests, without_nagle

PROJECT_DIR = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
ADMIN_SCOPES = ["admin"]

log = logging.getLogger("nps.local")


class Stopped(Exception):
    """A stop was requested while the stack was starting."""


@dataclass
class LocalStack(LocalRoutes, MailRoom, EventRoom, QueuedRuns, QueueSampler, StackBanner):
    port: int = 8000
    demo: bool = True
    admin_token: str | None = None
    template_path: Path = PROJECT_DIR / "infra" / "template.yaml"
    stopping: threading.Event = field(default_factory=threading.Event)

    base_url: str = ""
    moto_endpoint: str = ""
    demo_lines: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        from nps_local.metrics_sink import MetricStore

        self._moto = None
        self._server = None
        self._server_thread: threading.Thread | None = None
        self.poller = None
        self.sender_poller = None
        self.scheduler = None
        self.provisioned = None
        self.metrics = MetricStore()
        self.aws_metrics = None
        self.names = None
        self._tee = None
        self._sqs = None
        self._sampler: threading.Thread | None = None
        self._sampler_stop = threading.Event()
        self.queued_runs = {"started": 0, "succeeded": 0, "failed": 0}
        self._queued_threads: list[threading.Thread] = []
        self._queued_lock = threading.Lock()

    # ---- start ------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._check()
        self._collect_metrics()
        self._start_moto()
        self._bind_http()  # early, so a busy port fails before anything else is built
        self._set_environment()
        self._check()
        from nps_local import tables

        self.provisioned = tables.provision(self.moto_endpoint, self.template_path)
        self.warnings.extend(self.provisioned.warnings)
        self._check()
        self._create_admin_token()
        self._start_event_bus()
        self._start_poller()
        self._start_scheduler()
        self._start_queued_runs()
        self._start_sender()
        self._start_sampler()
        self._check()
        self._serve_http()
        if self.demo:
            self._load_demo()

    def _check(self) -> None:
        if self.stopping.is_set():
            raise Stopped()

    def _collect_metrics(self) -> None:
        """Tee stdout into the metric store before any function can print (EMF is printed to stdout)."""
        from nps_local import emf_tee

        if self._tee is None:
            # EMF lines reach the console with the function logs (NPS_LOG_LEVEL=INFO or DEBUG), not otherwise.
            level = os.environ.get("NPS_LOG_LEVEL", "WARNING").upper()
            self._tee = emf_tee.install(self.metrics, echo_emf=level in ("DEBUG", "INFO"))

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        from nps_local import moto_read_speedups, moto_transactions

        for speed_up in (moto_read_speedups, moto_transactions):
            try:
                speed_up.install()
            except moto_read_speedups.UnverifiedMoto as refusal:  # plain moto answers the same, only slower
                log.warning("%s", refusal)
                self.warnings.append(str(refusal))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self._moto.start()
        # moto's in-memory backends have no locks, and the server runs a thread per request: serialise them.
        # Nothing talks to moto before start() returns, so the wrapper is in place for the first request.
        lock = threading.Lock()
        self._moto._server.app = serialised_wsgi(self._moto._server.app, lock)
        self._moto._server.RequestHandlerClass = without_nagle(self._moto._server.RequestHandlerClass)
        host, port = self._moto.get_host_and_port()
        self.moto_endpoint = f"http://{host}:{port}"
        if os.environ.get("NPS_LOCAL_MOTO_HTTP", "") != "1":  # 1: the stack's own calls go over HTTP too
            from nps_local import moto_direct

            moto_direct.install(self.moto_endpoint, lock)

    def _bind_http(self) -> None:
        from nps_local.gateway import LocalHTTPServer

        # Requests that arrive before serving starts wait in the listen queue.
        self._server = LocalHTTPServer((HOST, self.port), NotYetHandler)
        self.port = self._server.server_address[1]
        self.base_url = f"http://{HOST}:{self.port}"

    def _chalice_config(self):
        from chalice.cli.factory import CLIFactory

        return CLIFactory(str(PROJECT_DIR)).create_config_obj(chalice_stage_name=STAGE)

    def _set_environment(self) -> None:
        from chalicelib import config
        from chalicelib.store import models

        self._config = self._chalice_config()
        # As `chalice local` does: the stage's environment, then what only the local stack knows.
        os.environ.update(self._config.environment_variables)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
            AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
            DYNAMODB_ENDPOINT=self.moto_endpoint,
            # Every other AWS client of the functions (SQS, SES) reaches moto too: boto3 reads this.
            AWS_ENDPOINT_URL=self.moto_endpoint,
            NPS_STAGE=STAGE,
            # Links are signed with the built-in development key unless LINK_SIGNING_KEYS names others; outside
            # the local stack and tests the service refuses to start on that key.
            NPS_ALLOW_DEV_KEYS="1",
        )
        os.environ.setdefault("PUBLIC_BASE_URL", self.base_url)
        # The functions' JSON log lines: quiet by default, so loading the demo does not flood the console.
        os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("NPS_LOG_LEVEL", "WARNING").upper()
        config.reset()
        models.unbind()
        self._set_metric_names()

    def _set_metric_names(self) -> None:
        from chalicelib import config
        from chalicelib.ops.dashboard import Names
        from nps_local.aws_metrics import AwsMetrics

        api_stage = getattr(self._config, "api_gateway_stage", None) or STAGE
        self.names = Names(STAGE, table_prefix=config.settings().table_prefix, api_stage=api_stage)
        self.aws_metrics = AwsMetrics(self.metrics, self.names)

    def _create_admin_token(self) -> None:
        from chalicelib.store import admin_tokens, models

        models.bind()

        if self.admin_token:
            admin_tokens.create_with_value(self.admin_token, "local stack", ADMIN_SCOPES)
        else:
            self.admin_token, _ = admin_tokens.create("local stack", ADMIN_SCOPES)

    def _start_poller(self) -> None:
        import boto3

        from chalicelib import config
        from nps_local.poller import StreamPoller

        region = config.settings().region
        p = self.provisioned
        self.poller = StreamPoller.for_table(
            p.stream_table,
            dynamodb_client=boto3.client("dynamodb", endpoint_url=self.moto_endpoint, region_name=region),
            streams_client=boto3.client("dynamodbstreams", endpoint_url=self.moto_endpoint, region_name=region),
            mapping=p.stream_mapping,
            sqs_client=boto3.client("sqs", endpoint_url=self.moto_endpoint, region_name=region),
            on_failure_queue_url=p.on_failure_queue_url,
            function_name="response_stream",
            region=region,
            handler=self._stream_handler(),
        )
        self.poller.start()

    def _function(self, name: str, handler):
        """`handler` run as the local Lambda runtime runs it: one invocation at a time, measured."""
        from nps_local.gateway import FUNCTION_LOCK

        def invoke(event, context):
            with FUNCTION_LOCK:
                if name == "response_stream":
                    self.aws_metrics.iterator_age(name, (event or {}).get("Records") or [])
                return self.aws_metrics.invoke(name, lambda: handler(event, context))

        invoke.__wrapped__ = handler
        return invoke

    def _stream_handler(self):
        from nps_local.poller import default_handler

        return self._function("response_stream", default_handler())

    def _start_scheduler(self) -> None:
        from app import app
        from chalicelib import config
        from nps_local.scheduler import Scheduler

        self.scheduler = Scheduler.from_app(app, region=config.settings().region, app_name=app.app_name, stage=STAGE)
        for job in self.scheduler.jobs.values():
            job.handler = self._function(job.name, job.handler)
        self.scheduler.start()

    def _serve_http(self) -> None:
        from app import app
        from nps_local.gateway import ContractGateway, ContractRequestHandler

        thread_local_requests(app)
        gateway = ContractGateway(
            app,
            self._config,
            local_routes={**self.local_routes(), **self.mail_routes(), **self.event_routes()},
            template_path=self.template_path,
            invoke=lambda call: self.aws_metrics.invoke("api_handler", call),
        )
        self._server.RequestHandlerClass = functools.partial(
            ContractRequestHandler,
            app_object=app,
            config=self._config,
            gateway=gateway,
            observe=lambda method, path, status, ms: self.aws_metrics.api_request(status, ms),
        )
        self._server_thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True
        )
        self._server_thread.start()

    def _load_demo(self) -> None:
        from nps_local.demo import DemoStopped, load_demo

        try:
            self.demo_lines = dict(load_demo(self.base_url, self.admin_token, self.stopping))
        except DemoStopped:
            raise Stopped() from None
        except Exception as error:  # the stack still serves; the banner says what went wrong
            log.exception("loading the demo failed")
            self.warnings.append(f"the demo could not be loaded: {error}")

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call on a partly started stack."""
        if self._server is not None:
            if self._server_thread is not None:
                self._server.shutdown()
                self._server_thread.join(10)
            self._server.server_close()
            self._server = None
        self._sampler_stop.set()
        if self._sampler is not None:
            self._sampler.join(10)
            self._sampler = None
        from chalicelib.events import recompute, wave_runs

        recompute.use_local_runner(None)
        wave_runs.use_local_runner(None)
        for thread in self._queued_threads:
            thread.join(60)
        self._stop_sender()
        for part in (self.scheduler, self.poller):
            if part is not None:
                part.stop()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
            from nps_local import moto_direct, moto_read_speedups, moto_transactions

            moto_direct.uninstall()
            moto_read_speedups.uninstall()  # in-process moto used after the stack (tests) runs as it was
            moto_transactions.uninstall()
        if self._tee is not None:
            from nps_local import emf_tee

            emf_tee.uninstall(self._tee)
            self._tee = None


def main() -> int:
    # The app's own loggers (Powertools, JSON on stdout, as in Lambda) report requests and stream batches.
    for noisy in ("botocore", "pynamodb", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    port = os.environ.get("PORT") or "8000"
    if not port.isdigit() or int(port) > 65535:
        print(f"PORT must be a port number, not {port!r}", file=sys.stderr)
        return 2
    stack = LocalStack(
        port=int(port),
        demo=os.environ.get("NPS_DEMO", "1").strip().lower() not in ("0", "false", "no", ""),
        admin_token=os.environ.get("NPS_LOCAL_ADMIN_TOKEN") or None,
    )

    def request_stop(signum, frame):
        if stack.stopping.is_set():  # a second Ctrl-C: stop waiting for a clean stop
            os._exit(130)
        stack.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    code = 0
    try:
        stack.start()
        print("\n".join(stack.banner()), flush=True)
        while not stack.stopping.wait(0.5):
            pass
        print("Stopping...", flush=True)
    except Stopped:
        pass
    except OSError as error:
        print(f"The local stack could not start: {error}", file=sys.stderr, flush=True)
        code = 1
    except Exception as error:
        log.exception("the local stack failed")
        print(f"The local stack could not start: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stack.stop()
    if code == 0:
        print("Stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
