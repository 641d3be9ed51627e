"""Surveys, with a short in-process cache so the capture path reads nothing once a survey is known."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import config
from chalicelib.domain import clock, send_window, tokens, validation
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import Survey
from chalicelib.store.response_export import start_key

_cache: dict[str, tuple[float, Survey | None]] = {}


def to_dict(s: Survey, *, with_secret: bool = False) -> dict:
    """The survey as the API shows it. The identity secret signs widget identities, so it is shown only in the
    answers that create it (the survey's creation and a rotation), never in a read: a `read` token must not be
    able to post answers as any contact."""
    out = {
        "survey_id": s.survey_id,
        "name": s.name,
        "kind": s.kind,
        "touchpoint": s.touchpoint,
        "question": s.question,
        "drivers": list(s.drivers or []),
        "allowed_origins": list(s.allowed_origins or []),
        "throttle_days": int(s.throttle_days),
        "loop_rules": loop_rules(s),
        "themes": s.themes.as_dict() if s.themes is not None else None,
        "anonymous_answers": s.anonymous_answers or "counted",
        "language": s.language,
        "strings": s.strings.as_dict() if s.strings is not None else None,
        "status": s.status,
        "send_window": send_window.shown_window(s.send_window.as_dict() if s.send_window is not None else None),
        "reminders": send_window.shown_reminders(s.reminders.as_dict() if s.reminders is not None else None),
        "schedule": s.schedule.as_dict() if s.schedule is not None else None,
        "created_at": timestamp(s.created_at),
        "updated_at": timestamp(s.updated_at),
    }
    if with_secret:
        out["identity_secret"] = s.identity_secret
    return out


def loop_rules(s: Survey) -> dict:
    raw = s.loop_rules.as_dict() if hasattr(s.loop_rules, "as_dict") else dict(s.loop_rules or {})
    return {
        "categories": list(raw.get("categories") or ["detractor"]),
        "sla_hours": int(raw.get("sla_hours") or 48),
        "fallback_owner": raw.get("fallback_owner"),
    }


def create(fields: dict) -> Survey:
    now = clock.utcnow()
    survey = Survey(
        clock.new_id("srv"),
        identity_secret=tokens.new_secret(),
        created_at=now,
        updated_at=now,
        **{k: v for k, v in fields.items() if v is not None},
    )
    survey.save(condition=Survey.survey_id.does_not_exist())
    _cache.pop(survey.survey_id, None)
    return survey


def get(survey_id: str) -> Survey:
    if not isinstance(survey_id, str) or not validation.ID_RE.match(survey_id):
        # Not an id we could have made; DynamoDB would refuse keys that are empty or too long with a 500.
        raise NotFound("No survey has this id.", code="survey_not_found")
    try:
        return Survey.get(survey_id)
    except DoesNotExist:
        raise NotFound("No survey has this id.", code="survey_not_found") from None


def get_cached(survey_id: str) -> Survey:
    """The survey's settings, read at most once a minute per process (SURVEY_CACHE_SECONDS)."""
    now = time.monotonic()
    hit = _cache.get(survey_id)
    if hit and hit[0] > now:
        if hit[1] is None:
            raise NotFound("No survey has this id.", code="survey_not_found")
        return hit[1]
    ttl = config.settings().survey_cache_seconds
    try:
        survey = get(survey_id)
    except NotFound:
        _cache[survey_id] = (now + ttl, None)
        raise
    _cache[survey_id] = (now + ttl, survey)
    return survey


def update(survey_id: str, fields: dict) -> Survey:
    survey = get(survey_id)
    actions: list[Action] = [Survey.updated_at.set(clock.utcnow())]
    for key, value in fields.items():
        attr = getattr(Survey, key)
        actions.append(attr.remove() if value is None else attr.set(value))
    survey.update(actions=actions, condition=Survey.survey_id.exists())
    _cache.pop(survey_id, None)
    return survey


def rotate_identity_secret(survey_id: str, now: datetime) -> tuple[Survey, str]:
    """A new identity secret for the survey; the one it replaces keeps verifying for `secret_grace_days`, so a
    site can roll over. Rotating again within the grace period drops the oldest secret at once."""
    survey = get(survey_id)
    secret = tokens.new_secret()
    until = now + timedelta(days=config.settings().secret_grace_days)
    try:
        # Conditional on the secret read, so two racing rotations cannot both report a secret that works.
        survey.update(
            actions=[
                Survey.identity_secret.set(secret),
                Survey.previous_identity_secret.set(survey.identity_secret),
                Survey.previous_secret_until.set(until),
                Survey.updated_at.set(now),
            ],
            condition=Survey.identity_secret == survey.identity_secret,
            add_version_condition=False,
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise
        raise Conflict("The secret was rotated meanwhile; try again.", code="concurrent_change") from None
    _cache.pop(survey_id, None)
    return survey, secret


def list_page(limit: int, start: dict | None) -> tuple[list[Survey], dict | None]:
    result = Survey.scan(limit=limit, last_evaluated_key=start_key(start, ("survey_id",)))
    items = list(result)
    return items, result.last_evaluated_key


def all_surveys() -> list[Survey]:
    """Every survey (the table holds a few hundred at most)."""
    return list(Survey.scan())


def names(survey_ids) -> dict[str, str]:
    """The names of the given surveys that exist, by id (one batch read per 100)."""
    ids = sorted(set(survey_ids))
    out = {}
    for start in range(0, len(ids), 100):
        for survey in Survey.batch_get(ids[start : start + 100], attributes_to_get=["survey_id", "name"]):
            out[survey.survey_id] = survey.name
    return out


def clear_cache() -> None:
    _cache.clear()
