"""`glbridge pos`: act as a store's POS at a terminal (setup, close-day, reprint --post).

Readable tables by default, `--json` for scripts. The store's `2RF:` key comes from
`--api-key` or `GLBRIDGE_POS_API_KEY`, else the command asks for it.

Exit codes, the same for every command (`glbridge/exits.py`; what to do next:
`docs/operations.md`, "When a day fails"):
0 posted, already posted, nothing to post (or a setup saved and ready to post);
1 totals could not be reached or answered an error of its own;
2 the command line itself was wrong (an unknown option: Click's code);
3 the day failed or waits for a new key (a setup saved with errors): act, then post again;
4 still pending: Xero's answer is not known yet (or a setup not checked yet);
5 refused input: totals refused the request (a bad key, totals, setup or date).
"""

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec

import httpx
import typer
from rich.console import Console
from rich.table import Table

from glbridge import exits
from glbridge.backfill import (
    DONE,
    LABELS,
    Backfill,
    BackfillAborted,
    BackfillState,
    counts_of,
)
from shared.contracts.examples import example_day_totals, example_setup

P = ParamSpec("P")
pos_app = typer.Typer(help="Act as a store's POS: setup, close a day, reprint and post.")
console = Console()

TOTALS_URL = typer.Option("http://127.0.0.1:8002", "--totals-url", envvar="TOTALS_URL",
                          help="Where totals answers.")
AUTH_URL = typer.Option("http://127.0.0.1:8001", "--auth-url", envvar="AUTH_PUBLIC_URL",
                        help="Where auth answers (the connect dialog).")
STORE = typer.Option(..., "--store", "-s", help="The store number.")
API_KEY = typer.Option(None, "--api-key", envvar="GLBRIDGE_POS_API_KEY",
                       help="The store's 2RF: key (asked for when missing).")
DAY = typer.Option(None, "--date", "-d", help="The business date (default: today).")
AS_JSON = typer.Option(False, "--json", help="Print JSON for scripts.")


_EXIT_OF_STATUS = {"posted": exits.OK, "nothing-to-post": exits.OK, "not-posted": exits.OK,
                   "failed": exits.FAILED, "waiting-for-new-key": exits.FAILED,
                   "pending": exits.PENDING}


def exit_code_of(day: dict[str, Any]) -> int:
    """A day's status as the command's exit code."""
    return _EXIT_OF_STATUS.get(str(day.get("status")), exits.UNAVAILABLE)


class PosError(Exception):
    pass


def _answers_when_unreachable(command: Callable[P, None]) -> Callable[P, None]:
    """A service that does not answer is said in one line and exit code 1, not a trace."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except httpx.TransportError as exc:
            console.print(f"[red]{exc.request.url.host}:{exc.request.url.port} did not answer "
                          f"({type(exc).__name__}): is the system running?[/red]")
            raise typer.Exit(exits.UNAVAILABLE) from None

    return run


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(30, read=150))


def _key(api_key: str | None) -> str:
    if api_key:
        return api_key.strip()
    value: str = typer.prompt("API key (2RF:...)", hide_input=True)
    return value.strip()


def _fail(response: httpx.Response, as_json: bool) -> None:
    """Prints a refusal (every problem named) and exits non-zero."""
    try:
        body: Any = response.json()
    except ValueError:
        body = {"detail": response.text}
    if as_json:
        print(json.dumps({"status_code": response.status_code, **_as_dict(body)}, indent=2))
    else:
        console.print(f"[red]Refused ({response.status_code}).[/red]")
        detail = body.get("detail") if isinstance(body, dict) else body
        if isinstance(detail, list):
            _problems(detail)
        else:
            console.print(str(detail))
    raise typer.Exit(exits.REFUSED if 400 <= response.status_code < 500 else exits.UNAVAILABLE)


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {"detail": body}


def _problems(problems: list[dict[str, Any]]) -> None:
    table = Table(title="Problems")
    for column in ("where", "category", "problem"):
        table.add_column(column)
    for problem in problems:
        where = ".".join(str(part) for part in problem.get("loc", []) if part != "body")
        table.add_row(where, str(problem.get("category") or ""), str(problem.get("msg", "")))
    console.print(table)


def _errors(errors: list[dict[str, Any]]) -> None:
    table = Table(title="Errors")
    for column in ("entry", "account code", "what to do", "retry helps"):
        table.add_column(column)
    for error in errors:
        advice = str(error.get("message", ""))
        if error.get("xero_message"):
            # Xero's own words under ours (a lock date, a code it refused).
            advice += f"\n[dim]Xero said: {error['xero_message']}[/dim]"
        table.add_row(str(error.get("category") or ""), str(error.get("account_code") or ""),
                      advice, "yes" if error.get("retryable") else "no")
    console.print(table)


def _day(day: dict[str, Any]) -> None:
    colour = {"posted": "green", "failed": "red", "waiting-for-new-key": "yellow"}.get(
        day["status"], "white")
    console.print(f"Store {day['store_id']}, {day['business_date']} (revision "
                  f"{day['revision']}): [{colour}]{day['status']}[/{colour}]")
    console.print(day["message"])
    if day.get("errors"):
        _errors(day["errors"])


def _load_json(path: Path | None, default: dict[str, Any]) -> dict[str, Any]:
    if path is None:
        return default
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _tracking_option(values: list[str]) -> list[dict[str, str]] | None:
    if not values:
        return None
    tracking = []
    for value in values:
        name, equals, option = value.partition("=")
        if not equals or not name.strip() or not option.strip():
            raise typer.BadParameter(f"--tracking {value!r}: write NAME=OPTION, e.g. "
                                     "Region=Store {Store}")
        tracking.append({"name": name.strip(), "option": option.strip()})
    return tracking


def _account_edits(values: list[str]) -> dict[str, str]:
    edits = {}
    for value in values:
        category, equals, code = value.partition("=")
        if not equals or not category.strip():
            raise typer.BadParameter(f"--account {value!r}: write CATEGORY=CODE, e.g. "
                                     "rental=4000")
        edits[category.strip()] = code.strip()
    return edits


def _current_setup(client: httpx.Client, store: str, key: str | None) -> dict[str, Any] | None:
    """The store's saved setup when `key` is its current key; None otherwise."""
    if not key or not key.upper().startswith("2RF:"):
        return None
    response = client.get(f"/v1/stores/{store}/setup", headers={"X-Api-Key": key})
    if response.status_code != 200:
        return None
    current: dict[str, Any] = response.json()
    return current


@pos_app.command()
@_answers_when_unreachable
def setup(
    store: str = STORE,
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="GLBRIDGE_POS_API_KEY",
        help="The store's current 2RF: key (what its API Key box holds, if connected)."),
    api_key_box: str = typer.Option("", "--api-key-box",
                                    help="What the API Key box holds now (empty, an OAuth1 "
                                    "token, or an old 2RF: key): picks the scenario."),
    reconnect: bool = typer.Option(False, "--reconnect",
                                   help="Connect to Xero again (a new key replaces the "
                                   "current one); only needed when asked for a new key."),
    accounts: Path | None = typer.Option(None, help="JSON file: account code per category "
                                         "(default: the current setup, else the us-rental "
                                         "example)."),
    account: list[str] = typer.Option([], "--account", help="CATEGORY=CODE: change one "
                                      "entry (repeatable), e.g. --account rental=4000."),
    store_class: str | None = typer.Option(None, "--class",
                                           help="The store's class code (for {Class})."),
    tracking: list[str] = typer.Option([], "--tracking", help="NAME=OPTION: a Xero tracking "
                                       "category and option on every line (up to 2)."),
    auto_post: bool | None = typer.Option(None, "--auto-post/--no-auto-post",
                                          help="Post automatically at end of day."),
    journal_status: str | None = typer.Option(None, help="POSTED, or DRAFT for review."),
    currency: str | None = typer.Option(None, help="The store's currency (default USD)."),
    timezone: str | None = typer.Option(None, help="IANA time zone (default "
                                        "America/Chicago)."),
    reconnect_token: str | None = typer.Option(
        None, help="A connected store whose key is lost: the one-time token the operator "
        "issued (glbridge ops reconnect-token)."),
    totals_url: str = TOTALS_URL,
    auth_url: str = AUTH_URL,
    as_json: bool = AS_JSON,
) -> None:
    """The API Key dialog and the Account Numbers setup. A connected store (its current
    key given) has its setup edited and keeps its key; `--reconnect` connects it again."""
    current_key = (api_key or "").strip() or (
        api_key_box.strip() if api_key_box.strip().upper().startswith("2RF:") else None)
    with _client(totals_url) as totals:
        current = _current_setup(totals, store, current_key)
    needs_new_key = current is not None and current["api_key"]["status"] != "active"
    body: dict[str, Any] = {
        key: value for key, value in (current or {}).items()
        if key not in ("store_id", "api_key", "updated_at", "check")
    } or example_setup()
    if accounts is not None:
        body["accounts"] = _load_json(accounts, {})
    body["accounts"] = {**body["accounts"], **_account_edits(account)}
    for name, value in (("auto_post", auto_post), ("journal_status", journal_status),
                        ("currency", currency), ("timezone", timezone),
                        ("store_class", store_class), ("tracking", _tracking_option(tracking))):
        if value is not None:
            body[name] = value
    # The store's current key is presented whenever it is known: it proves the right to
    # edit the setup, and to replace the key with the one a new connection gives.
    headers = {"X-Api-Key": str(current_key)} if current is not None else {}
    if current is not None and not reconnect and not needs_new_key:
        if not as_json:
            console.print(f"[bold]Store {store} is connected to Xero "
                          f"({current['api_key']['tenant_name']}): editing its setup; its "
                          "key stays as it is.[/bold]")
    else:
        if needs_new_key and not as_json:
            console.print("[yellow]The store's Xero connection needs a new key.[/yellow]")
        box = current_key if current is not None else api_key_box
        body["api_key"] = _connect(store, box or "", auth_url, as_json, reconnect_token)
        if current is not None:  # the current key proves the store's own to totals too
            headers["X-Api-Key"] = str(current_key)
    with _client(totals_url) as totals:
        saved = totals.put(f"/v1/stores/{store}/setup", json=body, headers=headers)
    if saved.status_code != 200:
        _fail(saved, as_json)
    result = saved.json()
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        _show_setup(store, result)
    check = result.get("check") or {}
    if not check.get("ready"):
        raise typer.Exit(exits.FAILED if _setup_errors(result) else exits.PENDING)


def _connect(store: str, box: str, auth_url: str, as_json: bool,
             reconnect_token: str | None = None) -> str:
    """The API Key dialog: the scenario auth names, Xero's pages, the new key pasted. A
    connected store proves itself with its key (`box`) or the operator's token."""
    request = {"store_id": store, "api_key": box}
    if reconnect_token:
        request["reconnect_token"] = reconnect_token
    with _client(auth_url) as auth:
        response = auth.post("/v1/setup", json=request)
    if response.status_code != 200:
        _fail(response, as_json)
    dialog = response.json()
    if not as_json:
        console.print(f"[bold]{dialog['message']}[/bold]")
    if not typer.confirm("Open Xero's login page now?", default=True):
        raise typer.Exit(1)
    console.print("Open this address in a browser, log in, allow access, then copy the key:")
    console.print(dialog["connect_url"], soft_wrap=True)
    key: str = typer.prompt("Paste the whole 2RF: key line").strip()
    return key


def _setup_errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    check = result.get("check") or {}
    return [p for p in check.get("problems", []) if p.get("severity") == "error"]


def _show_setup(store: str, result: dict[str, Any]) -> None:
    tenant = result["api_key"]["tenant_name"]
    check = result.get("check") or {}
    if check.get("ready"):
        console.print(f"[green]Store {store} is connected to {tenant} and ready to post."
                      "[/green]")
    elif check.get("problems"):
        console.print(f"[red]Setup saved, but store {store} is not ready to post to {tenant}:"
                      " fix the errors below (in the setup or in Xero), then save again."
                      "[/red]")
    else:
        console.print(f"[yellow]Setup saved for {tenant}; it could not be checked against "
                      f"Xero now ({check.get('reason', 'no answer')}).[/yellow]")
    table = Table(title="Account Numbers setup")
    table.add_column("category")
    table.add_column("account code")
    for category, code in result["accounts"].items():
        table.add_row(category, code)
    console.print(table)
    if check.get("problems"):
        _setup_problems(check["problems"])


def _setup_problems(problems: list[dict[str, Any]]) -> None:
    table = Table(title="Checked against the Xero organisation")
    for column in ("entry", "account code", "", "what to do"):
        table.add_column(column)
    for problem in problems:
        colour = "red" if problem["severity"] == "error" else "yellow"
        table.add_row(str(problem.get("category") or ""), str(problem.get("account_code") or ""),
                      f"[{colour}]{problem['severity']}[/{colour}]", str(problem["message"]))
    console.print(table)


@pos_app.command("close-day")
@_answers_when_unreachable
def close_day(
    store: str = STORE,
    business_date: str | None = DAY,
    totals_file: Path | None = typer.Option(None, "--totals",
                                            help="JSON file of the day's totals "
                                            "(default: the example day)."),
    wait: float = typer.Option(60, help="Seconds to wait for Xero's answer (0: do not "
                               "wait; the exit code then says pending)."),
    api_key: str | None = API_KEY,
    totals_url: str = TOTALS_URL,
    as_json: bool = AS_JSON,
) -> None:
    """End of day: send the day's totals."""
    day = business_date or date.today().isoformat()
    key = _key(api_key)
    headers = {"X-Api-Key": key}
    with _client(totals_url) as client:
        response = client.post(f"/v1/stores/{store}/days/{day}/close",
                               json=_load_json(totals_file, example_day_totals()),
                               headers=headers)
        if response.status_code != 200:
            _fail(response, as_json)
        result = response.json()
        if wait > 0 and result["day"]["status"] == "pending":
            waited = client.get(f"/v1/stores/{store}/days/{day}", params={"wait": wait},
                                headers=headers)
            result["day"] = waited.json()
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        console.print({"closed": "Day closed.",
                       "amended": "Day amended (new revision): once it is posted, the "
                       "journal already in Xero for this day is voided.",
                       "unchanged": "Already closed with these totals: nothing changed."}
                      .get(result["outcome"], result["outcome"]))
        _day(result["day"])
    raise typer.Exit(exit_code_of(result["day"]))


@pos_app.command()
@_answers_when_unreachable
def reprint(
    store: str = STORE,
    business_date: str | None = DAY,
    post: bool | None = typer.Option(None, "--post/--no-post",
                                     help="Post to Xero without asking (or never)."),
    wait: float = typer.Option(60, help="Seconds to wait for Xero's answer."),
    api_key: str | None = API_KEY,
    totals_url: str = TOTALS_URL,
    as_json: bool = AS_JSON,
) -> None:
    """Reprints a day's store totals, then asks "Post to Xero?"."""
    day = business_date or date.today().isoformat()
    key = _key(api_key)
    headers = {"X-Api-Key": key}
    url = f"/v1/stores/{store}/days/{day}"
    with _client(totals_url) as client:
        printed = client.post(f"{url}/reprint", json={"post_to_xero": False}, headers=headers)
        if printed.status_code != 200:
            _fail(printed, as_json)
        if not as_json:
            _print_totals(printed.json()["print"])
        if post is None:
            post = typer.confirm("Post to Xero?", default=False)
        if not post:
            if as_json:
                print(json.dumps(printed.json(), indent=2))
            return
        answer = client.post(f"{url}/reprint", json={"post_to_xero": True}, headers=headers)
        if answer.status_code != 200:
            _fail(answer, as_json)
        result = answer.json()
        if result["post"]["outcome"] == "queued" and wait > 0:
            if not as_json:
                console.print("Sent to Xero; waiting for the answer...")
            result["day"] = client.get(url, params={"wait": wait}, headers=headers).json()
    if as_json:
        print(json.dumps(result, indent=2))
    elif result["post"]["outcome"] != "queued":
        console.print(result["post"]["message"])
    else:
        _day(result["day"])
    raise typer.Exit(exit_code_of(result["day"]))


def _print_totals(printed: dict[str, Any]) -> None:
    journal = printed.get("journal")
    title = f"Store totals: store {printed['store_id']}, {printed['business_date']}, " \
        f"revision {printed['revision']}"
    if journal is None:
        console.print(f"{title}: nothing to post.")
        return
    table = Table(title=title)
    for column in ("category", "account", "description", "debit", "credit"):
        table.add_column(column, justify="right" if column in ("debit", "credit") else "left")
    for line in journal["lines"]:
        table.add_row(line["category"], line["account_code"], line["description"],
                      line["debit"] or "", line["credit"] or "")
    table.add_row("", "", "Totals", journal["total_debits"], journal["total_credits"])
    console.print(table)


# --- backfill (glbridge/backfill.py does the work) -------------------------------------


def _dates(first: str, last: str) -> list[date]:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise PosError(f"dates are YYYY-MM-DD: {exc}") from None
    if end < start:
        raise PosError(f"--to {end} is before --from {start}")
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


def _totals_by_day(path: Path) -> tuple[bool, dict[str, Any]]:
    """FILE holds one day's totals (used for every day) or an object keyed by date:
    (keyed by date?, the object)."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PosError(f"--totals {path}: not a JSON file ({exc})") from None
    if not isinstance(loaded, dict) or not loaded:
        raise PosError(f"--totals {path}: expected a JSON object")
    try:
        return True, {date.fromisoformat(k).isoformat(): v for k, v in loaded.items()}
    except ValueError:
        return False, loaded  # not keyed by date: the same totals every day


def _state_file(totals_file: Path, store: str) -> Path:
    return totals_file.with_name(f"{totals_file.name}.backfill-{store}.json")


def _summary(days: list[str], state: BackfillState, resumed: int,
             as_json: bool) -> dict[str, Any]:
    labels = {day: state.label(day) for day in days}
    counts = counts_of(days, state)
    problems = {d: state.days.get(d, {}).get("reason") for d, label in labels.items()
                if label not in ("posted", "posted-earlier-run", "already-posted",
                                 "nothing-to-post")}
    summary = {"days": len(days), "run": state.run, "resumed_skipped": resumed,
               "counts": dict(counts),
               "failed": {d: r for d, r in problems.items()
                          if labels[d] in ("failed", "refused", "no-totals")},
               "pending": [d for d in problems if labels[d] in ("pending", "in-progress",
                                                                "not-done")]}
    if as_json:
        outcomes = {day: {**state.days.get(day, {}), "result": labels[day]} for day in days}
        print(json.dumps({**summary, "outcomes": outcomes}, indent=2))
        return summary
    table = Table(title=f"Backfill of store {state.store}: {len(days)} day(s)")
    table.add_column("outcome")
    table.add_column("days", justify="right")
    for key, label in LABELS:
        if counts.get(key):
            table.add_row(label, str(counts[key]))
    console.print(table)
    if resumed:
        console.print(f"Resumed: {resumed} day(s) done by an earlier run were skipped.")
    if problems:
        reasons = Table(title="Not posted")
        for column in ("day", "outcome", "reason"):
            reasons.add_column(column)
        for day, reason in problems.items():
            reasons.add_row(day, labels[day], str(reason or ""))
        console.print(reasons)
    return summary


def _exit_code(summary: dict[str, Any], counts: Counter[str]) -> int:
    if counts.get("refused") or counts.get("no-totals"):
        return exits.REFUSED
    if counts.get("failed"):
        return exits.FAILED
    if summary["pending"]:
        return exits.PENDING
    return exits.OK


class _Bar:
    """The progress bar: posted / pending / failed / nothing to post, with an ETA."""

    def __init__(self, store: str, total: int, done: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("posted {task.fields[posted]} · pending {task.fields[sent]} · "
                       "failed {task.fields[failed]} · nothing to post "
                       "{task.fields[nothing]}"),
            TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True))
        self.counts: Counter[str] = Counter()
        self.out: set[str] = set()
        self.task = self.progress.add_task(f"store {store}", total=total, completed=done,
                                           posted=0, sent=0, failed=0, nothing=0)

    def change(self, day: str, label: str) -> None:
        if label == "sent":
            self.out.add(day)
        else:
            self.out.discard(day)
            key = {"posted": "posted", "posted-earlier-run": "posted",
                   "already-posted": "posted", "nothing-to-post": "nothing",
                   "pending": "pending"}.get(label, "failed")
            self.counts[key] += 1
            self.progress.advance(self.task)
        # Pending: sent and waited for, or given up on still without an answer.
        self.progress.update(self.task, posted=self.counts["posted"],
                             sent=len(self.out) + self.counts["pending"],
                             failed=self.counts["failed"], nothing=self.counts["nothing"])


@pos_app.command()
def backfill(
    store: str = STORE,
    first: str = typer.Option(..., "--from", help="First business date (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last business date (YYYY-MM-DD)."),
    totals_file: Path = typer.Option(..., "--totals", exists=True, dir_okay=False,
                                     help="JSON: one day's totals (every day), or an object "
                                     "of totals keyed by date."),
    window: int = typer.Option(50, min=1, help="Days sent and not yet answered at once "
                               "(50: the journals Xero takes in one call)."),
    wait: float = typer.Option(120, help="Seconds to wait with no day answered before "
                               "stopping (the days still out stay pending)."),
    restart: bool = typer.Option(False, help="Forget earlier progress and start over."),
    api_key: str | None = API_KEY,
    totals_url: str = TOTALS_URL,
    as_json: bool = AS_JSON,
) -> None:
    """Posts a range of past days, many at once, with progress; run it again after an
    interruption and it carries on where it stopped (progress is kept in a file next to
    --totals). Exit codes: 0 all posted (or nothing to post), 1 refused by totals, 2 a day
    failed in Xero, 3 still pending, 130 interrupted."""
    try:
        days = [d.isoformat() for d in _dates(first, last)]
        keyed, totals = _totals_by_day(totals_file)
    except PosError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(exits.REFUSED) from None
    state = BackfillState.load(_state_file(totals_file, store), store, restart)
    todo = [d for d in days if state.result(d) not in DONE]
    resumed = len(days) - len(todo)
    headers = {"X-Api-Key": _key(api_key)}
    bar = _Bar(store, len(days), resumed)
    plan = [(d, (totals.get(d) if keyed else totals)) for d in todo]

    async def run() -> None:
        limits = httpx.Limits(max_connections=min(window, 8) + 4)
        async with httpx.AsyncClient(base_url=totals_url.rstrip("/"), limits=limits,
                                     timeout=httpx.Timeout(30, read=150)) as client:
            await Backfill(client, store, headers, state, window, wait, bar.change).run(plan)

    aborted: BackfillAborted | None = None
    try:
        with bar.progress:
            asyncio.run(run())
    except BackfillAborted as exc:
        aborted = exc
    except KeyboardInterrupt:
        state.save()
        console.print(f"[yellow]Interrupted. Progress is kept in {state.path}: run the same "
                      "command again to carry on.[/yellow]")
        raise typer.Exit(exits.INTERRUPTED) from None
    summary = _summary(days, state, resumed, as_json)
    if aborted:
        console.print(f"[red]Stopped: {aborted}[/red]")
        raise typer.Exit(aborted.exit_code)
    code = _exit_code(summary, counts_of(days, state))
    if code:
        raise typer.Exit(code)
