"""Statements that look days up by arrays of keys probe the index once per key even under
a generic plan made while their table was empty. PostgreSQL caches a prepared statement's
plan after a few runs and keeps it as the table grows: a plan that scans the table when
it is small scans every row later (in a fresh database, for the whole of a busy day)."""

import re
from pathlib import Path

import asyncpg
import pytest

from services.posting.adapters.postings import CLAIM_DUE_POSTINGS
from services.posting.adapters.recording import POSTINGS_OF_DAYS
from services.totals.adapters.repository import STATES_OF_DAYS
from shared.db import apply_migrations

SERVICES = Path(__file__).parents[2] / "services"


async def generic_plan(database_url: str, service: str, sql: str, types: str,
                       args: str) -> str:
    """EXPLAIN of `sql` under the generic plan PostgreSQL makes on the service's tables
    as its migrations leave them (empty)."""
    await apply_migrations(database_url, service, SERVICES / service / "migrations")
    conn = await asyncpg.connect(database_url, server_settings={
        "search_path": service, "plan_cache_mode": "force_generic_plan"})
    try:
        await conn.execute(f"PREPARE probe({types}) AS {sql}")
        return "\n".join(row[0] for row in await conn.fetch(f"EXPLAIN EXECUTE probe({args})"))
    finally:
        await conn.close()


@pytest.mark.parametrize(("service", "sql", "index"), [
    ("posting", POSTINGS_OF_DAYS, "postings_store_id_business_date_revision_key"),
    ("totals", STATES_OF_DAYS, "days_pkey"),
])
async def test_a_days_lookup_probes_the_index_under_a_plan_made_on_an_empty_table(
    database_url: str, service: str, sql: str, index: str,
) -> None:
    plan = await generic_plan(database_url, service, sql, "text[], date[]",
                              "'{12,13}', '{2026-11-24,2026-11-25}'")
    assert f"Index Scan using {index}" in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_a_claim_reads_due_postings_and_their_days_through_indexes_on_an_empty_table(
    database_url: str,
) -> None:
    """The claim reads each organisation's due postings through postings_tenant_due (not
    every organisation's backlog) and each day's other revisions through the day's key."""
    plan = await generic_plan(database_url, "posting", CLAIM_DUE_POSTINGS, "uuid[], int",
                              "'{00000000-0000-0000-0000-000000000001}', 50")
    assert "Index Scan using postings_tenant_due" in plan, plan
    assert plan.count("postings_store_id_business_date_revision_key") == 2, plan
    assert "Seq Scan" not in plan, plan


async def test_the_first_sights_look_up_probes_the_index_on_an_empty_table(
    database_url: str,
) -> None:
    """`record_first_sights` (posting's migration 010) looks its days up in PL/pgSQL,
    whose statements keep their plans as prepared statements do."""
    function = (SERVICES / "posting" / "migrations" / "010_first_sights.sql").read_text()
    found = re.search(r"IF (EXISTS \(.*?\)) THEN", function, re.DOTALL)
    assert found is not None, "the look-up before the inserts"
    sql = "SELECT " + found.group(1).replace("store_ids", "$1").replace("business_dates", "$2")
    plan = await generic_plan(database_url, "posting", sql, "text[], date[]",
                              "'{12,13}', '{2026-11-24,2026-11-25}'")
    assert "Index Only Scan using postings_store_id_business_date_revision_key" in plan, plan
    assert "Seq Scan" not in plan, plan
