"""Real RabbitMQ and PostgreSQL for every test, each test isolated by its own names."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import httpx
import pytest

from glbridge.processes import ROOT, ServiceProcess, free_port
from glbridge.system import Credentials, System
from shared.db import drop_database, ensure_database
from shared.messaging import topology as topo
from tests.support.examples import load_profile
from tests.support.forkserver import ForkServer
from tests.support.infra import amqp_server, postgres_server
from tests.support.processes import running_system
from tests.support.sandbox import RunningSandbox
from tests.support.shared_system import Shared, shared_system

load_profile()

# Services start as forks of a process that has imported them (tests/support/forkserver.py)
# unless GLBRIDGE_TEST_FORK=0 asks for `python -m` each time.
if os.environ.get("GLBRIDGE_TEST_FORK", "1") != "0" and ForkServer.adopt_orphans():
    ServiceProcess.launch = staticmethod(ForkServer(ROOT).launch)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    with amqp_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def database_url(postgres_url: str, unique: str) -> AsyncIterator[str]:
    """A new, empty database for this test; dropped afterwards."""
    dsn = urlunsplit(urlsplit(postgres_url)._replace(path=f"/glbridge_test_{unique}"))
    await ensure_database(dsn)
    yield dsn
    await drop_database(dsn)


@pytest.fixture
async def namespace(amqp_url: str, unique: str) -> AsyncIterator[str]:
    """A broker namespace of this test's own; its queues and exchanges are deleted after."""
    name = f"test-{unique}"
    yield name
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await topo.delete(channel, topo.topology(name))


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One Xero sandbox process for the whole run, control API on (see `sandbox`)."""
    port = free_port()
    log_dir: Path = tmp_path_factory.mktemp("sandbox")
    env = {"SANDBOX_PORT": str(port), "SANDBOX_CONTROL_ENABLED": "true",
           # Every request body checked against Xero's spec (refused when it breaks it).
           "SANDBOX_CHECK_REQUESTS": "true"}
    with ServiceProcess("services.xero_sandbox", port, env, log_dir).running() as process:
        yield process


@pytest.fixture
async def sandbox(sandbox_process: ServiceProcess) -> AsyncIterator[RunningSandbox]:
    """The sandbox as a new process would be: `POST /_control/reset` restores exactly that
    state (seeded organisations, clients, clock, limits, faults, stats, journals), so the
    run's one process serves every test and saves the second a start takes here. The
    previous test's services are stopped before this one's reset."""
    async with httpx.AsyncClient(base_url=sandbox_process.url, timeout=30) as client:
        (await client.post("/_control/reset")).raise_for_status()
        yield RunningSandbox(sandbox_process, client)


@pytest.fixture
def system(database_url: str, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[System]:
    """The whole system as real processes on free ports: sandbox, auth, totals, posting."""
    with running_system(
        database_url, amqp_url, namespace, tmp_path, credentials=Credentials.named("test"),
        sandbox_control=True,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def shared(
    postgres_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    """One system for every test of a module (see tests/support/shared_system.py): for
    tests that each work on stores of their own and count only what is theirs. It starts
    once on each worker that takes a test of the module (`make test`'s `-n 4`)."""
    with shared_system(postgres_url, amqp_url, tmp_path_factory.mktemp("logs")) as running:
        yield running


# The fixtures behind every test that needs RabbitMQ, PostgreSQL or a service process.
INFRASTRUCTURE = frozenset({"amqp_url", "postgres_url", "sandbox_process"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `unit` every test whose fixtures reach no infrastructure and that starts no
    process of its own (marked `processes`): `make test-unit` runs those alone, with
    neither RabbitMQ nor PostgreSQL running."""
    for item in items:
        if (INFRASTRUCTURE.isdisjoint(getattr(item, "fixturenames", ()))
                and item.get_closest_marker("processes") is None):
            item.add_marker(pytest.mark.unit)
