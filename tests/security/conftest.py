"""One system per test module, every process logging at DEBUG (the most it ever says)."""

from collections.abc import Iterator

import pytest

from tests.support.shared_system import Shared, shared_system


@pytest.fixture(scope="module")
def shared(
    postgres_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    log_dir = tmp_path_factory.mktemp("logs")
    with shared_system(postgres_url, amqp_url, log_dir, {"LOG_LEVEL": "DEBUG"}) as running:
        yield running
