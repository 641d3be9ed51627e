"""The hourly SLA sweep: escalate each overdue task to the account's manager, once, and report how many
tasks are overdue. Safe to run twice: escalation is conditional on the task not being escalated yet.

Each escalation publishes Task Escalated (with a bus), after the sweep. When events are still refused after the
retries the run fails, and Lambda runs it again (twice at most, within the half hour the template allows the
event: MaximumEventAgeInSeconds 1800). That run escalates nothing twice, so it publishes again, from the stored
task and with the same ids, the escalations of every overdue task the sweep escalated in the last
REPUBLISH_MINUTES: more than the oldest retry can be, less than the hour to the next scheduled run.
"""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.domain import clock
from chalicelib.domain import events as bus_events
from chalicelib.domain.errors import NotFound
from chalicelib.logs import logger
from chalicelib.ops.metric_names import NAMESPACE
from chalicelib.store import accounts as account_store
from chalicelib.store import event_bus
from chalicelib.store import surveys as survey_store
from chalicelib.store import tasks as task_store

REPUBLISH_MINUTES = 35


def run_sweep(now=None) -> dict:
    now = now or clock.utcnow()
    overdue = list(task_store.overdue(now))
    accounts = account_store.batch_get({t.account_id for t in overdue if t.account_id})
    escalated = 0
    announced: list[bus_events.Event] = []
    recent = now - timedelta(minutes=REPUBLISH_MINUTES)
    for task in overdue:
        if task.escalated_at is not None or task.status == "escalated":
            if task.escalated_at is not None and task.escalated_at >= recent:  # a retried run: announce again
                announced += _escalation(task)
            continue
        account = accounts.get(task.account_id) if task.account_id else None
        manager = getattr(account, "manager", None)
        if not manager:
            try:
                manager = survey_store.loop_rules(survey_store.get_cached(task.survey_id)).get("fallback_owner")
            except NotFound:
                manager = None
        if task_store.escalate(task, manager, now):  # which refreshes `task` with what it wrote
            escalated += 1
            announced += _escalation(task)
            logger.info("task escalated", extra={"task_id": task.task_id})
    for name, value in (("TasksEscalated", escalated), ("TasksOverdue", len(overdue))):
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE):
            pass
    logger.info("sla sweep done", extra={"overdue": len(overdue), "escalated": escalated})
    event_bus.publish_all(announced)
    return {"overdue": len(overdue), "escalated": escalated}


def _escalation(task) -> list[bus_events.Event]:
    event = bus_events.escalation_event_of(task)
    return [event] if event is not None else []
