"""Auth as real processes against a real sandbox, PostgreSQL and RabbitMQ."""

import base64
import os
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from glbridge.system import Credentials
from services.auth.adapters.cipher import Cipher
from tests.support.processes import ServiceProcess, free_port
from tests.support.sandbox import RunningSandbox

CREDENTIALS = Credentials.named("auth-test")


class ServiceCaller(httpx.Auth):
    """Presents the credential of the service that calls each internal endpoint: posting
    fetches access tokens, totals does the rest."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        who = "posting" if request.url.path.endswith("/access-token") else "totals"
        request.headers.update(CREDENTIALS.bearer(who))
        yield request
CLIENT_ID = "glbridge-dev"
CLIENT_SECRET = "glbridge-dev-secret"


@dataclass
class AuthCluster:
    """One or more auth processes sharing a database, behind one public URL."""

    sandbox: RunningSandbox
    database_url: str
    amqp_url: str
    namespace: str
    log_dir: Path
    keys: str = field(default_factory=lambda: "t1:" + base64.b64encode(os.urandom(32)).decode())
    processes: list[ServiceProcess] = field(default_factory=list)
    public_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def cipher(self) -> Cipher:
        return Cipher.from_spec(self.keys)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "AMQP_URL": self.amqp_url,
            "AMQP_NAMESPACE": self.namespace,
            **CREDENTIALS.env(),
            "THROTTLE_FAILURES": "100000",  # the credential tests fail by the dozen
            "AUTH_PUBLIC_URL": self.url,
            "AUTH_ENCRYPTION_KEYS": self.keys,
            "AUTH_REFRESH_COOLDOWN_S": "0.2",
            "XERO_TIMEOUT_S": "5",
            "XERO_CLIENT_ID": CLIENT_ID,
            "XERO_CLIENT_SECRET": CLIENT_SECRET,
            "LOG_LEVEL": "INFO",
            **self.sandbox.xero_env(),
            **extra,
        }

    def start(self, count: int = 1, **extra: str) -> list[ServiceProcess]:
        started = []
        for _ in range(count):
            port = self.public_port if not self.processes else free_port()
            env = self.env(AUTH_PORT=str(port), **extra)
            process = ServiceProcess("services.auth", port, env, self.log_dir)
            process.spawn()
            self.processes.append(process)
            started.append(process)
        for process in started:
            process.wait_ready("/readyz", 30)
        return started

    def restart(self, index: int = 0) -> ServiceProcess:
        old = self.processes[index]
        process = ServiceProcess("services.auth", old.port, old.env, self.log_dir)
        process.start("/readyz", 30)
        self.processes[index] = process
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            p.log_path.read_text() for p in self.processes if p.log_path and p.log_path.exists()
        )


@pytest.fixture
async def auth(
    sandbox: RunningSandbox, database_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> AsyncIterator[AuthCluster]:
    cluster = AuthCluster(sandbox, database_url, amqp_url, namespace, tmp_path)
    response = await sandbox.client.put(
        f"/_control/clients/{CLIENT_ID}",
        json={
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{cluster.url}/v1/connect/callback"],
        },
    )
    response.raise_for_status()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def browser_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
async def internal(auth: AuthCluster) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on auth's internal API with the service credential."""
    async with httpx.AsyncClient(
        base_url=auth.url, timeout=60, auth=ServiceCaller()
    ) as client:
        yield client


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "auth"})
    yield conn
    await conn.close()


@dataclass
class Connected:
    key: str
    connection_id: str
    tenant_id: str
    access_token: str
    grant_id: str


async def connect(
    auth: AuthCluster,
    browser_client: httpx.AsyncClient,
    internal: httpx.AsyncClient,
    store_id: str,
    **login: str,
) -> Connected:
    from services.auth.domain.connect import unverified_claims
    from tests.support.connect import connect_store

    key = await connect_store(browser_client, auth.url, store_id,
                              login.get("email", "demo@example.com"),
                              login.get("password", "demo-password"),
                              tenant_name=login.get("tenant_name"),
                              api_key_box=login.get("api_key_box", ""))
    verified = (await internal.post("/internal/v1/keys/verify", json={"api_key": key})).json()
    token = await internal.post(
        f"/internal/v1/connections/{verified['connection_id']}/access-token"
    )
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    return Connected(
        key,
        verified["connection_id"],
        verified["tenant_id"],
        access,
        str(unverified_claims(access)["authentication_event_id"]),
    )


async def xero_accepts(sandbox: RunningSandbox, access_token: str) -> int:
    """The sandbox's answer to GET /connections with this token (200 when it works)."""
    response = await sandbox.client.get(
        "/connections", headers={"Authorization": f"Bearer {access_token}"}
    )
    return response.status_code


async def refreshes(sandbox: RunningSandbox, grant_id: str) -> int:
    stats = (await sandbox.client.get("/_control/stats")).json()
    return int(stats["token_refreshes"].get(grant_id, 0))
