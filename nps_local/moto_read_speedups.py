"""Faster reads from moto, answer for answer the same: the local stack (and the monthly benchmark) install this.

moto is built to be right, not fast, and two of its habits make the monthly job take seconds per query on a few
thousand items:
- it answers every Query, page after page, by sorting and walking the whole table, where DynamoDB reads only the
  partition asked for, and sorts the whole table again for every Scan page. Here an index query reads from a
  partition lookup instead, sorted once, and starts a later page at its start key rather than walking the pages
  before it; a Scan reads the table sorted once. All are built on the first read after any write and kept until
  the next write (any DynamoDB request that is not a read), so they are never stale;
- it writes every answer through a generic, shape-walking serializer at about a millisecond per item. A read
  answer is already DynamoDB JSON by then, so Query, Scan and BatchGetItem answers are written with `json.dumps`
  (anything json cannot write, binary values, still goes through moto's serializer).
tests/local/test_moto_read_speedups.py checks that the answers are the same with and without.

It replaces methods inside moto, so it is right only for the moto versions it was checked against
(`VERIFIED_MOTO`: the one requirements-dev.txt pins). `install()` refuses any other with `UnverifiedMoto`,
before it changes anything: the benchmark then stops, and the local stack warns and runs on plain moto.
To move to another moto, pin it, run tests/local/test_moto_read_speedups.py, and add it here.
"""

from __future__ import annotations

import inspect
import json
import threading
from typing import Any

# The moto versions whose internals (DynamoResult.execute_result, DynamoHandler.call_action, Table.query,
# Table.all_items, Table.sorted_items) this module was checked against; the pin of requirements-dev.txt.
VERIFIED_MOTO = frozenset({"5.2.5"})
READ_ANSWERS = ("Query", "Scan", "BatchGetItem")
READ_ONLY = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)

_originals: dict[tuple[type, str], object | None] = {}
_state = threading.local()  # the partition the current thread's query may read
_writes = [0]  # bumped before and after every request that may change a table
_lookups: dict[tuple[int, Any], tuple[int, Any]] = {}  # (table, what) -> (writes seen, lookup)
_lookups_for = [-1]  # the write generation the lookups were built in
_building = threading.Lock()
stats = {"cut_pages": 0}  # index query pages started at their start key (tests check the path is taken)


class UnverifiedMoto(RuntimeError):
    """The installed moto is not one of VERIFIED_MOTO: the speed-ups are not installed."""


def installed() -> bool:
    return bool(_originals)


def check_moto_version() -> None:
    """Raise UnverifiedMoto unless the installed moto is one the speed-ups were checked against."""
    import moto

    version = getattr(moto, "__version__", None)
    if version not in VERIFIED_MOTO:
        raise UnverifiedMoto(
            f"moto {version} is not a version nps_local/moto_read_speedups.py was checked against "
            f"({', '.join(sorted(VERIFIED_MOTO))}): its read speed-ups are not installed. Pin a checked moto, or "
            "run tests/local/test_moto_read_speedups.py on this one and add it to VERIFIED_MOTO."
        )


def install() -> None:
    """Install the speed-ups (once); raises UnverifiedMoto, changing nothing, on a moto not checked."""
    if _originals:
        return
    check_moto_version()
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    plain_result = DynamoResult.execute_result
    plain_call = DynamoHandler.call_action
    plain_query = Table.query
    plain_all_items = Table.all_items
    plain_sorted_items = Table.sorted_items
    query_signature = inspect.signature(plain_query)

    def execute_result(self, context):
        if context.operation_model.name in READ_ANSWERS and isinstance(self.result, dict):
            try:
                body = json.dumps(self.result)
            except TypeError:
                return plain_result(self, context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return plain_result(self, context)

    def call_action(self):
        if self._get_action() in READ_ONLY:
            return plain_call(self)
        # Before: a lookup built while the write runs is not taken for one from before it. After: nor for one
        # from after it.
        _writes[0] += 1
        try:
            return plain_call(self)
        finally:
            _writes[0] += 1

    def query(self, *args, **kwargs):
        asked = query_signature.bind(self, *args, **kwargs).arguments
        conditions = asked.get("hash_key_conditions")
        if not asked.get("index_name") or not conditions or len(conditions) != 1:
            return plain_query(self, *args, **kwargs)
        attr, value = conditions[0]
        generation, lookup = _partition(self, attr)
        _state.items = lookup.get(value.value, [])
        _state.asked = (
            generation,
            attr,
            value.value,
            asked.get("exclusive_start_key"),
            asked.get("scan_index_forward") is not False,
        )
        try:
            return plain_query(self, *args, **kwargs)
        finally:
            _state.items = _state.asked = None

    def sorted_items(self, hash_key_attrs, range_key_attrs, items):
        partition = getattr(_state, "items", None)
        if partition is None or not items:
            return plain_sorted_items(self, hash_key_attrs, range_key_attrs, items)
        generation, attr, value, start, forward = _state.asked
        ordered, positions = _ordered(
            self, generation, attr, value, partition, hash_key_attrs, range_key_attrs, plain_sorted_items
        )
        # moto sorts the items of the partition it kept, those with the index's sort key. When it kept them all,
        # the partition sorted once serves, cut at the start key of the page asked for.
        if len(items) != len(ordered):
            return plain_sorted_items(self, hash_key_attrs, range_key_attrs, items)
        at = positions.get(_key_of(self, start)) if start else None
        # The first page, or a start key that is not an item of the partition with these very index values (the
        # item moved, or the key was made up): moto walks from the top and finds the place itself.
        if at is None or not _same_sort_values(
            ordered[at], start, self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        ):
            return list(ordered)
        # moto then skips every item up to and including the start key: leave it only that one to skip.
        stats["cut_pages"] += 1
        return ordered[at:] if forward else ordered[: at + 1]

    def all_items(self):
        items = getattr(_state, "items", None)
        return _sorted(self, plain_all_items) if items is None else items

    for owner, name, replacement in (
        (DynamoResult, "execute_result", execute_result),
        (DynamoHandler, "call_action", call_action),
        (Table, "query", query),
        (Table, "all_items", all_items),
        (Table, "sorted_items", sorted_items),
    ):
        _originals[(owner, name)] = owner.__dict__.get(name)  # None: inherited, so uninstall deletes ours
        setattr(owner, name, replacement)


def uninstall() -> None:
    for (owner, name), original in _originals.items():
        if original is None:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _originals.clear()
    _lookups.clear()


def _fresh() -> int:
    """The write generation; lookups built in an earlier one are dropped (called holding _building)."""
    generation = _writes[0]
    if _lookups_for[0] != generation:
        _lookups.clear()
        _lookups_for[0] = generation
    return generation


def _sorted(table, plain_all_items) -> list:
    """The table's items in key order, as moto sorts them for every Scan page, kept until the next write."""
    key = (id(table), "")
    with _building:
        generation = _fresh()
        known = _lookups.get(key)
        if known is None or known[0] != generation:
            known = _lookups[key] = (generation, plain_all_items(table))
        return known[1]


def _key_of(table, key: dict) -> tuple | None:
    """The table's primary key in an ExclusiveStartKey, as the values moto's items hold."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(key[table.hash_key_attr]).value
        range_value = DynamoType(key[table.range_key_attr]).value if table.range_key_attr else None
    except (KeyError, TypeError):
        return None
    return hash_value, range_value


def _same_sort_values(item, start: dict, attrs: list) -> bool:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return all(a in start and a in item.attrs and item.attrs[a] == DynamoType(start[a]) for a in attrs)


def _ordered(table, generation, attr, value, partition, hash_key_attrs, range_key_attrs, plain_sorted_items):
    """One index partition (read in write generation `generation`) in moto's query order, and each item's place
    in it by primary key."""
    key = (id(table), ("sorted", attr, value, tuple(hash_key_attrs), tuple(range_key_attrs)))
    with _building:
        current = _fresh()
        known = _lookups.get(key)
        if known is not None and known[0] == generation == current:
            return known[1]
        kept = [item for item in partition if all(a is None or a in item.attrs for a in range_key_attrs)]
        ordered = plain_sorted_items(table, hash_key_attrs, range_key_attrs, kept)
        positions = {
            (item.hash_key.value, item.range_key.value if item.range_key is not None else None): at
            for at, item in enumerate(ordered)
        }
        if generation == current:  # a partition from before a write is sorted for this query only
            _lookups[key] = (generation, (ordered, positions))
        return ordered, positions


def _partition(table, attr: str) -> tuple[int, dict]:
    """The table's items grouped by their value of `attr`, and the write generation they were read in."""
    key = (id(table), attr)
    with _building:  # concurrent queries of one table build its lookup once
        generation = _fresh()
        known = _lookups.get(key)
        if known is not None and known[0] == generation:
            return known
        grouped: dict = {}
        for stored in list(table.items.values()):  # unsorted: the query sorts the partition it reads
            for item in stored.values() if table.range_key_attr else (stored,):
                value = item.attrs.get(attr)
                if value is not None:
                    grouped.setdefault(value.value, []).append(item)
        _lookups[key] = (generation, grouped)
        return generation, grouped
