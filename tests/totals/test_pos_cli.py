"""`glbridge pos` driven as a person would: answers typed at its prompts."""

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from typer.testing import CliRunner

from glbridge import exits
from glbridge.connect import finish_connect, read_page
from glbridge.pos import pos_app
from shared.contracts.events import ErrorKind, PostingError
from shared.contracts.examples import example_day_totals
from tests.totals.support import closed_events, failed, no_more_closed_events, succeeded

runner = CliRunner()


async def invoke(args: list[str], answers: str = "", **env: str):
    # The CLI blocks on HTTP; totals runs on this event loop: run the CLI on a thread.
    return await asyncio.to_thread(runner.invoke, pos_app, args, input=answers, env=env)


@dataclass(frozen=True)
class Dialog:
    exit_code: int
    output: str
    key: str | None


async def setup_dialog(args: list[str], store: str, **env: str) -> Dialog:
    """Runs `glbridge pos setup` in a terminal as its person would: answers yes, opens
    the link it prints in a browser, walks Xero's pages and types the key shown back."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("glbridge")), "pos", "setup", "--store", store,
        *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=os.environ | env)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"y\n")
    printed, key = [], None
    while line := (await process.stdout.readline()).decode():
        printed.append(line)
        if "/v1/connect/start/" in line:
            async with httpx.AsyncClient(timeout=60) as browser:
                key = read_page(await finish_connect(browser, line.strip())).key
            process.stdin.write(f"{key}\n".encode())
            break
    rest, _ = await process.communicate()
    return Dialog(await process.wait(), "".join(printed) + rest.decode(), key)


async def test_setup_dialog_then_close_day(totals_with_auth, auth_url):
    totals = totals_with_auth
    result = await setup_dialog(["--no-auto-post"], "12",
                                TOTALS_URL=totals.url, AUTH_PUBLIC_URL=auth_url)
    key = result.key
    assert key is not None
    # No posting service here to check the codes against Xero: saved, not yet checked.
    assert result.exit_code == exits.PENDING, result.output
    assert "Open Xero's login page now?" in result.output
    assert "not connected to Xero yet" in result.output
    assert auth_url in result.output  # the address to open
    assert "Paste the whole 2RF: key line" in result.output
    assert "could not be checked" in " ".join(result.output.split())
    closed = await invoke(["close-day", "--store", "12", "--date", "2026-11-27", "--json"],
                          TOTALS_URL=totals.url, GLBRIDGE_POS_API_KEY=key)
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.output)["day"]["status"] == "not-posted"


async def test_a_connected_store_connects_again_with_its_key(totals_with_auth, auth_url):
    """The old key in the API Key box proves the store's own: auth reconnects it and
    totals takes the new key; without it the dialog is refused and nothing changes."""
    env = {"TOTALS_URL": totals_with_auth.url, "AUTH_PUBLIC_URL": auth_url}
    first = await setup_dialog([], "14", **env)
    old = first.key
    assert first.exit_code == exits.PENDING and old is not None, first.output
    refused = await setup_dialog([], "14", **env)
    assert refused.exit_code == exits.REFUSED and refused.key is None
    assert "Refused (401)" in refused.output
    assert "current 2RF: key" in " ".join(refused.output.split())
    again = await setup_dialog(["--api-key", old, "--reconnect"], "14", **env)
    new = again.key
    assert again.exit_code == exits.PENDING, again.output
    assert new is not None and new != old
    works = await invoke(["close-day", "-s", "14", "-d", "2026-11-27", "--wait", "0", "--json"],
                         TOTALS_URL=totals_with_auth.url, GLBRIDGE_POS_API_KEY=new)
    # Closed (no posting service here: waiting for Xero's answer).
    assert works.exit_code == exits.PENDING, works.output
    assert json.loads(works.output)["outcome"] == "closed"


async def test_close_day_prints_every_problem(totals, tmp_path):
    key = await totals.add_store("12")
    day_file = tmp_path / "day.json"
    day_file.write_text(json.dumps({"revenue": [{"category": "fuel", "amount": "10"}]}))
    result = await invoke(["close-day", "-s", "12", "-d", "2026-11-27", "--totals",
                           str(day_file)], f"{key}\n", TOTALS_URL=totals.url)
    assert result.exit_code == exits.REFUSED
    assert "Refused (422)" in result.output
    assert "do not balance" in result.output


async def test_reprint_asks_to_post_and_shows_the_outcome(totals, broker):
    key = await totals.add_store("12", auto_post=False)
    await totals.client.post("/v1/stores/12/days/2026-11-27/close",
                             json=example_day_totals(), headers={"X-Api-Key": key})

    async def posting_answers() -> None:
        [event] = await closed_events(broker, 1)
        await broker.publish(succeeded(event))

    answering = asyncio.create_task(posting_answers())
    result = await invoke(["reprint", "-s", "12", "-d", "2026-11-27"], "y\n",
                          TOTALS_URL=totals.url, GLBRIDGE_POS_API_KEY=key)
    await answering
    assert result.exit_code == 0, result.output
    assert "Post to Xero? [y/N]" in result.output
    assert "2629.34" in result.output
    assert "Posted to Xero" in result.output
    again = await invoke(["reprint", "-s", "12", "-d", "2026-11-27", "--post"],
                         TOTALS_URL=totals.url, GLBRIDGE_POS_API_KEY=key)
    assert "Already posted" in again.output


async def test_reprint_lists_the_errors_against_the_setup(totals, broker):
    key = await totals.add_store("12", auto_post=False)
    await totals.client.post("/v1/stores/12/days/2026-11-27/close", json=example_day_totals(),
                             headers={"X-Api-Key": key})

    async def posting_answers() -> None:
        [event] = await closed_events(broker, 1)
        await broker.publish(failed(event, [PostingError(
            kind=ErrorKind.SYSTEM_ACCOUNT, category="on-account", account_code="1100",
            message="1100 is Xero's Accounts Receivable: use a clearing account such as 1300")]))

    answering = asyncio.create_task(posting_answers())
    result = await invoke(["reprint", "-s", "12", "-d", "2026-11-27"], "y\n",
                          TOTALS_URL=totals.url, GLBRIDGE_POS_API_KEY=key)
    await answering
    assert result.exit_code == exits.FAILED, result.output
    assert "failed" in result.output
    assert "on-account" in result.output and "1100" in result.output


async def test_reprint_answering_no_posts_nothing(totals, broker):
    key = await totals.add_store("12", auto_post=False)
    await totals.client.post("/v1/stores/12/days/2026-11-27/close", json=example_day_totals(),
                             headers={"X-Api-Key": key})
    result = await invoke(["reprint", "-s", "12", "-d", "2026-11-27"], "\n",
                          TOTALS_URL=totals.url, GLBRIDGE_POS_API_KEY=key)
    assert result.exit_code == 0
    await no_more_closed_events(totals, broker)


async def test_totals_not_answering_is_one_line_and_exit_code_1():
    result = await invoke(["close-day", "-s", "12", "-d", "2026-11-27"],
                          TOTALS_URL="http://127.0.0.1:9", GLBRIDGE_POS_API_KEY="2RF:x")
    assert result.exit_code == exits.UNAVAILABLE
    assert "did not answer" in result.output
