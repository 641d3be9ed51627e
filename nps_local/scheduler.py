"""Fire the app's scheduled handlers at their EventBridge expressions, and on demand.

Expressions are EventBridge's: `rate(N minute|minutes|hour|hours|day|days)`, counted from when the scheduler
starts (as a rule counts from its creation), and `cron(minutes hours day-of-month month day-of-week year)` in
UTC with numbers, names (JAN, MON), `*`, `?`, lists, ranges, steps and `L` (last day of the month). Day of week
runs 1-7 from Sunday, and one of the two day fields must be `?`.
"""

from __future__ import annotations

import calendar
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalice.local import LambdaContext

from nps_local.template import LOCAL_ACCOUNT_ID

log = logging.getLogger("nps.local.scheduler")

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_MONTHS = {
    name: i
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
# A cron whose days never occur (30 February) is given up after this many years.
_SEARCH_YEARS = 30


def utcnow() -> datetime:
    return datetime.now(UTC)


class Rate:
    def __init__(self, expression: str, value: int, unit: str):
        self.expression = expression
        self.period = timedelta(seconds=value * _UNITS[unit])

    def next_after(self, moment: datetime, anchor: datetime) -> datetime:
        """The first firing strictly after `moment`, counting periods from `anchor`."""
        if moment < anchor:
            return anchor + self.period
        elapsed = (moment - anchor) // self.period
        return anchor + (elapsed + 1) * self.period


class Cron:
    def __init__(self, expression: str, fields: list[str]):
        self.expression = expression
        minutes, hours, dom, months, dow, years = fields
        if (dom == "?") == (dow == "?"):
            raise ValueError(f"{expression}: exactly one of day-of-month and day-of-week must be '?'")
        self.minutes = _field(minutes, 0, 59, {}, expression)
        self.hours = _field(hours, 0, 23, {}, expression)
        self.last_dom = dom.upper() == "L"
        self.dom = None if dom == "?" or self.last_dom else _field(dom, 1, 31, {}, expression)
        self.months = _field(months, 1, 12, _MONTHS, expression)
        self.dow = None if dow == "?" else _field(dow, 1, 7, _DAYS, expression)
        self.years = _field(years, 1970, 2199, {}, expression)

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.last_dom:
            return day.day == calendar.monthrange(day.year, day.month)[1]
        if self.dom is not None:
            return day.day in self.dom
        return (day.weekday() + 1) % 7 + 1 in self.dow

    def next_after(self, moment: datetime, anchor: datetime | None = None) -> datetime | None:
        """The first firing strictly after `moment` (UTC), or None when there is none."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        last_year = min(max(self.years), start.year + _SEARCH_YEARS)
        day = start.date()
        while day.year <= last_year:
            if self._day_matches(day):
                for hour in hours:
                    if day == start.date() and hour < start.hour:
                        continue
                    for minute in minutes:
                        if day == start.date() and hour == start.hour and minute < start.minute:
                            continue
                        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            day += timedelta(days=1)
        return None


def _value(text: str, names: dict[str, int], expression: str) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"{expression}: {text!r} is not a number or a name")
    return int(text)


def _field(text: str, lo: int, hi: int, names: dict[str, int], expression: str) -> set[int]:
    """The values a cron field allows: `*`, `a`, `a-b`, `*/s`, `a/s`, `a-b/s`, and lists of these."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step_text and (not step_text.isdigit() or step < 1):
            raise ValueError(f"{expression}: bad step in {part!r}")
        if base == "*":
            first, last = lo, hi
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _value(a, names, expression), _value(b, names, expression)
        else:
            first = _value(base, names, expression)
            last = hi if step_text else first
        if not lo <= first <= hi or not lo <= last <= hi or first > last:
            raise ValueError(f"{expression}: {part!r} is outside {lo}-{hi}")
        values.update(range(first, last + 1, step))
    return values


def parse(expression: str) -> Rate | Cron:
    """A schedule from an EventBridge expression; ValueError when it is not one this scheduler reads."""
    text = expression.strip()
    match = re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)", text)
    if match:
        value, unit = int(match.group(1)), match.group(2)
        if unit not in _UNITS or value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"{expression}: rate needs a positive number and a unit (1 hour, 5 minutes)")
        return Rate(text, value, unit)
    match = re.fullmatch(r"cron\((.*)\)", text)
    if match:
        fields = match.group(1).split()
        if len(fields) != 6:
            raise ValueError(f"{expression}: cron needs 6 fields")
        return Cron(text, fields)
    raise ValueError(f"{expression!r} is neither rate(...) nor cron(...)")


@dataclass
class Job:
    name: str
    expression: str
    schedule: Rate | Cron
    handler: Callable
    next_at: datetime | None = None
    fired: int = 0
    errors: int = 0
    last_result: object = None
    last_error: str | None = None
    last_event_time: datetime | None = None  # the `time` of the last run's event (fire's `at`, or when due)


class Scheduler:
    """Fires each job when due (`run_pending`), on demand (`fire`), and in a background thread (`start`)."""

    def __init__(
        self,
        jobs: dict[str, Job],
        *,
        clock: Callable[[], datetime] = utcnow,
        region: str = "us-east-1",
        app_name: str = "nps-backend",
        stage: str = "dev",
        max_wait: float = 1.0,
    ):
        self.jobs = jobs
        self.clock = clock
        self.region = region
        self.app_name = app_name
        self.stage = stage
        self.max_wait = max_wait
        self._anchor: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_app(cls, app, **kwargs) -> Scheduler:
        """One job per scheduled handler of a Chalice app (its ScheduledEventConfig event sources)."""
        jobs = {}
        for source in app.event_sources:
            expression = getattr(source, "schedule_expression", None)
            if expression is None:
                continue
            if not isinstance(expression, str):
                expression = expression.to_string()
            jobs[source.name] = Job(source.name, expression, parse(expression), app.handler_map[source.name])
        return cls(jobs=jobs, **kwargs)

    def plan(self, now: datetime | None = None) -> None:
        """Set every job's next firing from `now` (the start for rates)."""
        now = now or self.clock()
        self._anchor = now
        for job in self.jobs.values():
            job.next_at = job.schedule.next_after(now, now)

    def run_pending(self, now: datetime | None = None) -> list[str]:
        """Fire every job due at `now` once, and plan its next firing; the names fired."""
        now = now or self.clock()
        if self._anchor is None:
            self.plan(now)
        fired = []
        for job in self.jobs.values():
            if job.next_at is not None and job.next_at <= now:
                scheduled_for = job.next_at
                job.next_at = job.schedule.next_after(now, self._anchor)
                self._invoke(job, scheduled_for, raise_errors=False)
                fired.append(job.name)
        return fired

    def fire(self, name: str, at: datetime | None = None):
        """Run one scheduled handler now, as EventBridge would; its result (its exception propagates)."""
        if name not in self.jobs:
            raise KeyError(f"no scheduled handler named {name!r}; there are: {', '.join(sorted(self.jobs))}")
        return self._invoke(self.jobs[name], at or self.clock(), raise_errors=True)

    def event(self, job: Job, at: datetime) -> dict:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT_ID,
            "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [
                f"arn:aws:events:{self.region}:{LOCAL_ACCOUNT_ID}:rule/{self.app_name}-{self.stage}-{job.name}-event"
            ],
            "detail": {},
        }

    def _invoke(self, job: Job, at: datetime, *, raise_errors: bool):
        context = LambdaContext(job.name, memory_size=512, max_runtime_ms=900_000)
        with self._lock:
            job.fired += 1
            job.last_event_time = at.astimezone(UTC)
            try:
                result = job.handler(self.event(job, at), context)
            except Exception as error:
                job.errors += 1
                job.last_error = repr(error)
                log.exception("scheduled handler %s failed", job.name)
                if raise_errors:
                    raise
                return None
            job.last_result = result
            log.info("scheduled handler %s ran", job.name, extra={"result": result})
            return result

    # ---- background loop --------------------------------------------------------------------------------

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.plan()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:
                log.exception("scheduler tick failed")
            upcoming = [j.next_at for j in self.jobs.values() if j.next_at is not None]
            wait = self.max_wait
            if upcoming:
                wait = max(0.0, min(wait, (min(upcoming) - self.clock()).total_seconds()))
            self._stop.wait(wait)

    def describe(self) -> list[dict]:
        return [
            {
                "name": j.name,
                "expression": j.expression,
                "next_at": j.next_at.isoformat() if j.next_at else None,
                "fired": j.fired,
                "errors": j.errors,
                "last_error": j.last_error,
                "last_event_time": j.last_event_time.isoformat() if j.last_event_time else None,
            }
            for j in self.jobs.values()
        ]
