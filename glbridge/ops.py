"""`glbridge ops`: queues, dead letters and replays, from a terminal."""

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.messaging import inspect
from shared.messaging.broker import Broker
from shared.messaging.topology import topology
from shared.settings import OpsSettings, ServiceSettings

ops_app = typer.Typer(help="Operate the system: queues, dead letters, replays, failures.")
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


OPS_TOTALS_URL = typer.Option("http://127.0.0.1:8002", "--totals-url", envvar="TOTALS_URL",
                              help="Where totals (which serves the ops monitor) answers.")
OPS_TOKEN = typer.Option(None, "--token", envvar="OPS_TOKEN", help="The ops token.")


def _ops_call(totals_url: str, token: str | None, method: str, path: str,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One call to totals' ops monitor (its JSON twin), with the ops token."""
    credential = token or OpsSettings().ops_token.get_secret_value()
    try:
        response = httpx.request(method, f"{totals_url.rstrip('/')}{path}", json=body,
                                 timeout=30, headers={"Authorization": f"Bearer {credential}"})
    except httpx.HTTPError as exc:
        console.print(f"[red]totals did not answer at {totals_url}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        console.print(f"[red]totals refused ({response.status_code}): {response.text}[/red]")
        raise typer.Exit(1)
    answer: dict[str, Any] = response.json()
    return answer


@ops_app.command("retry")
def retry(
    store: str = typer.Option(..., "--store", "-s", help="The store number."),
    business_date: str = typer.Option(..., "--date", "-d", help="The failed business date."),
    totals_url: str = OPS_TOTALS_URL,
    token: str | None = OPS_TOKEN,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Posts a failed day again (the ops page's Retry): a new attempt, checked against
    the organisation as it is now in Xero."""
    answer = _ops_call(totals_url, token, "POST", "/ops/api/retry",
                       {"store_id": store, "business_date": business_date})
    if as_json:
        print(json.dumps(answer, indent=2))
        return
    console.print(answer["message"])


@ops_app.command("failures")
def failures(
    totals_url: str = OPS_TOTALS_URL,
    token: str | None = OPS_TOKEN,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recent failed days by store, with their messages (from totals' ops monitor)."""
    days: list[dict[str, Any]] = _ops_call(totals_url, token, "GET", "/ops/data")["failed_days"]
    if as_json:
        print(json.dumps(days, indent=2))
        return
    table = Table(title=f"Failed days ({len(days)})")
    for column in ("store", "day", "rev", "failed at", "message", "errors"):
        table.add_column(column)
    for day in days:
        errors = "\n".join(
            " ".join(str(part) for part in (e.get("category"), e.get("account_code") and
                                            f"[{e['account_code']}]", e.get("message")) if part)
            for e in day["errors"])
        table.add_row(day["store_id"], day["business_date"], str(day["revision"]),
                      day["failed_at"], day["message"], errors)
    console.print(table)


@ops_app.command("reconnect-token")
def reconnect_token(
    store: str = typer.Option(..., "--store", "-s", help="The store whose key is lost."),
    totals_url: str = OPS_TOTALS_URL,
    token: str | None = OPS_TOKEN,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A one-time token that lets a store whose key is lost connect again (its setup
    dialog presents it: `glbridge pos setup --reconnect-token ...`)."""
    issued = _ops_call(totals_url, token, "POST", "/ops/api/reconnect-token",
                       {"store_id": store})
    if as_json:
        print(json.dumps(issued, indent=2))
        return
    console.print(f"Reconnect token for store {store} (one use, until {issued['expires_at']}):")
    print(issued["reconnect_token"])
