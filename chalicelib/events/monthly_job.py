"""The monthly metrics job: compute a month's figures (docs/metrics.md), store them, publish the headlines.

Scheduled for the 1st of each month at 03:00 UTC for the month just ended, and run on demand for any month that
has begun: `POST /v1/metrics/{month}/recompute` queues this function with `recompute.event_for(month)` (an
EventBridge-shaped event whose `detail` is {"month": "YYYY-MM"}), which can also be invoked by hand. Only this
function imports this module and the monthly statistics; the API never computes. A rerun gives the
same document (only `computed_at` moves); responses that arrived late are simply included. The running month
gives a `partial` document. Each invocation holds the month's run lock while it computes (see recompute.py): one
that finds another run going does nothing.

Events (with a bus), once the document is stored: Month Computed, and for a month that has ended, Account Health
Changed for each account whose health band at the month's end differs from the end of the month before. The
band is known here and nowhere else: an account's health is computed, never stored, and the previous month's
document holds counts, not accounts. Both bands come from this run's reading of the facts (domain/events.py
`HealthBands`, the rule of the account's standing), so they do not depend on whether the month before was ever
computed, and a rerun publishes the same changes with the same ids. A running month's bands are "so far" and
publish nothing. Events still refused after the retries fail the run, which Lambda retries.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib import config
from chalicelib.domain import clock, months, validation
from chalicelib.domain.events import HealthBands, month_computed
from chalicelib.domain.monthly import compute_month
from chalicelib.domain.months import Month
from chalicelib.logs import logger
from chalicelib.ops.metric_names import NAMESPACE
from chalicelib.store import event_bus, metrics_inputs


def run_month(
    month: str, now: datetime | None = None, *, workers: int | None = None, run_id: str | None = None
) -> dict:
    """Compute, store and publish one month's metrics document; return it. With `run_id`, storing it also
    releases that run's lock (if it still holds it)."""
    now = now or clock.utcnow()
    workers = workers or int(os.environ.get("METRICS_READ_WORKERS", "4"))
    publishing = bool(config.settings().event_bus_name)
    bands = HealthBands(month)
    responses = metrics_inputs.responses(month, workers=workers)
    accounts = metrics_inputs.accounts(segments=workers)
    document = compute_month(
        month,
        responses=bands.observing(responses) if publishing else responses,
        accounts=bands.observing_accounts(accounts) if publishing else accounts,
        invitations=metrics_inputs.invitations(month),
        tasks=metrics_inputs.tasks(month),
        computed_at=now,
        currency=config.settings().currency,
    )
    metrics_inputs.save(month, json.dumps(document, separators=(",", ":")), now, run_id=run_id)
    _publish(document)
    if publishing:
        event_bus.publish_all([month_computed(document), *([] if document["partial"] else bands.changes())])
    logger.info("monthly metrics computed", extra={"month": month, "n": document["nps"]["all"]["n"]})
    return document


def _publish(document: dict) -> None:
    headline = {
        "MonthlyNps": document["nps"]["all"]["nps"],
        "RevenueAtRisk": document["revenue_at_risk"]["monthly"],
        "RevenuePerNpsPoint": document["revenue_per_nps_point"]["monthly"],
    }
    for name, value in headline.items():
        if value is None:
            continue
        with single_metric(name=name, unit=MetricUnit.NoUnit, value=float(value), namespace=NAMESPACE) as metric:
            metric.add_metadata(key="month", value=document["month"])


def month_of_event(event: dict) -> str:
    """The month a run is for: the one just ended for the schedule's event, else the event's `detail.month`
    (a queued or hand-started run), which must be there and be a valid YYYY-MM."""
    detail = event.get("detail") or {}
    if "month" not in detail and event.get("source") == "aws.events":
        return months.previous(clock.utcnow())
    if not isinstance(detail.get("month"), str):
        raise ValueError(  # noqa: TRY004 (a bad event, not a programming error)
            'a monthly metrics run needs "detail": {"month": "YYYY-MM"} (or the schedule\'s event)'
        )
    month = validation.month(detail["month"])
    if Month.parse(month).is_future(clock.utcnow()):
        raise ValueError(f"{month} has not begun: a future month has no figures")
    return month


def run_for_event(event: dict | None = None) -> dict:
    """The function's entry: the month the event names (or the one just ended, on schedule), computed under the
    month's run lock taken with the event's id; when another run holds it, nothing is computed."""
    from chalicelib.events import recompute

    event = event or {}
    month = month_of_event(event)
    event_id = event.get("id")
    run_id = event_id if isinstance(event_id, str) and event_id else str(uuid.uuid4())
    log = {"month": month, "run_id": run_id, "source": event.get("source")}
    held = recompute.take(month, run_id)
    if held is not None:
        logger.info(
            "monthly metrics run skipped: another run of the month is going",
            extra={**log, "running_run_id": held.run_id},
        )
        return {"month": month, "status": "skipped", "running_run_id": held.run_id}
    try:
        document = run_month(month, run_id=run_id)
    except BaseException:
        metrics_inputs.release_run(month, run_id)
        raise
    logger.info("monthly metrics run", extra=log)
    return {
        "month": month,
        "status": "computed",
        "nps": document["nps"]["all"]["nps"],
        "n": document["nps"]["all"]["n"],
        "partial": document["partial"],
    }
