"""The local stack's own routes (never deployed): the widget demo page, status, a stream poll, firing a schedule,
and the operations dashboard. A part of `LocalStack` (nps_local/stack.py), which it is mixed into."""

from __future__ import annotations

import json
import logging

from chalicelib.domain.clock import parse_timestamp

STAGE = "dev"  # the local stack's stage
log = logging.getLogger("nps.local")


class LocalRoutes:
    def local_routes(self) -> dict:
        """The local-only routes by (method, path); the HTML pages answer HEAD as GET (the server drops the body)."""
        widget_demo = self._widget_demo
        # A browser opens the dashboard, so it also takes the admin token as ?token=.
        dashboard = self._authorized(self._dashboard, token_in_query=True)
        return {
            ("GET", "/local/widget-demo"): widget_demo,
            ("HEAD", "/local/widget-demo"): widget_demo,
            ("GET", "/local/status"): self._authorized(self._status),
            ("POST", "/local/stream/poll"): self._authorized(self._poll),
            ("POST", "/local/scheduler/fire"): self._authorized(self._fire),
            ("GET", "/local/dashboard"): dashboard,
            ("HEAD", "/local/dashboard"): dashboard,
            ("GET", "/local/dashboard.json"): self._authorized(self._dashboard_json, token_in_query=True),
        }

    def _authorized(self, route, *, token_in_query: bool = False):
        def guarded(query, headers, body):
            from chalicelib.store import admin_tokens

            scheme, _, token = (headers.get("authorization") or "").partition(" ")
            if scheme.lower() != "bearer":
                token = ""
            if not token.strip() and token_in_query:
                token = query.get("token") or ""
            record = admin_tokens.resolve(token.strip()) if token.strip() else None
            if record is None:
                return _json(401, {"error": {"code": "unauthorized", "message": "Send an admin token.", "fields": {}}})
            if "admin" not in record.scopes:
                message = "This token lacks the 'admin' scope."
                return _json(403, {"error": {"code": "insufficient_scope", "message": message, "fields": {}}})
            return route(query, headers, body)

        return guarded

    def _widget_demo(self, query, headers, body):
        from pynamodb.exceptions import DoesNotExist

        from chalicelib.store.models import Survey, bind
        from nps_local.widget_demo import widget_demo_page

        bind()
        survey_id = query.get("survey")
        try:
            found = Survey.get(survey_id) if survey_id else next(iter(Survey.scan(limit=1)), None)
        except DoesNotExist:
            found = None
        if found is None:
            return _json(404, {"error": {"code": "not_found", "message": "No such survey.", "fields": {}}})
        return 200, "text/html; charset=utf-8", widget_demo_page(self.base_url, found.survey_id, found.question)

    def _status(self, query, headers, body):
        return _json(
            200,
            {
                "poller": self.poller.stats.as_dict(),
                "scheduler": self.scheduler.describe(),
                "queued_runs": self._queued_counts(),
            },
        )

    def _poll(self, query, headers, body):
        from nps_local.responses_stream import wait_until_idle

        return _json(200, wait_until_idle(self.poller))

    def _dashboard_model(self, query) -> dict | tuple:
        from chalicelib.ops.dashboard import widgets
        from nps_local import dashboard_page

        text = query.get("minutes") or str(dashboard_page.DEFAULT_MINUTES)
        limit = self.metrics.retention // self.metrics.resolution
        if not text.isdigit() or not 1 <= int(text) <= limit:
            message = f"minutes must be a whole number from 1 to {limit}."
            return _json(422, {"error": {"code": "invalid", "message": message, "fields": {"minutes": message}}})
        self._sample_queue()  # the queue's depth as of now, not as of the last sample
        return dashboard_page.build(self.metrics, widgets(self.names), names=self.names, minutes=int(text))

    def _dashboard(self, query, headers, body):
        from nps_local import dashboard_page

        model = self._dashboard_model(query)
        if isinstance(model, tuple):
            return model
        refresh = query.get("refresh", str(dashboard_page.REFRESH_SECONDS))
        refresh = int(refresh) if refresh.isdigit() else dashboard_page.REFRESH_SECONDS
        return 200, "text/html; charset=utf-8", dashboard_page.render(model, stage=STAGE, refresh=refresh)

    def _dashboard_json(self, query, headers, body):
        model = self._dashboard_model(query)
        return model if isinstance(model, tuple) else _json(200, model)

    def _fire(self, query, headers, body):
        name = query.get("name", "")
        if name not in self.scheduler.jobs:
            return _json(404, {"error": {"code": "not_found", "message": f"No schedule {name!r}.", "fields": {}}})
        at = None
        if "at" in query:
            at = parse_timestamp(query["at"])
            if at is None:
                message = "at must be an ISO 8601 time, e.g. 2026-11-02T10:15:00Z (no offset means UTC)."
                return _json(400, {"error": {"code": "malformed", "message": message, "fields": {"at": message}}})
        try:
            result = self.scheduler.fire(name, at)
        except Exception as error:
            return _json(500, {"error": {"code": "internal_error", "message": repr(error), "fields": {}}})
        return _json(200, {"name": name, "result": result})

    # ---- stop -------------------------------------------------------------------------------------------


def _json(status: int, body) -> tuple[int, str, str]:
    return status, "application/json", json.dumps(body, default=str)
