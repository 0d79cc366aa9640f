"""`glbridge demo --store-id N` prints the store's key, so a newcomer can carry on with it."""

import asyncio
import re

import httpx
from typer.testing import CliRunner

from glbridge.cli import app
from glbridge.system import System


async def test_the_demo_prints_a_key_that_opens_its_store(system: System):
    env = {"AUTH_PORT": str(system.ports.auth), "TOTALS_PORT": str(system.ports.totals)}
    result = await asyncio.to_thread(CliRunner().invoke, app,
                                     ["demo", "--store-id", "41", "--business-date",
                                      "2026-11-20"], env=env)
    assert result.exit_code == 0, result.output
    assert "posted to Xero" in result.output
    [key] = re.findall(r"2RF:\S+", result.output)
    async with httpx.AsyncClient(timeout=30) as client:
        setup = await client.get(f"{system.totals_url}/v1/stores/41/setup",
                                 headers={"X-Api-Key": key})
    assert setup.status_code == 200, setup.text
    assert "glbridge pos reprint --store 41" in " ".join(result.output.split())
