"""Scheduled handlers: the hourly SLA sweep, the monthly metrics job and the settlement of pending answers."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)

SLA_SWEEP_SCHEDULE = "rate(1 hour)"
MONTHLY_METRICS_SCHEDULE = "cron(0 3 1 * ? *)"
# Pending one-click answers wait PENDING_QUIET_SECONDS (90) after their last page view; a run a minute keeps
# "counted within a few minutes" true at a cost of four small index queries per run when nothing waits.
SETTLE_PENDING_SCHEDULE = "rate(1 minute)"


@bp.schedule(SLA_SWEEP_SCHEDULE, name="sla_sweep", description="Escalate overdue close-the-loop tasks")
def sla_sweep(event):
    from chalicelib.events.sweep import run_sweep

    return run_sweep()


@bp.schedule(MONTHLY_METRICS_SCHEDULE, name="monthly_metrics", description="Compute last month's metrics")
def monthly_metrics(event):
    from chalicelib.events.monthly_job import run_for_event

    return run_for_event(event.to_dict())


@bp.schedule(
    SETTLE_PENDING_SCHEDULE,
    name="settle_pending",
    description="Count or exclude one-click answers recorded without a gesture",
)
def settle_pending(event):
    from chalicelib.events.settle import run_for_event

    return run_for_event(event.to_dict())
