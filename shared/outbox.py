"""Transactional outbox: an event is committed with the change that caused it, then
published with confirms by the process that committed it, at once.

The writer hands its committed rows to this process's relay (`HandOff`), which publishes
them without reading them back and marks them published in groups. What no hand-off
covers (the writer died between COMMIT and publishing, the broker refused, the hand-off
was full) is left unpublished in the table, and every relay sweeps rows that stayed
unpublished longer than `orphan_after_s`: nothing committed is lost, and in the common
case an event costs no read of the outbox and one shared UPDATE.

The service's migrations create the table (see `OUTBOX_TABLE_SQL` for its shape).
Several relays may sweep: `FOR UPDATE SKIP LOCKED` hands each row to one of them. An
event may be published twice (confirmed, then the process died before marking it; or a
hand-off slower than `orphan_after_s`): consumers treat events idempotently by their ids
and business keys.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from shared.contracts.events import Event
from shared.messaging.broker import Broker, PublishFailed
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_LAG_SECONDS

log = logging.getLogger(__name__)

OUTBOX_TABLE_SQL = """
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    correlation_id text NOT NULL,
    body text COMPRESSION lz4 NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""

INSERT_ROWS = """
INSERT INTO outbox (event_id, event_type, correlation_id, body)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
"""

# The oldest rows left unpublished for a while that no other relay holds, marked
# published by this one.
CLAIM_ORPHANS = """
UPDATE outbox SET published_at = now()
WHERE id = ANY(ARRAY(
    SELECT id FROM outbox
    WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $2)
    ORDER BY id LIMIT $1
    FOR UPDATE SKIP LOCKED))
RETURNING event_id, event_type, correlation_id, body
"""

# Each row with the time the broker confirmed it. Both this and the sweep read only the
# unpublished rows (the partial index), a handful, whatever the table's size.
MARK_PUBLISHED = """
UPDATE outbox SET published_at = u.confirmed_at
FROM unnest($1::uuid[], $2::timestamptz[]) AS u(event_id, confirmed_at)
WHERE outbox.event_id = u.event_id AND outbox.published_at IS NULL
"""

# Published events are kept a while (for the ops view and an audit), not for ever.
PRUNE_PUBLISHED = """
DELETE FROM outbox WHERE id = ANY(ARRAY(
    SELECT id FROM outbox WHERE published_at < now() - make_interval(secs => $1) LIMIT $2))
"""


class OutboxRow(NamedTuple):
    event_id: UUID
    event_type: str
    correlation_id: str
    body: str


def outbox_row(event: Event) -> OutboxRow:
    """The event as the outbox stores it: serialised once, for the table and the broker."""
    return OutboxRow(event.event_id, event.event_type,  # type: ignore[attr-defined]
                     event.correlation_id, event.model_dump_json())


def outbox_columns(rows: Sequence[OutboxRow]) -> list[list[Any]]:
    """The rows as the four arrays `INSERT_ROWS` takes (empty arrays for no rows)."""
    return [list(column) for column in zip(*rows, strict=True)] or [[], [], [], []]


async def enqueue(conn: asyncpg.Connection, *events: Event) -> list[OutboxRow]:
    """Adds events to the outbox inside the caller's transaction, in one statement; hand
    the returned rows to `HandOff` after COMMIT (or leave them to the sweep)."""
    rows = [outbox_row(event) for event in events]
    if rows:
        await conn.execute(INSERT_ROWS, *outbox_columns(rows))
    return rows


class HandOff:
    """Rows this process committed, waiting for its relay. Call it only after COMMIT: a
    row handed before might be published for a change that was rolled back.

    Bounded, and `take` skips rows that waited too long: while the broker is away, the
    table holds the backlog and the sweep publishes it (rows the sweep may already have
    taken are not published a second time from memory). `HandOff(limit=0)` holds nothing:
    a writer with no relay of its own leaves every row to the sweep."""

    # A thousand events (~4 MB of bodies) are seconds of the busiest rush; past that the
    # table holds them, not the process's memory.
    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._rows: deque[tuple[float, OutboxRow]] = deque()
        self._ready = asyncio.Event()

    def __call__(self, rows: Iterable[OutboxRow]) -> None:
        now = time.monotonic()
        for row in rows:
            if len(self._rows) >= self.limit:
                return  # the rest stay in the table for the sweep
            self._rows.append((now, row))
            self._ready.set()

    async def take(self, most: int, fresh_within_s: float) -> list[OutboxRow]:
        """Waits for rows, then returns up to `most` handed within `fresh_within_s`."""
        while True:
            await self._ready.wait()
            fresh_since = time.monotonic() - fresh_within_s
            taken: list[OutboxRow] = []
            while self._rows and len(taken) < most:
                handed_at, row = self._rows.popleft()
                if handed_at >= fresh_since:
                    taken.append(row)
            if not self._rows:
                self._ready.clear()
            if taken:
                return taken


async def oldest_unpublished(pool: asyncpg.Pool) -> datetime | None:
    value: datetime | None = await pool.fetchval(
        "SELECT min(created_at) FROM outbox WHERE published_at IS NULL"
    )
    return value


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        broker: Broker,
        schema: str,
        handed: HandOff | None = None,
        batch_size: int = 200,
        sweep_every_s: float = 1.0,
        orphan_after_s: float = 3.0,
        mark_linger_s: float = 0.02,
        error_backoff_s: float = 1.0,
        keep_published_s: float = 7 * 86_400.0,
        prune_every_s: float = 3600.0,
    ) -> None:
        self.pool = pool
        self.broker = broker
        self.schema = schema
        self.handed = handed or HandOff()
        self.batch_size = batch_size
        self.sweep_every_s = sweep_every_s
        # Longer than a hand-off takes (publish, confirm, mark), so the sweep does not
        # race it; the hand-off gives up on rows older than half of this.
        self.orphan_after_s = orphan_after_s
        self.mark_linger_s = mark_linger_s
        self.error_backoff_s = error_backoff_s
        self.keep_published_s = keep_published_s
        self.prune_every_s = prune_every_s
        self._confirmed: list[tuple[UUID, datetime]] = []
        self._confirmed_ready = asyncio.Event()
        self.published = 0

    async def run(self) -> None:
        """Publishes handed rows and sweeps orphans until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._publish_handed(), name=f"{self.schema}-outbox-handed")
            group.create_task(self._mark_published(), name=f"{self.schema}-outbox-mark")
            group.create_task(self._sweep(), name=f"{self.schema}-outbox-sweep")
            group.create_task(self._report_lag(), name=f"{self.schema}-outbox-lag")
            group.create_task(self._prune(), name=f"{self.schema}-outbox-prune")

    async def _publish_handed(self) -> None:
        while True:
            rows = await self.handed.take(self.batch_size, self.orphan_after_s / 2)
            results = await asyncio.gather(*map(self._publish, rows), return_exceptions=True)
            confirmed = [(row.event_id, result) for row, result in zip(rows, results, strict=True)
                         if isinstance(result, datetime)]
            self.published += len(confirmed)
            self._confirmed.extend(confirmed)
            self._confirmed_ready.set()
            if len(confirmed) < len(rows):
                first = next(r for r in results if isinstance(r, BaseException))
                log.warning("outbox: %d of %d handed events not confirmed, left to the"
                            " sweep: %s", len(rows) - len(confirmed), len(rows), first)

    async def _mark_published(self) -> None:
        """Marks confirmed rows in groups: one UPDATE for all that arrive together."""
        while True:
            await self._confirmed_ready.wait()
            await asyncio.sleep(self.mark_linger_s)
            self._confirmed_ready.clear()
            confirmed, self._confirmed = self._confirmed, []
            try:
                await self.pool.execute(MARK_PUBLISHED, *zip(*confirmed, strict=True))
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox: marking %d published failed, will retry: %s",
                            len(confirmed), exc)
                self._confirmed[:0] = confirmed
                self._confirmed_ready.set()
                await asyncio.sleep(self.error_backoff_s)

    async def _sweep(self) -> None:
        while True:
            try:
                while await self.publish_orphans() == self.batch_size:
                    pass
            except (PublishFailed, OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox sweep waiting: %s", exc)
                await asyncio.sleep(self.error_backoff_s)
                continue
            await asyncio.sleep(self.sweep_every_s)

    async def publish_orphans(self) -> int:
        """Publishes one batch of rows left unpublished; the number confirmed."""
        async with self.pool.acquire() as conn, conn.transaction():
            # Locked and marked in one statement. The mark is only kept if the broker
            # confirmed: a crash rolls it back, and unconfirmed rows are unmarked below.
            rows = [OutboxRow(*row) for row in
                    await conn.fetch(CLAIM_ORPHANS, self.batch_size, self.orphan_after_s)]
            if not rows:
                return 0
            results = await asyncio.gather(*map(self._publish, rows), return_exceptions=True)
            failed = [row.event_id for row, result in zip(rows, results, strict=True)
                      if not isinstance(result, datetime)]
            if failed:
                await conn.execute(
                    "UPDATE outbox SET published_at = NULL WHERE event_id = ANY($1::uuid[])",
                    failed)
        done = len(rows) - len(failed)
        self.published += done
        if failed:
            first = next(r for r in results if isinstance(r, BaseException))
            raise PublishFailed(f"{len(failed)} of {len(rows)} not confirmed: {first}")
        return done

    async def _publish(self, row: OutboxRow) -> datetime:
        """Publishes a row; the time the broker confirmed it."""
        await self.broker.publish_body(
            routing_key=row.event_type,
            body=row.body.encode(),
            message_id=str(row.event_id),
            event_type=row.event_type,
            correlation_id=row.correlation_id,
        )
        EVENTS_PUBLISHED.labels(row.event_type).inc()
        return datetime.now(UTC)

    async def prune_published(self, chunk: int = 5000) -> int:
        """Deletes events published longer ago than `keep_published_s`; how many."""
        deleted = 0
        while True:
            status = await self.pool.execute(PRUNE_PUBLISHED, self.keep_published_s, chunk)
            count = int(status.split()[-1])
            deleted += count
            if count < chunk:
                return deleted

    async def _prune(self) -> None:
        while True:
            try:
                await self.prune_published()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox: pruning published events failed: %s", exc)
            await asyncio.sleep(self.prune_every_s)

    async def _report_lag(self, interval_s: float = 5.0) -> None:
        while True:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                oldest = await oldest_unpublished(self.pool)
                lag = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
                OUTBOX_LAG_SECONDS.labels(self.schema).set(lag)
            await asyncio.sleep(interval_s)
