"""Service processes: started with `python -m`, health-checked, stopped or killed for real."""

import contextlib
import functools
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol

import httpx

ROOT = Path(__file__).resolve().parents[1]


# Ports handed out by this process: each one is for a server that may not have bound it
# yet, so it is never handed out twice.
_HANDED_OUT: set[int] = set()
LOWEST_PORT = 10_000


@functools.cache
def ephemeral_ports(source: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> range:
    """The kernel's range for outgoing connections' own ports (Linux), else its default;
    read once."""
    try:
        low, high = source.read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32_768, 61_000)


def free_port() -> int:
    """A port nothing listens on now, for a server started next. It is drawn below the
    kernel's ephemeral range, so no outgoing connection takes it meanwhile (a port the
    kernel offered for bind(0) could be), at random, so that other processes drawing too
    (test workers) seldom meet, and never one this process handed out already."""
    first_ephemeral = ephemeral_ports().start
    candidates = range(LOWEST_PORT, max(first_ephemeral, LOWEST_PORT + 1_000))
    for _ in range(1_000):
        port = random.choice(candidates)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port found in {candidates}")


class Child(Protocol):
    """What a service process is driven by: `subprocess.Popen`'s signals and exit."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def terminate(self) -> None: ...


def python_m(module: str, env: Mapping[str, str], log: BinaryIO | None) -> Child:
    """`python -m module` in the project's folder, writing to `log` (else to ours)."""
    return subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )


class ServiceProcess:
    """One service as an OS process, with its log captured to a file."""

    # How a service is started: `python -m`. The tests start them the same way, forked
    # from a process that has imported them already (tests/support/forkserver.py).
    launch: Callable[[str, Mapping[str, str], BinaryIO | None], Child] = \
        staticmethod(python_m)

    def __init__(
        self, module: str, port: int, env: Mapping[str, str], log_dir: Path | None = None
    ) -> None:
        self.module = module
        self.port = port
        self.env = {**os.environ, **env}
        # Without a log folder the child writes to our own terminal.
        self.log_path = log_dir / f"{module.rsplit('.', 1)[-1]}-{port}.log" if log_dir else None
        self.process: Child | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout_s: float = 30.0) -> "ServiceProcess":
        self.spawn()
        self.wait_ready(ready_path, timeout_s)
        return self

    @contextlib.contextmanager
    def running(self, ready_path: str = "/healthz", timeout_s: float = 30.0
                ) -> Iterator["ServiceProcess"]:
        """Started and ready inside the block; stopped when it ends, or when it never got
        ready."""
        try:
            yield self.start(ready_path, timeout_s)
        finally:
            self.stop()

    def spawn(self) -> None:
        log = self.log_path.open("ab") if self.log_path else None
        try:
            self.process = self.launch(self.module, self.env, log)
        finally:
            if log is not None:
                log.close()  # the child holds its own

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def wait_ready(self, path: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited: {self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.module} not ready on {self.url}: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        self.ask_to_stop()
        self.wait_stopped()

    def ask_to_stop(self) -> None:
        """SIGTERM: the service finishes what it holds and exits (see `wait_stopped`)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self, timeout_s: float = 10.0) -> None:
        """Waits for the exit `ask_to_stop` asked for; killed when it takes longer."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None:
            return ""
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def stop_together(processes: Iterable[ServiceProcess]) -> None:
    """Stops every process at once: each is asked, then each is waited for. No service
    needs another to stop first (what one has not finished is taken up again on start,
    as after a crash)."""
    processes = list(processes)
    for process in processes:
        process.ask_to_stop()
    for process in processes:
        process.wait_stopped()
