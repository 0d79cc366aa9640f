"""Tenant leases: which replica's worker drains which organisation, until when."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from shared.messaging.grouping import GroupedWriter


class PostgresLeases:
    """On the `relaxed` pool: a lease is worth little after a database crash (it lapses),
    and its commits are among the most frequent."""

    def __init__(self, relaxed: asyncpg.Pool) -> None:
        self.relaxed = relaxed
        # One writer: two multi-row deletes of the same lease rows could otherwise lock
        # them in opposite orders.
        self._lease_releases = GroupedWriter(self._release_leases, writers=1,
                                             name="release-lease")

    async def stop(self) -> None:
        await self._lease_releases.stop()

    async def claim_tenants(self, owner: str, limit: int, lease_s: float) -> list[UUID]:
        rows = await self.relaxed.fetch(
            """
            WITH due AS (
                SELECT DISTINCT tenant_id FROM postings
                WHERE state IN ('pending', 'in_flight') AND next_attempt_at <= now()
            ), free AS (
                SELECT due.tenant_id FROM due
                LEFT JOIN tenant_leases l ON l.tenant_id = due.tenant_id
                WHERE l.tenant_id IS NULL OR l.until < now()
                LIMIT $2
            )
            INSERT INTO tenant_leases (tenant_id, owner, until)
            SELECT tenant_id, $1, now() + make_interval(secs => $3) FROM free
            ON CONFLICT (tenant_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
                WHERE tenant_leases.until < now()
            RETURNING tenant_id
            """,
            owner,
            limit,
            lease_s,
        )
        return [r["tenant_id"] for r in rows]

    async def leased_by_others(self, owner: str) -> int:
        count: int = await self.relaxed.fetchval(
            "SELECT count(*) FROM tenant_leases WHERE until >= now() AND owner <> $1", owner)
        return count

    async def renew_lease(self, tenant_id: UUID, owner: str, lease_s: float) -> bool:
        status: str = await self.relaxed.execute(
            "UPDATE tenant_leases SET until = now() + make_interval(secs => $3)"
            " WHERE tenant_id = $1 AND owner = $2",
            tenant_id,
            owner,
            lease_s,
        )
        return status.endswith(" 1")

    async def release_lease(self, tenant_id: UUID, owner: str) -> None:
        await self._lease_releases.submit((tenant_id, owner))

    async def _release_leases(self, leases: Sequence[tuple[UUID, str]]) -> list[None]:
        await self.relaxed.execute(
            "DELETE FROM tenant_leases l USING unnest($1::uuid[], $2::text[]) AS u(t, o)"
            " WHERE l.tenant_id = u.t AND l.owner = u.o",
            [tenant for tenant, _ in leases], [owner for _, owner in leases],
        )
        return [None] * len(leases)
