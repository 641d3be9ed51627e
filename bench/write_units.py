"""DynamoDB write units, as DynamoDB bills them, for the benchmarks (never used by the app).

The pure part (`item_size`, `units`, `index_entry`, `write_cost`) follows DynamoDB's published rules:

- an item's size is the sum of its attribute names' UTF-8 lengths and its values' sizes (strings their UTF-8
  length, numbers about one byte per two significant digits plus one, booleans and nulls one byte, sets the sum
  of their members, lists and maps three bytes plus one per element plus the elements, map keys included);
- a write costs one unit per started kilobyte of the item, the larger of its state before and after (a delete:
  the item deleted), at least one; inside TransactWriteItems twice that, a ConditionCheck included;
- a write that fails its condition costs the stored item's units (at least one) and nothing in any index;
- each global secondary index costs the units of its entry (index keys, table keys and projected attributes,
  rounded up to the kilobyte): a put when the item enters the index, a delete when it leaves it, both when an
  index key changes, one put when only projected attributes change, nothing when none of those change or when the
  item is in the index neither before nor after (a sparse index). Index writes are not doubled in transactions.

`WriteMeter` hooks the botocore events of the models' clients: before a write it reads the affected items with a
separate client (not counted), after it reads them again, and adds up the cost per table and per index.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

KB = 1024


def _value_size(value: dict) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").split("e")[0].split("E")[0].replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_value_size({"N": n}) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(x) for k, x in v.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict | None) -> int:
    """An item's size by DynamoDB's rules: attribute names plus values (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def units(size: int) -> int:
    """Write units for `size` bytes: one per started kilobyte, at least one."""
    return max(1, -(-size // KB))


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str = "ALL"  # ALL, KEYS_ONLY or INCLUDE
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = field(default=())

    @classmethod
    def from_description(cls, name: str, desc: dict) -> Table:
        def keys(schema):
            return tuple(k["AttributeName"] for k in schema)

        indexes = tuple(
            Index(
                gsi["IndexName"],
                keys(gsi["KeySchema"]),
                gsi["Projection"]["ProjectionType"],
                tuple(gsi["Projection"].get("NonKeyAttributes", ())),
            )
            for gsi in desc.get("GlobalSecondaryIndexes", ())
        )
        return cls(name, keys(desc["KeySchema"]), indexes)


def index_entry(table: Table, index: Index, item: dict | None) -> dict | None:
    """The index's entry for an item, or None when the item is not in the index (no item, or a key missing)."""
    if not item or any(k not in item for k in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    names = {*index.keys, *table.keys, *(index.include if index.projection == "INCLUDE" else ())}
    return {k: v for k, v in item.items() if k in names}


def write_cost(
    table: Table, before: dict | None, after: dict | None, *, transactional: bool = False, failed: bool = False
) -> Counter:
    """Write units of one item write, keyed "table" and by index name (zero entries left out)."""
    cost: Counter = Counter()
    factor = 2 if transactional else 1
    if failed:
        cost["table"] = factor * units(item_size(before))
        return cost
    cost["table"] = factor * units(max(item_size(before), item_size(after)))
    for index in table.indexes:
        old, new = index_entry(table, index, before), index_entry(table, index, after)
        if old is None and new is None:
            continue
        if old is None:
            n = units(item_size(new))
        elif new is None:
            n = units(item_size(old))
        elif any(old[k] != new[k] for k in index.keys):
            n = units(item_size(old)) + units(item_size(new))
        elif old == new:
            n = 0
        else:
            n = units(item_size(new))
        if n:
            cost[index.name] += n
    return cost


# ---------------------------------------------------------------------------------------------------- the meter

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class WriteMeter:
    """Write units per "<table>" and "<table>/<index>", for the writes made while `enabled`. Table names are
    given without the stage prefix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.units: Counter = Counter()
        self.enabled = False
        self._tables: dict[str, Table] = {}
        self._last: list | None = None
        self._client = None

    # -- plumbing

    def _raw(self):
        if self._client is None:
            import boto3

            from chalicelib.store.models import Response

            self._client = boto3.client("dynamodb", endpoint_url=Response.Meta.host, region_name=Response.Meta.region)
        return self._client

    def _table(self, name: str) -> Table:
        if name not in self._tables:
            desc = self._raw().describe_table(TableName=name)["Table"]
            self._tables[name] = Table.from_description(name, desc)
        return self._tables[name]

    def _get(self, name: str, key: dict) -> dict | None:
        return self._raw().get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")

    def _key(self, name: str, item: dict) -> dict:
        return {k: item[k] for k in self._table(name).keys}

    def _targets(self, op: str, params: dict) -> list[tuple[str, dict, bool, bool]]:
        """(table, key, transactional, condition_check) for each item the request writes."""
        if op == "PutItem":
            return [(params["TableName"], self._key(params["TableName"], params["Item"]), False, False)]
        if op in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], False, False)]
        if op == "BatchWriteItem":
            out = []
            for name, requests in params["RequestItems"].items():
                for r in requests:
                    if "DeleteRequest" in r:
                        out.append((name, r["DeleteRequest"]["Key"], False, False))
                    else:
                        out.append((name, self._key(name, r["PutRequest"]["Item"]), False, False))
            return out
        out = []
        for t in params["TransactItems"]:
            ((kind, body),) = t.items()
            key = self._key(body["TableName"], body["Item"]) if kind == "Put" else body["Key"]
            out.append((body["TableName"], key, True, kind == "ConditionCheck"))
        return out

    # -- botocore handlers

    def before(self, params, model, **kwargs):
        if not self.enabled or model.name not in WRITES:
            return
        targets = self._targets(model.name, params)
        self._last = [(t, self._get(t[0], t[1])) for t in targets]

    def after(self, http_response, parsed, model, **kwargs):
        if not self.enabled or model.name not in WRITES:
            return
        pending, self._last = self._last, None
        if pending is None:
            return
        failed = http_response.status_code != 200
        for (name, key, transactional, check), before in pending:
            logical = name.removeprefix(self.prefix)
            table = self._table(name)
            if check:
                self.units[logical] += 2 * units(item_size(before))
                continue
            after = before if failed else self._get(name, key)
            cost = write_cost(table, before, after, transactional=transactional, failed=failed)
            for part, n in cost.items():
                self.units[logical if part == "table" else f"{logical}/{part}"] += n

    def install(self) -> WriteMeter:
        """Hook every model's client (bench/common.py is not imported: it sets the benchmarks' environment)."""
        from chalicelib.store.models import MODELS

        seen = set()
        for model in MODELS.values():
            client = model._get_connection().connection.client
            if id(client) not in seen:
                seen.add(id(client))
                client.meta.events.register("before-parameter-build.dynamodb", self.before)
                client.meta.events.register("after-call.dynamodb", self.after)
        return self

    # -- figures

    @property
    def total(self) -> int:
        return sum(self.units.values())

    def per(self, n: int) -> dict:
        """Units per answer (or per whatever n counts): total, and by table and index."""
        return {
            "write_units": round(self.total / n, 2),
            "by_table_and_index": {k: round(v / n, 2) for k, v in sorted(self.units.items())},
        }

    def reset(self) -> None:
        self.units.clear()
