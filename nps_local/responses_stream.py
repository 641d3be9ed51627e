"""The responses table's stream poller, for tests and benchmarks: the event-source mapping infra/template.yaml
gives it, and a handler that invokes a function as Lambda would, through a `chalice.test.Client`; and polling a
poller until it is idle, for callers outside its thread (tests, the local stack's routes)."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable

from nps_local import template as cfn
from nps_local.poller import PollerStats, StreamPoller
from nps_local.template import StreamMapping


@functools.cache
def template_mapping(table_logical_id: str = "ResponsesTable") -> StreamMapping:
    """The event-source mapping infra/template.yaml gives the table's stream (read once)."""
    doc = cfn.load()
    resolver = cfn.Resolver(doc, stage="local", table_prefix="", region="us-east-1")
    for mapping in cfn.stream_mappings(doc, resolver):
        if mapping.table_logical_id == table_logical_id:
            return mapping
    raise cfn.TemplateError(f"the template maps no function to the stream of {table_logical_id}")


def invoking(client, function_name: str = "response_stream") -> Callable:
    """A handler that invokes `function_name` as Lambda would, through a `chalice.test.Client`: the app's
    middleware, Powertools' context, the stage's environment, and a Lambda context of its own."""

    def handler(event, context):
        return client.lambda_.invoke(function_name, event).payload

    return handler


@functools.cache
def _clients(region: str) -> tuple:
    # Made once per process: moto intercepts every botocore client, and new clients cost a tenth of a second each.
    import boto3

    return boto3.client("dynamodb", region_name=region), boto3.client("dynamodbstreams", region_name=region)


def responses_poller(
    client=None, *, handler: Callable | None = None, dynamodb_client=None, streams_client=None, **mapping
) -> StreamPoller:
    """The poller of the responses table's stream with the template's mapping (`mapping` overrides a setting),
    invoking `response_stream` through `client` (a `chalice.test.Client`), else `handler`, else the app's
    function with the poller's own Lambda context. Without clients it uses the default AWS endpoint (moto's
    in-process mock in tests and benchmarks)."""
    from chalicelib import config

    s = config.settings()
    if dynamodb_client is None or streams_client is None:
        dynamodb_client, streams_client = _clients(s.region)
    if handler is None and client is not None:
        handler = invoking(client)
    return StreamPoller.for_table(
        s.table_name("responses"),
        dynamodb_client=dynamodb_client,
        streams_client=streams_client,
        mapping=dataclasses.replace(template_mapping(), **mapping),
        handler=handler,
        region=s.region,
    )


def wait_until_idle(poller: StreamPoller, timeout: float = 5.0) -> dict:
    """Poll until a poll delivers nothing (for callers outside the poller's thread)."""
    deadline = time.monotonic() + timeout
    total = PollerStats()
    while time.monotonic() < deadline:
        delta = poller.poll_once()
        if not delta["batches"]:
            break
        total.add(PollerStats(**delta))
    return total.as_dict()
