"""Link signing keys: never the built-in development key unless a run says so, and in the deployed stack read from
AWS Secrets Manager (moto's here) once per container, not from plain environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from support import path_of
from support_ddb import invite

from chalicelib import config
from chalicelib.domain import clock, tokens
from chalicelib.domain.errors import Forbidden

ROOT = Path(__file__).resolve().parents[2]
NOW = clock.utcnow()
CLAIMS = {"invitation_id": "inv-1", "survey_id": "srv-1", "contact_id": "con-1", "account_id": "acc-1"}
SECRET_NAME = "nps-test/link-signing-keys"
KEY_ENV = (
    "LINK_SIGNING_KEYS",
    "LINK_SIGNING_KEY_ID",
    "LINK_SIGNING_SECRET",
    "NPS_ALLOW_DEV_KEYS",
    "AWS_EXECUTION_ENV",
    "SECRETS_CACHE_SECONDS",
)


@pytest.fixture
def keyless(monkeypatch):
    """No key configuration at all; settings re-read before and after."""
    for name in KEY_ENV:
        monkeypatch.delenv(name, raising=False)
    config.reset()
    yield monkeypatch
    monkeypatch.undo()
    config.reset()


def _sign(s: config.Settings) -> str:
    return tokens.sign_link(
        s.link_keys, s.active_link_key, purpose=tokens.PURPOSE_SURVEY, expires_at=NOW + timedelta(days=1), **CLAIMS
    )


def _secret(value: str) -> str:
    import boto3

    client = boto3.client("secretsmanager", region_name="us-east-1")
    return client.create_secret(Name=SECRET_NAME, SecretString=value)["ARN"]


def _put_secret(value: str) -> None:
    import boto3

    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(SecretId=SECRET_NAME, SecretString=value)


# --- no silent development key ----------------------------------------------------------------------------------


def test_without_configured_keys_nothing_can_be_signed(keyless):
    with pytest.raises(config.ConfigurationError, match="no link signing keys"):
        _sign(config.settings())


def test_the_development_key_needs_an_explicit_flag(keyless):
    keyless.setenv("NPS_ALLOW_DEV_KEYS", "1")
    config.reset()
    s = config.settings()
    assert tokens.verify_link(s.link_keys, _sign(s), tokens.PURPOSE_SURVEY, NOW).invitation_id == "inv-1"


def test_the_development_key_is_refused_in_lambda_even_with_the_flag(keyless):
    keyless.setenv("NPS_ALLOW_DEV_KEYS", "1")
    keyless.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.11")
    config.reset()
    with pytest.raises(config.ConfigurationError):
        _sign(config.settings())


def _import_config_as_lambda(env: dict) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
    environ.update(AWS_EXECUTION_ENV="AWS_Lambda_python3.11", **env)
    code = "import sys, chalicelib.config; print('boto3' in sys.modules)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_lambda_function_without_keys_refuses_to_start():
    done = _import_config_as_lambda({"NPS_ALLOW_DEV_KEYS": "1"})
    assert done.returncode != 0
    assert "ConfigurationError" in done.stderr and "no link signing keys" in done.stderr


def test_a_lambda_function_with_a_secret_starts_without_fetching_it():
    done = _import_config_as_lambda({"LINK_SIGNING_SECRET": f"arn:aws:secretsmanager:us-east-1:1:secret:{SECRET_NAME}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"  # no boto3 (and no Secrets Manager call) at init


# --- Secrets Manager ---------------------------------------------------------------------------------------------


def test_keys_come_from_the_secret_and_are_fetched_once_per_container(aws, keyless):
    arn = _secret("k2:second-secret-from-sm,k1:first-secret-from-sm")
    keyless.setenv("LINK_SIGNING_SECRET", arn)
    keyless.setenv("SECRETS_CACHE_SECONDS", "3600")
    config.reset()
    s = config.settings()
    assert s.link_keys == {"k2": b"second-secret-from-sm", "k1": b"first-secret-from-sm"}
    assert s.active_link_key == "k2"
    calls = []
    config._secrets_client.meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **kw: calls.append(1)
    )
    for _ in range(20):
        _sign(config.settings())
    assert calls == []  # cached: the first use fetched, nothing after
    _put_secret("k3:third-secret-from-sm")
    assert config.settings().active_link_key == "k2"  # within the cache time the container keeps its keys


def test_a_rotated_secret_reaches_a_running_container_after_the_cache_time(aws, keyless):
    arn = _secret("k1:first-secret-from-sm")
    keyless.setenv("LINK_SIGNING_SECRET", arn)
    keyless.setenv("SECRETS_CACHE_SECONDS", "0")  # every use is past the cache time
    config.reset()
    old_link = _sign(config.settings())
    # Rotation, step 1: the new key joins, the old one keeps signing; step 2: the new key signs.
    _put_secret('{"k1": "first-secret-from-sm", "k2": "second-secret-from-sm"}')
    assert config.settings().active_link_key == "k1"
    _put_secret('{"k2": "second-secret-from-sm", "k1": "first-secret-from-sm"}')
    s = config.settings()
    assert s.active_link_key == "k2"
    assert tokens.verify_link(s.link_keys, old_link, tokens.PURPOSE_SURVEY, NOW).key_id == "k1"
    new_link = _sign(s)
    assert tokens.verify_link(s.link_keys, new_link, tokens.PURPOSE_SURVEY, NOW).key_id == "k2"
    # Step 3, once the old links have expired: k1 goes; its links stop verifying.
    _put_secret('{"k2": "second-secret-from-sm"}')
    s = config.settings()
    with pytest.raises(Forbidden):
        tokens.verify_link(s.link_keys, old_link, tokens.PURPOSE_SURVEY, NOW)
    assert tokens.verify_link(s.link_keys, new_link, tokens.PURPOSE_SURVEY, NOW).key_id == "k2"


def test_a_secret_without_the_active_key_is_a_configuration_error(aws, keyless):
    keyless.setenv("LINK_SIGNING_SECRET", _secret(json.dumps({"k1": "first-secret-from-sm"})))
    keyless.setenv("LINK_SIGNING_KEY_ID", "k9")
    config.reset()
    with pytest.raises(config.ConfigurationError, match="k9"):
        _sign(config.settings())


def test_the_api_signs_and_verifies_links_with_the_secret(api, survey, keyless):
    arn = _secret('{"k7": "secret-only-secrets-manager-knows"}')
    keyless.setenv("LINK_SIGNING_SECRET", arn)
    config.reset()
    config.settings()  # read now: the test client applies the dev stage's environment while it invokes
    (invitation,) = invite(api, survey["survey_id"], {"contact_id": "con-1", "account_id": "acc-1"})
    token = path_of(invitation["link"]).rsplit("/", 1)[1]
    assert (
        tokens.verify_link(
            {"k7": b"secret-only-secrets-manager-knows"}, token, tokens.PURPOSE_SURVEY, clock.utcnow()
        ).key_id
        == "k7"
    )
    page = api.get(path_of(invitation["link"]), token=None)
    assert page.status_code == 200
    r = api.post(path_of(invitation["link"]), {"score": 9}, token=None)
    assert r.status_code == 201, r.body
