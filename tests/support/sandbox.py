"""A running Xero sandbox process with its control API, for tests of the other services."""

from dataclasses import dataclass

import httpx

from glbridge.processes import ServiceProcess


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
