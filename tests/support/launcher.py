"""`glbridge up` as the operator runs it: a process of its own, with the operator's
environment, stopped (and its children with it) when the block ends."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

from glbridge.processes import free_port
from glbridge.system import Credentials, Ports

GLBRIDGE = str(Path(sys.executable).with_name("glbridge"))


def launcher_env(database_url: str, amqp_url: str, namespace: str,
                 **settings: str) -> tuple[Ports, dict[str, str]]:
    """Free ports and the environment an operator would give `glbridge up`."""
    ports = Ports(auth=free_port(), totals=free_port(), posting=free_port(), sandbox=free_port())
    env = {
        "DATABASE_URL": database_url, "AMQP_URL": amqp_url, "AMQP_NAMESPACE": namespace,
        **Credentials.named("test").env(),
        "AUTH_PORT": str(ports.auth), "TOTALS_PORT": str(ports.totals),
        "POSTING_PORT": str(ports.posting), "SANDBOX_PORT": str(ports.sandbox),
    }
    return ports, env | settings


@contextlib.contextmanager
def glbridge_up(env: Mapping[str, str], ports: Ports, workdir: Path,
                timeout_s: float = 90.0) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `glbridge up --log-dir` in `workdir` until auth, totals and posting are ready."""
    log = (workdir / "up.log").open("ab")
    process = subprocess.Popen(
        [GLBRIDGE, "up", "--log-dir", str(workdir / "logs")],
        cwd=workdir, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_ready(process, ports, workdir, timeout_s)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        log.close()


def _wait_ready(process: subprocess.Popen[bytes], ports: Ports, workdir: Path,
                timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {f"http://127.0.0.1:{port}/readyz" for port in (ports.auth, ports.totals,
                                                               ports.posting)}
    while pending and time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"glbridge up exited: {(workdir / 'up.log').read_text()[-3000:]}")
        for url in list(pending):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    pending.discard(url)
        time.sleep(0.2)
    if pending:
        raise TimeoutError(f"not ready: {pending}: {(workdir / 'up.log').read_text()[-3000:]}")
