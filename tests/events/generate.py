"""Regenerates the stream events in this folder from real GetRecords output of moto's DynamoDB stream.

    .venv/bin/python tests/events/generate.py            # everything
    .venv/bin/python tests/events/generate.py --derived  # only the bad records derived from detractor_insert

The events are what Lambda hands the stream handler: records of the responses table (a detractor's first
answer, its re-score, an erasure, a delete), a record of somebody else's table, a poison record, and bad
records of every shape a forged or corrupted event may have (`bad_records.json`, `lone_bad_record.json`).
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
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    TABLE_PREFIX="nps-test-",
    NPS_STAGE="test",
)


def main() -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.store import models
    from chalicelib.store import responses as response_store
    from nps_local.poller import StreamPoller
    from nps_local.responses_stream import responses_poller
    from nps_local.template import StreamMapping

    with mock_aws():
        models.bind()
        for model in models.MODELS.values():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        now = datetime.now(UTC).replace(microsecond=0)
        common = {
            "response_id": "rsp_event_1",
            "survey_id": "srv_events",
            "channel": "email",
            "now": now,
            "touchpoint": "support",
            "invitation_id": "inv_event_1",
            "contact_id": "con-1",
            "account_id": "acc-1",
        }
        response_store.record_answer(answer={"score": 2, "comment": "Support never answered my ticket."}, **common)
        response_store.record_answer(answer={"score": 5, "comment": "Support answered, slowly."}, **common)
        from chalicelib.usecases.erasure import erase_contact

        erase_contact("con-1", now)
        models.Response("rsp_event_1").delete()
        new = responses_poller().read_new()  # as Lambda puts them in an event
        records = [r for r in new if set(r["dynamodb"].get("NewImage", {"x": 1})) != {"response_id"}]
        names = ["detractor_insert", "rescore_modify", "erasure_modify", "remove"]
        for name, record in zip(names, records, strict=True):
            (HERE / f"{name}.json").write_text(json.dumps({"Records": [record]}, indent=1, default=str) + "\n")

        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        ddb.put_item(TableName="orders", Item={"order_id": {"S": "o-1"}, "total": {"N": "12.5"}})
        orders = StreamPoller.for_table(
            "orders",
            dynamodb_client=ddb,
            streams_client=boto3.client("dynamodbstreams"),
            mapping=StreamMapping(starting_position="TRIM_HORIZON"),
        )
        (rec,) = orders.read_new()
        (HERE / "foreign_table.json").write_text(json.dumps({"Records": [rec]}, indent=1, default=str) + "\n")
        poison = json.loads((HERE / "detractor_insert.json").read_text())
        poison["Records"][0]["dynamodb"]["NewImage"]["score"] = {"S": "very high"}
        poison["Records"][0]["dynamodb"]["SequenceNumber"] = "9" + poison["Records"][0]["dynamodb"]["SequenceNumber"]
        poison["Records"][0]["eventID"] = "poison-" + poison["Records"][0]["eventID"]
        (HERE / "poison_score.json").write_text(json.dumps(poison, indent=1) + "\n")


def derived() -> None:
    """Bad records built from the recorded detractor answer: each must fail alone, never the batch."""
    good = json.loads((HERE / "detractor_insert.json").read_text())["Records"][0]
    base = int(good["dynamodb"]["SequenceNumber"])

    def variant(n: int, name: str, response_id: str) -> dict:
        record = json.loads(json.dumps(good))
        record["eventID"] = f"{name}-{good['eventID'][:8]}"
        record["dynamodb"]["SequenceNumber"] = str(base + n)
        record["dynamodb"]["Keys"]["response_id"]["S"] = response_id
        record["dynamodb"]["NewImage"]["response_id"]["S"] = response_id
        return record

    not_object = variant(1, "dynamodb-not-object", "rsp_bad_1")
    not_object["dynamodb"] = "garbage"  # no sequence number left to report it by
    image_list = variant(2, "image-not-object", "rsp_bad_2")
    image_list["dynamodb"]["NewImage"] = ["rsp_bad_2", 2]
    bad_number = variant(3, "score-not-a-number", "rsp_bad_3")
    bad_number["dynamodb"]["NewImage"]["score"] = {"N": "two"}
    keys_text = variant(4, "keys-not-object", "rsp_bad_4")
    keys_text["dynamodb"]["Keys"] = "rsp_bad_4"
    old_garbage = variant(5, "old-image-garbage", "rsp_bad_5")
    old_garbage["eventName"] = "MODIFY"
    old_garbage["dynamodb"]["OldImage"] = {"response_id": {"S": "rsp_bad_5"}, "score": {"BOOL": "x"}}
    status_garbage = variant(6, "status-not-a-string", "rsp_bad_6")
    status_garbage["dynamodb"]["NewImage"]["status"] = {"M": {}}
    after = variant(7, "good-after", "rsp_good_2")
    records = [
        good,
        not_object,
        image_list,
        bad_number,
        keys_text,
        old_garbage,
        status_garbage,
        "not a record",
        None,
        after,
    ]
    (HERE / "bad_records.json").write_text(json.dumps({"Records": records}, indent=1) + "\n")
    (HERE / "lone_bad_record.json").write_text(json.dumps({"Records": [image_list]}, indent=1) + "\n")


if __name__ == "__main__":
    if "--derived" not in sys.argv[1:]:
        main()
    derived()
