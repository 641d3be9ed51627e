"""Every setting the functions read, from environment variables, in one place.

Values are read on first use and cached, because Chalice applies a stage's environment only while a function
runs (and the test client only while it invokes), never at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    dynamodb_endpoint: str | None
    table_prefix: str
    public_base_url: str
    link_keys: dict[str, bytes]
    active_link_key: str
    link_ttl_days: int
    cors_max_age: int
    survey_cache_seconds: int
    monthly_function: str
    # One-click answers: a page left open this long without a gesture posts its score as pending, and a
    # pending answer with no conflicting page view is counted once it has been quiet this long.
    dwell_seconds: int = 5
    pending_quiet_seconds: int = 90
    # How long a rotated identity secret keeps verifying.
    secret_grace_days: int = 7
    # Currency of every money figure in the report and dashboard (ISO 4217).
    currency: str = "USD"
    # Lifetime of a signed report link.
    report_link_seconds: int = 900

    def table_name(self, table: str) -> str:
        return f"{self.table_prefix}{table}"


def _parse_keys(raw: str) -> dict[str, bytes]:
    keys = {}
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        kid, _, secret = part.partition(":")
        if not kid or not secret:
            raise RuntimeError("LINK_SIGNING_KEYS must be 'kid:secret[,kid:secret...]'")
        keys[kid] = secret.encode()
    return keys


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    stage = env.get("NPS_STAGE", "dev")
    keys = _parse_keys(env.get("LINK_SIGNING_KEYS", "k1:local-development-only-key"))
    active = env.get("LINK_SIGNING_KEY_ID") or next(iter(keys))
    if active not in keys:
        raise RuntimeError(f"LINK_SIGNING_KEY_ID {active!r} is not among LINK_SIGNING_KEYS")
    return Settings(
        stage=stage,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        table_prefix=env.get("TABLE_PREFIX", f"nps-{stage}-"),
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        link_keys=keys,
        active_link_key=active,
        link_ttl_days=int(env.get("LINK_TTL_DAYS", "30")),
        cors_max_age=int(env.get("CORS_MAX_AGE", "600")),
        survey_cache_seconds=int(env.get("SURVEY_CACHE_SECONDS", "60")),
        # The function `POST /v1/metrics/{month}/recompute?wait=false` starts (named as infra/ deploys it).
        monthly_function=env.get("MONTHLY_FUNCTION_NAME") or f"nps-backend-{stage}-monthly_metrics",
        dwell_seconds=int(env.get("DWELL_SECONDS", "5")),
        pending_quiet_seconds=int(env.get("PENDING_QUIET_SECONDS", "90")),
        secret_grace_days=int(env.get("SECRET_GRACE_DAYS", "7")),
        currency=env.get("CURRENCY", "USD"),
        report_link_seconds=int(env.get("REPORT_LINK_SECONDS", "900")),
    )


def reset() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    settings.cache_clear()
