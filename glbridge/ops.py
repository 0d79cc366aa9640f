"""`glbridge ops`: queues, dead letters and replays, from a terminal."""

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from shared.messaging import inspect
from shared.messaging.broker import Broker
from shared.messaging.topology import topology
from shared.settings import ServiceSettings

ops_app = typer.Typer(help="Operate the system: queues, dead letters, replays.")
dlq_app = typer.Typer(help="Dead-letter queues.")
ops_app.add_typer(dlq_app, name="dlq")
console = Console()
T = TypeVar("T")


def _with_broker(work: Callable[[Broker], Awaitable[T]]) -> T:
    settings = ServiceSettings()

    async def run() -> T:
        broker = Broker(settings.amqp_url, topology(settings.amqp_namespace))
        await broker.connect()
        try:
            return await work(broker)
        finally:
            await broker.close()

    return asyncio.run(run())


def _print(rows: list[Any], columns: list[str], as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(getattr(row, column)) for column in columns))
    console.print(table)


@ops_app.command("queues")
def queues(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every queue with its depth and consumers."""

    async def stats(broker: Broker) -> list[inspect.QueueStats]:
        channel = await broker.connection.channel()
        return await inspect.queue_stats(channel, broker.topology)

    _print(_with_broker(stats), ["name", "messages", "consumers"], as_json, "Queues")


@dlq_app.command("list")
def dlq_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Dead letters with their reasons (left in place)."""
    rows = _with_broker(lambda b: inspect.list_dead_letters(b.connection, b.topology))
    columns = ["queue", "message_id", "event_type", "correlation_id", "reason"]
    _print(rows, columns, as_json, "Dead letters")


@dlq_app.command("replay")
def dlq_replay(
    queue: str = typer.Option(..., help="Consumer queue, e.g. posting.store-totals-closed"),
    message_id: str | None = typer.Option(None, "--id", help="Only this message."),
) -> None:
    """Moves dead letters back into their queue to be processed again."""

    async def replay(broker: Broker) -> int:
        return await inspect.replay_dead_letters(broker, broker.topology.queue(queue), message_id)

    console.print(f"replayed {_with_broker(replay)} message(s) into {queue}")
