"""The local stack's faster moto reads (nps_local.fast_reads) answer exactly what moto answers without them:
every attribute type the tables use, paged Query and Scan, index queries, batch gets, and index queries again after
each kind of write (put, update moving an item between index partitions, delete, batch and transactional writes),
so the partition lookup is never stale."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from nps_local import fast_reads

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
    was_installed = fast_reads.installed()
    fast_reads.uninstall()
    yield
    if was_installed:
        fast_reads.install()


def test_read_answers_are_the_same_with_and_without_the_fast_path(plain_moto):
    from moto.dynamodb.models.table import Table

    plain_query = Table.query
    plain = _run()
    fast_reads.install()
    fast_reads.stats["cut_pages"] = 0
    try:
        assert Table.query is not plain_query, "the fast path is in place"
        fast = _run()
        assert fast_reads.stats["cut_pages"] >= 40, "later pages started at their start key, not from the top"
    finally:
        fast_reads.uninstall()
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
    fast_reads.install()
    try:
        fast = _projected_reads()
    finally:
        fast_reads.uninstall()
    assert fast == plain
    items = [item for page in fast for item in page["Items"]]
    keys_only = [i for i in items if "score" in i]
    assert keys_only and all(set(i) == {"pk", "sk", "score"} for i in keys_only)
    included = [i for i in items if "grp" in i]
    assert included and all(set(i) == {"pk", "sk", "grp", "when", "themes", "ok"} for i in included)
