"""Every CloudWatch metric the code emits (as EMF through Powertools Metrics): the one list the emitting code,
the README and the dashboard and alarms are built from and tested against."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "NpsBackend"
SERVICE = "nps"  # Powertools adds the dimension service=<POWERTOOLS_SERVICE_NAME> to every metric


@dataclass(frozen=True)
class MetricDef:
    name: str
    unit: str
    dimensions: tuple[str, ...]  # besides "service"
    emitted_by: str
    meaning: str


METRICS = (
    MetricDef(
        "Responses",
        "Count",
        ("channel",),
        "response_stream",
        "responses processed for the first time, by channel (email, link, widget, api, and for imports the "
        "row's channel: phone, sms, in_app, chat, import, other)",
    ),
    MetricDef(
        "Emails",
        "Count",
        ("result",),
        "survey_sender",
        "emails the sender finished, by result: sent, skipped (the contact unsubscribed, bounced or answered, "
        "the link expired...), failed (SES refused it), retry (to send again: throttled), duplicate (a "
        "message delivered again)",
    ),
    MetricDef("Promoters", "Count", (), "response_stream", "first-time responses scoring 9-10"),
    MetricDef("Passives", "Count", (), "response_stream", "first-time responses scoring 7-8"),
    MetricDef("Detractors", "Count", (), "response_stream", "first-time responses scoring 0-6"),
    MetricDef("Rescores", "Count", (), "response_stream", "responses whose category changed on a later answer"),
    MetricDef("TasksOpened", "Count", ("kind",), "response_stream", "close-the-loop tasks opened, by kind"),
    MetricDef(
        "HandlerFailures",
        "Count",
        (),
        "response_stream",
        "stream records that failed: retried by Lambda, or skipped when they carry no sequence number",
    ),
    MetricDef(
        "TaskWriteFailures",
        "Count",
        (),
        "response_stream",
        "task writes DynamoDB refused for good (for instance an item over 400 KB); the response's fact was "
        "still written",
    ),
    MetricDef("TasksEscalated", "Count", (), "sla_sweep", "overdue tasks escalated to the account manager"),
    MetricDef("TasksOverdue", "Count", (), "sla_sweep", "tasks past due and not resolved at the sweep"),
    MetricDef("MonthlyNps", "None", (), "monthly_metrics", "NPS of all responses of the month just computed"),
    MetricDef("RevenueAtRisk", "None", (), "monthly_metrics", "monthly revenue of at-risk accounts"),
    MetricDef("RevenuePerNpsPoint", "None", (), "monthly_metrics", "monthly revenue per NPS point"),
)

BY_NAME = {m.name: m for m in METRICS}
