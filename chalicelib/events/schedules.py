"""Scheduled handlers: the hourly SLA sweep and the monthly metrics job."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)

SLA_SWEEP_SCHEDULE = "rate(1 hour)"
MONTHLY_METRICS_SCHEDULE = "cron(0 3 1 * ? *)"


@bp.schedule(SLA_SWEEP_SCHEDULE, name="sla_sweep", description="Escalate overdue close-the-loop tasks")
def sla_sweep(event):
    from chalicelib.events.sweep import run_sweep

    return run_sweep()


@bp.schedule(MONTHLY_METRICS_SCHEDULE, name="monthly_metrics", description="Compute last month's metrics")
def monthly_metrics(event):
    from chalicelib.events.monthly_job import run_for_event

    return run_for_event(event.to_dict())
