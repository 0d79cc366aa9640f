"""Where a day's time goes between close and outcome, hop by hop, read from the
timestamps the services already keep in their tables (no tracing of our own):

- relay: totals' outbox row written → the broker's confirm seen by totals;
- to record: that confirm → posting's transaction recording it began (negative when
  totals, busy serving closes, saw the confirm after posting had the event);
- to call: recorded → marked in flight, just before the call to Xero;
- to settle: in flight → the transaction settling its outcome began;
- outcome relay: posting's outcome row written → the broker's confirm seen by posting.

`now()` in PostgreSQL is the time a transaction began, so each hop includes the wait
for the next stage to start, not the statement that ends it.
"""

import asyncio
from typing import Any

import asyncpg

HOPS = ("relay", "to_record", "to_call", "to_settle", "outcome_relay", "total")

_SQL = """
WITH t AS (
    SELECT correlation_id, created_at AS tc, published_at AS tp FROM totals.outbox
    WHERE event_type = 'store-totals-closed' AND split_part(correlation_id, ':', 1) = ANY($1)
), p AS (
    SELECT correlation_id, created_at AS pc, sent_at AS ps, updated_at AS pu
    FROM posting.postings WHERE store_id = ANY($1) AND revision = 1
), o AS (
    SELECT correlation_id, created_at AS oc, published_at AS op FROM posting.outbox
    WHERE event_type = 'gl-posting-succeeded' AND split_part(correlation_id, ':', 1) = ANY($1)
), hops AS (
    SELECT extract(epoch FROM tp - tc) * 1000 AS relay,
           extract(epoch FROM pc - tp) * 1000 AS to_record,
           extract(epoch FROM ps - pc) * 1000 AS to_call,
           extract(epoch FROM pu - ps) * 1000 AS to_settle,
           extract(epoch FROM op - oc) * 1000 AS outcome_relay,
           extract(epoch FROM op - tc) * 1000 AS total
    FROM t JOIN p USING (correlation_id) JOIN o USING (correlation_id)
)
SELECT count(*) AS days, {columns} FROM hops
"""


def _columns() -> str:
    # The max too: a single day stuck far longer than the rest (a lease nobody drained
    # for 15 s, once) barely moves a p99 but shows here.
    return ", ".join(
        f"percentile_cont({share}) WITHIN GROUP (ORDER BY {hop}) AS {hop}_{name}"
        for hop in HOPS for share, name in ((0.5, "p50"), (0.99, "p99"))
    ) + ", " + ", ".join(f"max({hop}) AS {hop}_max" for hop in HOPS)


async def hop_latencies(database_url: str, store_ids: list[str]) -> dict[str, Any]:
    """p50, p99 and max in ms of each hop over the days of these stores that were posted."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(_SQL.format(columns=_columns()), store_ids)
    finally:
        await conn.close()
    assert row is not None
    return {"days": row["days"], **{
        hop: {share: _ms(row[f"{hop}_{share}"]) for share in ("p50", "p99", "max")}
        for hop in HOPS}}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


async def commits(database_url: str) -> int:
    """Transactions committed in the database so far, as PostgreSQL's statistics have
    them: each statement outside a transaction is one. Machine speed barely moves this
    figure, unlike CPU seconds."""
    conn = await asyncpg.connect(database_url)
    try:
        value = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    finally:
        await conn.close()
    return int(value)


# A busy backend reports its counts at the end of a transaction at most once a second
# (PostgreSQL 15's PGSTAT_MIN_INTERVAL): a reading this long after the work includes all
# but what backends that went idle since have not reported yet (at most their last
# second), so the figure is a little low, alike in every run.
REPORTED_S = 1.2


async def reported_commits(database_url: str) -> int:
    """`commits` once busy backends have reported what they did until now."""
    await asyncio.sleep(REPORTED_S)
    return await commits(database_url)
