"""The Account Numbers setup, saved through `glbridge pos setup` as a manager would:
checked against the connected organisation (every problem at once, errors and warnings),
never "ready" while an error remains, and edited without a new Xero connection."""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from glbridge import exits
from glbridge.connect import connect_store, finish_connect, read_page
from glbridge.pos import pos_app
from glbridge.system import System
from shared.contracts import examples
from tests.support.shared_system import Shared


@pytest.fixture
def system(shared: Shared) -> System:
    """The module's one system: each test works on stores of its own."""
    return shared.system


runner = CliRunner()


async def pos(system: System, key: str, *args: str, answers: str = "") -> Any:
    env = {"TOTALS_URL": system.totals_url, "AUTH_PUBLIC_URL": system.auth_url,
           "GLBRIDGE_POS_API_KEY": key}
    return await asyncio.to_thread(runner.invoke, pos_app, list(args), input=answers,
                                   env=env)


async def set_up(client: httpx.AsyncClient, system: System, store: str
                 ) -> tuple[str, dict[str, Any]]:
    """A store connected through Xero's pages, with the example setup saved."""
    key = await connect_store(client, system.auth_url, store)
    saved = await client.put(f"{system.totals_url}/v1/stores/{store}/setup",
                             json=examples.example_setup(key))
    assert saved.status_code == 200, saved.text
    answer: dict[str, Any] = saved.json()
    return key, answer


async def test_a_setup_that_can_only_fail_is_saved_but_never_ready(system: System):
    async with httpx.AsyncClient(timeout=60) as client:
        key, saved = await set_up(client, system, "31")
        assert saved["check"]["ready"] is True, saved["check"]

        edits = ["rental=4095",  # archived
                 "cash=090",  # the bank account
                 "sales=4011",  # no such account
                 "fuel=40{Class}",  # no class set
                 "discounts=2200"]  # a liability: Xero accepts it, but unusual
        result = await pos(system, key, "setup", "-s", "31", "--tracking", "Store=Shop #",
                           *[a for edit in edits for a in ("--account", edit)], "--json")
        assert result.exit_code == exits.FAILED, result.output
        check = json.loads(result.output)["check"]
        table = await pos(system, key, "setup", "-s", "31")
        kept = await client.get(f"{system.totals_url}/v1/stores/31/setup",
                                headers={"X-Api-Key": key})

    assert check["ready"] is False
    problems = {(p["category"], p["severity"]) for p in check["problems"]}
    assert {("rental", "error"), ("cash", "error"), ("sales", "error"), ("fuel", "error"),
            ("tracking Store", "error"), ("discounts", "warning")} <= problems, problems
    by_entry = {p["category"]: p["message"] for p in check["problems"]}
    assert "4000" in by_entry["rental"] and "2200" not in by_entry["rental"]
    assert "clearing account" in by_entry["cash"]
    assert "4011" in by_entry["sales"] and "{Class}" in by_entry["fuel"]
    # The table, the same problems, and no "ready" anywhere; the key still works.
    assert table.exit_code == exits.FAILED, table.output
    said = " ".join(table.output.split())  # as words: the console wraps long lines
    assert "and ready to post" not in said and "not ready to post" in said
    assert "error" in said and "warning" in said and "4095" in said
    assert "Open Xero's login page" not in said
    assert kept.status_code == 200, kept.text


async def test_setup_of_a_connected_store_keeps_its_key(system: System):
    async with httpx.AsyncClient(timeout=60) as client:
        key, saved = await set_up(client, system, "32")
        result = await pos(system, key, "setup", "-s", "32", "--account", "rental=4010",
                           "--class", "EQ")
        after = await client.get(f"{system.totals_url}/v1/stores/32/setup",
                                 headers={"X-Api-Key": key})
        again = await client.get(f"{system.totals_url}/v1/stores/32/setup/check",
                                 headers={"X-Api-Key": key})

    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # as words: the console wraps long lines
    assert "is connected to Xero" in said and "key stays" in said
    assert "Open Xero's login page" not in said
    assert "and ready to post" in said
    assert after.status_code == 200, after.text  # the same key still opens the store
    assert after.json()["accounts"]["rental"] == "4010"
    assert after.json()["store_class"] == "EQ"
    assert after.json()["api_key"]["fingerprint"] == saved["api_key"]["fingerprint"]
    assert again.status_code == 200 and again.json()["ready"] is True, again.text


async def test_reconnecting_names_the_scenario_of_a_connected_store(system: System):
    async with httpx.AsyncClient(timeout=60) as client:
        key, _ = await set_up(client, system, "33")
        declined = await pos(system, key, "setup", "-s", "33", "--reconnect", answers="n\n")
        accepted, new_key = await _reconnect_through_the_cli(system, key, "33")
        old = await client.get(f"{system.totals_url}/v1/stores/33/setup",
                               headers={"X-Api-Key": key})
        new = await client.get(f"{system.totals_url}/v1/stores/33/setup",
                               headers={"X-Api-Key": new_key})
    said = " ".join(declined.output.split())
    assert "already has a Xero OAuth 2.0 key" in said, said
    assert "not connected to Xero yet" not in said
    assert accepted == 0
    assert (old.status_code, new.status_code) == (401, 200)


async def _reconnect_through_the_cli(system: System, key: str, store: str) -> tuple[int, str]:
    """`glbridge pos setup --reconnect` as a manager runs it: the CLI proves the store with
    its key and prints Xero's link; the browser walks it; the key it shows is pasted."""
    env = {**os.environ, "TOTALS_URL": system.totals_url, "AUTH_PUBLIC_URL": system.auth_url,
           "GLBRIDGE_POS_API_KEY": key, "COLUMNS": "500"}
    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "glbridge"), "pos", "setup", "-s", store, "--reconnect",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env)
    assert cli.stdin is not None and cli.stdout is not None
    cli.stdin.write(b"y\n")
    link = ""
    while not link:
        line = (await asyncio.wait_for(cli.stdout.readline(), 60)).decode()
        assert line, "the CLI ended before it printed Xero's link"
        link = line.strip() if "/v1/connect/" in line else ""
    async with httpx.AsyncClient(timeout=60) as browser:
        new_key = read_page(await finish_connect(browser, link)).key or ""
    cli.stdin.write(f"{new_key}\n".encode())
    await cli.stdin.drain()
    await asyncio.wait_for(cli.communicate(), 120)
    assert cli.returncode is not None
    return cli.returncode, new_key
