"""Helpers shared by the tests (importable, unlike conftest)."""

from __future__ import annotations

import json


class Api:
    """Thin JSON helper over the Chalice test client, so tests read like the calls a user makes."""

    def __init__(self, client, token):
        self.client = client
        self.token = token

    def call(self, method, path, body=None, *, token=..., headers=None, raw=None, content_type="application/json"):
        h = {"Content-Type": content_type} if (body is not None or raw is not None) else {}
        tok = self.token if token is ... else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        r = self.client.http.request(method, path, headers=h, body=data)
        try:
            r.json = json.loads(r.body) if r.body else None
        except (ValueError, UnicodeDecodeError):
            r.json = None
        return r

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def scheduled_event(at, detail=None) -> dict:
    """The EventBridge event a schedule sends at `at` (whole seconds, as EventBridge writes them)."""
    return {
        "version": "0",
        "id": f"scheduled-{at.timestamp():.0f}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": detail or {},
    }
