"""A running Xero sandbox process with its control API, for tests of the other services."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from glbridge.processes import ServiceProcess, free_port


@dataclass
class RunningSandbox:
    process: ServiceProcess
    client: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.process.url

    def xero_env(self) -> dict[str, str]:
        """The XERO_* settings that point a service at this sandbox."""
        return {
            "XERO_AUTHORIZE_URL": f"{self.url}/identity/connect/authorize",
            "XERO_TOKEN_URL": f"{self.url}/connect/token",
            "XERO_REVOCATION_URL": f"{self.url}/connect/revocation",
            "XERO_CONNECTIONS_URL": f"{self.url}/connections",
            "XERO_API_URL": f"{self.url}/api.xro/2.0",
        }


async def run_sandbox(log_dir: Path, extra_env: dict[str, str] | None = None) -> AsyncIterator[
    RunningSandbox
]:
    port = free_port()
    env = {"SANDBOX_PORT": str(port), "SANDBOX_CONTROL_ENABLED": "true", **(extra_env or {})}
    process = ServiceProcess("services.xero_sandbox", port, env, log_dir)
    process.start("/healthz", timeout_s=30)
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
            yield RunningSandbox(process, client)
    finally:
        process.stop()
