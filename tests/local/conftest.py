"""Fixtures for the local stack's parts."""

from __future__ import annotations

import pytest


@pytest.fixture
def stream():
    from local.poller_doubles import MotoStream
    from moto import mock_aws

    with mock_aws():
        yield MotoStream()
