"""One system per test module (see support.shared_system)."""

from collections.abc import Iterator

import pytest

from tests.badinput.support import Shared, shared_system


@pytest.fixture(scope="module")
def shared(
    postgres_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    with shared_system(postgres_url, amqp_url, tmp_path_factory.mktemp("logs")) as running:
        yield running
