"""`shared/unit_of_work.py` on real PostgreSQL: outbox rows a statement wrote inside the
transaction are handed off with the unit's own events after COMMIT, and never after a
rollback."""

from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import asyncpg
import pytest

from shared.db import apply_migrations, create_pool
from shared.outbox import OUTBOX_TABLE_SQL, HandOff, OutboxRow, enqueue
from shared.unit_of_work import PostgresUnitOfWork
from tests.shared.conftest import failed_event


class SeenHandOff(HandOff):
    """Keeps every row handed off, in order."""

    def __init__(self) -> None:
        super().__init__(limit=0)
        self.seen: list[OutboxRow] = []

    def __call__(self, rows: Iterable[OutboxRow]) -> None:
        self.seen += rows


@pytest.fixture
async def pool(database_url: str, tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    (tmp_path / "001_outbox.sql").write_text(OUTBOX_TABLE_SQL)
    await apply_migrations(database_url, "probe", tmp_path)
    pool = await create_pool(database_url, "probe")
    yield pool
    await pool.close()


async def _in_outbox(pool: asyncpg.Pool) -> list[str]:
    return [r["correlation_id"] for r in await pool.fetch(
        "SELECT correlation_id FROM outbox ORDER BY id")]


async def test_rows_a_statement_wrote_are_handed_off_after_commit_with_the_events(
    pool: asyncpg.Pool,
) -> None:
    handed = SeenHandOff()
    async with PostgresUnitOfWork(pool, handed) as uow:
        uow.written_in_transaction(await enqueue(await uow.writer(), failed_event("S1")))
        uow.add_event(failed_event("S2"))
        assert handed.seen == []
        await uow.commit()
    assert [r.correlation_id for r in handed.seen] == ["S1:2026-11-24", "S2:2026-11-24"]
    assert await _in_outbox(pool) == ["S1:2026-11-24", "S2:2026-11-24"]


async def test_rows_a_statement_wrote_are_gone_with_a_rollback(pool: asyncpg.Pool) -> None:
    handed = SeenHandOff()
    async with PostgresUnitOfWork(pool, handed) as uow:
        uow.written_in_transaction(await enqueue(await uow.writer(), failed_event("S1")))
    async with PostgresUnitOfWork(pool, handed) as uow:
        uow.add_event(failed_event("S2"))
        await uow.commit()
    assert [r.correlation_id for r in handed.seen] == ["S2:2026-11-24"]
    assert await _in_outbox(pool) == ["S2:2026-11-24"]
