"""The hourly SLA sweep: escalate each overdue task to the account's manager, once, and report how many
tasks are overdue. Safe to run twice: escalation is conditional on the task not being escalated yet."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.domain import clock
from chalicelib.domain.errors import NotFound
from chalicelib.logs import logger
from chalicelib.ops.metric_names import NAMESPACE
from chalicelib.store import accounts as account_store
from chalicelib.store import surveys as survey_store
from chalicelib.store import tasks as task_store


def run_sweep(now=None) -> dict:
    now = now or clock.utcnow()
    overdue = list(task_store.overdue(now))
    accounts = account_store.batch_get({t.account_id for t in overdue if t.account_id})
    escalated = 0
    for task in overdue:
        if task.escalated_at is not None or task.status == "escalated":
            continue
        account = accounts.get(task.account_id) if task.account_id else None
        manager = getattr(account, "manager", None)
        if not manager:
            try:
                manager = survey_store.loop_rules(survey_store.get_cached(task.survey_id)).get("fallback_owner")
            except NotFound:
                manager = None
        if task_store.escalate(task, manager, now):
            escalated += 1
            logger.info("task escalated", extra={"task_id": task.task_id})
    for name, value in (("TasksEscalated", escalated), ("TasksOverdue", len(overdue))):
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE):
            pass
    logger.info("sla sweep done", extra={"overdue": len(overdue), "escalated": escalated})
    return {"overdue": len(overdue), "escalated": escalated}
