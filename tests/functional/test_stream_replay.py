"""Replay and fault injection: 2,000 responses with re-scores and erasures, every batch delivered twice,
throttling injected at random DynamoDB calls. Afterwards the derived state equals a recomputation from the
responses table and there is exactly one task per qualifying response."""

from __future__ import annotations

import random
from datetime import timedelta

import botocore.exceptions
import pytest
from support_events import emf_lines, metric_total, replay_survey_and_accounts

from chalicelib.domain import clock
from chalicelib.domain.facts import fact_of
from chalicelib.domain.nps import classify
from chalicelib.store import surveys as survey_store
from chalicelib.store.models import MODELS, LoopTask, Response, ResponseFact
from chalicelib.store.responses import shard_of
from chalicelib.usecases.erasure import erase_contact
from nps_local.responses_stream import responses_poller

N_RESPONSES = int(__import__("os").environ.get("REPLAY_N", "2000"))


class Throttler:
    """Raises ProvisionedThroughputExceeded before a random share of DynamoDB calls (seeded)."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.random = random.Random(seed)
        self.enabled = False
        self.injected = 0

    def __call__(self, model, params, **kwargs):
        if self.enabled and self.random.random() < self.rate:
            self.injected += 1
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}},
                kwargs.get("event_name", "call").rsplit(".", 1)[-1],
            )

    def install(self):
        for model in MODELS.values():
            model._get_connection().connection.client.meta.events.register("before-call.dynamodb", self)


@pytest.fixture
def throttler(aws):
    t = Throttler(rate=0.01, seed=11)
    t.install()
    return t


def test_replay_with_injected_throttling_keeps_derived_state_exact(aws, client, throttler, capsys):
    rng = random.Random(2026)
    survey = replay_survey_and_accounts(("smb",))
    comments = [
        None,
        "Too expensive for what it does",
        "Support was great",
        "The app crashes and is slow",
        "Onboarding took weeks",
        "Love the new features",
    ]
    now = clock.utcnow()
    ever_qualifying: set[str] = set()
    items: dict[str, Response] = {}

    def answer(rid, score, when, **fields):
        # Same item shape as capture writes (a test of the capture path proves that); written in batches
        # because moto's UpdateItem is slow and the subject here is the stream handler.
        month = when.strftime("%Y-%m")
        item = Response(
            rid, score=score, submitted_at=now, month=month, month_shard=f"{month}#{shard_of(rid)}", **fields
        )
        items[rid] = item
        if classify(score) in ("detractor", "promoter"):
            ever_qualifying.add(rid)
        return item

    with Response.batch_write() as batch:
        for i in range(N_RESPONSES):
            when = now - timedelta(minutes=i)
            batch.save(
                answer(
                    f"rsp_replay_{i:05d}",
                    rng.randint(0, 10),
                    when,
                    survey_id=survey.survey_id,
                    channel=rng.choice(["email", "widget", "api"]),
                    comment=rng.choice(comments),
                    touchpoint="relationship",
                    contact_id=f"con-{i % 700}",
                    account_id=f"acc-{i % 40}",
                    first_submitted_at=when,
                    version=1,
                )
            )
    with Response.batch_write() as batch:  # re-scores: a later answer replaces the score, keeps the month
        for rid in rng.sample(sorted(items), N_RESPONSES // 5):
            old = items[rid]
            batch.save(
                answer(
                    rid,
                    rng.randint(0, 10),
                    old.first_submitted_at,
                    survey_id=old.survey_id,
                    channel=old.channel,
                    comment=old.comment,
                    touchpoint=old.touchpoint,
                    contact_id=old.contact_id,
                    account_id=old.account_id,
                    first_submitted_at=old.first_submitted_at,
                    version=int(old.version) + 1,
                )
            )
    for c in rng.sample(range(700), 25):  # erasures
        erase_contact(f"con-{c}", now)
    stream = responses_poller(client)  # batches of 100, retried and bisected as the template's mapping says
    records = stream.read_new()
    assert len(records) > N_RESPONSES * 6 // 5

    throttler.enabled = True
    failed = stream.deliver(records, redeliver=True)  # every batch delivered twice
    throttler.enabled = False
    assert failed == []
    assert stream.stats.redeliveries >= len(records) // 100
    assert throttler.injected > 40, "the fault injection must actually have hit calls"

    survey_store.clear_cache()
    expected = {r.response_id: fact_of(r.attribute_values) for r in Response.scan()}
    actual = {}
    for f in ResponseFact.scan():
        values = dict(f.attribute_values)
        values["themes"] = list(values.get("themes") or [])
        values["score"] = int(values["score"])
        values["version"] = int(values["version"])
        actual[f.response_id] = values
    assert len(expected) == N_RESPONSES
    for rid, fact in expected.items():
        got = {k: actual[rid].get(k) for k in fact}
        assert got == dict(fact.items()), rid

    tasks = list(LoopTask.scan())
    assert len(tasks) == len(ever_qualifying)
    assert {t.response_id for t in tasks} == ever_qualifying
    for t in tasks:
        versions = [n["version"] for n in t.notes]
        assert len(versions) == len(set(versions)), "a re-score note was added twice"
        if t.contact_id and Response.get(t.response_id).erased:
            assert t.comment is None

    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == N_RESPONSES
    categories = sum(metric_total(lines, n) for n in ("Promoters", "Passives", "Detractors"))
    assert categories == N_RESPONSES
    assert metric_total(lines, "TasksOpened") == len(ever_qualifying)
