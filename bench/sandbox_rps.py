"""Requests per second the Xero sandbox serves: starts it as its own process, raises its
limits through the control API, then drives PUT /ManualJournals and GET /Accounts from
concurrent httpx clients for a few seconds.

Two figures: the rate the clients achieved, and the sandbox's capacity on one core
(requests divided by the CPU seconds the sandbox process used). On a small machine the
httpx clients, not the sandbox, set the first; the second is what the sandbox could serve.

    .venv/bin/python -m bench.sandbox_rps [--seconds 5] [--concurrency 4] [--clients 2]
        [--driver httpx|raw]

`--driver raw` replaces httpx with a bare keep-alive HTTP/1.1 loop over asyncio streams,
several times cheaper per request, to show what the sandbox answers when the client is
not the limit.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

from glbridge.processes import ServiceProcess, free_port

API = "/api.xro/2.0"


def _journal(n: int) -> dict[str, Any]:
    return {
        "ManualJournals": [
            {
                "Narration": f"bench {n}",
                "Date": "2026-11-20",
                "Status": "POSTED",
                "JournalLines": [
                    {"LineAmount": "125.40", "AccountCode": "1210", "Description": "Cash"},
                    {"LineAmount": "30.00", "AccountCode": "1230", "Description": "Visa"},
                    {"LineAmount": "-140.00", "AccountCode": "4000", "Description": "Rental"},
                    {"LineAmount": "-15.40", "AccountCode": "2200", "Description": "Rental tax"},
                ],
            }
        ]
    }


async def _drive(
    url: str, headers: dict[str, str], seconds: float, concurrency: int
) -> dict[str, int]:
    counts = {"put": 0, "get": 0, "errors": 0}
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:

        async def worker(index: int) -> None:
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                if (index + n) % 2:
                    answer = await client.put(f"{API}/ManualJournals", json=_journal(n))
                    kind = "put"
                else:
                    answer = await client.get(f"{API}/Accounts")
                    kind = "get"
                counts[kind if answer.status_code == 200 else "errors"] += 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return counts


async def _drive_raw(
    url: str, headers: dict[str, str], seconds: float, concurrency: int
) -> dict[str, int]:
    counts = {"put": 0, "get": 0, "errors": 0}
    deadline = time.perf_counter() + seconds
    host, port = url.removeprefix("http://").split(":")
    fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def worker(index: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            kind = "put" if (index + n) % 2 else "get"
            if kind == "put":
                body = json.dumps(_journal(n)).encode()
                head = (
                    f"PUT {API}/ManualJournals HTTP/1.1\r\nHost: {host}\r\n{fixed}"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
            else:
                writer.write(f"GET {API}/Accounts HTTP/1.1\r\nHost: {host}\r\n{fixed}\r\n".encode())
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            length = int(status_and_headers.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            counts[kind if status_and_headers[9:12] == b"200" else "errors"] += 1
        writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return counts


def _client_process(
    url: str, headers: dict[str, str], seconds: float, concurrency: int, driver: str
) -> dict[str, int]:
    drive = _drive_raw if driver == "raw" else _drive
    return uvloop.run(drive(url, headers, seconds, concurrency))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _prepare(url: str) -> dict[str, str]:
    with httpx.Client(base_url=url) as control:
        control.put(
            "/_control/limits",
            json={
                "concurrent": 100000,
                "per_minute": 10**9,
                "per_day": 10**9,
                "app_per_minute": 10**9,
            },
        ).raise_for_status()
        tokens = control.post("/_control/grants", json={"email": "demo@example.com"}).json()
    return {
        "Authorization": f"Bearer {tokens['access_token']}",
        "xero-tenant-id": tokens["tenant_ids"][0],
        "Accept": "application/json",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4, help="per client process")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--driver", choices=("httpx", "raw"), default="httpx")
    args = parser.parse_args()
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    with ServiceProcess(
        "services.xero_sandbox",
        port,
        {"SANDBOX_PORT": str(port), "SANDBOX_CONTROL_ENABLED": "true", "LOG_LEVEL": "WARNING"},
        log_dir,
    ).running("/healthz") as sandbox:
        headers = _prepare(sandbox.url)
        assert sandbox.process is not None
        cpu_before = _cpu_seconds(sandbox.process.pid)
        started = time.perf_counter()
        with multiprocessing.Pool(args.clients) as pool:
            results = pool.starmap(
                _client_process,
                [(sandbox.url, headers, args.seconds, args.concurrency, args.driver)]
                * args.clients,
            )
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(sandbox.process.pid) - cpu_before
        stats = httpx.get(f"{sandbox.url}/_control/stats").json()
    total = {k: sum(r[k] for r in results) for k in ("put", "get", "errors")}
    done = total["put"] + total["get"]
    print(
        f"sandbox: {done / elapsed:,.0f} requests/s achieved over {elapsed:.1f} s; "
        f"capacity {done / cpu:,.0f} requests per sandbox CPU-second ({cpu:.2f} s CPU) "
        f"({total['put']} PUT /ManualJournals, {total['get']} GET /Accounts, "
        f"{total['errors']} non-200; {args.clients} {args.driver} client process(es) x "
        f"{args.concurrency} concurrent); sandbox counted {stats['api_requests']} API calls"
    )


if __name__ == "__main__":
    main()
