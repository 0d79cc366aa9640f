"""One sandbox process for all the sandbox's own tests, reset before each test.

`POST /_control/reset` restores exactly the state a new process starts with (seeded
organisations, clock, limits, faults, stats), so sharing the process only saves the
second it takes to start one per test.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from glbridge.processes import ServiceProcess, free_port
from tests.support.sandbox import RunningSandbox


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    port = free_port()
    log_dir: Path = tmp_path_factory.mktemp("sandbox")
    env = {"SANDBOX_PORT": str(port), "SANDBOX_CONTROL_ENABLED": "true"}
    process = ServiceProcess("services.xero_sandbox", port, env, log_dir)
    process.start("/healthz", timeout_s=30)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def sandbox(sandbox_process: ServiceProcess) -> AsyncIterator[RunningSandbox]:
    async with httpx.AsyncClient(base_url=sandbox_process.url, timeout=30) as client:
        (await client.post("/_control/reset")).raise_for_status()
        yield RunningSandbox(sandbox_process, client)
