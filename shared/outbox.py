"""Transactional outbox: an event is committed with the change that caused it, and a
relay publishes committed events with confirms.

The service's migrations create the table (see `OUTBOX_TABLE_SQL` for its shape).
Several relays may run: `FOR UPDATE SKIP LOCKED` hands each row to one of them. A relay
that dies after the broker confirmed but before it marked the row publishes that event
again on restart: consumers treat events idempotently by their ids and business keys.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

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
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""


# The oldest unpublished rows no other relay holds, marked published by this one.
CLAIM_BATCH = """
UPDATE outbox SET published_at = now()
WHERE id = ANY(ARRAY(
    SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1
    FOR UPDATE SKIP LOCKED))
RETURNING id, event_id, event_type, correlation_id, body
"""


async def enqueue(conn: asyncpg.Connection, event: Event) -> None:
    """Adds an event to the outbox inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO outbox (event_id, event_type, correlation_id, body) VALUES ($1, $2, $3, $4)",
        event.event_id,
        event.event_type,  # type: ignore[attr-defined]
        event.correlation_id,
        event.model_dump_json(),
    )
    await conn.execute("SELECT pg_notify(current_schema() || '_outbox', '')")


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
        dsn: str,
        schema: str,
        batch_size: int = 200,
        idle_poll_s: float = 1.0,
        error_backoff_s: float = 1.0,
    ) -> None:
        self.pool = pool
        self.broker = broker
        self.dsn = dsn
        self.schema = schema
        self.channel = f"{schema}_outbox"
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self.error_backoff_s = error_backoff_s
        self._wake = asyncio.Event()
        self.published = 0

    async def run(self) -> None:
        """Publishes until cancelled; wakes on NOTIFY, or polls when notifications fail."""
        listener = await self._listen()
        lag_reporter = asyncio.create_task(self._report_lag(), name=f"{self.schema}-outbox-lag")
        try:
            while True:
                try:
                    sent = await self.publish_batch()
                except (PublishFailed, OSError, asyncpg.PostgresError) as exc:
                    log.warning("outbox relay waiting: %s", exc)
                    await asyncio.sleep(self.error_backoff_s)
                    continue
                if sent < self.batch_size:
                    await self._idle()
        finally:
            lag_reporter.cancel()
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def publish_batch(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            # Locked and marked in one statement. The mark is only kept if the broker
            # confirmed: a crash rolls it back, and unconfirmed rows are unmarked below.
            rows = sorted(await conn.fetch(CLAIM_BATCH, self.batch_size),
                          key=lambda row: row["id"])
            if not rows:
                return 0
            results = await asyncio.gather(
                *(self._publish(row) for row in rows), return_exceptions=True
            )
            failed = [row["id"] for row, result in zip(rows, results, strict=True)
                      if result is not None]
            if failed:
                await conn.execute(
                    "UPDATE outbox SET published_at = NULL WHERE id = ANY($1::bigint[])", failed)
        done = len(rows) - len(failed)
        self.published += done
        if failed:
            first = next(r for r in results if isinstance(r, BaseException))
            raise PublishFailed(f"{len(failed)} of {len(rows)} not confirmed: {first}")
        return done

    async def _publish(self, row: asyncpg.Record) -> None:
        await self.broker.publish_body(
            routing_key=row["event_type"],
            body=row["body"].encode(),
            message_id=str(row["event_id"]),
            event_type=row["event_type"],
            correlation_id=row["correlation_id"],
        )
        EVENTS_PUBLISHED.labels(row["event_type"]).inc()

    async def _report_lag(self, interval_s: float = 5.0) -> None:
        while True:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                oldest = await oldest_unpublished(self.pool)
                lag = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
                OUTBOX_LAG_SECONDS.labels(self.schema).set(lag)
            await asyncio.sleep(interval_s)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.idle_poll_s)
        self._wake.clear()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
            await conn.add_listener(self.channel, lambda *_: self._wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox relay will poll, LISTEN failed: %s", exc)
            return None
