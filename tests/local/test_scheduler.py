"""The local scheduler: EventBridge expressions computed on fixed clocks, due jobs fired once, and the app's
real scheduled handlers fired on demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalice import Chalice, Cron, Rate

from nps_local.scheduler import Job, Scheduler, parse


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        ("rate(1 hour)", "2026-03-15T10:00:00", "2026-03-15T11:00:00"),
        ("rate(1 hour)", "2026-03-15T11:00:00", "2026-03-15T12:00:00"),
        ("rate(1 hour)", "2026-03-15T11:59:59", "2026-03-15T12:00:00"),
        ("rate(5 minutes)", "2026-03-15T10:07:00", "2026-03-15T10:10:00"),
        ("rate(2 days)", "2026-03-16T09:00:00", "2026-03-17T10:00:00"),
    ],
)
def test_rates_count_from_the_start(expression, now, expected):
    anchor = at("2026-03-15T10:00:00")
    assert parse(expression).next_after(at(now), anchor) == at(expected)


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        # The monthly metrics job: 1st of the month, 03:00 UTC.
        ("cron(0 3 1 * ? *)", "2026-03-15T12:00:00", "2026-04-01T03:00:00"),
        ("cron(0 3 1 * ? *)", "2026-04-01T02:59:00", "2026-04-01T03:00:00"),
        ("cron(0 3 1 * ? *)", "2026-04-01T03:00:00", "2026-05-01T03:00:00"),
        ("cron(0 3 1 * ? *)", "2026-12-31T23:59:59", "2027-01-01T03:00:00"),
        # Days of the week run 1-7 from Sunday, with names and ranges.
        ("cron(0 9 ? * MON-FRI *)", "2026-03-13T10:00:00", "2026-03-16T09:00:00"),  # Friday -> Monday
        ("cron(30 8 ? * 1 *)", "2026-03-15T09:00:00", "2026-03-22T08:30:00"),  # Sundays
        ("cron(0 12 ? * SAT,SUN *)", "2026-03-13T12:00:00", "2026-03-14T12:00:00"),
        # Lists, ranges and steps.
        ("cron(0/15 8-10 * * ? *)", "2026-03-15T08:50:00", "2026-03-15T09:00:00"),
        ("cron(0/15 8-10 * * ? *)", "2026-03-15T10:45:00", "2026-03-16T08:00:00"),
        ("cron(5,35 */6 * * ? *)", "2026-03-15T06:06:00", "2026-03-15T06:35:00"),
        ("cron(0 0 1 JAN-MAR/2 ? *)", "2026-01-02T00:00:00", "2026-03-01T00:00:00"),
        # The last day of the month, leap years, and years.
        ("cron(0 12 L * ? *)", "2024-02-10T00:00:00", "2024-02-29T12:00:00"),
        ("cron(0 0 29 2 ? *)", "2025-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("cron(0 0 1 1 ? 2030)", "2026-06-01T00:00:00", "2030-01-01T00:00:00"),
    ],
)
def test_cron_next_firing(expression, now, expected):
    assert parse(expression).next_after(at(now)) == at(expected)


def test_a_cron_past_its_years_never_fires_again():
    assert parse("cron(0 0 1 1 ? 2030)").next_after(at("2030-01-01T00:00:00")) is None
    assert parse("cron(0 0 30 2 ? *)").next_after(at("2026-01-01T00:00:00")) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(1 hours)",
        "rate(5 minute)",
        "rate(2 weeks)",
        "cron(0 3 1 * * *)",  # both day fields set
        "cron(0 3 ? * ? *)",  # neither
        "cron(61 * * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 3 1 13 ? *)",
        "cron(0 3 ? * 8 *)",
        "cron(0 3 ? * 6#3 *)",  # not supported: say so rather than fire at the wrong time
        "cron(0 3 1 * ?)",
        "every hour",
    ],
)
def test_expressions_it_cannot_honour_are_refused(expression):
    with pytest.raises(ValueError):
        parse(expression)


def recording_scheduler(clock):
    fired = []

    def handler(name):
        return lambda event, context: fired.append((name, event)) or name

    jobs = {
        name: Job(name, expr, parse(expr), handler(name))
        for name, expr in (("hourly", "rate(1 hour)"), ("monthly", "cron(0 3 1 * ? *)"))
    }
    return Scheduler(jobs, clock=clock), fired


def test_due_jobs_fire_once_at_their_times():
    now = [at("2026-03-31T23:30:00")]
    scheduler, fired = recording_scheduler(lambda: now[0])
    scheduler.plan()

    now[0] += timedelta(minutes=59)
    assert scheduler.run_pending() == []
    now[0] += timedelta(minutes=1)  # 00:30: an hour since the start
    assert scheduler.run_pending() == ["hourly"]
    assert scheduler.run_pending() == []
    now[0] = at("2026-04-01T03:00:00")
    assert scheduler.run_pending() == ["hourly", "monthly"]
    assert scheduler.jobs["monthly"].next_at == at("2026-05-01T03:00:00")
    assert scheduler.jobs["hourly"].next_at == at("2026-04-01T03:30:00")
    event = fired[-1][1]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-04-01T03:00:00Z"


def test_a_failing_handler_does_not_stop_the_schedule():
    now = [at("2026-03-15T10:00:00")]

    def broken(event, context):
        raise RuntimeError("boom")

    job = Job("hourly", "rate(1 hour)", parse("rate(1 hour)"), broken)
    scheduler = Scheduler({"hourly": job}, clock=lambda: now[0])
    scheduler.plan()
    now[0] += timedelta(hours=1)
    assert scheduler.run_pending() == ["hourly"]
    assert scheduler.jobs["hourly"].errors == 1
    assert scheduler.jobs["hourly"].next_at == at("2026-03-15T12:00:00")
    with pytest.raises(RuntimeError):
        scheduler.fire("hourly")


def test_jobs_come_from_the_apps_schedules_and_get_chalice_events():
    app = Chalice(app_name="probe")
    seen = []

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def every_five(event):
        seen.append(event)
        return {"ok": True}

    @app.schedule(Cron(0, 3, 1, "*", "?", "*"), name="monthly")
    def monthly(event):
        return None

    scheduler = Scheduler.from_app(app, clock=lambda: at("2026-03-15T10:00:00"))

    assert {n: j.expression for n, j in scheduler.jobs.items()} == {
        "every_five": "rate(5 minutes)",
        "monthly": "cron(0 3 1 * ? *)",
    }
    assert scheduler.fire("every_five") == {"ok": True}
    assert seen[0].detail_type == "Scheduled Event" and seen[0].source == "aws.events"
    with pytest.raises(KeyError):
        scheduler.fire("nope")


def test_the_apps_scheduled_handlers_fire_on_demand(aws):
    from app import app

    scheduler = Scheduler.from_app(app)

    assert scheduler.jobs["sla_sweep"].expression == "rate(1 hour)"
    assert scheduler.jobs["monthly_metrics"].expression == "cron(0 3 1 * ? *)"
    assert scheduler.fire("sla_sweep") == {"overdue": 0, "escalated": 0}
    scheduler.fire("monthly_metrics")
    assert scheduler.jobs["monthly_metrics"].errors == 0


def test_the_background_loop_starts_and_stops():
    scheduler, _ = recording_scheduler(lambda: datetime.now(UTC))
    scheduler.start()
    assert scheduler.running
    scheduler.stop()
    assert not scheduler.running
