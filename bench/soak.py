"""Resident memory of each service under steady load for a long run (peak RSS, and
whether it stays flat over 20 minutes).

    .venv/bin/python -m bench.soak                       # 20 minutes at 100 days/s
    .venv/bin/python -m bench.soak --minutes 2 --rate 50 # a short look

Starts the system, connects the organisations, closes days at a steady rate through the
totals API, samples each process's RSS every few seconds, and prints per service: RSS
after the warm-up minute, at the end, the peak, and the slope over the run after the
warm-up (MB per 10 minutes). Writes bench/results/soak.json.
"""

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench.drive import (
    ProcessWatch,
    Run,
    close_days,
    delete_namespace,
    schedule,
    watch_outcomes,
)
from bench.provision import provision_stores
from glbridge.processes import free_port
from glbridge.system import Ports, System
from shared.db import drop_database, ensure_database

RESULTS = Path(__file__).parent / "results"
WARM_UP_S = 60.0
console = Console(width=140)


def slope_mb_per_10_min(series: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time, in MB per 10 minutes."""
    if len(series) < 2:
        return 0.0
    n = len(series)
    mean_t = sum(t for t, _ in series) / n
    mean_m = sum(m for _, m in series) / n
    var = sum((t - mean_t) ** 2 for t, _ in series)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (m - mean_m) for t, m in series)
    return cov / var * 600


async def soak(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    database_url = f"{args.postgres_url.rstrip('/')}/glbridge_soak_{uuid.uuid4().hex[:6]}"
    await ensure_database(database_url)
    namespace = f"soak-{uuid.uuid4().hex[:6]}"
    system = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(),
                    sandbox=free_port()),
        database_url=database_url, amqp_url=args.amqp_url, namespace=namespace,
        sandbox_control=True, log_dir=RESULTS / "logs",
        extra_env={"LOG_LEVEL": "WARNING", "DB_POOL_MAX": "20"},
    )
    from glbridge.cli import migrate_all

    await migrate_all(database_url)
    system.start()
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            sandbox = system.sandbox_url
            await client.put(f"{sandbox}/_control/limits", json={
                "concurrent": 1000, "per_minute": 10**9, "per_day": 10**9,
                "app_per_minute": 10**9})
            stores = await provision_stores(client, sandbox, system.auth_url,
                                            system.totals_url, "soak", args.organisations)
        days = int(args.rate * args.minutes * 60)
        run = Run()
        listener = await watch_outcomes(args.amqp_url, namespace, run)
        watch = ProcessWatch({name: p.process.pid for name, p in system.processes.items()
                              if p.process is not None}, interval_s=5.0)
        watch.start()
        started = time.perf_counter()
        await close_days(system.totals_url, list(schedule(stores, days)), run, args.rate)
        await asyncio.wait_for(run.all_done.wait(), timeout=300)
        samples = await watch.stop()
        await listener.close()
        console.print(f"{len(run.outcomes)} days in {time.perf_counter() - started:.0f}s, "
                      f"outcomes {run.statuses()}, refused {len(run.refused)}")
    finally:
        system.stop()
        await drop_database(database_url)
        await delete_namespace(args.amqp_url, namespace)
    figures = {}
    for name, sample in samples.items():
        if not sample.rss_series:
            continue  # PostgreSQL and RabbitMQ: their CPU is watched, not their memory
        after_warm_up = [(t, m) for t, m in sample.rss_series if t >= WARM_UP_S]
        figures[name] = {
            "rss_after_warm_up_mb": round(after_warm_up[0][1], 1) if after_warm_up else 0.0,
            "rss_at_end_mb": round(sample.rss_series[-1][1], 1),
            "peak_rss_mb": round(sample.peak_rss_mb, 1),
            "slope_mb_per_10_min": round(slope_mb_per_10_min(after_warm_up), 2),
            # Every 30 s: (seconds into the run, MB), to see the shape, not just the slope.
            "rss_series": [(round(t), round(m, 1)) for t, m in sample.rss_series[::6]],
        }
    return figures


def report(figures: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    table = Table(title=f"soak: {args.minutes} min at {args.rate} days/s, "
                        f"{args.organisations} organisations")
    for column in ("process", "RSS after 1 min", "RSS at end", "peak RSS", "slope MB/10 min"):
        table.add_column(column)
    for name, f in figures.items():
        table.add_row(name, str(f["rss_after_warm_up_mb"]), str(f["rss_at_end_mb"]),
                      str(f["peak_rss_mb"]), str(f["slope_mb_per_10_min"]))
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps({
        "conditions": {"minutes": args.minutes, "days_per_s": args.rate,
                       "organisations": args.organisations,
                       "note": "the sandbox keeps every journal it is sent: its growth is "
                               "Xero's storage, not the services'"},
        "processes": figures}, indent=2))
    console.print(f"wrote {RESULTS / 'soak.json'}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0, help="days closed per second")
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    report(asyncio.run(soak(arguments)), arguments)
