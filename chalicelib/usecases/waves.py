"""Relationship waves: starting one (by hand or by a survey's schedule), and running it.

A run selects from the directory as it stands (domain/waves.py), then invites the selected contacts through
the one invitation path (usecases/invitations.py: the same skips, the contact's stamp in the invitation's own
transaction, so a run repeated or racing another invites nobody twice), with `"send": true` at the first
opening of the survey's send window in each contact's time zone. A wave is a day at a time: the contacts over
its daily cap wait for the next day's run. A run that nears its deadline stops and leaves the rest to the next
run, which selects again: the contacts already invited count as the wave's, so nothing is lost or doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from chalicelib import config
from chalicelib.domain import send_window, waves
from chalicelib.domain.errors import Conflict, DomainError, Gone, Unavailable
from chalicelib.logs import logger
from chalicelib.store import surveys as survey_store
from chalicelib.store import waves as wave_store
from chalicelib.store.models import Survey, Wave
from chalicelib.usecases import invitations

CHUNK = 100  # contacts per invitation call: one directory read and one SQS batch run per chunk
TALLY_EVERY = timedelta(hours=1)
TALLY_FOR = timedelta(days=60)  # a wave's links and reminders are over by then: its response rate is final


def _window(survey: Survey) -> send_window.Window:
    return send_window.window_of(survey.send_window.as_dict() if survey.send_window is not None else None)


def start(survey: Survey, rules: waves.Rules, now: datetime, trigger: str = "manual") -> Wave:
    """A new running wave of the survey, due to run now. A closed survey starts none (410), a stack that
    cannot send none (503), and a survey whose last wave is still running none (409)."""
    if survey.status != "active":
        raise Gone("This survey is closed.", code="survey_closed")
    if not config.settings().send_queue_url:
        raise Unavailable("This stack has no send queue: it cannot email a wave.", code="sending_unavailable")
    last = wave_store.latest(survey.survey_id)
    if last is not None and last.status == "running":
        raise Conflict(
            f"Wave {last.wave_id} of this survey is still running; a survey runs one wave at a time.",
            code="wave_running",
        )
    return wave_store.create(survey.survey_id, trigger, rules, now)


def send_day(survey: Survey, now: datetime) -> tuple[str, datetime]:
    """The survey's day whose emails a run at `now` plans (the day of the window's next opening, in the
    survey's zone), and the opening of the day after it, when a deferred rest is due."""
    window = _window(survey)
    opening = send_window.next_opening(now, window)
    zone = send_window.zone(None, window.timezone)
    local_day = opening.astimezone(zone).date()
    next_day = datetime.combine(local_day + timedelta(days=1), time(0, 0), zone)
    return local_day.isoformat(), send_window.next_opening(next_day, window)


def run(survey: Survey, wave: Wave, now: datetime, out_of_time: Callable[[], bool] = lambda: False) -> dict:
    """One run of a running wave: select, invite, save the counts. Returns the wave as the API shows it."""
    now = max(now, wave.started_at)  # its invitations are the wave's by their stamps: never before its start
    s = config.settings()
    days = [dict(d) for d in (wave.days or [])]
    if survey.status != "active":  # closed since the wave started: it ends with the counts it has
        kept = dict(wave.counts.as_dict()) if wave.counts is not None else {}
        wave_store.save_run(wave, counts=kept, days=days, next_run_at=None, now=now)
        return wave_store.to_dict(wave_store.get(survey.survey_id, wave.wave_id) or wave)
    rules = waves.rules_of(wave.rules.as_dict() if wave.rules is not None else None)
    day, next_opening = send_day(survey, now)
    selection = waves.select(
        wave_store.candidates(rules.roles),
        survey_id=survey.survey_id,
        rules=rules,
        inactive_accounts=wave_store.inactive_accounts(),
        throttle_days=int(survey.throttle_days),
        cross_survey_days=s.contact_throttle_days,
        wave_started_at=wave.started_at,
        invited_today=waves.days_total(days, day),
        now=now,
    )
    skipped = dict(selection.skipped)
    invited_now = 0
    window = _window(survey)
    todo = selection.invite
    processed = 0  # of todo, those the invitation path has answered for
    closed = False
    for start_at in range(0, len(todo), CHUNK):
        if closed or out_of_time():
            break
        by_zone: dict[str | None, list[waves.Candidate]] = {}
        for c in todo[start_at : start_at + CHUNK]:
            by_zone.setdefault(c.timezone, []).append(c)
        for zone, people in by_zone.items():
            try:
                results = invitations.invite(
                    survey,
                    [{"contact_id": c.contact_id, "account_id": c.account_id} for c in people],
                    now,
                    send=True,
                    send_at=send_window.next_opening(now, window, zone),
                    wave_id=wave.wave_id,
                )
            except Gone:  # the survey closed during the run (this run read it active)
                closed = True
                break
            processed += len(people)
            for result in results:
                if "invitation_id" in result:
                    invited_now += 1
                else:  # it changed since the selection read it (a racing call, an unsubscribe)
                    skipped[result["skipped"]] = skipped.get(result["skipped"], 0) + 1
    pending = len(todo) - processed
    if invited_now:
        for d in days:
            if d["day"] == day:
                d["invited"] = int(d["invited"]) + invited_now
                break
        else:
            days.append({"day": day, "invited": invited_now})
    counts = {
        "eligible": selection.eligible,
        "invited": selection.invited + invited_now,
        "skipped": waves.order_reasons(skipped),
        "pending": pending,
    }
    if closed:
        next_run: datetime | None = None  # the wave ends with its survey; `pending` were never invited
    elif pending:
        next_run = now  # out of time: the next run goes on at once
    elif skipped["over_daily_cap"]:
        next_run = next_opening
    else:
        next_run = None
    if not wave_store.save_run(wave, counts=counts, days=days, next_run_at=next_run, now=now):
        logger.info("another run saved this wave first", extra={"wave_id": wave.wave_id})
    stored = wave_store.get(survey.survey_id, wave.wave_id)
    logger.info("wave run", extra={"wave_id": wave.wave_id, "invited": invited_now, "pending": pending})
    return wave_store.to_dict(stored or wave)


def tick(now: datetime, out_of_time: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """What the schedule does every few minutes: for each active survey, run its running wave when due, or
    start the wave its schedule calls for; and bring recent waves' response rates up to date."""
    summary = {"started": 0, "ran": 0, "tallied": 0}
    for survey in survey_store.all_surveys():
        if out_of_time():
            break
        last = wave_store.latest(survey.survey_id)
        wave = None
        if last is not None and last.status == "running":
            if last.next_run_at is None or last.next_run_at <= now:
                wave = last
        elif survey.status == "active" and waves.due(
            survey.schedule.as_dict() if survey.schedule is not None else None,
            last.started_at if last is not None else None,
            now,
        ):
            rules = waves.rules_of(survey.schedule.as_dict() if survey.schedule is not None else None)
            try:
                wave = start(survey, rules, now, trigger="schedule")
            except DomainError as error:  # no send queue: nothing to start
                logger.warning("a scheduled wave was not started", extra={"error_code": error.code})
                continue
            summary["started"] += 1
        if wave is not None:
            try:
                run(survey, wave, now, out_of_time)
            except DomainError as error:  # this survey's wave cannot go on now; the others still run
                logger.warning("a wave run was refused", extra={"wave_id": wave.wave_id, "error_code": error.code})
                continue
            summary["ran"] += 1
        summary["tallied"] += tally_recent(survey.survey_id, now)
    return summary


def tally_recent(survey_id: str, now: datetime, force: bool = False) -> int:
    """Bring the response rates of the survey's waves of the last 60 days up to date (at most hourly each)."""
    count = 0
    for wave in wave_store.since(survey_id, now - TALLY_FOR):
        if not force and wave.tallied_at is not None and now - wave.tallied_at < TALLY_EVERY:
            continue
        sent, responded = wave_store.tally(wave.wave_id)
        wave_store.save_tally(wave, sent, responded, now)
        count += 1
    return count


def run_now(survey_id: str, wave_id: str, now: datetime, out_of_time: Callable[[], bool] = lambda: False) -> dict:
    """The run a started wave queues: the wave, if it is still running."""
    survey = survey_store.get(survey_id)
    wave = wave_store.get(survey_id, wave_id)
    if wave is None or wave.status != "running":
        return {"wave_id": wave_id, "status": wave.status if wave else "missing"}
    return run(survey, wave, now, out_of_time)
