"""`ServiceProcess.running()`: the process the fixtures and benches start goes away with
the block, also when it never got ready."""

import socket
from pathlib import Path

import pytest

from glbridge.processes import LOWEST_PORT, ServiceProcess, ephemeral_ports, free_port

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


def test_a_free_port_is_never_handed_out_twice_nor_one_outgoing_connections_use() -> None:
    """Two servers given the same port (a bind(0) port offered again) failed a run now
    and then: each port is drawn once per process, below the ephemeral range."""
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(LOWEST_PORT <= port < ephemeral_ports().start for port in ports)


def test_a_port_in_use_or_handed_out_already_is_passed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        in_use = taken.getsockname()[1]
        offered = iter([in_use, handed, LOWEST_PORT + 7, LOWEST_PORT + 8])
        monkeypatch.setattr("glbridge.processes.random.choice", lambda _: next(offered))
        assert free_port() in {LOWEST_PORT + 7, LOWEST_PORT + 8}
        monkeypatch.setattr("glbridge.processes.random.choice", lambda _: in_use)
        with pytest.raises(RuntimeError, match="no free port"):
            free_port()


def test_the_ephemeral_range_is_the_kernels_or_else_its_default(tmp_path: Path) -> None:
    configured = tmp_path / "ip_local_port_range"
    configured.write_text("20000\t29999\n")
    garbled = tmp_path / "garbled"
    garbled.write_text("not a range")
    assert ephemeral_ports(configured) == range(20_000, 30_000)
    assert ephemeral_ports(tmp_path / "absent") == ephemeral_ports(garbled) \
        == range(32_768, 61_000)
