"""What the ops monitor reads: the broker's queues and dead letters, totals' failed and
held days, and every service's outbox; and the two things it may do (replay, retry).

Queues come from RabbitMQ's management HTTP API when `RABBITMQ_MANAGEMENT_URL` answers,
else from AMQP passive declares (depth and consumers only: rates are then computed from
successive samples of the depth).
"""

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import aio_pika
import asyncpg
import httpx

from services.totals.domain.day import DayState, DayStatus, message
from shared.messaging import inspect
from shared.messaging.broker import Broker, PublishFailed
from shared.messaging.topology import Topology

log = logging.getLogger(__name__)

# Every service's schema holds an `outbox` table of shared.outbox's shape.
OUTBOX_SCHEMAS = ("auth", "totals", "posting")
BROKER_TIMEOUT_S = 5.0


class BrokerUnavailable(Exception):
    """The broker did not answer: nothing was replayed."""


@dataclass(frozen=True)
class QueueRow:
    name: str
    kind: str  # consumer | dead-letter | retry
    messages: int
    consumers: int
    # Messages per second; None where the source cannot tell.
    publish_rate: float | None
    deliver_rate: float | None
    depth_rate: float | None


@dataclass(frozen=True)
class DeadLetterRow:
    queue: str  # the consumer queue's short name (what replay takes)
    message_id: str | None
    event_type: str | None
    reason: str
    store_id: str | None
    business_date: str | None
    correlation_id: str | None


class DepthSampler:
    """Rates from successive depths, for when the management API cannot give them."""

    def __init__(self, min_interval_s: float = 1.0) -> None:
        self.min_interval_s = min_interval_s
        self._last: dict[str, tuple[float, int, float | None]] = {}

    def rate(self, name: str, messages: int, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        previous = self._last.get(name)
        if previous is None:
            self._last[name] = (now, messages, None)
            return None
        at, depth, rate = previous
        if now - at < self.min_interval_s:
            return rate  # too close to the last sample to say more
        rate = round((messages - depth) / (now - at), 3)
        self._last[name] = (now, messages, rate)
        return rate


def queue_kind(topo: Topology, name: str) -> str:
    for queue in topo.queues:
        if name == topo.dead_letter_queue_name(queue):
            return "dead-letter"
        if name.startswith(topo.queue_name(queue) + ".retry."):
            return "retry"
    return "consumer"


def topology_queue_names(topo: Topology) -> list[str]:
    names = []
    for queue in topo.queues:
        names += [topo.queue_name(queue), topo.dead_letter_queue_name(queue)]
        names += [topo.retry_queue_name(queue, delay) for delay in queue.retry_delays_s]
    return names


def _rate(stats: dict[str, Any], key: str) -> float | None:
    details = stats.get(f"{key}_details")
    value = details.get("rate") if isinstance(details, dict) else None
    return float(value) if isinstance(value, int | float) else None


def rows_from_management(
    topo: Topology, payload: list[dict[str, Any]], sampler: DepthSampler
) -> list[QueueRow]:
    """The topology's queues out of `GET /api/queues/{vhost}` (other queues ignored)."""
    by_name = {item.get("name"): item for item in payload if isinstance(item, dict)}
    rows = []
    for name in topology_queue_names(topo):
        item = by_name.get(name, {})
        stats = item.get("message_stats") or {}
        messages = int(item.get("messages") or 0)
        rows.append(QueueRow(
            name=name, kind=queue_kind(topo, name), messages=messages,
            consumers=int(item.get("consumers") or 0),
            publish_rate=_rate(stats, "publish"),
            deliver_rate=_rate(stats, "deliver_get"),
            depth_rate=sampler.rate(name, messages),
        ))
    return rows


def where_from(body: str, correlation_id: str | None) -> tuple[str | None, str | None]:
    """The store and day a dead letter is about: from its body, else its correlation id
    (`store:date`, see totals' day_correlation_id)."""
    with contextlib.suppress(ValueError, TypeError):
        parsed = json.loads(body)
        if isinstance(parsed, dict) and parsed.get("store_id"):
            day = parsed.get("business_date")
            return str(parsed["store_id"]), str(day) if day else None
    if correlation_id and ":" in correlation_id:
        store, _, day = correlation_id.rpartition(":")
        with contextlib.suppress(ValueError):
            return store, date.fromisoformat(day).isoformat()
    return None, None


class OpsReader:
    def __init__(
        self, pool: asyncpg.Pool, amqp_url: str, topo: Topology,
        management_url: str | None = None, publish_timeout_s: float = 10.0,
    ) -> None:
        self.pool = pool
        self.amqp_url = amqp_url
        self.topology = topo
        self.management_url = management_url.rstrip("/") if management_url else None
        self.publish_timeout_s = publish_timeout_s
        self.sampler = DepthSampler()
        # One broker conversation at a time: listing dead letters takes them off their
        # queue for a moment, so a concurrent listing or replay would miss some.
        self._lock = asyncio.Lock()
        self._broker: Broker | None = None
        self._http = httpx.AsyncClient(timeout=3.0)

    async def close(self) -> None:
        await self._http.aclose()
        if self._broker is not None:
            await self._broker.close()

    async def _connected(self) -> Broker:
        """A connection of the monitor's own, so it never competes with the consumers'."""
        if self._broker is None or not self._broker.is_connected:
            broker = Broker(self.amqp_url, self.topology, self.publish_timeout_s)
            try:
                await asyncio.wait_for(broker.connect(), BROKER_TIMEOUT_S)
            except BaseException:
                with contextlib.suppress(Exception):
                    await broker.close()
                raise
            self._broker = broker
        return self._broker

    # --- broker ---------------------------------------------------------------------

    async def queues(self) -> tuple[str, list[QueueRow]]:
        """(source, rows): source is `management` or `amqp`."""
        if self.management_url:
            try:
                return "management", await self._management_queues()
            except (httpx.HTTPError, ValueError) as exc:
                log.info("management API unavailable, using AMQP: %s", exc)
        async with self._lock:
            broker = await self._connected()
            channel = await broker.connection.channel()
            try:
                stats = await inspect.queue_stats(channel, self.topology)
            finally:
                await channel.close()
        return "amqp", [
            QueueRow(s.name, queue_kind(self.topology, s.name), s.messages, s.consumers,
                     None, None, self.sampler.rate(s.name, s.messages))
            for s in stats
        ]

    async def _management_queues(self) -> list[QueueRow]:
        assert self.management_url is not None
        vhost = urlsplit(self.amqp_url).path.lstrip("/") or "/"
        parts = urlsplit(self.management_url)
        # Credentials may sit in the URL (http://user:pass@host:15672); else RabbitMQ's
        # default user, as the AMQP URL's.
        amqp = urlsplit(self.amqp_url)
        auth = (parts.username or amqp.username or "guest",
                parts.password or amqp.password or "guest")
        base = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        response = await self._http.get(
            f"{base}/api/queues/{quote(vhost, safe='')}",
            params={"columns": "name,messages,consumers,message_stats"}, auth=auth)
        response.raise_for_status()
        payload = response.json()
        if not isinstance(payload, list):
            raise ValueError("unexpected management API answer")
        return rows_from_management(self.topology, payload, self.sampler)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetterRow]:
        async with self._lock:
            broker = await self._connected()
            letters = await inspect.list_dead_letters(broker.connection, self.topology, limit)
        prefix = f"{self.topology.namespace}."
        rows = []
        for letter in letters:
            store, day = where_from(letter.body, letter.correlation_id)
            rows.append(DeadLetterRow(
                queue=letter.queue.removeprefix(prefix), message_id=letter.message_id,
                event_type=letter.event_type, reason=letter.reason, store_id=store,
                business_date=day, correlation_id=letter.correlation_id))
        return rows

    async def replay(self, queue: str, message_id: str | None = None) -> int:
        """Raises KeyError for a queue the topology does not have, BrokerUnavailable when
        the broker cannot be asked now."""
        consumer_queue = self.topology.queue(queue)
        async with self._lock:
            try:
                broker = await self._connected()
                return await inspect.replay_dead_letters(broker, consumer_queue, message_id)
            except (aio_pika.exceptions.AMQPError, PublishFailed, OSError,
                    TimeoutError, RuntimeError) as exc:
                await self._forget_broker()
                raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc

    # --- totals' own tables -----------------------------------------------------------

    async def failed_days(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT store_id, business_date, revision, errors, retryable, updated_at"
            " FROM days WHERE status = 'failed' ORDER BY updated_at DESC LIMIT $1", limit)
        days = []
        for row in rows:
            errors = json.loads(row["errors"])
            state = DayState(row["revision"], "", DayStatus.FAILED,
                             errors=tuple(errors), retryable=row["retryable"])
            days.append({
                "store_id": row["store_id"],
                "business_date": row["business_date"].isoformat(),
                "revision": row["revision"],
                "message": message(state),
                "errors": errors,
                "retryable": row["retryable"],
                "failed_at": row["updated_at"].isoformat(),
            })
        return days

    async def waiting_for_new_key(self) -> list[dict[str, Any]]:
        """Stores whose connection needs a new key, or that hold days waiting for one."""
        rows = await self.pool.fetch(
            "SELECT s.store_id, s.tenant_name, s.connection_id, s.connection_status,"
            " coalesce(array_agg(d.business_date ORDER BY d.business_date)"
            "   FILTER (WHERE d.business_date IS NOT NULL), '{}') AS held"
            " FROM setups s LEFT JOIN days d"
            "   ON d.store_id = s.store_id AND d.status = 'waiting-for-new-key'"
            " GROUP BY s.store_id"
            " HAVING s.connection_status <> 'active' OR count(d.business_date) > 0"
            " ORDER BY s.store_id")
        return [{
            "store_id": row["store_id"],
            "tenant_name": row["tenant_name"],
            "connection_id": str(row["connection_id"]),
            "connection_status": row["connection_status"],
            "held_days": [d.isoformat() for d in row["held"]],
        } for row in rows]

    async def outbox_lag(self) -> list[dict[str, Any]]:
        """Each service's unpublished events. This reads the other services' outbox tables
        directly (read-only, one aggregate each): they share the database, the table's
        shape is shared.outbox's, and an ops view needs no more than this."""
        now = datetime.now(UTC)
        found = []
        async with self.pool.acquire() as conn:
            for schema in OUTBOX_SCHEMAS:
                exists = await conn.fetchval("SELECT to_regclass($1)", f"{schema}.outbox")
                if exists is None:
                    found.append({"service": schema, "present": False, "unpublished": 0,
                                  "oldest": None, "lag_s": None})
                    continue
                # The schema name is one of OUTBOX_SCHEMAS, never input.
                row = await conn.fetchrow(
                    f"SELECT count(*) AS n, min(created_at) AS oldest FROM {schema}.outbox"  # noqa: S608
                    " WHERE published_at IS NULL")
                oldest: datetime | None = row["oldest"]
                found.append({
                    "service": schema, "present": True, "unpublished": row["n"],
                    "oldest": oldest.isoformat() if oldest else None,
                    "lag_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
                })
        return found

    async def held_by_xero(self) -> list[dict[str, Any]]:
        """Days posting holds back: in doubt (Xero refused the lookup of a journal that may
        be in it) or waiting for tomorrow's Xero budget. Read from posting's table directly
        (read-only, as the outbox lag is): the reason is its `last_error`."""
        async with self.pool.acquire() as conn:
            if await conn.fetchval("SELECT to_regclass('posting.postings')") is None:
                return []
            rows = await conn.fetch(
                "SELECT store_id, business_date, revision, state, last_error, updated_at"
                " FROM posting.postings WHERE (state = 'in_flight' AND last_error LIKE"
                " 'in doubt:%') OR (state = 'pending' AND last_error LIKE"
                " 'waiting for tomorrow''s Xero budget%') ORDER BY updated_at LIMIT 100")
        return [{
            "store_id": r["store_id"], "business_date": r["business_date"].isoformat(),
            "revision": r["revision"], "state": r["state"], "reason": r["last_error"],
            "since": r["updated_at"].isoformat(),
        } for r in rows]

    # --- the page's data ----------------------------------------------------------------

    async def snapshot(self) -> dict[str, Any]:
        """Everything the page shows; a part that cannot be read says why, the rest shows."""
        data: dict[str, Any] = {
            "generated_at": datetime.now(UTC).isoformat(),
            "namespace": self.topology.namespace,
            "problems": [],
        }
        try:
            source, queues = await self.queues()
            data["queue_source"] = source
            data["queues"] = [asdict(q) for q in queues]
            data["dead_letters"] = [asdict(d) for d in await self.dead_letters()]
        except Exception as exc:  # broker down or refusing: the database parts still show
            log.warning("ops monitor cannot read the broker: %s", exc)
            data.update(queue_source="unavailable", queues=[], dead_letters=[])
            data["problems"].append(f"broker: {type(exc).__name__}: {exc}")
            await self._forget_broker()
        parts = {"failed_days": self.failed_days, "waiting_for_new_key": self.waiting_for_new_key,
                 "held_by_xero": self.held_by_xero, "outbox": self.outbox_lag}
        for name, read in parts.items():
            try:
                data[name] = await read()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("ops monitor cannot read %s: %s", name, exc)
                data[name] = []
                data["problems"].append(f"database ({name}): {type(exc).__name__}: {exc}")
        return data

    async def _forget_broker(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            with contextlib.suppress(Exception):
                await broker.close()
