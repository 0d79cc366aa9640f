"""Where a day stands, read for operators (the status API)."""

import json
from datetime import date
from typing import Any

import asyncpg


class PostgresPostingViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def status(self, store_id: str, business_date: date) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT revision, state, attempts, journal_id, voided_at, last_error, outcome,"
            " updated_at FROM postings WHERE store_id = $1 AND business_date = $2"
            " ORDER BY revision",
            store_id,
            business_date,
        )
        return [
            {
                "revision": r["revision"],
                "state": r["state"],
                "attempts": r["attempts"],
                "journal_id": str(r["journal_id"]) if r["journal_id"] else None,
                "voided": r["voided_at"] is not None,
                "last_error": r["last_error"],
                "outcome": json.loads(r["outcome"]) if r["outcome"] else None,
                "updated_at": r["updated_at"].isoformat(),
            }
            for r in rows
        ]

    async def counts(self) -> dict[str, int]:
        rows = await self.pool.fetch("SELECT state, count(*) AS n FROM postings GROUP BY state")
        return {r["state"]: r["n"] for r in rows}
