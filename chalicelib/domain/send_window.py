"""When survey emails may go: a survey's send window (weekdays and hours, in the contact's time zone, else the
survey's) and its reminders (0 to 2, by default one, 7 days after the email before it).

`next_opening(moment, window, zone)` is the first moment at or after `moment` inside the window, so a reminder
due on a Saturday evening goes on Monday morning, at the window's start, in the contact's own time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_DAYS = DAYS[:5]
DEFAULT_START = time(9, 0)
DEFAULT_END = time(17, 0)
DEFAULT_REMINDERS = 1
MAX_REMINDERS = 2
DEFAULT_REMINDER_DAYS = 7
MAX_REMINDER_DAYS = 30


@dataclass(frozen=True)
class Window:
    days: tuple[str, ...] = DEFAULT_DAYS
    start: time = DEFAULT_START
    end: time = DEFAULT_END
    timezone: str = "UTC"


@dataclass(frozen=True)
class Reminders:
    count: int = DEFAULT_REMINDERS
    after_days: int = DEFAULT_REMINDER_DAYS


def _clock(text: object, default: time) -> time:
    if isinstance(text, str) and len(text) == 5 and text[2] == ":" and text[:2].isdigit() and text[3:].isdigit():
        hours, minutes = int(text[:2]), int(text[3:])
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    return default


def window_of(stored: dict[str, object] | None) -> Window:
    """A survey's stored `send_window` (validated when it was set) as a Window; the default without one."""
    if not stored:
        return Window()
    raw_days = stored.get("days")
    days = tuple(d for d in DAYS if isinstance(raw_days, list) and d in raw_days) or DEFAULT_DAYS
    zone = stored.get("timezone")
    return Window(
        days=days,
        start=_clock(stored.get("start"), DEFAULT_START),
        end=_clock(stored.get("end"), DEFAULT_END),
        timezone=zone if isinstance(zone, str) and zone else "UTC",
    )


def reminders_of(stored: dict[str, object] | None) -> Reminders:
    if not stored:
        return Reminders()
    count, after = stored.get("count"), stored.get("after_days")
    return Reminders(
        count=count if isinstance(count, int) and 0 <= count <= MAX_REMINDERS else DEFAULT_REMINDERS,
        after_days=after if isinstance(after, int) and 1 <= after <= MAX_REMINDER_DAYS else DEFAULT_REMINDER_DAYS,
    )


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The zone named, else the fallback's, else UTC."""
    return _zone(name, fallback)


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return ZoneInfo("UTC")


def next_opening(moment: datetime, window: Window, contact_zone: str | None = None) -> datetime:
    """The first moment at or after `moment` (aware) inside the window, in UTC. The window's hours are read in
    the contact's zone when they have one, else the survey's. A window whose end is not after its start is
    read as the whole day."""
    zone = _zone(contact_zone, window.timezone)
    local = moment.astimezone(zone)
    whole_day = window.end <= window.start
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if DAYS[day.weekday()] not in window.days:
            continue
        opens = datetime.combine(day, time(0, 0) if whole_day else window.start, zone)
        closes = datetime.combine(day + timedelta(days=1), time(0, 0), zone) if whole_day else None
        if not whole_day:
            closes = datetime.combine(day, window.end, zone)
        if closes is not None and local >= closes:
            continue
        return max(local, opens).astimezone(UTC)
    return moment.astimezone(UTC)  # no day at all in the window: validation refuses it; send when asked


WINDOW_FIELDS = {"days", "start", "end", "timezone"}
REMINDER_FIELDS = {"count", "after_days"}
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z")


def checked_window(value: object) -> tuple[dict[str, object] | None, dict[str, str]]:
    """A survey's `send_window` as given (None: the default), and the problems with it by field."""
    from chalicelib.domain.contacts import timezone_name

    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return None, {"send_window": "must be an object with days, start, end and timezone"}
    problems = {f"send_window.{k}": "unknown field" for k in value if k not in WINDOW_FIELDS}
    days = value.get("days", list(DEFAULT_DAYS))
    if not isinstance(days, list) or not days or any(d not in DAYS for d in days) or len(set(days)) != len(days):
        problems["send_window.days"] = "must be a list of distinct days: " + ", ".join(DAYS)
    for key, default in (("start", "09:00"), ("end", "17:00")):
        given = value.get(key, default)
        if not isinstance(given, str) or not HHMM_RE.match(given):
            problems[f"send_window.{key}"] = "must be a time of day as HH:MM, 00:00 to 23:59"
    zone = value.get("timezone", "UTC")
    if not isinstance(zone, str) or timezone_name(zone) is None:
        problems["send_window.timezone"] = "must be an IANA time zone such as Europe/Berlin"
    if problems:
        return None, problems
    ordered = [d for d in DAYS if d in days]
    return {
        "days": ordered,
        "start": value.get("start", "09:00"),
        "end": value.get("end", "17:00"),
        "timezone": zone,
    }, {}


def checked_reminders(value: object) -> tuple[dict[str, object] | None, dict[str, str]]:
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return None, {"reminders": "must be an object with count and after_days"}
    problems = {f"reminders.{k}": "unknown field" for k in value if k not in REMINDER_FIELDS}
    count = value.get("count", DEFAULT_REMINDERS)
    after = value.get("after_days", DEFAULT_REMINDER_DAYS)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_REMINDERS:
        problems["reminders.count"] = f"must be an integer from 0 to {MAX_REMINDERS}"
    if isinstance(after, bool) or not isinstance(after, int) or not 1 <= after <= MAX_REMINDER_DAYS:
        problems["reminders.after_days"] = f"must be an integer from 1 to {MAX_REMINDER_DAYS}"
    if problems:
        return None, problems
    return {"count": count, "after_days": after}, {}


def shown_window(stored: dict[str, object] | None) -> dict[str, object]:
    w = window_of(stored)
    return {
        "days": list(w.days),
        "start": w.start.strftime("%H:%M"),
        "end": w.end.strftime("%H:%M"),
        "timezone": w.timezone,
    }


def shown_reminders(stored: dict[str, object] | None) -> dict[str, int]:
    r = reminders_of(stored)
    return {"count": r.count, "after_days": r.after_days}
