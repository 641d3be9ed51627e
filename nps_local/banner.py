"""The banner the local stack prints once it is ready: where the API, health, dashboard and moto answer, the
admin token, the stream mapping and the schedules, then what the demo loaded. A part of `LocalStack`
(nps_local/stack.py), which it is mixed into; `parse_banner` reads a printed one back (for tests)."""

from __future__ import annotations

from nps_local.local_routes import STAGE

BANNER_TITLE = "NPS local stack"
# The banner lines the stack prints itself; the rest come from the demo.
STACK_LABELS = ("API", "Health", "Admin token", "Dashboard", "Events", "Stream", "Schedules", "moto")
READY_LINE = "Ready. Press Ctrl-C to stop."


class StackBanner:
    def banner(self) -> list[str]:
        lines = {
            "API": self.base_url,
            "Health": f"{self.base_url}/v1/health",
            "Admin token": self.admin_token,
            "Dashboard": f"{self.base_url}/local/dashboard?token={self.admin_token}",
            "Events": self._events_summary(),
            "Stream": self._stream_summary(),
            "Schedules": ", ".join(f"{j.name} {j.expression}" for j in self.scheduler.jobs.values()),
            "moto": self.moto_endpoint,
        }
        lines.update(self.demo_lines)
        width = max(len(k) for k in lines) + 2
        out = [f"{BANNER_TITLE} (stage {STAGE}; state is in memory and lost on stop)"]
        out += [f"  {(label + ':').ljust(width)}{value}" for label, value in lines.items() if value]
        out += [f"  warning: {w}" for w in self.warnings]
        out.append(READY_LINE)
        return out

    def _events_summary(self) -> str:
        name = getattr(self, "event_bus_name", None)
        if not name:
            return ""
        return f"bus {name} (moto); the latest it accepted: {self.base_url}/local/events.json?token={self.admin_token}"

    def _stream_summary(self) -> str:
        m = self.provisioned.stream_mapping
        parts = [f"batch {m.batch_size}", "unbounded retries" if m.max_retries is None else f"{m.max_retries} retries"]
        if m.bisect_on_error:
            parts.append("bisect")
        if m.report_item_failures:
            parts.append("partial batch failures")
        if self.provisioned.on_failure_queue_url:
            parts.append("on failure to " + self.provisioned.on_failure_queue_url.rsplit("/", 1)[1])
        return f"responses -> response_stream ({', '.join(parts)})"


def parse_banner(lines: list[str]) -> dict[str, str]:
    """The labelled values of a printed banner (for tests that start the stack as a process)."""
    values = {}
    for line in lines:
        if line.startswith("  ") and ":" in line and not line.strip().startswith("warning:"):
            label, _, value = line.strip().partition(":")
            values[label] = value.strip()
    return values
