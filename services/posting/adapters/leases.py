"""Tenant leases: which replica's worker drains which organisation, until when."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from services.posting.service_layer.ports import Claim
from shared.messaging.grouping import GroupedWriter


class PostgresLeases:
    """On the `relaxed` pool: a lease is worth little after a database crash (it lapses),
    and its commits are among the most frequent.

    `installation_max` bounds the organisations drained at once by every replica
    together, counted from the live leases in the same statement that claims. Replicas
    claiming at the same instant may pass it by what each claimed (the count is read,
    not locked): it bounds batching, not correctness, which the lease guarantees."""

    def __init__(self, relaxed: asyncpg.Pool, installation_max: int | None = None) -> None:
        self.relaxed = relaxed
        self.installation_max = installation_max
        self._lease_releases = GroupedWriter(self._release_leases, name="release-lease")

    async def stop(self) -> None:
        await self._lease_releases.stop()

    async def claim_tenants(self, owner: str, limit: int, lease_s: float) -> Claim:
        row = await self.relaxed.fetchrow(
            """
            WITH room AS (
                SELECT CASE WHEN $4::int IS NULL THEN $2::int
                            ELSE greatest(0, least($2::int, $4::int - (
                                SELECT count(*)::int FROM tenant_leases
                                WHERE until >= now())))
                       END AS slots
            ), due AS (
                SELECT DISTINCT tenant_id FROM postings
                WHERE state IN ('pending', 'in_flight') AND next_attempt_at <= now()
            ), free AS (
                SELECT due.tenant_id FROM due
                LEFT JOIN tenant_leases l ON l.tenant_id = due.tenant_id
                WHERE l.tenant_id IS NULL OR l.until < now()
                LIMIT (SELECT slots FROM room)
            ), claimed AS (
                INSERT INTO tenant_leases (tenant_id, owner, until)
                SELECT tenant_id, $1, now() + make_interval(secs => $3) FROM free
                ON CONFLICT (tenant_id) DO UPDATE
                    SET owner = excluded.owner, until = excluded.until
                    WHERE tenant_leases.until < now()
                RETURNING tenant_id
            )
            SELECT ARRAY(SELECT tenant_id FROM claimed) AS tenants,
                   (SELECT slots FROM room) AS room
            """,
            owner,
            limit,
            lease_s,
            self.installation_max,
        )
        assert row is not None  # one row, whatever was claimed
        return Claim(list(row["tenants"]), row["room"])

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
