"""Drives business days through the totals API like a chain of stores closing, and
watches the outcomes on the broker, timing each day from close accepted to outcome."""

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import aio_pika
import aiohttp
import psutil

from bench.provision import Store
from shared.contracts import examples
from shared.messaging.topology import delete as delete_topology
from shared.messaging.topology import topology

FIRST_DAY = date(2025, 1, 1)
DayKey = tuple[str, str]


@dataclass
class Run:
    started: float = 0.0
    accepted: dict[DayKey, float] = field(default_factory=dict)
    outcomes: dict[DayKey, tuple[float, str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def record_outcome(self, key: DayKey, status: str) -> None:
        if key not in self.outcomes:
            self.outcomes[key] = (time.perf_counter(), status)
            if len(self.outcomes) >= self.expected:
                self.all_done.set()

    def latencies_ms(self, after_first_day: bool = False) -> list[float]:
        first = FIRST_DAY.isoformat()
        return [
            (done - self.accepted[key]) * 1000
            for key, (done, _) in self.outcomes.items()
            if key in self.accepted and not (after_first_day and key[1] == first)
        ]

    def latency_over_run(self) -> list[tuple[float, float]]:
        """(seconds into the run when the close was accepted, close-to-outcome ms)."""
        return sorted(
            (self.accepted[key] - self.started, (done - self.accepted[key]) * 1000)
            for key, (done, _) in self.outcomes.items() if key in self.accepted
        )

    def elapsed_s(self) -> float:
        last = max((done for done, _ in self.outcomes.values()), default=self.started)
        return last - self.started

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, status in self.outcomes.values():
            counts[status] = counts.get(status, 0) + 1
        return counts


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1]


def schedule(stores: list[Store], days: int, first_day: date = FIRST_DAY
             ) -> Iterator[tuple[Store, date]]:
    """Day k goes to store k mod M: every store closes day 1, then day 2, and so on."""
    for k in range(days):
        yield stores[k % len(stores)], first_day + timedelta(days=k // len(stores))


async def delete_namespace(amqp_url: str, namespace: str) -> None:
    """Deletes a run's queues and exchanges: quorum queues left behind by earlier runs
    (each a Raft member with its own log) slow RabbitMQ down for every later run."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await delete_topology(await connection.channel(), topology(namespace))


async def watch_outcomes(
    amqp_url: str, namespace: str, run: Run
) -> aio_pika.abc.AbstractConnection:
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=500)
    exchange = await channel.get_exchange(f"{namespace}.events")
    queue = await channel.declare_queue(
        f"bench.outcomes.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True
    )
    for key in ("gl-posting-succeeded", "gl-posting-failed"):
        await queue.bind(exchange, routing_key=key)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        # The day and the outcome are in the message's properties (correlation id
        # "store:date", type): the watcher shares the machine with the system, so it
        # neither parses bodies nor acks (its queue is its own and auto-acked).
        store_id, _, business_date = (message.correlation_id or "").rpartition(":")
        status = "posted" if message.type == "gl-posting-succeeded" else "failed"
        run.record_outcome((store_id, business_date), status)

    await queue.consume(on_message, no_ack=True)
    return connection


async def close_days(
    totals_url: str | list[str],
    plan: list[tuple[Store, date]],
    run: Run,
    offered_per_s: float | None,
    concurrency: int = 64,
) -> None:
    """Closes every planned day, as fast as possible or at an offered rate.

    The POS side uses aiohttp: httpx costs about 3 ms of client CPU per request, which on
    2 cores would be taken from the system under test. Several totals URLs (replicas)
    take the closes in turn."""
    totals_urls = [totals_url] if isinstance(totals_url, str) else totals_url
    gate = asyncio.Semaphore(concurrency)
    # Serialised once: every close sends the same totals.
    totals = json.dumps(examples.example_day_totals()).encode()
    run.expected = len(plan)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        run.started = time.perf_counter()

        async def close(index: int, store: Store, day: date) -> None:
            base = totals_urls[index % len(totals_urls)]
            url = f"{base}/v1/stores/{store.store_id}/days/{day.isoformat()}/close"
            async with gate:
                status, text = await _post_idempotent(
                    session, url, totals,
                    {"X-Api-Key": store.api_key, "Content-Type": "application/json"})
            if status >= 400:
                run.refused.append(f"{status} {text[:200]}")
                run.expected -= 1
                return
            run.accepted[(store.store_id, day.isoformat())] = time.perf_counter()

        tasks = []
        for index, (store, day) in enumerate(plan):
            if offered_per_s:
                delay = run.started + index / offered_per_s - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(close(index, store, day)))
        await asyncio.gather(*tasks)


async def _post_idempotent(session: aiohttp.ClientSession, url: str, body: bytes,
                           headers: dict[str, str]) -> tuple[int, str]:
    """A close is idempotent, so a POS may simply send it again after a network error (a
    keep-alive connection the server closed as it was reused)."""
    for attempt in range(3):
        try:
            async with session.post(url, data=body, headers=headers) as response:
                return response.status, await response.text()
        except aiohttp.ClientConnectionError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def system_cpu_ms_per_day(cpu_s: Mapping[str, float], days: int,
                          not_the_system: Collection[str]) -> float:
    """CPU ms a day of the processes measured, less those that are not the system under
    test (the sandbox standing in for Xero, the bench's own POS); 0 with no day."""
    spent = sum(cpu for name, cpu in cpu_s.items() if name not in not_the_system)
    return spent / days * 1000 if days else 0.0


@dataclass
class ProcessSample:
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    rss_series: list[tuple[float, float]] = field(default_factory=list)


class ProcessWatch:
    """Samples CPU time and resident memory of the system's processes."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.5) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval_s = interval_s
        self.samples = {name: ProcessSample() for name in pids}
        self._cpu_start = {name: self._cpu(p) for name, p in self.processes.items()}
        self._infra_start = {name: _cpu_by_name(name) for name in INFRA_PROCESSES}
        self._task: asyncio.Task[None] | None = None
        self._t0 = time.perf_counter()

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample_forever())

    async def _sample_forever(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.interval_s)

    def _sample(self) -> None:
        now = time.perf_counter() - self._t0
        for name, process in self.processes.items():
            try:
                rss = process.memory_info().rss / 2**20
            except psutil.Error:
                continue
            sample = self.samples[name]
            sample.peak_rss_mb = max(sample.peak_rss_mb, rss)
            sample.rss_series.append((now, rss))

    async def stop(self) -> dict[str, ProcessSample]:
        if self._task is not None:
            self._task.cancel()
        self._sample()
        for name, process in self.processes.items():
            try:
                self.samples[name].cpu_s = self._cpu(process) - self._cpu_start[name]
            except psutil.Error:
                pass
        for name, cpu_start in self._infra_start.items():
            self.samples[name] = ProcessSample(cpu_s=_cpu_by_name(name) - cpu_start)
        return self.samples


# The broker and the database share the two cores with the services: their CPU over a run
# is shown beside them (processes that exit during the run are not counted).
INFRA_PROCESSES = ("postgres", "beam.smp")


def _cpu_by_name(name: str) -> float:
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] == name and process.info["cpu_times"] is not None:
            times = process.info["cpu_times"]
            total += times.user + times.system
    return total
