"""A service forked by the tests' fork server behaves as `python -m` would: the same
exit codes and messages, its own environment and log, stopped and killed for real."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from glbridge.processes import ROOT, Child, free_port, python_m
from tests.support.forkserver import ForkServer

pytestmark = pytest.mark.processes

REFUSED = {"XERO_ENV": "xero", "SANDBOX_CONTROL_ENABLED": "true"}


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    if not ForkServer.adopt_orphans():
        pytest.skip("needs Linux's child subreaper")
    server = ForkServer(ROOT)
    yield server
    server.stop()


def _launch(how: str, server: ForkServer, env: dict[str, str], log: Path) -> Child:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("XERO_", "SANDBOX_"))}
    with log.open("ab") as out:
        if how == "fork":
            return server.launch("services.xero_sandbox", clean | env, out)
        return python_m("services.xero_sandbox", clean | env, out)


def test_a_refused_configuration_ends_the_same_way_forked(
        fork_server: ForkServer, tmp_path: Path) -> None:
    ends = {}
    for how in ("python -m", "fork"):
        log = tmp_path / f"{how}.log"
        code = _launch(how, fork_server, REFUSED, log).wait(60)
        ends[how] = (code, "SANDBOX_CONTROL_ENABLED=true" in log.read_text())
    assert ends["fork"] == ends["python -m"] == (1, True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_forked_service_serves_on_its_own_settings_and_ends_by_signal_as_python_m(
        fork_server: ForkServer, tmp_path: Path, sig: int) -> None:
    ends = {}
    for how in ("python -m", "fork"):
        port = free_port()
        child = _launch(how, fork_server, {"SANDBOX_PORT": str(port)}, tmp_path / f"{how}.log")
        try:
            _wait_serving(child, port)
            assert child.poll() is None and child.pid != os.getpid()
            child.send_signal(sig)
            ends[how] = child.wait(15)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                child.wait(15)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
    # uvicorn raises SIGTERM again once it has shut down gracefully.
    assert ends["fork"] == ends["python -m"] == -sig


def _wait_serving(child: Child, port: int) -> None:
    for _ in range(300):
        assert child.poll() is None, "the forked sandbox exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the forked sandbox never served")
