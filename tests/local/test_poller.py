"""The stream poller against a moto stream, with a recording stand-in for the handler: the subject is the
poller's Lambda semantics (batches, partial failures, retries, bisection, the on-failure record)."""

from __future__ import annotations

import json
import threading

from local.poller_doubles import RecordingHandler

from nps_local.poller import UNBOUNDED_RETRIES_PER_POLL


def sequence_numbers(handler: RecordingHandler) -> dict[str, str]:
    return {handler.item_id(r): r["dynamodb"]["SequenceNumber"] for event in handler.events for r in event["Records"]}


def assert_in_stream_order(handler: RecordingHandler, ids: list[str]) -> None:
    """Every batch is a contiguous run of the stream, and no batch starts before the one before it."""
    starts = []
    for batch in handler.invocations:
        start = ids.index(batch[0])
        assert batch == ids[start : start + len(batch)]
        starts.append(start)
    assert starts == sorted(starts)


def test_batches_follow_the_stream_and_look_like_lambda_events(stream):
    ids = stream.put(25)
    handler = RecordingHandler()
    poller = stream.poller(handler)

    stats = poller.poll_once()

    assert handler.invocations == [ids[0:10], ids[10:20], ids[20:25]]
    assert stats["batches"] == 3 and stats["records_delivered"] == 25 and stats["records_checkpointed"] == 25
    record = handler.events[0]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == poller.stream_arn
    assert record["awsRegion"] == "us-east-1"
    assert {"eventID", "eventVersion"} <= record.keys()
    ddb = record["dynamodb"]
    assert ddb["Keys"] == {"pk": {"S": ids[0]}}
    assert ddb["NewImage"]["blob"] == {"B": "AAE="}  # base64, as Lambda delivers binaries
    assert isinstance(ddb["SequenceNumber"], str)
    assert isinstance(ddb["ApproximateCreationDateTime"], int | float)
    assert ddb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    json.dumps(handler.events)  # what Lambda hands over is plain JSON
    assert poller.poll_once()["batches"] == 0


def test_partial_failure_is_retried_from_the_lowest_failed_record(stream):
    ids = stream.put(20)
    handler = RecordingHandler(fail={"item-007": 1, "item-004": 1})
    poller = stream.poller(handler)

    stats = poller.poll_once()

    # The retry starts at the lowest failed record and carries everything after it, up to the batch size.
    assert handler.invocations == [ids[0:10], ids[4:14], ids[14:20]]
    assert set(handler.processed) == set(ids)
    assert_in_stream_order(handler, ids)
    assert stats["partial_failures"] == 1 and stats["retries"] == 1
    assert stats["records_checkpointed"] == 20 and stats["on_failure_messages"] == 0
    assert stream.failure_messages() == []


def test_retries_are_bounded_then_one_on_failure_record_and_the_stream_moves_on(stream):
    ids = stream.put(12)
    handler = RecordingHandler(fail={"item-005": None})
    poller = stream.poller(handler, batch_size=4, max_retries=2)

    stats = poller.poll_once()

    # item-005 fails in its first batch, then in 2 retries starting at it; the batch is then discarded.
    assert handler.invocations == [ids[0:4], ids[4:8], ids[5:9], ids[5:9], ids[9:12]]
    assert stats["retries"] == 2 and stats["on_failure_messages"] == 1 and stats["records_discarded"] == 4
    messages = stream.failure_messages()
    assert len(messages) == 1
    seq = sequence_numbers(handler)
    info = messages[0]["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == seq["item-005"]
    assert info["endSequenceNumber"] == seq["item-008"]
    assert info["batchSize"] == 4
    assert info["streamArn"] == poller.stream_arn and info["shardId"]
    assert info["approximateArrivalOfFirstRecord"] and info["approximateArrivalOfLastRecord"]
    assert messages[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert messages[0]["requestContext"]["approximateInvokeCount"] == 3
    assert "item-" not in json.dumps(messages[0])  # metadata only, never the records
    assert set(ids) - set(handler.processed) == {"item-005"}
    assert_in_stream_order(handler, ids)

    # Nothing behind the discarded batch is blocked, now or later.
    assert poller.poll_once()["batches"] == 0
    later = stream.put(2, start=12)
    poller.poll_once()
    assert handler.invocations[-1] == later
    assert stream.failure_messages() == []


def test_a_handler_that_raises_fails_the_whole_batch_which_is_retried(stream):
    ids = stream.put(5)
    handler = RecordingHandler(raise_on={"item-002": 1})
    poller = stream.poller(handler)

    stats = poller.poll_once()

    assert handler.invocations == [ids, ids]
    assert handler.processed == ids
    assert stats["function_errors"] == 1 and stats["retries"] == 1 and stats["on_failure_messages"] == 0


def test_bisecting_on_errors_isolates_the_poison_record(stream):
    ids = stream.put(8)
    handler = RecordingHandler(raise_on={"item-005": None})
    poller = stream.poller(handler, batch_size=8, max_retries=3, bisect_on_error=True)

    stats = poller.poll_once()

    assert (
        handler.invocations
        == [
            ids[0:8],
            ids[0:4],  # first half: fine
            ids[4:8],  # second half fails: split again
            ids[4:6],
            ids[4:5],
            ids[5:6],
            ids[5:6],
            ids[5:6],
            ids[5:6],  # the poison record alone, until its retries run out
            ids[6:8],
        ]
    )
    assert set(handler.processed) == set(ids) - {"item-005"}
    assert stats["bisections"] == 3 and stats["on_failure_messages"] == 1
    info = stream.failure_messages()[0]["DDBStreamBatchInfo"]
    seq = sequence_numbers(handler)
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seq["item-005"]
    assert info["batchSize"] == 1


def test_a_failure_naming_no_record_of_the_batch_fails_the_whole_batch(stream):
    ids = stream.put(3)
    answers = [{"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}, {"batchItemFailures": []}]
    batches = []

    def handler(event, context):
        batches.append([RecordingHandler.item_id(r) for r in event["Records"]])
        return answers.pop(0)

    stats = stream.poller(handler).poll_once()

    assert batches == [ids, ids]
    assert stats["function_errors"] == 1


def test_partial_responses_count_only_with_report_batch_item_failures(stream):
    # Lambda ignores batchItemFailures unless the mapping has ReportBatchItemFailures: the template must set it.
    ids = stream.put(3)
    handler = RecordingHandler(fail={"item-001": 1})

    stream.poller(handler, report_item_failures=False).poll_once()

    assert handler.invocations == [ids]


def test_unbounded_retries_leave_the_batch_for_the_next_poll(stream):
    ids = stream.put(2)
    handler = RecordingHandler(raise_on={"item-000": None})
    poller = stream.poller(handler, max_retries=None)

    stats = poller.poll_once()

    assert stats["function_errors"] == UNBOUNDED_RETRIES_PER_POLL
    assert stats["on_failure_messages"] == 0
    handler.raise_on.clear()
    poller.poll_once()
    assert handler.invocations[-1] == ids and handler.processed == ids


def test_the_background_loop_delivers_and_stops_cleanly(stream):
    done = threading.Event()
    handler = RecordingHandler()

    def signalling(event, context):
        result = handler(event, context)
        if len(handler.processed) >= 3:
            done.set()
        return result

    poller = stream.poller(signalling)
    poller.start()
    try:
        ids = stream.put(3)
        assert done.wait(10), "the poller did not deliver within 10 s"
    finally:
        poller.stop()
    assert not poller.running
    assert handler.processed == ids


def test_records_read_then_delivered_by_the_same_rules(stream):
    ids = stream.put(12)
    handler = RecordingHandler(fail={"item-005": None})
    poller = stream.poller(handler, batch_size=4, max_retries=2)

    records = poller.read_new()

    assert [RecordingHandler.item_id(r) for r in records] == ids and handler.invocations == []
    assert poller.read_new() == [] and poller.poll_once()["batches"] == 0  # taken out of delivery
    left = poller.deliver(records)
    # As from the stream: item-005 retried twice, then its batch (from it) discarded with one on-failure message.
    assert handler.invocations == [ids[0:4], ids[4:8], ids[5:9], ids[5:9], ids[9:12]]
    assert [RecordingHandler.item_id(r) for r in left] == ids[5:9]
    assert len(stream.failure_messages()) == 1


def test_redelivery_hands_every_batch_over_twice_from_its_first_record(stream):
    ids = stream.put(7)
    handler = RecordingHandler(fail={"item-001": 1})
    poller = stream.poller(handler, batch_size=4)

    stats = poller.poll_once(redeliver=True)

    # Each run of 4 goes through (its retry from item-001 stays in the run), then again from its first record.
    assert handler.invocations == [ids[0:4], ids[1:4], ids[0:4], ids[4:7], ids[4:7]]
    assert stats["redeliveries"] == 2 and stats["records_discarded"] == 0
    assert poller.read_new() == []
