"""What the service tells other systems: the events it publishes to the stage's EventBridge bus.

Each event has a `detail-type` of DETAIL_TYPES and a `detail` that event_schemas.SCHEMAS describes (JSON Schema,
one version per type; docs/events/ holds the same documents for readers, a test keeps them equal). Every detail carries
`schema_version` and `event_id`: an id derived from what happened, never drawn at random, so an event published
again (a stream record delivered twice, a batch retried, a job rerun after a failed publish) has the same id and
the same detail, and a consumer drops it by id. Source of every event: `nps.<stage>`.

What happened, and what its id comes from:

- Response Recorded: an answer counts for the first time (response id and version);
- Response Updated: a counted answer's score, comment or drivers change (response id and version);
- Task Opened: the stream opens a close-the-loop task (task id);
- Task Escalated: the SLA sweep escalates an overdue task, or a person moves it to escalated (task id, the
  move's time and statuses), and likewise Task Resolved and Task Reopened (a resolved task opened again);
- Account Health Changed: at a month's end an account is in another health band than at the end of the month
  before (account, month, both bands);
- Contact Unsubscribed, Contact Bounced, Contact Complained: a status a contact reaches once (contact id);
- Month Computed: the monthly job stored a month's document (month, computed_at).

Personal data: ids, scores, categories, the survey, the account and its segment. The response events carry the
comment and drivers (that is what a consumer acts on); no other event carries free text written by a respondent,
and no event carries an email address or a name. An erased person's answers publish nothing.

Pure: standard library and the domain only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.account_standing import Rated, standing
from chalicelib.domain.clock import stable_id, timestamp, utc
from chalicelib.domain.months import Month
from chalicelib.domain.nps import classify

SCHEMA_VERSION = 1

RESPONSE_RECORDED = "Response Recorded"
RESPONSE_UPDATED = "Response Updated"
TASK_OPENED = "Task Opened"
TASK_ESCALATED = "Task Escalated"
TASK_RESOLVED = "Task Resolved"
TASK_REOPENED = "Task Reopened"
ACCOUNT_HEALTH_CHANGED = "Account Health Changed"
CONTACT_UNSUBSCRIBED = "Contact Unsubscribed"
CONTACT_BOUNCED = "Contact Bounced"
CONTACT_COMPLAINED = "Contact Complained"
MONTH_COMPUTED = "Month Computed"

DETAIL_TYPES = (
    RESPONSE_RECORDED,
    RESPONSE_UPDATED,
    TASK_OPENED,
    TASK_ESCALATED,
    TASK_RESOLVED,
    TASK_REOPENED,
    ACCOUNT_HEALTH_CHANGED,
    CONTACT_UNSUBSCRIBED,
    CONTACT_BOUNCED,
    CONTACT_COMPLAINED,
    MONTH_COMPUTED,
)
CONTACT_EVENTS = {"unsubscribed": CONTACT_UNSUBSCRIBED, "bounced": CONTACT_BOUNCED, "complained": CONTACT_COMPLAINED}
# The answer fields whose change is a "Response Updated".
ANSWER_FIELDS = ("score", "comment", "drivers")


def source(stage: str) -> str:
    """The `source` of every event the stage publishes."""
    return f"nps.{stage}"


@dataclass(frozen=True)
class Event:
    """One event: its detail-type, its detail (with schema_version and event_id) and when it happened (the
    envelope's `time`; None: when it is published)."""

    detail_type: str
    detail: dict[str, Any]
    time: datetime | None = None

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])


def event_id(detail_type: str, *parts: str) -> str:
    """The stable id of an event: the same happening always gives the same id."""
    return stable_id("evt", detail_type, *parts)


def _event(detail_type: str, parts: tuple[str, ...], fields: dict[str, Any], time: datetime | None) -> Event:
    detail = {"schema_version": SCHEMA_VERSION, "event_id": event_id(detail_type, *parts), **fields}
    return Event(detail_type, detail, time)


# ---- responses ---------------------------------------------------------------------------------------------


def _answer_changed(response: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return any((old.get(f) or None) != (response.get(f) or None) for f in ANSWER_FIELDS)


def response_event(response: Mapping[str, Any], old: Mapping[str, Any] | None, segment: str | None) -> Event | None:
    """The event of one counted image of an answer: Recorded when the answer was not counted before (`old` is
    None: a first answer, or one that was pending or excluded), Updated when its score, comment or drivers
    changed; None when nothing an event reports changed, and for an erased person's answer. Everything comes
    from the image, so the same record gives the same event however often it is delivered."""
    if response.get("erased"):
        return None
    if old is not None and not _answer_changed(response, old):
        return None
    score = int(response["score"])
    fields: dict[str, Any] = {
        "response_id": response["response_id"],
        "version": int(response.get("version") or 1),
        "survey_id": response["survey_id"],
        "invitation_id": response.get("invitation_id"),
        "account_id": response.get("account_id"),
        "contact_id": response.get("contact_id"),
        "segment": segment,
        "channel": response["channel"],
        "touchpoint": response.get("touchpoint"),
        "score": score,
        "category": classify(score),
        "comment": response.get("comment") or None,
        "drivers": list(response.get("drivers") or []),
        "first_submitted_at": timestamp(response["first_submitted_at"]),
        "submitted_at": timestamp(response["submitted_at"]),
    }
    detail_type = RESPONSE_RECORDED
    if old is not None:
        detail_type = RESPONSE_UPDATED
        fields["previous_score"] = int(old["score"])
        fields["previous_category"] = classify(int(old["score"]))
    parts = (str(fields["response_id"]), str(fields["version"]))
    return _event(detail_type, parts, fields, response["submitted_at"])


# ---- tasks -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFacts:
    """What a task event says about the task itself: the fields fixed when it was opened."""

    task_id: str
    response_id: str
    survey_id: str
    account_id: str | None
    kind: str
    category: str


def _task_fields(task: TaskFacts) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "response_id": task.response_id,
        "survey_id": task.survey_id,
        "account_id": task.account_id,
        "kind": task.kind,
        "category": task.category,
    }


def task_opened(task: TaskFacts, *, owner: str, created_at: datetime, due_at: datetime, sla_hours: int) -> Event:
    """A task the stream opened. Only what the task keeps from its opening: `owner` is the one it was opened for
    (the first entry of its history), not whoever holds it now, and there is no score (the task follows its
    answer's later scores; the answer's own events carry each), so a redelivery repeats the event exactly."""
    fields = {
        **_task_fields(task),
        "status": "open",
        "previous_status": None,
        "owner": owner,
        "due_at": timestamp(due_at),
        "sla_hours": int(sla_hours),
        "at": timestamp(created_at),
    }
    return _event(TASK_OPENED, (task.task_id,), fields, created_at)


def task_moved(
    task: TaskFacts,
    entry: Mapping[str, Any],
    *,
    due_at: datetime,
    manager: str | None = None,
    root_cause: str | None = None,
) -> Event | None:
    """The event of one entry of a task's history: the SLA sweep's escalation ({"change": "escalated"}), or a
    person's move of its status ({"change": "status", "from", "to"}) to escalated, to resolved, or from resolved
    back to open. None for any other entry (an assignment, a move between open and in progress)."""
    change, before, after = entry.get("change"), entry.get("from"), entry.get("to")
    if change == "escalated":
        detail_type = TASK_ESCALATED
        manager = entry.get("manager") or manager
    elif change == "status" and after == "escalated":
        detail_type = TASK_ESCALATED
    elif change == "status" and after == "resolved":
        detail_type = TASK_RESOLVED
    elif change == "status" and before == "resolved":
        detail_type = TASK_REOPENED
    else:
        return None
    at = str(entry["at"])
    fields: dict[str, Any] = {
        **_task_fields(task),
        "status": after,
        "previous_status": before,
        "due_at": timestamp(due_at),
        "at": at,
    }
    if detail_type == TASK_ESCALATED:
        fields["manager"] = manager
    if detail_type == TASK_RESOLVED:
        fields["root_cause"] = root_cause
    return _event(detail_type, (task.task_id, at, str(before), str(after)), fields, _parse(at))


def task_facts(task: Any) -> TaskFacts:
    """The opening fields of a stored task (any object with the task's attributes)."""
    return TaskFacts(task.task_id, task.response_id, task.survey_id, task.account_id, task.kind, task.category)


def opened_event_of(task: Any) -> Event:
    """Task Opened, as the stored task tells it: the same event the stream published when it opened the task."""
    history = list(task.history or [])
    first = dict(history[0]) if history else {}
    owner = str(first.get("owner") if first.get("change") == "opened" and first.get("owner") else task.owner)
    return task_opened(
        task_facts(task), owner=owner, created_at=task.created_at, due_at=task.due_at, sla_hours=int(task.sla_hours)
    )


def escalation_event_of(task: Any) -> Event | None:
    """Task Escalated for the SLA sweep's escalation of a stored task (the entry it added, at escalated_at);
    None when the task was not escalated by the sweep, or its entry is no longer in the history."""
    if task.escalated_at is None:
        return None
    at = timestamp(task.escalated_at)
    for entry in reversed(list(task.history or [])):
        if entry.get("change") == "escalated" and entry.get("at") == at:
            return task_moved(task_facts(task), entry, due_at=task.due_at, manager=task.manager)
    return None


def latest_move_into(history: Iterable[Mapping[str, Any]], status: str) -> Mapping[str, Any] | None:
    """The latest entry of a history that moved the task into `status` (by a person or by the sweep)."""
    found = None
    for entry in history:
        if entry.get("to") == status and entry.get("change") in ("status", "escalated"):
            found = entry
    return found


def _parse(stamp: str) -> datetime | None:
    try:
        return utc(datetime.fromisoformat(stamp))
    except ValueError:
        return None


# ---- contacts and months -----------------------------------------------------------------------------------


def contact_event(status: str, contact_id: str, account_id: str | None) -> Event:
    """A contact unsubscribed, bounced (permanently) or complained: a status a contact reaches once and keeps, so
    the id is the contact's and the kind's. No address, no name."""
    detail_type = CONTACT_EVENTS[status]
    fields = {"contact_id": contact_id, "account_id": account_id, "status": status}
    return _event(detail_type, (contact_id,), fields, None)


def month_computed(document: Mapping[str, Any]) -> Event:
    """A month's metrics document was stored (GET /v1/metrics/{month} reads it): its headline figures."""
    everything = document["nps"]["all"]
    fields = {
        "month": document["month"],
        "computed_at": document["computed_at"],
        "partial": bool(document["partial"]),
        "responses": int(everything["n"]),
        "nps": everything["nps"],
        "currency": document["currency"],
        "revenue_at_risk": document["revenue_at_risk"]["monthly"],
        "accounts_at_risk": int(document["revenue_at_risk"]["accounts"]),
    }
    return _event(MONTH_COMPUTED, (document["month"], document["computed_at"]), fields, _parse(document["computed_at"]))


def health_changed(account_id: str, segment: str | None, month: str, previous: str, health: str) -> Event:
    fields = {
        "account_id": account_id,
        "segment": segment,
        "month": month,
        "health": health,
        "previous_health": previous,
    }
    return _event(ACCOUNT_HEALTH_CHANGED, (account_id, month, previous, health), fields, Month.parse(month).end())


class HealthBands:
    """Each account's health band at the end of a month and at the end of the month before, from the rows the
    monthly job reads anyway (it is handed `observing(rows)` instead of the rows).

    Both bands follow the one rule of domain/account_standing.py (the latest answer of each contact among the
    12 months ending then; the monthly document's health is the same rule at the end of M), computed here from
    the same facts in the same run. So a band change is known without the previous month's document, which
    holds counts, not accounts, and whether or not that month was ever computed. Only the latest answer per
    contact and window is kept: two small tuples a contact, not the rows."""

    def __init__(self, month: str) -> None:
        m = Month.parse(month)
        self.month = str(m)
        # The last instant of M and of M-1 (standing() includes its `now`).
        self._ends = (m.end() - timedelta(microseconds=1), m.start() - timedelta(microseconds=1))
        self._starts = tuple(Month.of(end).shift(-11).start() for end in self._ends)
        self._latest: dict[str, dict[Any, list[tuple[datetime, str, int] | None]]] = {}
        self._segments: dict[str, str | None] = {}

    def observing(self, rows: Iterable[Any]) -> Iterator[Any]:
        """The rows (monthly.ResponseRow), each also kept in view."""
        for row in rows:
            self.observe(row)
            yield row

    def observing_accounts(self, rows: Iterable[Any]) -> Iterator[Any]:
        """The account rows (monthly.AccountRow), their segments kept."""
        for row in rows:
            self._segments[row.account_id] = row.segment
            yield row

    def observe(self, row: Any) -> None:
        if row.account_id is None:
            return
        submitted = row.first_submitted_at
        if submitted.tzinfo is not UTC:
            submitted = utc(submitted)
        if submitted < self._starts[1]:  # before both windows (the job reads 24 months, these need 13)
            return
        key = row.contact_id or (row.response_id,)
        contacts = self._latest.get(row.account_id)
        if contacts is None:
            contacts = self._latest[row.account_id] = {}
        held = contacts.get(key)
        if held is None:
            held = contacts[key] = [None, None]
        for w in (0, 1):
            if self._starts[w] <= submitted <= self._ends[w]:
                kept = held[w]
                if kept is None or (submitted, row.response_id) > (kept[0], kept[1]):
                    held[w] = (submitted, row.response_id, int(row.score))

    def bands(self) -> dict[str, tuple[str, str]]:
        """account_id -> (health at the end of M-1, health at the end of M), for every account with an answer."""
        out = {}
        for account_id, contacts in self._latest.items():
            health = []
            for w in (0, 1):
                rated = [
                    Rated(kept[1], key if isinstance(key, str) else None, kept[2], kept[0])
                    for key, held in contacts.items()
                    if (kept := held[w]) is not None
                ]
                health.append(standing(rated, None, self._ends[w])["health"])
            out[account_id] = (health[1], health[0])
        return out

    def changes(self) -> list[Event]:
        """One Account Health Changed per account whose band at the end of M differs from the month before's,
        in account order."""
        return [
            health_changed(account_id, self._segments.get(account_id), self.month, before, now)
            for account_id, (before, now) in sorted(self.bands().items())
            if before != now
        ]
