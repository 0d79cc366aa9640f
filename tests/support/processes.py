"""Real service processes for tests (the same supervisor code `glbridge up` uses)."""

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from glbridge.processes import ROOT, ServiceProcess, free_port
from glbridge.system import Credentials, Ports, System

__all__ = ["ROOT", "ServiceProcess", "free_port", "running_system"]


@contextlib.contextmanager
def running_system(
    database_url: str, amqp_url: str, namespace: str, log_dir: Path, *,
    credentials: Credentials, sandbox_control: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[System]:
    """The whole system as real processes on free ports, with these settings; stopped
    when the block ends, or when it never got ready."""
    running = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(),
                    sandbox=free_port()),
        database_url=database_url, amqp_url=amqp_url, namespace=namespace,
        credentials=credentials, sandbox_control=sandbox_control, log_dir=log_dir,
        extra_env=dict(extra_env or {}),
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
