"""PostgreSQL's statements over each measured phase of the bench, and two phases side by
side: which statements a change (or three replicas) adds, and their execution and
planning time.

    .venv/bin/python -m bench --only replicas --no-peers --statements DIR
    .venv/bin/python -m bench.statements DIR/replicas_1.json DIR/replicas_3.json

It reads the `pg_stat_statements` extension, which the server must preload (PostgreSQL's
default does not): `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`,
`ALTER SYSTEM SET pg_stat_statements.track = 'all'` (statements inside functions too),
`ALTER SYSTEM SET pg_stat_statements.track_planning = on`, then restart the server. The
extension costs the server a little on every statement: compare runs made with it, and
`ALTER SYSTEM RESET` the three afterwards.
"""

import argparse
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

RESET = ("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database"
         " WHERE datname = current_database()), 0)")
READ = ("SELECT query, calls, total_exec_time AS exec_ms, total_plan_time AS plan_ms, rows"
        " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
        " WHERE datname = current_database()) ORDER BY total_exec_time DESC")


class Statements:
    """Counts the bench database's statements from `start` to `write`."""

    def __init__(self, database_url: str, directory: Path) -> None:
        self.database_url = database_url
        self.directory = directory

    @contextlib.asynccontextmanager
    async def _connected(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await asyncpg.connect(self.database_url)
        try:
            yield conn
        finally:
            await conn.close()

    async def check(self) -> None:
        """Refuses to run without the extension, before anything is measured."""
        async with self._connected() as conn:
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                await conn.fetchval("SELECT count(*) FROM pg_stat_statements")
            except asyncpg.PostgresError as exc:
                raise SystemExit(f"--statements needs pg_stat_statements preloaded ({exc});"
                                 " see python -m bench.statements --help") from exc
        self.directory.mkdir(parents=True, exist_ok=True)

    async def start(self) -> None:
        async with self._connected() as conn:
            await conn.execute(RESET)

    async def write(self, phase: str) -> Path:
        async with self._connected() as conn:
            rows = await conn.fetch(READ)
        path = self.directory / f"{phase}.json"
        path.write_text(json.dumps([dict(r) for r in rows], indent=1))
        return path


def side_by_side(before: list[dict[str, Any]], after: list[dict[str, Any]],
                 top: int = 30) -> str:
    """Each statement's calls and milliseconds (executing + planning) in both phases,
    the busiest first, with the totals."""
    a = {r["query"]: r for r in before}
    b = {r["query"]: r for r in after}

    def ms(row: dict[str, Any] | None) -> float:
        return float(row["exec_ms"] + row["plan_ms"]) if row else 0.0

    def calls(row: dict[str, Any] | None) -> int:
        return int(row["calls"]) if row else 0

    queries = sorted(a.keys() | b.keys(), key=lambda q: -(ms(a.get(q)) + ms(b.get(q))))
    lines = [f"{'calls A':>8} {'calls B':>8} {'ms A':>8} {'ms B':>8}  statement"]
    for query in queries[:top]:
        x, y = a.get(query), b.get(query)
        lines.append(f"{calls(x):8} {calls(y):8} {ms(x):8.0f} {ms(y):8.0f}  "
                     f"{' '.join(query.split())[:100]}")
    lines.append(f"{sum(map(calls, before)):8} {sum(map(calls, after)):8} "
                 f"{sum(map(ms, before)):8.0f} {sum(map(ms, after)):8.0f}  in all")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    print(side_by_side(json.loads(args.before.read_text()),
                       json.loads(args.after.read_text()), args.top))


if __name__ == "__main__":
    main()
