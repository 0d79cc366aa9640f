"""The bench's per-phase statement counts (`bench/statements.py`): two phases side by
side, and a clear refusal where PostgreSQL does not preload pg_stat_statements."""

import json

import asyncpg
import pytest

from bench.statements import Statements, side_by_side

INSERT = "INSERT INTO t VALUES ($1)"


def test_two_phases_side_by_side_busiest_first_with_totals() -> None:
    before = [{"query": INSERT, "calls": 100, "exec_ms": 40.0, "plan_ms": 0.0, "rows": 100},
              {"query": "SELECT 1", "calls": 5, "exec_ms": 1.0, "plan_ms": 0.5, "rows": 5}]
    after = [{"query": INSERT, "calls": 300, "exec_ms": 90.0, "plan_ms": 10.0, "rows": 300},
             {"query": "DELETE FROM t", "calls": 1, "exec_ms": 2.0, "plan_ms": 0.0,
              "rows": 0}]
    lines = side_by_side(before, after).splitlines()
    assert lines[1].split() == ["100", "300", "40", "100", "INSERT", "INTO", "t", "VALUES",
                                "($1)"]
    assert lines[2].split()[:4] == ["0", "1", "0", "2"]  # only in the second phase
    assert lines[3].split()[:4] == ["5", "0", "2", "0"]  # only in the first
    assert lines[-1].split() == ["105", "301", "42", "102", "in", "all"]


async def test_it_counts_a_phase_or_says_what_the_server_lacks(database_url, tmp_path) -> None:
    statements = Statements(database_url, tmp_path / "statements")
    conn = await asyncpg.connect(database_url)
    try:
        preloaded = "pg_stat_statements" in await conn.fetchval(
            "SHOW shared_preload_libraries")
    finally:
        await conn.close()
    if not preloaded:
        with pytest.raises(SystemExit, match="pg_stat_statements preloaded"):
            await statements.check()
        return
    await statements.check()
    await statements.start()
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(3):
            await conn.fetchval("SELECT count(*) FROM pg_class WHERE relpages >= $1", 1)
    finally:
        await conn.close()
    written = (await statements.write("phase")).read_text()
    counted = {row["query"]: row["calls"] for row in json.loads(written)}
    assert counted["SELECT count(*) FROM pg_class WHERE relpages >= $1"] == 3, counted
