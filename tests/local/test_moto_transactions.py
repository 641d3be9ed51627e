"""The faster moto transactions (nps_local.moto_transactions) leave every table and stream as moto leaves them.
One script of transactions runs on plain moto, with the speed-up, and with the speed-up and the read speed-ups
together: successful ones with Put, Update, Delete and ConditionCheck, ones cancelled by a failed condition, and
ones undone by a validation error or two operations on one item. It runs on tables with and without a stream and
with and without a sort key. After each step the script reads every table, index and stream (new shard
iterators, and one taken before the rollbacks), and the readings must be equal in all three runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from unittest.mock import patch

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from nps_local import moto_read_speedups, moto_transactions

REGION = "us-east-1"
STREAMED = "tx-streamed"  # hash key only, a stream of new and old images, an index
RANGED = "tx-ranged"  # hash and sort key, a stream of new images
QUIET = "tx-quiet"  # hash key only, no stream
TABLES = (STREAMED, RANGED, QUIET)


def _create_tables(client) -> None:
    client.create_table(
        TableName=STREAMED,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "grp", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_grp",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}],
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.create_table(
        TableName=RANGED,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    client.create_table(
        TableName=QUIET,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    for i in range(12):
        client.put_item(
            TableName=STREAMED,
            Item={
                "pk": {"S": f"c{i}"},
                "grp": {"S": f"g{i % 3}"},
                "n": {"N": str(i)},
                "tags": {"SS": ["a", f"t{i}"]},
                "seen": {"M": {"s1": {"S": "2026-01-01"}}},
                "ids": {"L": [{"S": f"inv{i}"}]},
            },
        )
        client.put_item(
            TableName=RANGED,
            Item={"pk": {"S": f"p{i % 3}"}, "sk": {"N": str(i)}, "v": {"S": f"v{i}"}, "nums": {"NS": ["1"]}},
        )
        client.put_item(TableName=QUIET, Item={"id": {"S": f"q{i}"}, "v": {"N": str(i)}})


def _stamp(pk: str, survey: str, day: str, condition: str | None = None, table: str = STREAMED) -> dict:
    """An update in the shape of the invitation stamp: a map entry set, a list appended, a set added to."""
    update = {
        "TableName": table,
        "Key": {"pk": {"S": pk}},
        "UpdateExpression": "SET seen.#s = :d, ids = list_append(if_not_exists(ids, :e), :i), n = n + :one ADD tags :t",
        "ExpressionAttributeNames": {"#s": survey},
        "ExpressionAttributeValues": {
            ":d": {"S": day},
            ":e": {"L": []},
            ":i": {"L": [{"S": f"inv-{pk}-{survey}"}]},
            ":one": {"N": "1"},
            ":t": {"SS": [f"new-{survey}"]},
        },
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def _fails_condition(table: str, key: dict) -> dict:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": key,
            "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": next(iter(key))},
        }
    }


def _arn(table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:123456789012:table/{table}"


# Every step is a TransactWriteItems call; the script reads everything after each one.
STEPS: list[tuple[str, list[dict]]] = [
    (
        "succeeds: a put, a stamp, a delete and a check over three tables",
        [
            {
                "Put": {
                    "TableName": STREAMED,
                    "Item": {"pk": {"S": "new1"}, "grp": {"S": "g1"}, "n": {"N": "0"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            _stamp("c1", "s2", "2026-02-01", condition="attribute_not_exists(seen.s2)"),
            {"Delete": {"TableName": RANGED, "Key": {"pk": {"S": "p1"}, "sk": {"N": "4"}}}},
            {"Put": {"TableName": RANGED, "Item": {"pk": {"S": "p1"}, "sk": {"N": "40"}, "v": {"S": "put"}}}},
            {
                "Update": {
                    "TableName": RANGED,
                    "Key": {"pk": {"S": "p2"}, "sk": {"N": "5"}},
                    "UpdateExpression": "SET v = :v ADD nums :n",
                    "ExpressionAttributeValues": {":v": {"S": "changed"}, ":n": {"NS": ["7"]}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": QUIET,
                    "Key": {"id": {"S": "q3"}},
                    "ConditionExpression": "v = :three",
                    "ExpressionAttributeValues": {":three": {"N": "3"}},
                }
            },
            {
                "Update": {
                    "TableName": QUIET,
                    "Key": {"id": {"S": "q-new"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "99"}},
                }
            },
        ],
    ),
    (
        "cancelled by its last check: stamps, a put, a delete and an update by ARN undone",
        [
            _stamp("c2", "s2", "2026-02-02"),
            _stamp("c3", "s2", "2026-02-02", table=_arn(STREAMED)),  # the same table named by ARN
            {"Put": {"TableName": STREAMED, "Item": {"pk": {"S": "c4"}, "grp": {"S": "g2"}}}},  # replaces c4
            {"Delete": {"TableName": STREAMED, "Key": {"pk": {"S": "c5"}}}},
            {
                "Update": {
                    "TableName": RANGED,
                    "Key": {"pk": {"S": "p0"}, "sk": {"N": "3"}},
                    "UpdateExpression": "REMOVE v DELETE nums :n",
                    "ExpressionAttributeValues": {":n": {"NS": ["1"]}},
                }
            },
            {"Delete": {"TableName": QUIET, "Key": {"id": {"S": "q1"}}}},
            _fails_condition(QUIET, {"id": {"S": "q2"}}),
        ],
    ),
    (
        "cancelled by a failed condition in the middle, with the old item asked for",
        [
            _stamp("c6", "s3", "2026-03-01"),
            {
                "Put": {
                    "TableName": RANGED,
                    "Item": {"pk": {"S": "p9"}, "sk": {"N": "1"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": STREAMED,
                    "Key": {"pk": {"S": "c7"}},
                    "UpdateExpression": "SET grp = :g",
                    "ConditionExpression": "n = :wrong",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    "ExpressionAttributeValues": {":g": {"S": "g9"}, ":wrong": {"N": "-1"}},
                }
            },
            _stamp("c8", "s3", "2026-03-01"),
        ],
    ),
    (
        "undone: two operations on one item (MultipleTransactionsException)",
        [
            _stamp("c9", "s4", "2026-04-01"),
            {"Delete": {"TableName": QUIET, "Key": {"id": {"S": "q4"}}}},
            {"Put": {"TableName": STREAMED, "Item": {"pk": {"S": "c9"}, "grp": {"S": "g0"}}}},
        ],
    ),
    (
        "undone: a key without its sort key (ValidationException) after an update of the same partition",
        [
            {
                "Update": {
                    "TableName": RANGED,
                    "Key": {"pk": {"S": "p2"}, "sk": {"N": "8"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "gone soon"}},
                }
            },
            _stamp("c10", "s4", "2026-04-02"),
            {"Delete": {"TableName": RANGED, "Key": {"pk": {"S": "p2"}}}},
        ],
    ),
    (
        "succeeds again after the rollbacks: the restored tables take writes and stream them",
        [
            _stamp("c2", "s5", "2026-05-01"),
            {"Delete": {"TableName": STREAMED, "Key": {"pk": {"S": "c5"}}}},
            {"Put": {"TableName": RANGED, "Item": {"pk": {"S": "p0"}, "sk": {"N": "100"}}}},
        ],
    ),
    (
        "cancelled, naming a table only by ARN: moto backs up no table it does not name, so that write stays",
        [
            _stamp("c11", "s6", "2026-06-01", table=_arn(STREAMED)),
            _fails_condition(QUIET, {"id": {"S": "q0"}}),
        ],
    ),
]


def _records(streams, shard_iterator: str) -> list:
    records = []
    while True:
        page = streams.get_records(ShardIterator=shard_iterator)
        records.extend(page["Records"])
        if not page["Records"]:
            return records
        shard_iterator = page["NextShardIterator"]


def _stream(client, streams, table: str) -> tuple[str, str]:
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return arn, shard


def _read_all(client, streams, early: dict) -> dict:
    """Every table scanned, the index queried, every stream read from the start, and read on from iterators
    taken before the first step."""
    reading: dict = {}
    for table in TABLES:
        scan = client.scan(TableName=table)
        reading[f"scan {table}"] = (scan["Items"], scan["Count"])
    for grp in ("g0", "g1", "g2", "g9"):
        query = client.query(
            TableName=STREAMED,
            IndexName="by_grp",
            KeyConditionExpression="grp = :g",
            ExpressionAttributeValues={":g": {"S": grp}},
        )
        reading[f"index {grp}"] = query["Items"]
    for table in (STREAMED, RANGED):
        arn, shard = _stream(client, streams, table)
        start = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        reading[f"stream {table}"] = _records(streams, start["ShardIterator"])
        reading[f"stream {table} read on"] = _records(streams, early[table])
        early[table] = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
            "ShardIterator"
        ]
    return reading


def _answer(client, items: list[dict]) -> dict:
    try:
        answer = client.transact_write_items(TransactItems=items)
    except ClientError as error:
        return {
            "code": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
            "reasons": error.response.get("CancellationReasons"),
        }
    answer.pop("ResponseMetadata")
    return answer


def _run() -> list:
    """The script on a fresh moto: the answer to each step and everything read after it. moto's clock stands
    still and its random ids are seeded, so that two runs' stream records can be equal to the byte."""
    from moto.dynamodb.models import table as moto_table
    from moto.moto_api._internal import mock_random

    mock_random.seed(20260101)
    with mock_aws(), patch.object(moto_table, "utcnow", lambda: datetime(2026, 1, 1, 12, 0, 0, 123456)):
        client = boto3.client("dynamodb", region_name=REGION)
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        _create_tables(client)
        early = {}
        for table in (STREAMED, RANGED):
            arn, shard = _stream(client, streams, table)
            early[table] = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
        readings = [("set up", None, _read_all(client, streams, early))]
        for name, items in STEPS:
            readings.append((name, _answer(client, items), _read_all(client, streams, early)))
        return readings


@pytest.fixture
def plain_moto():
    """Neither speed-up installed for the test; as they were after it."""
    was = (moto_read_speedups.installed(), moto_transactions.installed())
    moto_read_speedups.uninstall()
    moto_transactions.uninstall()
    yield
    moto_read_speedups.uninstall()
    moto_transactions.uninstall()
    if was[0]:
        moto_read_speedups.install()
    if was[1]:
        moto_transactions.install()


@pytest.fixture(scope="module")
def plain_readings() -> list:
    """The script's readings on plain moto (once for the module: the tests compare against them)."""
    was = (moto_read_speedups.installed(), moto_transactions.installed())
    moto_read_speedups.uninstall()
    moto_transactions.uninstall()
    try:
        return _run()
    finally:
        if was[0]:
            moto_read_speedups.install()
        if was[1]:
            moto_transactions.install()


def _by_step(readings: list) -> dict:
    return {name: (answer, reading) for name, answer, reading in readings}


def test_the_script_does_what_it_says_on_plain_moto(plain_moto, plain_readings):
    steps = _by_step(plain_readings)
    before = steps["set up"][1]
    ok, after_ok = steps[STEPS[0][0]]
    assert "code" not in ok
    streamed = {i["pk"]["S"]: i for i in after_ok[f"scan {STREAMED}"][0]}
    assert "new1" in streamed and streamed["c1"]["seen"]["M"]["s2"] == {"S": "2026-02-01"}
    assert streamed["c1"]["tags"]["SS"] != before_item(before, "c1")["tags"]["SS"]
    assert len(after_ok[f"stream {STREAMED}"]) == len(before[f"stream {STREAMED}"]) + 2
    assert len(after_ok[f"stream {RANGED}"]) == len(before[f"stream {RANGED}"]) + 3

    cancelled, after_cancel = steps[STEPS[1][0]]
    assert cancelled["code"] == "TransactionCanceledException"
    assert [r["Code"] for r in cancelled["reasons"]] == ["None"] * 6 + ["ConditionalCheckFailed"]
    assert after_cancel["stream " + STREAMED + " read on"], "an iterator from before reads the cancelled writes"
    for key, value in after_ok.items():
        if not key.endswith("read on"):
            assert after_cancel[key] == value, key

    middle, _ = steps[STEPS[2][0]]
    assert [r["Code"] for r in middle["reasons"]] == [
        "None",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
        "None",
    ]
    assert middle["reasons"][2]["Item"]["pk"] == {"S": "c7"}, "the old item, as asked"
    assert steps[STEPS[3][0]][0]["code"] == "ValidationException"
    assert "multiple operations on one item" in steps[STEPS[3][0]][0]["message"]
    assert steps[STEPS[4][0]][0]["code"] == "ValidationException"
    for step in STEPS[2:5]:
        assert {k: v for k, v in steps[step[0]][1].items() if not k.endswith("read on")} == {
            k: v for k, v in after_cancel.items() if not k.endswith("read on")
        }, step[0]

    _, after_again = steps[STEPS[5][0]]
    assert "c5" not in {i["pk"]["S"] for i in after_again[f"scan {STREAMED}"][0]}
    assert len(after_again[f"stream {STREAMED}"]) == len(after_ok[f"stream {STREAMED}"]) + 2
    assert after_again[f"stream {STREAMED}"][-1]["eventName"] == "REMOVE"
    arn_only, after_arn_only = steps[STEPS[6][0]]
    assert arn_only["code"] == "TransactionCanceledException"
    stamped = {i["pk"]["S"]: i for i in after_arn_only[f"scan {STREAMED}"][0]}["c11"]
    assert "s6" in stamped["seen"]["M"], "moto keeps a write to a table it did not back up"


def before_item(reading: dict, pk: str) -> dict:
    return {i["pk"]["S"]: i for i in reading[f"scan {STREAMED}"][0]}[pk]


def test_transactions_leave_the_same_tables_and_streams_with_the_speed_up(plain_moto, plain_readings):
    from moto.dynamodb.models import DynamoDBBackend

    plain_transact = DynamoDBBackend.transact_write_items
    moto_transactions.install()
    try:
        assert DynamoDBBackend.transact_write_items is not plain_transact, "the speed-up is in place"
        fast = _run()
    finally:
        moto_transactions.uninstall()
    assert DynamoDBBackend.transact_write_items is plain_transact
    for (name, plain_answer, plain_reading), (_, fast_answer, fast_reading) in zip(plain_readings, fast, strict=True):
        assert fast_answer == plain_answer, name
        assert fast_reading == plain_reading, name


def test_and_with_the_read_speed_ups_as_well(plain_moto, plain_readings):
    moto_read_speedups.install()
    moto_transactions.install()
    try:
        fast = _run()
    finally:
        moto_transactions.uninstall()
        moto_read_speedups.uninstall()
    assert fast == plain_readings


def _rollback_of_one_update(client) -> tuple:
    """An update that changes an item in place, then a failed condition: the item as it was, and the ids of an
    item the transaction did not touch, before and after."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"][REGION]
    key = {"pk": {"S": "c1"}}
    before = client.get_item(TableName=STREAMED, Key=key)["Item"]
    untouched = backend.tables[STREAMED].items[next(k for k in backend.tables[STREAMED].items if k.value == "c0")]
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[_stamp("c1", "s9", "2026-09-09"), _fails_condition(QUIET, {"id": {"S": "q1"}})]
        )
    after = client.get_item(TableName=STREAMED, Key=key)["Item"]
    table = backend.tables[STREAMED]
    restored = table.items[next(k for k in table.items if k.value == "c0")]
    assert table.stream_shard.table is table, "the restored table's stream writes the restored table's records"
    return before, after, cancelled.value.response["CancellationReasons"], untouched is restored


def test_an_item_changed_in_place_by_a_cancelled_update_is_back_as_it_was(plain_moto):
    results = {}
    for fast in (False, True):
        if fast:
            moto_transactions.install()
        try:
            with mock_aws():
                client = boto3.client("dynamodb", region_name=REGION)
                _create_tables(client)
                results[fast] = _rollback_of_one_update(client)
        finally:
            moto_transactions.uninstall()
    for fast, (before, after, reasons, shared) in results.items():
        assert after == before, fast
        assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
        # Plain moto puts back a deep copy of the whole table; the speed-up copies only what it may change.
        assert shared is fast
    assert results[True][:3] == results[False][:3]


# ---- only on a moto it was checked against ---------------------------------------------------------------------

UNCHECKED = "5.3.0"  # a moto this was never run on


def test_install_refuses_a_moto_it_was_not_checked_against_and_changes_nothing(plain_moto, monkeypatch):
    import moto
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend

    before = (DynamoDBBackend.transact_write_items, models.copy)
    monkeypatch.setattr(moto, "__version__", UNCHECKED)
    with pytest.raises(moto_transactions.UnverifiedMoto, match=f"moto {UNCHECKED} is not a version") as refused:
        moto_transactions.install()
    assert "moto_transactions" in str(refused.value)
    assert moto_transactions.UnverifiedMoto is moto_read_speedups.UnverifiedMoto
    assert not moto_transactions.installed()
    assert (DynamoDBBackend.transact_write_items, models.copy) == before
    monkeypatch.undo()
    moto_transactions.install()  # the checked version installs
    assert moto_transactions.installed() and models.copy is not before[1]
    moto_transactions.uninstall()
    assert (DynamoDBBackend.transact_write_items, models.copy) == before


def test_the_fixture_installs_it_for_the_test(plain_moto, fast_moto_transactions):
    assert moto_transactions.installed()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _create_tables(client)
        before, after, _, shared = _rollback_of_one_update(client)
    assert after == before and shared, "rolled back from the cheap backup"


def _malformed_key_rollback() -> tuple:
    """Straight to moto's backend (boto3 would not send it): a key no DynamoType can be read from, after an update."""
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _create_tables(client)
        backend = dynamodb_backends["123456789012"][REGION]
        untouched = backend.tables[STREAMED].items[next(k for k in backend.tables[STREAMED].items if k.value == "c0")]
        with pytest.raises(TransactionCanceledException) as cancelled:
            backend.transact_write_items(
                [_stamp("c1", "s9", "2026-09-09"), {"Delete": {"TableName": STREAMED, "Key": {"pk": {}}}}]
            )
        table = backend.tables[STREAMED]
        restored = table.items[next(k for k in table.items if k.value == "c0")]
        return cancelled.value.message, client.scan(TableName=STREAMED)["Items"], untouched is restored


def test_a_key_it_cannot_read_gets_moto_s_own_deep_copy(plain_moto):
    plain = _malformed_key_rollback()
    moto_transactions.install()
    try:
        fast = _malformed_key_rollback()
    finally:
        moto_transactions.uninstall()
    assert fast == plain
    assert "None" in plain[0] and plain[2] is False, "cancelled, and the table put back is a deep copy"


ROOT = Path(__file__).resolve().parents[2]
STACK = """
import json, sys
import moto

from nps_local import moto_transactions
from nps_local.stack import LocalStack

if sys.argv[1] != "checked":
    moto.__version__ = sys.argv[1]
stack = LocalStack(port=0, demo=False)
try:
    stack.start()
    running = moto_transactions.installed()
    lines = stack.banner()
finally:
    stack.stop()
print(json.dumps({"running": running, "stopped": moto_transactions.installed(), "banner": lines}))
"""


def _stack(version: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    done = subprocess.run(
        [sys.executable, "-c", STACK, version],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_local_stack_runs_with_it_and_on_plain_moto_when_refused():
    # In fresh interpreters: starting the stack sets the process's environment for its functions.
    checked = _stack("checked")
    assert checked["running"] is True and checked["stopped"] is False
    assert not [line for line in checked["banner"] if "moto_transactions" in line]
    refused = _stack(UNCHECKED)
    assert refused["running"] is False
    warnings = [line for line in refused["banner"] if line.strip().startswith("warning:")]
    assert any(f"moto {UNCHECKED} is not a version nps_local/moto_transactions.py" in line for line in warnings)
