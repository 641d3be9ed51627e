"""Create the local stack's tables and queues in moto from `infra/template.yaml`, and check that every
PynamoDB model finds its table there: the template is the one definition, in AWS and locally."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from chalicelib import config
from chalicelib.store import models
from nps_local import template as cfn

log = logging.getLogger("nps.local")


@dataclass
class Provisioned:
    """What the template created: table names by model, queue URLs by name, the responses stream's settings."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    stream_table: str = ""
    stream_mapping: cfn.StreamMapping | None = None
    on_failure_queue_url: str | None = None
    warnings: list[str] = field(default_factory=list)


def clients(endpoint_url: str, region: str):
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=region)
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
    return dynamodb, sqs


def provision(endpoint_url: str, template_path: str | Path = cfn.TEMPLATE_PATH) -> Provisioned:
    """Create every table and queue the template defines; fail clearly when a model has no table."""
    s = config.settings()
    doc = cfn.load(template_path)
    resolver = cfn.Resolver(doc, stage=s.stage, table_prefix=s.table_prefix, region=s.region)

    def default_name(logical_id: str) -> str:
        key = cfn.model_key_for(logical_id, "", models.MODELS, s.table_name)
        return s.table_name(key) if key else ""

    dynamodb, sqs = clients(endpoint_url, s.region)
    out = Provisioned()
    by_logical: dict[str, str] = {}
    for table in cfn.tables(doc, resolver, default_name=default_name):
        dynamodb.create_table(**table.create_args)
        dynamodb.get_waiter("table_exists").wait(TableName=table.table_name, WaiterConfig={"Delay": 0.05})
        if table.time_to_live:
            dynamodb.update_time_to_live(
                TableName=table.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.time_to_live},
            )
        by_logical[table.logical_id] = table.table_name
        key = cfn.model_key_for(table.logical_id, table.table_name, models.MODELS, s.table_name)
        if key:
            out.tables[key] = table.table_name

    missing = [
        f"{key} (expected {s.table_name(key)})" for key in models.MODELS if out.tables.get(key) != s.table_name(key)
    ]
    if missing:
        raise cfn.TemplateError(
            f"{template_path} defines no table for: {', '.join(missing)}; "
            f"tables found: {', '.join(sorted(by_logical.values())) or 'none'}"
        )

    queue_names: dict[str, str] = {}
    for queue in cfn.queues(doc, resolver):
        url = sqs.create_queue(QueueName=queue.queue_name, Attributes=queue.attributes)["QueueUrl"]
        out.queues[queue.queue_name] = url
        queue_names[queue.logical_id] = queue.queue_name

    out.stream_table = s.table_name("responses")
    mapping = next(
        (m for m in cfn.stream_mappings(doc, resolver) if by_logical.get(m.table_logical_id) == out.stream_table),
        None,
    )
    if mapping is None:
        raise cfn.TemplateError("the template maps no function to the responses table's stream")

    out.stream_mapping = mapping
    if not mapping.report_item_failures:
        out.warnings.append("the stream mapping lacks ReportBatchItemFailures: partial failures count as success")
    if mapping.on_failure_queue:
        name = queue_names.get(mapping.on_failure_queue, mapping.on_failure_queue)
        if name not in out.queues:
            out.queues[name] = sqs.create_queue(QueueName=name)["QueueUrl"]
        out.on_failure_queue_url = out.queues[name]
    else:
        out.warnings.append("the stream mapping has no on-failure destination: exhausted batches are dropped")
    return out
