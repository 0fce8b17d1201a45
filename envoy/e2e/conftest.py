"""Shared fixtures: the local IdP, the echo backend, and Envoy launchers that always stop."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from envoyrun import WASM, Envoy  # noqa: E402
from idp import Echo, Idp  # noqa: E402


def pytest_sessionstart(session):
    if not os.path.exists(WASM):
        raise pytest.UsageError(f"{WASM} is missing: run envoy/scripts/test.sh (it builds the filter)")


@pytest.fixture
def idp():
    i = Idp().start()
    yield i
    i.stop()


@pytest.fixture
def echo():
    e = Echo().start()
    yield e
    e.stop()


@pytest.fixture
def envoy_factory():
    """Starts Envoys for a test and stops every one of them afterwards, pass or fail."""
    started = []

    def start(listeners, clusters, **kw):
        e = Envoy(listeners, clusters, **kw)
        started.append(e)
        return e.start()

    yield start
    for e in started:
        e.stop()
