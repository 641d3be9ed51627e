"""Every setting the functions read, from environment variables, in one place.

Values are read on first use and cached, because Chalice applies a stage's environment only while a function
runs (and the test client only while it invokes), never at import time.

Link signing keys (which also key the list cursors) come from one of, in this order:
- LINK_SIGNING_SECRET: the ARN or name of an AWS Secrets Manager secret (what the deployed stack sets). It is
  fetched on first use, not at start, so functions that sign nothing never call Secrets Manager, and kept for
  SECRETS_CACHE_SECONDS so a rotated secret reaches running containers without a redeploy;
- LINK_SIGNING_KEYS: the keys themselves, for runs outside AWS (tests set them);
- the built-in development key, only when NPS_ALLOW_DEV_KEYS=1 (the local stack, tests) and never in Lambda.
Without any of them a Lambda function refuses to start (its init fails), and elsewhere signing or verifying a
link fails: links signed with a key written in this file could be forged by anyone who has read it. Tools that
sign nothing (the CLI's create-token) need no keys.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

DEVELOPMENT_LINK_KEYS = "k1:local-development-only-key"


class ConfigurationError(RuntimeError):
    """The environment does not configure the service well enough to run it safely."""


def _in_lambda() -> bool:
    return os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    dynamodb_endpoint: str | None
    table_prefix: str
    public_base_url: str
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
    # Where the link signing keys come from (see the module docstring): a secret's id, or the keys themselves.
    link_keys_secret: str | None = None
    link_keys_inline: str | None = None
    link_key_id: str | None = None
    secrets_cache_seconds: int = 300
    # Sending surveys (SES v2 from a queue). The queue the API puts each email on; the sender's address,
    # reply-to and SES configuration set (bounce and complaint events flow through it); the account's SES
    # sending rate (emails a second) and how many senders may run at once, which share it.
    send_queue_url: str | None = None
    mail_from: str = "surveys@example.com"
    mail_reply_to: str | None = None
    ses_configuration_set: str | None = None
    ses_send_rate: float = 1.0
    sender_concurrency: int = 2
    # Throttling across surveys: a contact invited to any survey within this many days is not invited again
    # (0: each survey's own throttle_days only). Relationship waves: the function a started wave is queued to.
    contact_throttle_days: int = 0
    waves_function: str = "nps-backend-dev-survey_waves"
    # The stage's EventBridge bus, which every change that matters is published to (README, "Events"); none
    # (tests, tools): nothing is published.
    event_bus_name: str | None = None

    def table_name(self, table: str) -> str:
        return f"{self.table_prefix}{table}"

    @property
    def link_keys(self) -> dict[str, bytes]:
        """kid -> secret, every key that still verifies links; fetched from Secrets Manager when configured."""
        return _link_keys(self).keys

    @property
    def active_link_key(self) -> str:
        """The key id that signs new links: LINK_SIGNING_KEY_ID, else the first key."""
        return _link_keys(self).active


def _parse_keys(raw: str) -> dict[str, bytes]:
    """'kid:secret[,kid:secret...]', or a JSON object {"kid": "secret", ...} (what a generated secret holds)."""
    if raw.lstrip().startswith("{"):
        try:
            pairs = json.loads(raw)
        except ValueError:
            raise ConfigurationError("the link signing secret is not valid JSON") from None
        if not isinstance(pairs, dict) or not all(isinstance(v, str) for v in pairs.values()):
            raise ConfigurationError('the link signing secret must be a JSON object {"kid": "secret", ...}')
        items = [(str(k).strip(), v.strip()) for k, v in pairs.items()]
    else:
        items = [part.strip().partition(":")[::2] for part in raw.split(",") if part.strip()]
    keys = {}
    for kid, secret in items:
        if not kid or not secret:
            raise ConfigurationError("LINK_SIGNING_KEYS must be 'kid:secret[,kid:secret...]'")
        keys[kid] = secret.encode()
    if not keys:
        raise ConfigurationError("no link signing keys configured")
    return keys


@dataclass(frozen=True)
class LinkKeys:
    keys: dict[str, bytes]
    active: str


_keys_lock = threading.Lock()
_keys_cache: dict[tuple, tuple[float, LinkKeys]] = {}
_secrets_client = None


def _secret_string(secret_id: str, region: str) -> str:
    global _secrets_client
    if _secrets_client is None:
        import boto3  # here, not at import: only functions that sign or verify links pay for the client

        _secrets_client = boto3.client("secretsmanager", region_name=region)
    return _secrets_client.get_secret_value(SecretId=secret_id)["SecretString"]


def _link_keys(s: Settings) -> LinkKeys:
    if not (s.link_keys_secret or s.link_keys_inline):
        raise ConfigurationError(
            "no link signing keys: set LINK_SIGNING_SECRET (a Secrets Manager secret, as the deployed stack does) "
            "or LINK_SIGNING_KEYS; NPS_ALLOW_DEV_KEYS=1 allows the built-in development key outside Lambda only"
        )
    source = (s.link_keys_secret, s.link_keys_inline, s.link_key_id, s.region)
    with _keys_lock:
        cached = _keys_cache.get(source)
        if cached and (s.link_keys_secret is None or time.monotonic() - cached[0] < s.secrets_cache_seconds):
            return cached[1]
        raw = _secret_string(s.link_keys_secret, s.region) if s.link_keys_secret else s.link_keys_inline
        keys = _parse_keys(raw or "")
        active = s.link_key_id or next(iter(keys))
        if active not in keys:
            raise ConfigurationError(f"LINK_SIGNING_KEY_ID {active!r} is not among the link signing keys")
        loaded = LinkKeys(keys, active)
        _keys_cache[source] = (time.monotonic(), loaded)
        return loaded


def _key_source(env) -> tuple[str | None, str | None]:
    secret = env.get("LINK_SIGNING_SECRET") or None
    inline = env.get("LINK_SIGNING_KEYS") or None
    if not (secret or inline) and env.get("NPS_ALLOW_DEV_KEYS") == "1" and not _in_lambda():
        inline = DEVELOPMENT_LINK_KEYS
    return secret, inline


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    stage = env.get("NPS_STAGE", "dev")
    secret, inline = _key_source(env)
    s = Settings(
        stage=stage,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        table_prefix=env.get("TABLE_PREFIX", f"nps-{stage}-"),
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        link_ttl_days=int(env.get("LINK_TTL_DAYS", "30")),
        cors_max_age=int(env.get("CORS_MAX_AGE", "600")),
        survey_cache_seconds=int(env.get("SURVEY_CACHE_SECONDS", "60")),
        # The function every `POST /v1/metrics/{month}/recompute` queues (named as infra/ deploys it).
        monthly_function=env.get("MONTHLY_FUNCTION_NAME") or f"nps-backend-{stage}-monthly_metrics",
        dwell_seconds=int(env.get("DWELL_SECONDS", "5")),
        pending_quiet_seconds=int(env.get("PENDING_QUIET_SECONDS", "90")),
        secret_grace_days=int(env.get("SECRET_GRACE_DAYS", "7")),
        currency=env.get("CURRENCY", "USD"),
        report_link_seconds=int(env.get("REPORT_LINK_SECONDS", "900")),
        link_keys_secret=secret,
        link_keys_inline=inline,
        link_key_id=env.get("LINK_SIGNING_KEY_ID") or None,
        secrets_cache_seconds=int(env.get("SECRETS_CACHE_SECONDS", "300")),
        send_queue_url=env.get("SEND_QUEUE_URL") or None,
        mail_from=env.get("MAIL_FROM") or "surveys@example.com",
        mail_reply_to=env.get("MAIL_REPLY_TO") or None,
        ses_configuration_set=env.get("SES_CONFIGURATION_SET") or None,
        ses_send_rate=float(env.get("SES_SEND_RATE", "1")),
        sender_concurrency=max(1, int(env.get("SENDER_CONCURRENCY", "2"))),
        contact_throttle_days=max(0, int(env.get("CONTACT_THROTTLE_DAYS", "0"))),
        waves_function=env.get("WAVES_FUNCTION_NAME") or f"nps-backend-{stage}-survey_waves",
        event_bus_name=env.get("EVENT_BUS_NAME") or None,
    )
    if inline and not secret:
        _link_keys(s)  # malformed inline keys fail here, at start, not on the first link
    return s


def reset() -> None:
    """Forget cached settings and keys (tests and the local stack change the environment)."""
    global _secrets_client
    settings.cache_clear()
    with _keys_lock:
        _keys_cache.clear()
    _secrets_client = None


def require_link_keys() -> None:
    """Refuse to run without a configured source of link signing keys (nothing is fetched here)."""
    s = settings()
    if not (s.link_keys_secret or s.link_keys_inline):
        _link_keys(s)


# In Lambda the environment is complete at import: a function without keys fails its init (and so every
# invocation, which the errors alarms see) instead of running with links nobody could trust.
if _in_lambda():
    require_link_keys()
