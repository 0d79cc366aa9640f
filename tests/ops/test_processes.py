"""`ServiceProcess.running()`: the process the fixtures and benches start goes away with
the block, also when it never got ready."""

from pathlib import Path

import pytest

from glbridge.processes import ServiceProcess, free_port

pytestmark = pytest.mark.processes


def test_a_process_that_never_gets_ready_is_stopped(tmp_path: Path) -> None:
    port = free_port()
    sandbox = ServiceProcess("services.xero_sandbox", port, {"SANDBOX_PORT": str(port)},
                             tmp_path)
    # It serves, but never answers 200 on this path.
    with pytest.raises(TimeoutError), sandbox.running("/no-such-path", timeout_s=3):
        pass
    assert sandbox.process is not None and sandbox.exited


def test_a_ready_process_is_stopped_when_the_block_ends(tmp_path: Path) -> None:
    port = free_port()
    sandbox = ServiceProcess("services.xero_sandbox", port, {"SANDBOX_PORT": str(port)},
                             tmp_path)
    with sandbox.running() as running:
        assert running is sandbox and not sandbox.exited
    assert sandbox.exited
