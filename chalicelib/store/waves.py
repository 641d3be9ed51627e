"""Relationship waves on their table, and what a wave reads: the directory as candidates (no address, no name),
the accounts that are not active, and its invitations' answers (its response rate)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import waves
from chalicelib.domain.clock import parse_timestamp, timestamp
from chalicelib.store.conditions import updated
from chalicelib.store.contacts import status
from chalicelib.store.invitations import sent_and_answered
from chalicelib.store.models import Account, Contact, Invitation, Wave

PAGE = 500


def new_id(now: datetime) -> str:
    """`wav_<UTC start>_<random>`: waves of a survey sort by when they started."""
    return f"wav_{now:%Y%m%dT%H%M%S}_{secrets.token_hex(4)}"


def create(survey_id: str, trigger: str, rules: waves.Rules, now: datetime) -> Wave:
    """A running wave, due now. It starts on the next whole second (the times of the events that run it are
    whole seconds, and a run stamps no earlier than its wave's start), so an invitation made before the wave,
    in the same second, is never taken for one of the wave's."""
    if now.microsecond:
        now = now.replace(microsecond=0) + timedelta(seconds=1)
    wave = Wave(
        survey_id,
        new_id(now),
        trigger=trigger,
        status="running",
        rules=waves.shown_rules(rules),
        counts={"eligible": 0, "invited": 0, "skipped": waves.order_reasons({}), "pending": 0},
        days=[],
        started_at=now,
        updated_at=now,
        next_run_at=now,
    )
    wave.save(condition=Wave.wave_id.does_not_exist())
    return wave


def get(survey_id: str, wave_id: str) -> Wave | None:
    try:
        return Wave.get(survey_id, wave_id, consistent_read=True)
    except DoesNotExist:
        return None


def latest(survey_id: str) -> Wave | None:
    return next(iter(Wave.query(survey_id, scan_index_forward=False, limit=1, consistent_read=True)), None)


def since(survey_id: str, moment: datetime) -> list[Wave]:
    """The survey's waves started at or after `moment` (their ids sort by start)."""
    return list(Wave.query(survey_id, range_key_condition=Wave.wave_id >= f"wav_{moment:%Y%m%dT%H%M%S}"))


def page(survey_id: str, limit: int, after: str | None) -> tuple[list[Wave], str | None]:
    """The survey's waves, newest first; the cursor is the last wave id shown."""
    start = {"survey_id": {"S": survey_id}, "wave_id": {"S": after}} if after else None
    result = Wave.query(survey_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = list(result)
    last = result.last_evaluated_key
    return items, (last["wave_id"]["S"] if last else None)


def save_run(
    wave: Wave,
    *,
    counts: dict[str, Any],
    days: list[dict[str, Any]],
    next_run_at: datetime | None,
    now: datetime,
) -> bool:
    """A run's outcome, on the condition that no other run saved since this one read the wave; False if one did
    (its counts stand, and the next run counts again from the directory)."""
    return updated(
        wave,
        [
            Wave.counts.set(counts),
            Wave.days.set(days),
            Wave.status.set("running" if next_run_at is not None else "done"),
            Wave.next_run_at.set(next_run_at) if next_run_at is not None else Wave.next_run_at.remove(),
            Wave.updated_at.set(now),
            Wave.revision.add(1),
        ],
        Wave.revision == wave.revision,
    )


def save_tally(wave: Wave, sent: int, responded: int, now: datetime) -> None:
    wave.update(
        actions=[Wave.sent.set(sent), Wave.responded.set(responded), Wave.tallied_at.set(now)],
        condition=Wave.wave_id.exists(),
        add_version_condition=False,
    )


def candidates(roles: tuple[str, ...]) -> Iterator[waves.Candidate]:
    """Every directory contact with an address and an account (and, with `roles`, one of them), as a wave sees
    it: the scan reads neither the address nor the name."""
    condition = Contact.email.exists() & Contact.account_id.exists() & Contact.erased_at.does_not_exist()
    if roles:
        condition &= Contact.role.is_in(*roles)
    fields = [
        "contact_id",
        "account_id",
        "role",
        "timezone",
        "last_invited",
        "unsubscribed_at",
        "bounced_at",
        "complained_at",
        "erased_at",
    ]
    for c in Contact.scan(filter_condition=condition, attributes_to_get=fields, page_size=PAGE):
        stamps = c.last_invited.as_dict() if c.last_invited is not None else {}
        last = {k: at for k, v in stamps.items() if (at := parse_timestamp(v)) is not None}
        yield waves.Candidate(
            contact_id=c.contact_id,
            account_id=c.account_id,
            role=c.role,
            status=status(c),
            last_invited=last,
            timezone=c.timezone,
        )


def inactive_accounts() -> set[str]:
    """The accounts that are not customers now (status churned or paused): a wave skips their contacts."""
    return {
        a.account_id
        for a in Account.scan(
            filter_condition=Account.status.is_in(*waves.INACTIVE_ACCOUNTS),
            attributes_to_get=["account_id", "status"],
            page_size=PAGE,
        )
    }


def tally(wave_id: str) -> tuple[int, int]:
    """(sent, responded) over the wave's invitations, as the monthly response rate counts them."""
    ids = [i.invitation_id for i in Invitation.by_wave.query(wave_id)]
    return sent_and_answered(ids)


def to_dict(wave: Wave) -> dict[str, Any]:
    counts = wave.counts.as_dict() if wave.counts is not None else {}
    sent = int(wave.sent) if wave.sent is not None else None
    responded = int(wave.responded) if wave.responded is not None else None
    return {
        "wave_id": wave.wave_id,
        "survey_id": wave.survey_id,
        "trigger": wave.trigger,
        "status": wave.status,
        "rules": dict(wave.rules.as_dict()) if wave.rules is not None else waves.shown_rules(waves.Rules()),
        "eligible": int(counts.get("eligible", 0)),
        "invited": int(counts.get("invited", 0)),
        "pending": int(counts.get("pending", 0)),
        "skipped": waves.order_reasons(counts.get("skipped") or {}),
        "days": [{"day": d["day"], "invited": int(d["invited"])} for d in (wave.days or [])],
        "started_at": timestamp(wave.started_at),
        "updated_at": timestamp(wave.updated_at),
        "next_run_at": timestamp(wave.next_run_at),
        "sent": sent,
        "responded": responded,
        "response_rate": waves.response_rate(sent or 0, responded or 0) if sent is not None else None,
        "tallied_at": timestamp(wave.tallied_at),
    }
