"""The whole system as real processes on free ports, for end-to-end tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from glbridge.system import Ports, System
from tests.support.processes import free_port


@pytest.fixture
def system(database_url: str, amqp_url: str, namespace: str, tmp_path: Path) -> Iterator[System]:
    running = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(), sandbox=free_port()),
        database_url=database_url,
        amqp_url=amqp_url,
        namespace=namespace,
        service_token="e2e-service-token",
        sandbox_control=True,
        log_dir=tmp_path,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
