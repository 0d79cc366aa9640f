"""Wakes waiting POS requests when a day changes, in every replica.

One LISTEN connection per process receives the NOTIFY each day-changing transaction
sends at commit. Waiters (long-polls) and streams (SSE) register here in memory; a
notification costs at most one read of the day, however many wait on it: no polling
of the database per waiter.

A day's change is notified only when its store is in `watched_stores` (a NOTIFY makes
PostgreSQL serialise the commits that send one, and most closes have no waiter), so a
waiter records its store there (`watching`) before it reads the day. A write whose
statement began before that record was committed does not see it: a waiter that made
the record reads the day once more `RACE_RECHECK_S` later, by when such a write is done.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from datetime import date

import asyncpg

from services.totals.adapters.repository import DAYS_CHANNEL, SETUPS_CHANNEL

log = logging.getLogger(__name__)

DayKey = tuple[str, date]

# How long a store stays watched once recorded. A waiter records it again on each pass,
# and passes at least every half of this, so a record never lapses under a wait or a
# stream, however long they run or however often a change wakes them.
WATCH_S = 300.0
RACE_RECHECK_S = 1.0

WATCH_STORE = """
INSERT INTO watched_stores (store_id, until) VALUES ($1, now() + make_interval(secs => $2))
ON CONFLICT (store_id) DO UPDATE SET until = GREATEST(watched_stores.until, EXCLUDED.until)
"""


class DayNotifier:
    def __init__(self, dsn: str, schema: str,
                 on_setup_changed: Callable[[str], None] | None = None,
                 on_connected: Callable[[], None] | None = None,
                 reconnect_s: float = 1.0, watch_s: float = WATCH_S) -> None:
        self.dsn = dsn
        self.watch_s = watch_s
        self.schema = schema
        self.on_setup_changed = on_setup_changed
        self.on_connected = on_connected
        self.reconnect_s = reconnect_s
        self._day_waiters: dict[DayKey, set[asyncio.Event]] = defaultdict(set)
        self._store_streams: dict[str, set[asyncio.Queue[date]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._conn_lock = asyncio.Lock()
        # Until when (monotonic) this process knows each store is recorded as watched.
        self._watched_until: dict[str, float] = {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="day-notifier")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn,
                                             server_settings={"search_path": self.schema})
                self._conn = conn
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(DAYS_CHANNEL, self._on_day)
                await conn.add_listener(SETUPS_CHANNEL, self._on_setup)
                self.connected.set()
                # Anything missed while disconnected: let every waiter re-read once.
                self._wake_all()
                if self.on_connected is not None:
                    self.on_connected()
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("day notifier reconnecting: %s", exc)
            finally:
                self.connected.clear()
                self._conn = None
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(self.reconnect_s)

    async def watching(self, store_id: str) -> bool:
        """Records that someone here waits on the store's days, so their changes are
        notified; whether this call wrote the record (then a write that began before it
        may have sent no notification: read the day again after `RACE_RECHECK_S`)."""
        if self._watched_until.get(store_id, 0.0) - time.monotonic() > self.watch_s / 2:
            return False
        async with self._conn_lock:
            conn = self._conn
            if conn is None:  # no notification arrives now anyway: read again soon
                return True
            try:
                await conn.execute(WATCH_STORE, store_id, self.watch_s)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("could not record store %s as watched: %s", store_id, exc)
                return True
        self._watched_until[store_id] = time.monotonic() + self.watch_s
        return True

    def _on_day(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            store_id, day = json.loads(payload)
            key = (str(store_id), date.fromisoformat(day))
        except (ValueError, TypeError):
            return
        self.day_changed(key)

    def _on_setup(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if self.on_setup_changed is not None:
            self.on_setup_changed(payload)

    def day_changed(self, key: DayKey) -> None:
        for event in self._day_waiters.get(key, ()):
            event.set()
        for queue in self._store_streams.get(key[0], ()):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled stream loses no state:
                queue.put_nowait(key[1])  # it reads the day's current status anyway

    def _wake_all(self) -> None:
        for events in self._day_waiters.values():
            for event in events:
                event.set()

    @contextlib.contextmanager
    def watch_day(self, key: DayKey) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._day_waiters[key].add(event)
        try:
            yield event
        finally:
            waiters = self._day_waiters.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._day_waiters[key]

    @contextlib.contextmanager
    def watch_store(self, store_id: str) -> Iterator["asyncio.Queue[date]"]:
        queue: asyncio.Queue[date] = asyncio.Queue(maxsize=10_000)
        self._store_streams[store_id].add(queue)
        try:
            yield queue
        finally:
            streams = self._store_streams.get(store_id)
            if streams is not None:
                streams.discard(queue)
                if not streams:
                    del self._store_streams[store_id]


async def wait_until(
    notifier: DayNotifier, key: DayKey, read: Callable[[], Awaitable[object]],
    settled: Callable[[object], bool], timeout_s: float,
) -> object:
    """Reads, and while not settled waits for a change of the day, up to the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    with notifier.watch_day(key) as changed:
        while True:
            unsure = await notifier.watching(key[0])
            value = await read()
            remaining = deadline - loop.time()
            if settled(value) or remaining <= 0:
                return value
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(
                    remaining, RACE_RECHECK_S if unsure else notifier.watch_s / 2))
            changed.clear()
