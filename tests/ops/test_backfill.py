"""`glbridge pos backfill` against the whole system: a range of past days posted with a
summary, interrupted part-way (Ctrl-C) and resumed without posting anything twice."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from glbridge import exits
from glbridge.connect import connect_store
from glbridge.pos import pos_app
from glbridge.system import System
from shared.contracts.examples import example_day_totals, example_setup

runner = CliRunner()
FIRST = date(2026, 11, 1)
DAYS = [(FIRST + timedelta(days=n)).isoformat() for n in range(6)]
UNBALANCED = DAYS[3]


def totals_file(tmp_path: Path) -> Path:
    by_day = {day: example_day_totals(n + 1) for n, day in enumerate(DAYS)}
    by_day[UNBALANCED]["over_short"] = "-99.00"  # no longer balances: totals refuses it
    path = tmp_path / "november.json"
    path.write_text(json.dumps(by_day))
    return path


def interrupted_run(args: list[str], env: dict[str, str], progress: Path,
                    after_days: int) -> subprocess.CompletedProcess[str]:
    """Runs the CLI as its own process and presses Ctrl-C once `after_days` are done.

    The CLI handles Ctrl-C as a terminal delivers it. A test run started in the background
    (`make test &`) inherits SIGINT ignored, and so would the CLI, finishing the whole
    range: it is given Python's own handler first."""
    start = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "from glbridge.cli import main; main()")
    process = subprocess.Popen(
        [sys.executable, "-c", start, *args],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if progress.exists():
            days = json.loads(progress.read_text())["days"]
            if sum(1 for d in days.values() if d["result"] != "in-progress") >= after_days:
                break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


async def test_backfill_interrupted_then_resumed(system: System, tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, "71")
        store = f"{system.totals_url}/v1/stores/71"
        assert (await client.put(f"{store}/setup", json=example_setup(key))).status_code == 200
        headers = {"X-Api-Key": key}
        # The first day was posted before the backfill (the POS closed it at the time).
        await client.post(f"{store}/days/{DAYS[0]}/close", json=example_day_totals(1),
                          headers=headers)
        assert (await client.get(f"{store}/days/{DAYS[0]}", params={"wait": 30},
                                 headers=headers)).json()["status"] == "posted"
        # Xero answers slowly, so Ctrl-C surely lands before the range is done.
        await client.put(f"{system.sandbox_url}/_control/faults",
                         json={"latency_ms": {"min": 300, "max": 300}})

        path = totals_file(tmp_path)
        args = ["pos", "backfill", "--store", "71", "--from", DAYS[0], "--to", DAYS[-1],
                "--totals", str(path)]
        # One day at a time, so that Ctrl-C lands between days.
        interrupted_args = [*args, "--window", "1"]
        env = {"TOTALS_URL": system.totals_url, "GLBRIDGE_POS_API_KEY": key}
        progress = tmp_path / "november.json.backfill-71.json"
        first = await asyncio.to_thread(interrupted_run, interrupted_args, env, progress, 2)
        assert first.returncode == 130, (first.stdout, first.stderr)
        assert "run the same command again" in first.stdout
        done_before = json.loads(progress.read_text())["days"]
        assert 2 <= len(done_before) < len(DAYS)

        await client.delete(f"{system.sandbox_url}/_control/faults")
        resumed = await asyncio.to_thread(runner.invoke, pos_app, [*args[1:], "--json"],
                                          env=env)
        table = await asyncio.to_thread(runner.invoke, pos_app, args[1:], env=env)
        journals = (await client.get(f"{system.sandbox_url}/_control/journals")).json()

    assert resumed.exit_code == exits.REFUSED, resumed.output  # one day totals refused
    summary = json.loads(resumed.stdout)  # the progress bar went to stderr
    finished = sum(1 for d in done_before.values() if d["result"] in ("posted",
                                                                       "already-posted"))
    assert summary["resumed_skipped"] == finished
    counts = summary["counts"]
    # The day posted before the backfill is told apart from the days the backfill posted,
    # whichever of its runs that was.
    assert counts.pop("already-posted") == 1
    assert counts.pop("refused") == 1
    assert counts.get("posted", 0) + counts.get("posted-earlier-run", 0) == 4, counts
    # Posted, or sent when Ctrl-C came: the first run's doing either way.
    sent_first = {d for d, o in done_before.items()
                  if o["result"] in ("posted", "in-progress") and d != UNBALANCED}
    assert counts.get("posted-earlier-run", 0) == len(sent_first), counts
    assert list(summary["failed"]) == [UNBALANCED]
    assert "balance" in summary["failed"][UNBALANCED]
    # Nothing was posted twice: one journal per posted day.
    narrations = Counter(j["Narration"].split("[glb:71:")[1][:10] for j in journals)
    assert narrations == Counter({d: 1 for d in DAYS if d != UNBALANCED})
    # Run again: everything done is skipped; the summary table names the failure.
    assert table.exit_code == exits.REFUSED
    assert f"{len(DAYS) - 1} day(s) done by an earlier run were skipped" in table.output
    assert UNBALANCED in table.output and "already posted before" in table.output
    assert "posted by an earlier run of this backfill" in table.output


async def test_days_left_pending_are_this_backfills_on_a_rerun(system: System,
                                                               tmp_path: Path) -> None:
    """A run that stops waiting leaves days pending; when a rerun finds them posted they
    are this backfill's doing, not "already posted" by someone else. The days go out
    side by side, so posting sends them to Xero many to a call."""
    days = [(FIRST + timedelta(days=n)).isoformat() for n in range(20)]
    path = tmp_path / "one-day.json"
    path.write_text(json.dumps(example_day_totals(2)))
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, "72")
        store = f"{system.totals_url}/v1/stores/72"
        assert (await client.put(f"{store}/setup", json=example_setup(key))).status_code == 200
        before = (await client.get(f"{system.sandbox_url}/_control/stats")).json()
        # Xero answers after 3 s: a 1 s --wait gives up with the days still out.
        await client.put(f"{system.sandbox_url}/_control/faults",
                         json={"latency_ms": {"min": 3000, "max": 3000}})
        args = ["backfill", "--store", "72", "--from", days[0], "--to", days[-1],
                "--totals", str(path), "--wait", "1", "--json"]
        env = {"TOTALS_URL": system.totals_url, "GLBRIDGE_POS_API_KEY": key}
        first = await asyncio.to_thread(runner.invoke, pos_app, args, env=env)
        await client.delete(f"{system.sandbox_url}/_control/faults")
        for day in days:  # every day settles in the end
            assert (await client.get(f"{store}/days/{day}", params={"wait": 60},
                                     headers={"X-Api-Key": key})).json()["status"] == "posted"
        again = await asyncio.to_thread(runner.invoke, pos_app, args, env=env)
        after = (await client.get(f"{system.sandbox_url}/_control/stats")).json()
        journals = (await client.get(f"{system.sandbox_url}/_control/journals")).json()

    assert first.exit_code == exits.PENDING, first.output
    assert json.loads(first.stdout)["counts"].get("pending", 0) > 0
    assert again.exit_code == exits.OK, again.output
    summary = json.loads(again.stdout)
    pending_before = json.loads(first.stdout)["counts"]["pending"]
    assert summary["counts"].get("posted-earlier-run") == pending_before, summary["counts"]
    assert "already-posted" not in summary["counts"]
    assert sorted(j["Narration"].split("[glb:72:")[1][:10] for j in journals) == days
    puts = after["api_requests"] - before["api_requests"]
    assert puts <= len(days) // 2, f"{puts} Xero calls for {len(days)} days"
