"""The events a batch of the responses stream publishes (domain/events.py): a part of `ResponseBatch`
(events/processing.py), which it is mixed into. Each counted record that succeeded publishes its answer's
Response Recorded or Updated and the task events its processing announced, once the batch is processed; a
record whose events are still refused fails as its own item failure, so the stream delivers it again and it
publishes the same ids."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from chalicelib.domain import events as bus_events
from chalicelib.domain.errors import NotFound, Unavailable
from chalicelib.events.account_cache import account_of
from chalicelib.events.response_changes import COUNT
from chalicelib.logs import log_keys, logger
from chalicelib.store import event_bus
from chalicelib.store import tasks as task_store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from chalicelib.events.response_changes import ResponseChange


class StreamEvents:
    if TYPE_CHECKING:  # ResponseBatch's, and Powertools' BatchProcessor's
        _changes: list[tuple[DynamoDBRecord, ResponseChange]]
        _task_events: dict[int, list[bus_events.Event]]
        _publishing: bool
        _current: int
        success_messages: list[Any]

        def failure_handler(self, record: Any, exception: Any) -> Any: ...

    def _publish(self, outcomes: dict[int, tuple]) -> None:
        """Publish the events of every record that succeeded; a record with an event still refused fails."""
        by_record: dict[int, list[bus_events.Event]] = {}
        for i, (_, change) in enumerate(self._changes):
            if outcomes[i][0] != "success":
                continue
            found = []
            if change.action == COUNT and change.response is not None:
                event = bus_events.response_event(change.response, change.old, self._segment(change.response))
                if event is not None:
                    found.append(event)
            found += self._task_events.get(i, [])
            if found:
                by_record[i] = found
        events = [event for found in by_record.values() for event in found]
        failed = event_bus.publish(events)
        logger.info("events published", extra={"events": len(events) - len(failed), "failed": len(failed)})
        if not failed:
            return
        error = Unavailable("The record's events could not be published.", code="events_not_published")
        for i, found in by_record.items():
            if not any(event.event_id in failed for event in found):
                continue
            record = self._changes[i][0]
            self.success_messages[:] = [m for m in self.success_messages if m is not record.raw_event]
            try:
                raise error
            except Unavailable:
                info = sys.exc_info()
            with log_keys(correlation_id=record.event_id):
                logger.warning("record failed: its events were not published", extra={"events": len(found)})
            outcomes[i] = self.failure_handler(record=record, exception=info)

    def _segment(self, response: dict) -> str | None:
        return getattr(account_of(response.get("account_id")), "segment", None)

    def _announce(self, event: bus_events.Event) -> None:
        if self._publishing:
            self._task_events.setdefault(self._current, []).append(event)

    def _announce_opened_again(self, response_id: str) -> None:
        """Task Opened once more, from the stored task, for a record that would have opened it: its first
        delivery may have opened the task and then failed before its events were published."""
        if not self._publishing:
            return
        try:
            task = task_store.get(task_store.task_id_for(response_id))
        except NotFound:
            return
        self._announce(bus_events.opened_event_of(task))
