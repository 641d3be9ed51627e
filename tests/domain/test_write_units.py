"""The benchmarks' write-unit calculator (bench/write_units.py) against hand-worked DynamoDB billing examples."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from write_units import Index, Table, index_entry, item_size, units, write_cost

TABLE = Table(
    "responses",
    ("response_id",),
    (
        Index("by_month", ("month_shard", "response_id"), "ALL"),
        Index("by_contact", ("contact_id", "response_id"), "KEYS_ONLY"),
        Index("by_pending", ("pending_shard", "pending_at"), "KEYS_ONLY"),
        Index("by_score", ("survey_id",), "INCLUDE", ("score",)),
    ),
)


def S(v):
    return {"S": v}


def test_item_size_counts_names_and_values_by_dynamodb_rules():
    # "id" 2 + "abc" 3; "n" 1 + 12345 (5 digits -> 3 bytes + 1); "ok" 2 + 1; "l" 1 + 3 + (1+1) + (1+2)
    item = {"id": S("abc"), "n": {"N": "12345"}, "ok": {"BOOL": True}, "l": {"L": [S("x"), {"N": "10"}]}}
    assert item_size(item) == 5 + 5 + 3 + (1 + 3 + 2 + 3)
    assert item_size({"m": {"M": {"ab": S("é")}}}) == 1 + 3 + 1 + 2 + 2  # UTF-8 bytes, map key counted
    assert item_size({"ss": {"SS": ["a", "bc"]}}) == 2 + 3
    assert item_size(None) == 0


def test_units_round_up_to_the_started_kilobyte_with_a_minimum_of_one():
    assert [units(0), units(1), units(1024), units(1025), units(3000)] == [1, 1, 1, 2, 3]


def test_new_item_costs_table_and_each_index_it_enters():
    item = {"response_id": S("r1"), "month_shard": S("2026-10#3"), "contact_id": S("c1"), "comment": S("x" * 1100)}
    cost = write_cost(TABLE, None, item)
    # the item is over 1 KB: 2 units in the table and in the ALL index; the KEYS_ONLY entry is tiny: 1;
    # by_pending and by_score (no pending_shard, no survey_id) are sparse here: nothing
    assert cost == {"table": 2, "by_month": 2, "by_contact": 1}


def test_update_of_a_non_projected_attribute_costs_nothing_in_keys_only_indexes():
    before = {"response_id": S("r1"), "month_shard": S("m#1"), "contact_id": S("c1"), "score": {"N": "9"}}
    after = {**before, "comment": S("great")}
    assert write_cost(TABLE, before, after) == {"table": 1, "by_month": 1}


def test_update_of_an_included_attribute_costs_one_put_there():
    before = {"response_id": S("r1"), "survey_id": S("s1"), "score": {"N": "9"}}
    assert write_cost(TABLE, before, {**before, "score": {"N": "3"}}) == {"table": 1, "by_score": 1}
    assert write_cost(TABLE, before, {**before, "page": S("p")}) == {"table": 1}


def test_changing_an_index_key_costs_a_delete_and_a_put_and_leaving_a_sparse_index_a_delete():
    before = {"response_id": S("r1"), "pending_shard": S("p#1"), "pending_at": S("t1")}
    moved = {**before, "pending_at": S("t2")}
    assert write_cost(TABLE, before, moved) == {"table": 1, "by_pending": 2}
    settled = {"response_id": S("r1"), "status": S("counted")}
    assert write_cost(TABLE, before, settled) == {"table": 1, "by_pending": 1}


def test_update_bills_the_larger_of_before_and_after_and_a_delete_the_item_deleted():
    big = {"response_id": S("r1"), "comment": S("x" * 2000)}
    small = {"response_id": S("r1")}
    assert write_cost(TABLE, big, small) == {"table": 2}
    assert write_cost(TABLE, big, None) == {"table": 2}


def test_transactions_double_the_table_units_and_a_failed_condition_costs_the_stored_item_only():
    item = {"response_id": S("r1"), "contact_id": S("c1")}
    assert write_cost(TABLE, None, item, transactional=True) == {"table": 2, "by_contact": 1}
    assert write_cost(TABLE, item, item, failed=True) == {"table": 1}
    assert write_cost(TABLE, None, None, failed=True) == {"table": 1}


def test_index_entry_projects_keys_table_keys_and_included_attributes():
    item = {"response_id": S("r1"), "survey_id": S("s1"), "score": {"N": "9"}, "comment": S("c")}
    assert index_entry(TABLE, TABLE.indexes[3], item) == {
        "response_id": S("r1"),
        "survey_id": S("s1"),
        "score": {"N": "9"},
    }
    assert index_entry(TABLE, TABLE.indexes[1], item) is None


def test_table_from_a_describe_table_answer():
    desc = {
        "KeySchema": [{"AttributeName": "task_id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_owner",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "due_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
            }
        ],
    }
    assert Table.from_description("tasks", desc) == Table(
        "tasks", ("task_id",), (Index("by_owner", ("owner", "due_at"), "INCLUDE", ("status",)),)
    )
