"""`make chaos`: business days through the running system while it is being broken.

    .venv/bin/python -m bench.chaos --days 2000 --seed 7

Kills services (SIGKILL, then restarts them), optionally restarts RabbitMQ and PostgreSQL,
turns on sandbox faults, injects poison messages; then checks that every day is in Xero
exactly once at its latest revision, that totals knows every outcome, and that only the
poison reached a dead-letter queue. Reproducible from the printed seed (the moments of
the kills are drawn from it; the machine's timing still varies).
"""

import argparse
import asyncio
import json
import random
import re
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from rich.console import Console
from rich.table import Table

from bench.drive import delete_namespace
from bench.provision import Store, provision_stores
from glbridge.processes import free_port
from glbridge.system import Ports, System
from shared.contracts import examples
from shared.db import drop_database, ensure_database
from shared.messaging import inspect
from shared.messaging.topology import topology

console = Console()
REFERENCE = re.compile(r"\[glb:([^\]]+)\]")
FIRST_DAY = date(2025, 3, 1)
POISON = [b"not json at all", b'{"event_type": "store-totals-closed"}',
          b'{"event_type": "no-such-event", "schema_version": 1}',
          b'{"event_type": "store-totals-closed", "schema_version": 99}']


@dataclass
class ChaosPlan:
    days: int = 2000
    organisations: int = 8
    stores_per_org: int = 5
    kills: int = 10
    amended_share: float = 0.05
    restart_broker: bool = True
    restart_database: bool = True
    sandbox_faults: bool = True
    seed: int = 0


@dataclass
class ChaosReport:
    seed: int
    days_closed: int = 0
    amended: int = 0
    kills: list[str] = field(default_factory=list)
    journals_live: int = 0
    days_in_xero_once: int = 0
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    wrong_revision: list[str] = field(default_factory=list)
    outcomes_known: int = 0
    dead_letters: dict[str, list[str]] = field(default_factory=dict)
    unexpected_dead_letters: int = 0
    unacked: int = 0
    poison_sent: int = 0

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.wrong_revision
                    or self.unexpected_dead_letters)


async def _close_all(client: httpx.AsyncClient, system: System, stores: list[Store],
                     plan: ChaosPlan, rng: random.Random, report: ChaosReport,
                     latest: dict[tuple[str, str], int]) -> None:
    totals = examples.example_day_totals()
    gate = asyncio.Semaphore(32)
    jobs: list[tuple[Store, date, dict[str, Any]]] = []
    for k in range(plan.days):
        store = stores[k % len(stores)]
        jobs.append((store, FIRST_DAY + timedelta(days=k // len(stores)), totals))
    amended = rng.sample(range(plan.days), int(plan.days * plan.amended_share))
    amended_totals = examples.example_day_totals(scale=2)
    jobs += [(jobs[i][0], jobs[i][1], amended_totals) for i in amended]
    report.amended = len(amended)

    async def close(store: Store, day: date, body: dict[str, Any]) -> None:
        async with gate:
            for _ in range(120):  # the service may be down: a POS retries
                try:
                    response = await client.post(
                        f"{system.totals_url}/v1/stores/{store.store_id}/days/{day}/close",
                        json=body, headers={"X-Api-Key": store.api_key})
                except httpx.HTTPError:
                    await asyncio.sleep(0.5)
                    continue
                if response.status_code < 500:
                    break
                await asyncio.sleep(0.5)
            else:
                raise RuntimeError(f"could not close {store.store_id} {day}")
        response.raise_for_status()
        revision = int(response.json()["day"]["revision"])
        key = (store.store_id, day.isoformat())
        latest[key] = max(latest.get(key, 0), revision)

    # Amendments go after their originals, so the last word is the amended totals.
    await asyncio.gather(*(close(*job) for job in jobs[: plan.days]))
    await asyncio.gather(*(close(*job) for job in jobs[plan.days:]))
    report.days_closed = plan.days


async def _kill_loop(system: System, plan: ChaosPlan, rng: random.Random, report: ChaosReport,
                     stop: asyncio.Event, infra: list[str]) -> None:
    names = [n for n in system.names() if n != "xero-sandbox"]
    kills = 0
    while not stop.is_set() and kills < plan.kills:
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        name = rng.choice(names)
        process = system.service(name)
        process.kill()
        report.kills.append(f"{time.strftime('%H:%M:%S')} SIGKILL {name}")
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        process.spawn()
        kills += 1
        # The broker a third of the way through the kills, the database two thirds.
        if infra and kills in (plan.kills // 3, 2 * plan.kills // 3):
            what = infra.pop(0)
            report.kills.append(f"{time.strftime('%H:%M:%S')} restart {what}")
            await asyncio.to_thread(_restart_infra, what)


def _restart_infra(what: str) -> None:
    if what == "rabbitmq":
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
    else:
        versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main",
                        "restart"], check=True, capture_output=True)


async def _inject_poison(amqp_url: str, namespace: str, report: ChaosReport) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(f"{namespace}.events")
        for body in POISON:
            await exchange.publish(aio_pika.Message(body, message_id=f"poison-{uuid.uuid4()}"),
                                   routing_key="store-totals-closed")
            report.poison_sent += 1


async def _settle(client: httpx.AsyncClient, system: System, stores: list[Store],
                  latest: dict[tuple[str, str], int], timeout_s: float) -> dict[str, Any]:
    """Waits until totals knows an outcome for every day at its latest revision."""
    by_id = {s.store_id: s for s in stores}
    deadline = time.monotonic() + timeout_s
    pending = dict(latest)
    outcomes: dict[tuple[str, str], Any] = {}
    while pending and time.monotonic() < deadline:
        for key in list(pending)[:200]:
            store_id, day = key
            try:
                response = await client.get(
                    f"{system.totals_url}/v1/stores/{store_id}/days/{day}",
                    headers={"X-Api-Key": by_id[store_id].api_key})
            except httpx.HTTPError:
                await asyncio.sleep(1)
                break
            body = response.json() if response.status_code == 200 else {}
            if body.get("status") in ("posted", "failed") and int(
                    body.get("revision", 0)) >= pending[key]:
                outcomes[key] = body
                del pending[key]
        if pending:
            await asyncio.sleep(1)
    return {"outcomes": outcomes, "pending": pending}


async def _check(client: httpx.AsyncClient, system: System, amqp_url: str,
                 latest: dict[tuple[str, str], int], settled: dict[str, Any],
                 report: ChaosReport) -> None:
    journals = (await client.get(f"{system.sandbox_url}/_control/journals")).json()
    live: Counter[tuple[str, str]] = Counter()
    live_revision: dict[tuple[str, str], int] = {}
    for journal in journals:
        if journal.get("Status") == "VOIDED":
            continue
        match = REFERENCE.search(journal.get("Narration", ""))
        if not match:
            continue
        store_id, day, revision = match.group(1).rsplit(":", 2)
        live[(store_id, day)] += 1
        live_revision[(store_id, day)] = int(revision)
    report.journals_live = sum(live.values())
    report.outcomes_known = len(settled["outcomes"])
    for key, revision in latest.items():
        label = f"{key[0]} {key[1]}"
        if live[key] == 0:
            report.lost.append(label)
        elif live[key] > 1:
            report.duplicates.append(f"{label} x{live[key]}")
        elif live_revision[key] != revision:
            report.wrong_revision.append(f"{label} rev {live_revision[key]} != {revision}")
        else:
            report.days_in_xero_once += 1
    topo = topology(system.namespace)
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for stats in await inspect.queue_stats(channel, topo):
            if stats.name.endswith(".dead") or ".retry." in stats.name:
                continue
            report.unacked += stats.messages
        for letter in await inspect.list_dead_letters(connection, topo, limit=10_000):
            report.dead_letters.setdefault(letter.queue, []).append(letter.reason)
    letters = sum(len(r) for r in report.dead_letters.values())
    report.unexpected_dead_letters = max(0, letters - report.poison_sent)


async def run_chaos(system: System, amqp_url: str, plan: ChaosPlan,
                    settle_timeout_s: float = 300) -> ChaosReport:
    rng = random.Random(plan.seed)
    report = ChaosReport(seed=plan.seed)
    latest: dict[tuple[str, str], int] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        stores = await provision_stores(
            client, system.sandbox_url, system.auth_url, system.totals_url,
            f"c{plan.seed}x{uuid.uuid4().hex[:4]}", plan.organisations, plan.stores_per_org)
        if plan.sandbox_faults:
            await client.put(f"{system.sandbox_url}/_control/faults", json={
                "latency_ms": {"min": 0, "max": 50}, "error_rate": 0.05,
                "lose_token_responses": 2})
        await _inject_poison(amqp_url, system.namespace, report)
        stop = asyncio.Event()
        infra = [x for x, on in (("rabbitmq", plan.restart_broker),
                                 ("postgresql", plan.restart_database)) if on]
        killer = asyncio.create_task(_kill_loop(system, plan, rng, report, stop, infra))
        try:
            await _close_all(client, system, stores, plan, rng, report, latest)
            await killer
        finally:
            stop.set()
        for name in system.names():
            if system.service(name).exited:
                system.service(name).spawn()
        await client.delete(f"{system.sandbox_url}/_control/faults")
        settled = await _settle(client, system, stores, latest, settle_timeout_s)
        await _check(client, system, amqp_url, latest, settled, report)
    return report


def print_report(report: ChaosReport) -> None:
    table = Table(title=f"chaos run, seed {report.seed}")
    table.add_column("check")
    table.add_column("value")
    for name, value in (
        ("days closed", report.days_closed), ("amended days", report.amended),
        ("kills and restarts", len(report.kills)),
        ("days in Xero exactly once, latest revision", report.days_in_xero_once),
        ("live journals in the sandbox", report.journals_live),
        ("outcomes known to totals", report.outcomes_known),
        ("duplicate journals", len(report.duplicates)), ("lost days", len(report.lost)),
        ("wrong revision live", len(report.wrong_revision)),
        ("poison messages sent", report.poison_sent),
        ("dead letters", sum(len(v) for v in report.dead_letters.values())),
        ("unexpected dead letters", report.unexpected_dead_letters),
        ("messages left in consumer queues", report.unacked),
    ):
        table.add_row(name, str(value))
    console.print(table)
    for line in report.kills:
        console.print(f"  {line}")
    for queue, reasons in report.dead_letters.items():
        for reason in reasons:
            console.print(f"  dead letter in {queue}: {reason}")
    for label in (report.duplicates + report.lost + report.wrong_revision)[:20]:
        console.print(f"  [red]{label}[/red]")


async def main(args: argparse.Namespace, log_dir: Path) -> ChaosReport:
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    console.print(f"chaos seed {seed}")
    database_url = f"{args.postgres_url.rstrip('/')}/glbridge_chaos_{uuid.uuid4().hex[:6]}"
    await ensure_database(database_url)
    from glbridge.cli import migrate_all

    await migrate_all(database_url)
    system = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(),
                    sandbox=free_port()),
        database_url=database_url, amqp_url=args.amqp_url,
        namespace=f"chaos-{uuid.uuid4().hex[:6]}", sandbox_control=True, log_dir=log_dir,
    )
    system.start()
    try:
        report = await run_chaos(system, args.amqp_url, ChaosPlan(
            days=args.days, organisations=args.organisations, kills=args.kills, seed=seed,
            restart_broker=not args.no_infra, restart_database=not args.no_infra))
    finally:
        system.stop()
        await drop_database(database_url)
        await delete_namespace(args.amqp_url, system.namespace)
    return report


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=2000)
    parser.add_argument("--organisations", type=int, default=8)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-infra", action="store_true",
                        help="do not restart RabbitMQ and PostgreSQL")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    return parser.parse_args()


def cli() -> int:
    logs = Path("artifacts/chaos-logs")
    logs.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(main(parse(), logs))
    print_report(report)
    Path("artifacts/chaos-latest.json").write_text(json.dumps(report.__dict__, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(cli())
