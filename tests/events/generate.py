"""Regenerates the stream events in this folder from real GetRecords output of moto's DynamoDB stream.

    .venv/bin/python tests/events/generate.py

The events are what Lambda hands the stream handler: records of the responses table (a detractor's first
answer, its re-score, an erasure, a delete), a record of somebody else's table, and a poison record.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent.parent), str(HERE.parent)]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled", TABLE_PREFIX="nps-test-", NPS_STAGE="test",
)


def main() -> None:
    import boto3
    from moto import mock_aws
    from support_stream import StreamReader

    from chalicelib.store import models
    from chalicelib.store import responses as response_store

    with mock_aws():
        models.bind()
        for model in models.MODELS.values():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        now = datetime.now(UTC).replace(microsecond=0)
        common = dict(response_id="rsp_event_1", survey_id="srv_events", channel="email", now=now,
                      touchpoint="support", invitation_id="inv_event_1", contact_id="con-1", account_id="acc-1")
        response_store.record_answer(answer={"score": 2, "comment": "Support never answered my ticket."}, **common)
        response_store.record_answer(answer={"score": 5, "comment": "Support answered, slowly."}, **common)
        from chalicelib.store.erasure import erase_contact

        erase_contact("con-1", now)
        models.Response("rsp_event_1").delete()
        records = [r for r in StreamReader().read() if set(r["dynamodb"].get("NewImage", {"x": 1})) != {"response_id"}]
        names = ["detractor_insert", "rescore_modify", "erasure_modify", "remove"]
        for name, record in zip(names, records, strict=True):
            (HERE / f"{name}.json").write_text(json.dumps({"Records": [record]}, indent=1, default=str) + "\n")

        ddb = boto3.client("dynamodb")
        ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        ddb.put_item(TableName="orders", Item={"order_id": {"S": "o-1"}, "total": {"N": "12.5"}})
        arn = ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams")
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        from support_stream import as_lambda_record

        rec = streams.get_records(ShardIterator=it["ShardIterator"])["Records"][0]
        (HERE / "foreign_table.json").write_text(
            json.dumps({"Records": [as_lambda_record(rec, arn)]}, indent=1, default=str) + "\n"
        )
        poison = json.loads((HERE / "detractor_insert.json").read_text())
        poison["Records"][0]["dynamodb"]["NewImage"]["score"] = {"S": "very high"}
        poison["Records"][0]["dynamodb"]["SequenceNumber"] = "9" + poison["Records"][0]["dynamodb"]["SequenceNumber"]
        poison["Records"][0]["eventID"] = "poison-" + poison["Records"][0]["eventID"]
        (HERE / "poison_score.json").write_text(json.dumps(poison, indent=1) + "\n")


if __name__ == "__main__":
    main()
