"""Shared fixtures: every AWS call goes to moto, tables are real (created from the PynamoDB models, which a
template test keeps equal to infra/), and requests go through the real Chalice app."""

from __future__ import annotations

import os

import pytest
from support import Api
from support_mail import queues  # noqa: F401 (a fixture: the send queue and SES on moto)

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    NPS_STAGE="test",
    TABLE_PREFIX="nps-test-",
    PUBLIC_BASE_URL="http://127.0.0.1:8000",
    LINK_SIGNING_KEYS="k2:second-test-key,k1:first-test-key",
    LINK_SIGNING_KEY_ID="k2",
    # The local stacks that e2e tests start sign with the development key; only an explicit flag allows it.
    NPS_ALLOW_DEV_KEYS="1",
    POWERTOOLS_SERVICE_NAME="nps",
    POWERTOOLS_METRICS_NAMESPACE="NpsBackend",
)
os.environ.pop("DYNAMODB_ENDPOINT", None)
_TEST_ENVIRONMENT = {name: os.environ[name] for name in ("NPS_STAGE", "TABLE_PREFIX", "LINK_SIGNING_KEYS")}


@pytest.fixture(autouse=True)
def _environment_kept():
    """Every test leaves the process environment as it found it. chalice.test swaps os.environ for a copy with
    the stage's variables during each request; two requests at once can leave that copy in place, and every
    later test on the worker would then run as the dev stage."""
    environ = os.environ
    yield
    leaked = os.environ is not environ or any(os.environ.get(k) != v for k, v in _TEST_ENVIRONMENT.items())
    os.environ = environ
    os.environ.update(_TEST_ENVIRONMENT)
    assert not leaked, "this test left a changed process environment behind"


@pytest.fixture
def aws():
    """A fresh moto account with every table created."""
    from moto import mock_aws

    from chalicelib.store import models, surveys

    with mock_aws():
        # Clients made under an earlier mock still reach moto (it hooks every botocore client), so the
        # models keep theirs across tests: creating nine clients per test would cost seconds.
        models.bind()
        surveys.clear_cache()
        from chalicelib.events.account_cache import forget_cached_accounts

        forget_cached_accounts()
        for model in models.MODELS.values():
            model.create_table(billing_mode="PAY_PER_REQUEST")
        yield
        surveys.clear_cache()


@pytest.fixture
def fast_moto_transactions():
    """moto's TransactWriteItems without its deep copy of every table it names (nps_local.moto_transactions: the
    same answers, checked in tests/local/test_moto_transactions.py), for a test that writes many transactions."""
    from nps_local import moto_transactions

    was_installed = moto_transactions.installed()
    moto_transactions.install()
    yield
    if not was_installed:
        moto_transactions.uninstall()


@pytest.fixture
def admin_token(aws):
    from chalicelib.store import admin_tokens

    token, _ = admin_tokens.create("tests", ["admin"])
    return token


@pytest.fixture
def client(aws):
    from chalice.test import Client

    from app import app

    try:
        from nps_local.gateway import contract_client
    except ImportError:  # pragma: no cover - until the local gateway exists
        contract_client = None
    if contract_client is not None:
        with contract_client(app) as c:
            yield c
    else:
        with Client(app) as c:
            yield c


@pytest.fixture
def api(client, admin_token):
    return Api(client, admin_token)


@pytest.fixture
def survey(api):
    r = api.post(
        "/v1/surveys",
        {
            "name": "Quarterly relationship",
            "drivers": ["price", "support", "product"],
            "allowed_origins": ["https://shop.example.com", "https://app.example.com:8443"],
            "loop_rules": {
                "categories": ["detractor", "promoter"],
                "sla_hours": 48,
                "fallback_owner": "cx@example.com",
            },
        },
    )
    assert r.status_code == 201, r.body
    return r.json
