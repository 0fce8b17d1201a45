"""Fixtures for the hostile-IdP scenarios: hostile IdPs and Envoys that always stop.

Reuses envoy/e2e (the Envoy launcher, bootstrap fragments, request helpers, token signing);
nothing there is modified."""

import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "envoy" / "e2e"))
sys.path.insert(0, os.path.dirname(__file__))

from envoyrun import WASM, Envoy  # noqa: E402
from hostile import HostileIdp  # noqa: E402


def _interrupt(*_):
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    # run.sh's `timeout` sends SIGTERM: make it an interrupt so fixtures still stop every
    # Envoy and IdP (the default SIGTERM would leave Envoys running).
    signal.signal(signal.SIGTERM, _interrupt)


def pytest_sessionstart(session):
    if not os.path.exists(WASM):
        raise pytest.UsageError(f"{WASM} is missing: run tests/idp_hostile/run.sh (it builds the filter)")


@pytest.fixture
def idps():
    """Starts hostile IdPs (`idps(keys=..., port=...)`) and stops all of them afterwards."""
    started = []

    def start(**kw):
        i = HostileIdp(**kw).start()
        started.append(i)
        return i

    yield start
    for i in started:
        i.stop()


@pytest.fixture
def idp(idps):
    return idps()


@pytest.fixture
def envoy_factory():
    started = []

    def start(listeners, clusters, **kw):
        e = Envoy(listeners, clusters, **kw)
        started.append(e)
        return e.start()

    yield start
    for e in started:
        e.stop()
        shutil.rmtree(e.dir, ignore_errors=True)
