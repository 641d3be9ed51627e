"""The local stack's faster moto reads (nps_local.moto_read_speedups) answer exactly what moto answers without them:
every attribute type the tables use, paged Query and Scan, index queries, batch gets, and index queries again after
each kind of write (put, update moving an item between index partitions, delete, batch and transactional writes),
so the partition lookup is never stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from nps_local import moto_read_speedups

TABLE = "fast-reads-check"


def _item(i: int) -> dict:
    return {
        "pk": {"S": f"p{i % 3}"},
        "sk": {"S": f"s{i:03d}"},
        "score": {"N": str(i % 11)},
        "ratio": {"N": "0.125"},
        "big": {"N": "12345678901234567890"},
        "ok": {"BOOL": i % 2 == 0},
        "gone": {"NULL": True},
        "themes": {"L": [{"S": "price"}, {"S": "support ✓ é"}]},
        "revenue": {"M": {"2026-01": {"N": "100.5"}, "2026-02": {"N": "0"}}},
        "tags": {"SS": ["a", "b"]},
        "comment": {"S": 'quotes " and \\ backslash\nnew line ' + "x" * 300},
        "grp": {"S": f"g{i % 2}"},
        **({} if i % 5 == 0 else {"when": {"S": f"w{(i * 7) % 40:02d}"}}),  # a sparse index with a sort key
    }


def _by_score(client, score: int, **kw) -> dict:
    return client.query(
        TableName=TABLE,
        IndexName="by_score",
        KeyConditionExpression="score = :s",
        ExpressionAttributeValues={":s": {"N": str(score)}},
        **kw,
    )


def _pages(client, limit: int, **kw) -> list:
    """Every page of a query, `limit` items at a time."""
    pages = [client.query(TableName=TABLE, Limit=limit, **kw)]
    while "LastEvaluatedKey" in pages[-1]:
        pages.append(client.query(TableName=TABLE, Limit=limit, ExclusiveStartKey=pages[-1]["LastEvaluatedKey"], **kw))
    return pages


def _by_group(group: str, **kw) -> dict:
    values = {":g": {"S": group}, **kw.pop("values", {})}
    condition = "grp = :g" + kw.pop("and_", "")
    return dict(IndexName="by_group", KeyConditionExpression=condition, ExpressionAttributeValues=values, **kw)


def _writes_then_reads(client) -> list:
    """A fixed script of reads and writes; returns every read answer."""
    answers = []

    def read():
        answers.append(client.scan(TableName=TABLE, Limit=7))
        answers.append(client.scan(TableName=TABLE, ExclusiveStartKey=answers[-1]["LastEvaluatedKey"]))
        answers.append(
            client.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "p1"}},
                Limit=4,
            )
        )
        for score in (3, 4, 5):
            answers.append(_by_score(client, score, ReturnConsumedCapacity="TOTAL"))
        for forward in (True, False):  # a whole index partition a page of one item at a time, both ways
            page = _by_score(client, 3, Limit=1, ScanIndexForward=forward)
            answers.append(page)
            while "LastEvaluatedKey" in page:
                page = _by_score(
                    client, 3, Limit=1, ScanIndexForward=forward, ExclusiveStartKey=page["LastEvaluatedKey"]
                )
                answers.append(page)
        for forward in (True, False):  # an index with a sort key, items without it left out, both ways
            answers.extend(_pages(client, 2, **_by_group("g0", ScanIndexForward=forward)))
            answers.extend(
                _pages(
                    client,
                    3,
                    **_by_group(
                        "g1",
                        ScanIndexForward=forward,
                        and_=" AND #w BETWEEN :lo AND :hi",
                        values={":lo": {"S": "w05"}, ":hi": {"S": "w30"}},
                        ExpressionAttributeNames={"#w": "when"},
                    ),
                )
            )
        # A page asked for after its start item moved within the index: the key's index value is no longer the
        # item's, and the answer must still be moto's.
        first = client.query(TableName=TABLE, Limit=3, **_by_group("g0"))
        moved = first["LastEvaluatedKey"]
        client.update_item(
            TableName=TABLE,
            Key={"pk": moved["pk"], "sk": moved["sk"]},
            UpdateExpression="SET #w = :w",
            ExpressionAttributeNames={"#w": "when"},
            ExpressionAttributeValues={":w": {"S": "w00"}},
        )
        answers.append(first)
        answers.append(client.query(TableName=TABLE, ExclusiveStartKey=moved, **_by_group("g0")))
        answers.append(
            client.batch_get_item(
                RequestItems={
                    TABLE: {
                        "Keys": [
                            {"pk": {"S": "p0"}, "sk": {"S": "s000"}},
                            {"pk": {"S": "p2"}, "sk": {"S": "s005"}},
                            {"pk": {"S": "p9"}, "sk": {"S": "missing"}},
                        ]
                    }
                }
            )
        )

    read()
    client.put_item(TableName=TABLE, Item={**_item(99), "score": {"N": "3"}})
    read()
    client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "p0"}, "sk": {"S": "s003"}},
        UpdateExpression="SET score = :s",
        ExpressionAttributeValues={":s": {"N": "4"}},
    )
    read()
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "p1"}, "sk": {"S": "s025"}})
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {**_item(77), "score": {"N": "5"}}}}]})
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "p2"}, "sk": {"S": "s014"}},
                    "UpdateExpression": "SET score = :s",
                    "ExpressionAttributeValues": {":s": {"N": "5"}},
                }
            }
        ]
    )
    read()
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    return answers


def _run() -> list:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": t}
                for n, t in (("pk", "S"), ("sk", "S"), ("score", "N"), ("grp", "S"), ("when", "S"))
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_score",
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [{"AttributeName": "score", "KeyType": "HASH"}],
                },
                {
                    "IndexName": "by_group",
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [
                        {"AttributeName": "grp", "KeyType": "HASH"},
                        {"AttributeName": "when", "KeyType": "RANGE"},
                    ],
                },
            ],
        )
        for i in range(33):
            client.put_item(TableName=TABLE, Item=_item(i))
        return _writes_then_reads(client)


@pytest.fixture
def plain_moto():
    was_installed = moto_read_speedups.installed()
    moto_read_speedups.uninstall()
    yield
    if was_installed:
        moto_read_speedups.install()


def test_read_answers_are_the_same_with_and_without_the_fast_path(plain_moto):
    from moto.dynamodb.models.table import Table

    plain_query = Table.query
    plain = _run()
    moto_read_speedups.install()
    moto_read_speedups.stats["cut_pages"] = 0
    try:
        assert Table.query is not plain_query, "the fast path is in place"
        fast = _run()
        assert moto_read_speedups.stats["cut_pages"] >= 40, "later pages started at their start key, not from the top"
    finally:
        moto_read_speedups.uninstall()
    assert Table.query is plain_query
    assert fast == plain
    # The script did what it says: the writes moved items between the index's partitions.
    counts = [len(a["Items"]) for a in fast if "Items" in a]
    assert counts[:6] == [7, 26, 4, 3, 3, 3]
    partition_3 = [
        a["Count"] for a in fast if "ConsumedCapacity" in a and a.get("Items") and a["Items"][0]["score"] == {"N": "3"}
    ]
    assert partition_3 == [3, 4, 3, 1], "put, update, delete and transaction moved items in and out of it"
    assert fast[-1]["Responses"][TABLE] and fast[0]["Items"][0]["revenue"]["M"]["2026-01"] == {"N": "100.5"}


def _projected_reads() -> list:
    """Pages of a keys-only and an INCLUDE index (the projections the app's tables use), after writes."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": t}
                for n, t in (("pk", "S"), ("sk", "S"), ("score", "N"), ("grp", "S"), ("when", "S"))
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "keys",
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "KeySchema": [{"AttributeName": "score", "KeyType": "HASH"}],
                },
                {
                    "IndexName": "some",
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["themes", "ok"]},
                    "KeySchema": [
                        {"AttributeName": "grp", "KeyType": "HASH"},
                        {"AttributeName": "when", "KeyType": "RANGE"},
                    ],
                },
            ],
        )
        for i in range(33):
            client.put_item(TableName=TABLE, Item=_item(i))
        answers = []
        for index, key in (("keys", ("score", {"N": "3"})), ("some", ("grp", {"S": "g1"}))):
            start = None
            while True:
                page = client.query(
                    TableName=TABLE,
                    IndexName=index,
                    KeyConditionExpression="#k = :v",
                    ExpressionAttributeNames={"#k": key[0]},
                    ExpressionAttributeValues={":v": key[1]},
                    Limit=2,
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                page.pop("ResponseMetadata", None)
                answers.append(page)
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
        return answers


def test_keys_only_and_include_indexes_read_the_same_with_and_without_the_fast_path(plain_moto):
    plain = _projected_reads()
    moto_read_speedups.install()
    try:
        fast = _projected_reads()
    finally:
        moto_read_speedups.uninstall()
    assert fast == plain
    items = [item for page in fast for item in page["Items"]]
    keys_only = [i for i in items if "score" in i]
    assert keys_only and all(set(i) == {"pk", "sk", "score"} for i in keys_only)
    included = [i for i in items if "grp" in i]
    assert included and all(set(i) == {"pk", "sk", "grp", "when", "themes", "ok"} for i in included)


# ---- only on a moto it was checked against ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
UNCHECKED = "5.3.0"  # a moto these speed-ups were never run on


def test_the_checked_moto_is_the_pinned_one_and_the_one_installed():
    import moto

    [pin] = [line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("moto")]
    pinned = pin.split("==")[1].strip()
    assert pinned in moto_read_speedups.VERIFIED_MOTO, "check the speed-ups on the new pin, then add it"
    assert moto.__version__ == pinned


def test_install_refuses_a_moto_it_was_not_checked_against_and_changes_nothing(plain_moto, monkeypatch):
    import moto
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    before = (Table.query, Table.all_items, Table.sorted_items, DynamoHandler.call_action, DynamoResult.execute_result)
    monkeypatch.setattr(moto, "__version__", UNCHECKED)
    with pytest.raises(moto_read_speedups.UnverifiedMoto, match=f"moto {UNCHECKED} is not a version"):
        moto_read_speedups.install()
    assert not moto_read_speedups.installed()
    after = (Table.query, Table.all_items, Table.sorted_items, DynamoHandler.call_action, DynamoResult.execute_result)
    assert after == before
    monkeypatch.undo()
    moto_read_speedups.install()  # the checked version installs
    assert moto_read_speedups.installed()
    moto_read_speedups.uninstall()


STACK_ON_UNCHECKED_MOTO = f"""
import json, sys, urllib.request
import moto

moto.__version__ = {UNCHECKED!r}
from nps_local import moto_read_speedups
from nps_local.banner import parse_banner
from nps_local.stack import LocalStack

stack = LocalStack(port=0, demo=False)
try:
    stack.start()
    lines = stack.banner()
    health = urllib.request.urlopen(parse_banner(lines)["Health"], timeout=30).status
    print(json.dumps({{"banner": lines, "health": health, "installed": moto_read_speedups.installed()}}))
finally:
    stack.stop()
"""


def test_the_local_stack_warns_and_runs_on_plain_moto_when_refused():
    # In a fresh interpreter: starting the stack sets the process's environment for its functions.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}
    done = subprocess.run(
        [sys.executable, "-c", STACK_ON_UNCHECKED_MOTO],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["health"] == 200
    assert answer["installed"] is False
    warnings = [line for line in answer["banner"] if line.strip().startswith("warning:")]
    assert any(f"moto {UNCHECKED} is not a version" in line and "not installed" in line for line in warnings)
