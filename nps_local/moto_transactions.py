"""Faster TransactWriteItems in moto, with the same answers and the same tables after: the local stack (and the
monthly benchmark) install this, and tests ask for it with the `fast_moto_transactions` fixture.

moto's `DynamoDBBackend.transact_write_items` backs up every table a transaction names with `copy.deepcopy`
before it runs the transaction's operations. If the transaction is cancelled (a failed condition, or a
validation error or two operations on one item), it puts the copies back in `backend.tables`. If it succeeds,
it throws them away. Deep-copying a table of a few thousand items costs 0.1-0.2 s, so a wave that writes one
transaction per contact spends minutes copying.

Here moto's method runs unchanged. The only thing replaced is the `copy` that moto's models module sees: its
`deepcopy`, given a table of the running transaction, returns a cheaper backup, and anything else still goes to
`copy.deepcopy`. The backup is a shallow copy of the Table object with:
- its own item containers: `items` (hash -> item, or hash -> {range -> item}) and every inner dict copied, so
  puts, deletes and the new items an update makes leave the backup alone;
- its own deep copy of every item that one of the transaction's Key or Item maps could name. That is a lookup of
  the key in the container, without inserting anything, tried for every operation on every table the
  transaction backs up. Updates change their item in place, and only an item found at its operation's Key. When
  an operation's key cannot be read that way, the backup is moto's own deep copy;
- when the table has a stream, its own shallow copy of the StreamShard, pointing at the backup, with a list of
  the records the shard held before. moto appends a record for each put, update and delete, or replaces the list
  with an empty one when a Lambda mapping took them. A record never changes once made (its images are fresh
  JSON, sharing nothing with the items), so the backup can share the record objects.
A transaction writes nothing else on a table: the schema, indexes, tags, TTL and stream settings, and the
containers' keys (key values, which nothing changes), are shared with the backup as they stand. After a rollback
the old Table object is reachable only through a shard iterator taken before the rollback. That iterator reads
only its own shard's records, so, just as after moto's deep copy, it goes on reading the old shard, including
the cancelled writes' records. A new iterator reads the backup's shard, where those records are gone.

So once a transaction is done, every table and stream answers the same as it would after moto's deep copy.
tests/local/test_moto_transactions.py checks this for successful transactions, cancelled ones (the same
cancellation reasons) and validation rollbacks, on tables with and without a stream. One difference, and it is
on purpose: moto records every object it makes in its debugging registry (`instances_tracked`, shown at
/moto-api/data.json). That registry never lets go of them, so each deep copy used to leave another copy of each
item behind. The backups here leave a copy only of the items a transaction touches.

A transaction is a request that is not a read, so moto_read_speedups throws away its lookups before and after
it. They are kept by table object, and a rollback puts a new Table object in the old one's place.

Like moto_read_speedups this is right only for the moto versions it was checked against: `install()` refuses
any other with its `UnverifiedMoto` (see moto_read_speedups.VERIFIED_MOTO) before it changes anything.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from nps_local.moto_read_speedups import VERIFIED_MOTO, UnverifiedMoto, check_moto_version

__all__ = ["VERIFIED_MOTO", "UnverifiedMoto", "install", "installed", "uninstall"]

_originals: dict[tuple[object, str], object] = {}
_state = threading.local()  # the running transaction of this thread: (backend, transact_items, backups so far)


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Install the speed-up (once). On a moto it was not checked against this raises UnverifiedMoto and changes
    nothing."""
    if _originals:
        return
    try:
        check_moto_version()
    except UnverifiedMoto:
        import moto

        raise UnverifiedMoto(
            f"moto {getattr(moto, '__version__', None)} is not a version nps_local/moto_transactions.py was checked "
            f"against ({', '.join(sorted(VERIFIED_MOTO))}): its transaction speed-up is not installed. Pin a checked "
            "moto, or run tests/local/test_moto_transactions.py on this one and add it to "
            "moto_read_speedups.VERIFIED_MOTO."
        ) from None
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend

    if models.copy is not copy:
        raise RuntimeError("moto.dynamodb.models.copy is not the copy module: is another patch installed?")
    plain_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        _state.running = (self, transact_items, {})
        try:
            return plain_transact(self, transact_items)
        finally:
            _state.running = None

    _originals[(models, "copy")] = copy
    _originals[(DynamoDBBackend, "transact_write_items")] = plain_transact
    models.copy = _Copy()  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def uninstall() -> None:
    for (owner, name), original in _originals.items():
        setattr(owner, name, original)
    _originals.clear()


class _Copy:
    """The `copy` module as moto's models module sees it while installed: `deepcopy` of a table the running
    transaction backs up is `_backup`. Everything else is the copy module's own."""

    def deepcopy(self, x: Any, memo: dict | None = None) -> Any:
        running = getattr(_state, "running", None)
        if running is not None and memo is None:
            from moto.dynamodb.models.table import Table

            backend, transact_items, backups = running
            if isinstance(x, Table) and any(x is table for table in list(backend.tables.values())):
                # moto copies a table once for each of its operations, all before the first one runs: one backup
                # serves them all.
                if id(x) not in backups:
                    backups[id(x)] = _backup(x, transact_items)
                return backups[id(x)]
        return copy.deepcopy(x, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _backup(table, transact_items: list) -> Any:
    """The table as it is now, as far as a transaction of `transact_items` can change it (see the docstring)."""
    try:
        touched = _touched(table, transact_items)
    except Exception:  # a key this cannot read: moto's own copy, whatever the operation will make of it
        return copy.deepcopy(table)
    backup = copy.copy(table)
    items = copy.copy(table.items)  # the same kind of dict (a defaultdict(dict)), the same order
    items.update({hash_value: dict(stored) for hash_value, stored in items.items() if isinstance(stored, dict)})
    memo: dict = {}
    for hash_value, range_value in touched:
        if range_value is None:
            items[hash_value] = copy.deepcopy(table.items[hash_value], memo)
        else:
            items[hash_value][range_value] = copy.deepcopy(table.items[hash_value][range_value], memo)
    backup.items = items
    shard = getattr(table, "stream_shard", None)
    if shard is not None:
        backup.stream_shard = copy.copy(shard)
        backup.stream_shard.table = backup
        backup.stream_shard.items = list(shard.items)
    return backup


def _touched(table, transact_items: list) -> list[tuple[Any, Any]]:
    """The keys (hash, range or None) of the table's items that any of the operations' Key or Item maps names.
    Over-inclusive on purpose: every operation is tried against this table, whichever table it names. A map
    that names a partition but no sort key counts as the whole partition."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    found: dict[tuple[Any, Any], None] = {}
    for entry in transact_items:
        for op in entry.values():
            for key in (op.get("Key"), op.get("Item")):
                if not key or table.hash_key_attr not in key:
                    continue
                hash_value = DynamoType(key[table.hash_key_attr])
                stored = table.items.get(hash_value)  # .get: never adds an empty partition to the defaultdict
                if stored is None:
                    continue
                if not isinstance(stored, dict):
                    found[(hash_value, None)] = None
                elif table.range_key_attr in key:
                    range_value = DynamoType(key[table.range_key_attr])
                    if range_value in stored:
                        found[(hash_value, range_value)] = None
                else:
                    found.update(dict.fromkeys((hash_value, r) for r in stored))
    return list(found)
