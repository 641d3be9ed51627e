"""The local stack's event bus: the template's EventBus created in moto (the functions publish to it by
EVENT_BUS_NAME, as in AWS), and `/local/events.json`, the latest events the bus accepted. A part of `LocalStack`
(nps_local/stack.py), which it is mixed into.

The stack keeps what the bus answered PutEvents with an EventId (the functions' own client, watched through a
botocore hook), rather than routing every event through a moto rule to a queue: moto spends some 15 ms on each
event it delivers to a rule's target, which would slow the demo's thousands of answers by minutes. A rule of your
own still works: create it on the bus at the stack's moto endpoint (the banner's `moto` line) with the AWS CLI.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter, deque
from pathlib import Path

log = logging.getLogger("nps.local.events")

EVENT_BUS_TYPE = "AWS::Events::EventBus"
KEPT = 1000  # the latest events /local/events.json can show
DEFAULT_LIMIT = 100


def bus_names(template_path: str | Path, stage: str, table_prefix: str, region: str) -> list[str]:
    """The names of the event buses the template defines, for the stage."""
    from nps_local import template as cfn

    doc = cfn.load(template_path)
    resolver = cfn.Resolver(doc, stage=stage, table_prefix=table_prefix, region=region)
    names = []
    for logical, resource in (doc.get("Resources") or {}).items():
        if resource.get("Type") == EVENT_BUS_TYPE:
            name = resolver.resolve((resource.get("Properties") or {}).get("Name", logical))
            if not isinstance(name, str) or "${" in name:
                raise cfn.TemplateError(f"{logical}.Name does not resolve to a name")
            names.append(name)
    return names


class BusWatch:
    """What a bus accepted: the latest events (newest last) and counts by detail-type, from PutEvents answers."""

    def __init__(self, kept: int = KEPT) -> None:
        self.events: deque[dict] = deque(maxlen=kept)
        self.counts: Counter = Counter()
        self.refused = 0
        self._lock = threading.Lock()

    def sending(self, params, context, **kwargs) -> None:
        context["nps_local_entries"] = list(params.get("Entries") or [])

    def answered(self, parsed, context, **kwargs) -> None:
        entries = context.get("nps_local_entries") or []
        with self._lock:
            for entry, result in zip(entries, parsed.get("Entries") or [], strict=False):
                if not result.get("EventId"):
                    self.refused += 1
                    continue
                try:
                    detail = json.loads(entry.get("Detail") or "null")
                except ValueError:
                    detail = entry.get("Detail")
                time = entry.get("Time")
                self.events.append(
                    {
                        "id": result["EventId"],
                        "time": time.isoformat() if hasattr(time, "isoformat") else time,
                        "source": entry.get("Source"),
                        "detail-type": entry.get("DetailType"),
                        "detail": detail,
                    }
                )
                self.counts[entry.get("DetailType")] += 1

    def install(self, client) -> None:
        client.meta.events.register("before-parameter-build.eventbridge.PutEvents", self.sending)
        client.meta.events.register("after-call.eventbridge.PutEvents", self.answered)

    def view(self, detail_type: str | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        with self._lock:
            events = [e for e in self.events if detail_type is None or e["detail-type"] == detail_type]
            return {
                "accepted": sum(self.counts.values()),
                "refused": self.refused,
                "counts": dict(sorted(self.counts.items())),
                "events": list(reversed(events[-limit:])) if limit else [],
            }


class EventRoom:
    def _start_event_bus(self) -> None:
        """Create the template's bus in moto, name it to the functions, and watch what it accepts."""
        import boto3

        from chalicelib import config
        from chalicelib.store import event_bus

        settings = config.settings()
        names = bus_names(self.template_path, settings.stage, settings.table_prefix, settings.region)
        if not names:
            self.warnings.append("the template defines no event bus: nothing is published")
            return
        events = boto3.client("events", endpoint_url=self.moto_endpoint, region_name=settings.region)
        for name in names:
            events.create_event_bus(Name=name)
        import os

        os.environ["EVENT_BUS_NAME"] = names[0]
        config.reset()
        self.event_bus_name = names[0]
        self.bus_watch = BusWatch()
        # The functions' client (made once per process and endpoint): every publish goes through it.
        self.bus_watch.install(event_bus.client_for(config.settings().region))

    def event_routes(self) -> dict:
        return {("GET", "/local/events.json"): self._authorized(self._events_json, token_in_query=True)}

    def _events_json(self, query, headers, body):
        from nps_local.local_routes import _json

        watch = getattr(self, "bus_watch", None)
        if watch is None:
            return _json(404, {"error": {"code": "not_found", "message": "No event bus.", "fields": {}}})
        text = query.get("limit") or str(DEFAULT_LIMIT)
        if not text.isdigit() or int(text) > KEPT:
            message = f"limit must be a whole number from 0 to {KEPT}."
            return _json(422, {"error": {"code": "invalid", "message": message, "fields": {"limit": message}}})
        view = watch.view(query.get("detail_type") or None, int(text))
        return _json(200, {"bus": self.event_bus_name, **view})
