"""The posting service alone, driven on the broker: sandbox + auth + N posting processes.

    .venv/bin/python -m bench.posting_drain one-org      # 1,000 days, one organisation,
                                                          # Xero's real limits
    .venv/bin/python -m bench.posting_drain faults       # 500 days, 20 organisations,
                                                          # 20% 500/503/timeouts + latency
    .venv/bin/python -m bench.posting_drain many-orgs    # 5,000 days over 500 organisations
    options: --days N --orgs N --posting N (processes) --latency-ms N
             --rate R (offer R days/s) --warm (one earlier day per store first)
             --spread (each store's days spread over the run: one-journal batches)

Publishes `store-totals-closed` events itself (as totals would) and reads the outcomes
from the results queue; prints the figures: days/s, drain time, Xero calls, 429s,
and checks that every day is in the sandbox exactly once.
"""

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench.drive import delete_namespace
from glbridge.connect import connect_store
from glbridge.processes import ServiceProcess, free_port
from glbridge.system import Credentials
from shared.contracts.events import (
    GlPostingFailed,
    GlPostingSucceeded,
    Journal,
    JournalLine,
    StoreTotalsClosed,
    Trigger,
    money,
)
from shared.contracts.registry import EventRegistry
from shared.db import drop_database, ensure_database
from shared.messaging.broker import Broker
from shared.messaging.topology import TOTALS_RESULTS_QUEUE, topology

CREDENTIALS = Credentials.named("bench")
LINES = (("Cash", "1210", "250.00"), ("Visa", "1230", "120.50"),
         ("Rental", "4000", "-330.50"), ("Sales tax", "2210", "-40.00"))
SCENARIOS = {
    "one-org": {"days": 1000, "orgs": 1, "latency_ms": 0, "faults": False},
    "faults": {"days": 500, "orgs": 20, "latency_ms": 50, "faults": True},
    "many-orgs": {"days": 5000, "orgs": 500, "latency_ms": 0, "faults": False},
}


def event(store_id: str, connection_id: UUID, tenant_id: UUID, day: date) -> StoreTotalsClosed:
    reference = f"glb:{store_id}:{day.isoformat()}:1"
    return StoreTotalsClosed(
        correlation_id=f"{store_id}:{day.isoformat()}", store_id=store_id, business_date=day,
        revision=1, trigger=Trigger.END_OF_DAY, connection_id=connection_id,
        tenant_id=tenant_id,
        journal=Journal(
            narration=f"Store {store_id} totals for {day.isoformat()} [{reference}]",
            reference=reference, date=day,
            lines=[JournalLine(category=c, account_code=a, amount=money(v))
                   for c, a, v in LINES],
        ),
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    spec = {**SCENARIOS[args.scenario]}
    for key in ("days", "orgs", "latency_ms", "rate", "warm", "spread"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    amqp = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    base = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
    run_id = uuid.uuid4().hex[:8]
    database = f"{base}/glbridge_bench_{run_id}"
    namespace = f"bench-{run_id}"
    logs = Path(tempfile.mkdtemp(prefix="posting-bench-"))
    await ensure_database(database)
    sandbox_port, auth_port = free_port(), free_port()
    sandbox_url, auth_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{auth_port}"
    env = {
        "DATABASE_URL": database, "AMQP_URL": amqp, "AMQP_NAMESPACE": namespace,
        **CREDENTIALS.env(), "AUTH_URL": auth_url, "AUTH_PUBLIC_URL": auth_url,
        "AUTH_PORT": str(auth_port), "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_CONTROL_ENABLED": "true", "LOG_LEVEL": "WARNING",
        "SANDBOX_REDIRECT_URIS": f"{auth_url}/v1/connect/callback",
        "SANDBOX_FAULT_TIMEOUT_S": "3", "XERO_TIMEOUT_S": "2",
        "POSTING_IN_FLIGHT_GRACE_S": "4", "POSTING_BACKOFF_BASE_S": "0.5",
        "POSTING_BACKOFF_CAP_S": "5", "POSTING_MAX_ATTEMPTS": "30",
        "XERO_AUTHORIZE_URL": f"{sandbox_url}/identity/connect/authorize",
        "XERO_TOKEN_URL": f"{sandbox_url}/connect/token",
        "XERO_REVOCATION_URL": f"{sandbox_url}/connect/revocation",
        "XERO_CONNECTIONS_URL": f"{sandbox_url}/connections",
        "XERO_API_URL": f"{sandbox_url}/api.xro/2.0",
    }
    processes = [ServiceProcess("services.xero_sandbox", sandbox_port, env, logs).start()]
    processes.append(ServiceProcess("services.auth", auth_port, env, logs).start("/readyz"))
    for _ in range(args.posting):
        port = free_port()
        processes.append(ServiceProcess("services.posting", port,
                                        {**env, "POSTING_PORT": str(port)}, logs).start("/readyz"))
    broker = Broker(amqp, topology(namespace))
    await broker.connect()
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            figures = await _drive(client, broker, sandbox_url, auth_url, spec, run_id)
            figures["posting_metrics"] = [
                line for p in processes if p.module == "services.posting"
                for line in (await client.get(f"{p.url}/metrics")).text.splitlines()
                if line.startswith("glbridge_posting_") and ("_sum" in line or "_count" in line)
            ]
        try:
            figures["database"] = await _timeline(database)
        except Exception as exc:  # e.g. another run holds every PostgreSQL connection
            figures["database"] = {"error": repr(exc)}
        figures["cpu_s"] = {f"{p.module.rsplit('.', 1)[-1]}-{p.port}": _cpu_s(p)
                            for p in processes}
        figures["peak_rss_mb"] = {f"{p.module.rsplit('.', 1)[-1]}-{p.port}": _peak_rss_mb(p)
                                  for p in processes}
        return figures
    finally:
        await broker.close()
        for process in reversed(processes):
            process.stop()
        await drop_database(database)
        await delete_namespace(amqp, namespace)
        print(f"logs: {logs}")


async def _drive(client: httpx.AsyncClient, broker: Broker, sandbox: str, auth: str,
                 spec: dict[str, Any], run_id: str) -> dict[str, Any]:
    stores = await _stores(client, sandbox, auth, spec["orgs"], run_id)
    days_per_store = spec["days"] // len(stores)
    # --spread: each store's days spread over the run (as the whole-system bench closes
    # them), so with --rate an organisation's batches are mostly one journal.
    events = [event(s, c, t, date(2026, 11, 24) - timedelta(days=i))
              for i in range(days_per_store) for s, c, t in stores] if spec.get("spread") \
        else [event(s, c, t, date(2026, 11, 24) - timedelta(days=i))
              for s, c, t in stores for i in range(days_per_store)]
    faults: dict[str, Any] = {}
    if spec["latency_ms"]:
        low = 0 if spec["faults"] else spec["latency_ms"]  # a fixed latency unless faulty
        faults["latency_ms"] = {"min": low, "max": spec["latency_ms"]}
    if spec["faults"]:
        faults |= {"error_rate": 0.14, "timeout_rate": 0.03, "drop_rate": 0.03}
    if faults:
        (await client.put(f"{sandbox}/_control/faults", json=faults)).raise_for_status()
    if spec.get("warm"):
        # One earlier day per store first: tokens and charts are cached, as on day two.
        warm = [event(st, c, t, date(2020, 1, 1)) for st, c, t in stores]
        collector = await _Collector.start(broker, len(warm))
        await asyncio.gather(*(broker.publish(e) for e in warm))
        await collector.wait(120.0)
        await collector.stop()
    collector = await _Collector.start(broker, len(events))
    started = time.monotonic()
    sent: dict[tuple[str, str], float] = {}
    gate = asyncio.Semaphore(200)

    async def publish(e: StoreTotalsClosed) -> None:
        async with gate:
            sent[(e.store_id, e.business_date.isoformat())] = time.monotonic()
            await broker.publish(e)

    if spec.get("rate"):
        tasks = []
        for index, e in enumerate(events):
            delay = started + index / spec["rate"] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(publish(e)))
        await asyncio.gather(*tasks)
    else:
        await asyncio.gather(*(publish(e) for e in events))
    published = time.monotonic() - started
    await collector.wait(max(300.0, len(events) / 5))
    await collector.stop()
    outcomes = collector.seen
    latencies = sorted(collector.at[k] - sent[k] for k in collector.at if k in sent)
    elapsed = time.monotonic() - started
    await client.delete(f"{sandbox}/_control/faults")
    stats = (await client.get(f"{sandbox}/_control/stats")).json()
    copies: Counter[str] = Counter()
    for _, _, tenant in stores:
        journals = (await client.get(f"{sandbox}/_control/journals",
                                     params={"tenant_id": str(tenant)})).json()
        copies.update(j["Narration"] for j in journals if j["Status"] == "POSTED")
    kinds = Counter(type(o).__name__ for o in outcomes.values())
    return {
        "scenario": spec, "days": len(events), "outcomes": dict(kinds),
        "missing": len(events) - len(outcomes),
        "publish_s": round(published, 2), "elapsed_s": round(elapsed, 2),
        "days_per_s": round(len(outcomes) / elapsed, 1),
        "latency_ms": {q: round(1000 * latencies[min(int(len(latencies) * f), len(latencies) - 1)])
                       for q, f in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}
        if latencies else {},
        "xero_api_requests": stats["api_requests"],
        "rate_limited_429": sum(stats["rate_limited"].values()),
        "max_concurrent": max(stats["max_concurrent"].values(), default=0),
        "journals_in_xero": sum(copies.values()),
        "days_posted_twice": sum(1 for n in copies.values() if n > 1),
    }


async def _stores(client: httpx.AsyncClient, sandbox: str, auth: str, orgs: int,
                  run_id: str) -> list[tuple[str, UUID, UUID]]:
    gate = asyncio.Semaphore(16)

    async def one(index: int) -> tuple[str, UUID, UUID]:
        for attempt in range(3):  # a keep-alive connection the server just closed
            try:
                return await connect(index)
            except httpx.TransportError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def connect(index: int) -> tuple[str, UUID, UUID]:
        async with gate:
            email = f"bench-{run_id}-{index}@example.com"
            org = (await client.post(f"{sandbox}/_control/organisations", json={
                "name": f"Bench {index}", "template": "us-rental"})).json()
            (await client.post(f"{sandbox}/_control/users", json={
                "email": email, "password": "pw", "tenant_ids": [org["tenant_id"]]})
             ).raise_for_status()
            store_id = f"{run_id}-{index}"
            async with httpx.AsyncClient(timeout=60) as browser:  # its own cookies
                key = await connect_store(browser, auth, store_id, email, "pw")
            verified = (await client.post(
                f"{auth}/internal/v1/keys/verify", json={"api_key": key},
                headers=CREDENTIALS.bearer("totals"))).json()
            return store_id, UUID(verified["connection_id"]), UUID(verified["tenant_id"])

    return list(await asyncio.gather(*(one(i) for i in range(orgs))))


class _Collector:
    """Outcome events from the results queue, with the time each arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen: dict[tuple[str, str], Any] = {}
        self.at: dict[tuple[str, str], float] = {}
        self.done = asyncio.Event()
        self.registry = EventRegistry()
        self.channel: Any = None

    @classmethod
    async def start(cls, broker: Broker, expected: int) -> "_Collector":
        collector = cls(expected)
        collector.channel = await broker.connection.channel()
        await collector.channel.set_qos(prefetch_count=500)
        queue = await collector.channel.get_queue(
            broker.topology.queue_name(TOTALS_RESULTS_QUEUE))
        await queue.consume(collector.on_message)
        return collector

    async def on_message(self, message: Any) -> None:
        parsed = self.registry.parse(message.body)
        if isinstance(parsed, GlPostingSucceeded | GlPostingFailed):
            key = (parsed.store_id, parsed.business_date.isoformat())
            self.seen[key] = parsed
            self.at.setdefault(key, time.monotonic())
        await message.ack()
        if len(self.seen) >= self.expected:
            self.done.set()

    async def wait(self, wait_s: float) -> None:
        try:
            await asyncio.wait_for(self.done.wait(), wait_s)
        except TimeoutError:
            pass

    async def stop(self) -> None:
        await self.channel.close()


async def _timeline(database: str) -> dict[str, Any]:
    """When the postings were recorded and settled, from the service's own rows."""
    import asyncpg

    conn = await asyncpg.connect(database)
    try:
        row = await conn.fetchrow(
            "SELECT extract(epoch FROM max(created_at) - min(created_at)) AS recorded_s,"
            " extract(epoch FROM max(updated_at) - min(created_at)) AS settled_s,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at"
            " - created_at)) AS p50_s, percentile_cont(0.99) WITHIN GROUP (ORDER BY"
            " extract(epoch FROM updated_at - created_at)) AS p99_s,"
            " count(*) FILTER (WHERE attempts > 1) AS retried FROM posting.postings"
        )
        figures = {k: round(float(v), 2) for k, v in dict(row).items()}
        # How long outcomes waited in the outbox before the relay published them.
        outbox = await conn.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM"
            " published_at - created_at)) AS outbox_p50_s, percentile_cont(0.99) WITHIN GROUP"
            " (ORDER BY extract(epoch FROM published_at - created_at)) AS outbox_p99_s"
            " FROM posting.outbox"
        )
        return figures | {k: round(float(v or 0), 2) for k, v in dict(outbox).items()}
    finally:
        await conn.close()


def _cpu_s(process: ServiceProcess) -> float:
    """User + system CPU seconds the process has used so far (Linux /proc)."""
    if process.process is None:
        return 0.0
    fields = Path(f"/proc/{process.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


def _peak_rss_mb(process: ServiceProcess) -> float:
    if process.process is None:
        return 0.0
    for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--days", type=int)
    parser.add_argument("--orgs", type=int)
    parser.add_argument("--latency-ms", type=int)
    parser.add_argument("--posting", type=int, default=1)
    parser.add_argument("--rate", type=float, help="days offered per second (paced)")
    parser.add_argument("--spread", action="store_true", default=None,
                        help="each store's days spread over the run (one-journal batches)")
    parser.add_argument("--warm", action="store_true", default=None,
                        help="post one earlier day per store first (tokens, charts cached)")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
